"""Resource tree matching with API Gateway (REST) precedence.

Per path segment: a static child beats `{param}`, which beats `{proxy+}`, whatever the
declaration order. Matching backtracks: when the best candidate has no method for the
request, a less specific sibling (e.g. `{proxy+}`) that has it is used, as API Gateway does.
A trailing slash is ignored for matching (AWS matches `/a/` like `/a` but keeps the raw
`path`), and segments are matched and passed to `pathParameters` without percent-decoding.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .template import Route


@dataclass
class _Node:
    static: dict[str, _Node] = field(default_factory=dict)
    param: tuple[str, _Node] | None = None
    greedy: tuple[str, dict[str, Route]] | None = None
    methods: dict[str, Route] = field(default_factory=dict)


@dataclass(frozen=True)
class Match:
    route: Route
    path_parameters: dict[str, str] | None


def split_path(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


class Router:
    def __init__(self, routes: list[Route]) -> None:
        self.root = _Node()
        for route in routes:
            self._add(route)

    def _add(self, route: Route) -> None:
        node = self.root
        for seg in split_path(route.path):
            if seg.startswith("{") and seg.endswith("+}"):
                name = seg[1:-2]
                if node.greedy is None:
                    node.greedy = (name, {})
                node.greedy[1][route.method] = route
                return
            if seg.startswith("{") and seg.endswith("}"):
                if node.param is None:
                    node.param = (seg[1:-1], _Node())
                node = node.param[1]
            else:
                node = node.static.setdefault(seg, _Node())
        node.methods[route.method] = route

    def match(self, method: str, path: str) -> Match | None:
        params: dict[str, str] = {}
        route = self._walk(self.root, split_path(path), 0, method, params)
        if route is None:
            return None
        return Match(route, params or None)

    @staticmethod
    def _pick(methods: dict[str, Route], method: str) -> Route | None:
        return methods.get(method) or methods.get("ANY")

    def _walk(self, node: _Node, segs: list[str], i: int, method: str, params: dict[str, str]) -> Route | None:
        if i == len(segs):
            return self._pick(node.methods, method)
        seg = segs[i]
        child = node.static.get(seg)
        if child is not None:
            found = self._walk(child, segs, i + 1, method, params)
            if found is not None:
                return found
        if node.param is not None:
            name, pnode = node.param
            found = self._walk(pnode, segs, i + 1, method, params)
            if found is not None:
                params[name] = seg
                return found
        if node.greedy is not None:
            name, methods = node.greedy
            found = self._pick(methods, method)
            if found is not None:
                params[name] = "/".join(segs[i:])
                return found
        return None
