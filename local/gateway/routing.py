"""Resource tree matching with API Gateway (REST) precedence.

Per path segment: a static child beats `{param}`, which beats `{proxy+}`, whatever the
declaration order. Matching backtracks: when the best candidate has no method for the
request, a less specific `{proxy+}` that has it is used, as API Gateway does; an existing
static resource is never re-read as a `{param}` to find a method.
A trailing slash is ignored for matching (AWS matches `/a/` like `/a` but keeps the raw
`path`), leading slashes collapse, inner empty segments are kept (see `split_path`), and
segments are matched and passed to `pathParameters` without percent-decoding.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from infra.sam_app import Route


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
    """Segments to match: leading slashes collapse and trailing ones are ignored (AWS recorded:
    `/stage//proxy-value` is `proxy-value`, `/a/` matches `/a`), empty segments inside are kept.
    An empty segment matches no static or `{param}` segment; a greedy `{proxy+}` takes the rest of
    the path raw (AWS recorded: `proxy-value//double-slash` stays as is)."""
    trimmed = path.strip("/")
    return trimmed.split("/") if trimmed else []


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
        route, _ = self._descend(node, segs, i, method, params)
        return route

    def _descend(
        self, node: _Node, segs: list[str], i: int, method: str, params: dict[str, str]
    ) -> tuple[Route | None, bool]:
        """(route, whether a resource exists at this exact path, whatever its methods).

        API Gateway picks the resource by path first: a static resource that exists shadows a
        `{param}` sibling even when it lacks the method (so `/users/profile` is never an id);
        only a `{proxy+}` catches methods the more specific resource does not have.
        """
        if i == len(segs):
            return self._pick(node.methods, method), True
        seg = segs[i]
        shadowed = False
        child = node.static.get(seg)
        if child is not None:
            found, shadowed = self._descend(child, segs, i + 1, method, params)
            if found is not None:
                return found, True
        if node.param is not None and seg and not shadowed:
            name, pnode = node.param
            found, shadowed = self._descend(pnode, segs, i + 1, method, params)
            if found is not None:
                params[name] = seg
                return found, True
        if node.greedy is not None:
            name, methods = node.greedy
            found = self._pick(methods, method)
            if found is not None:
                params[name] = "/".join(segs[i:])
                return found, True
            shadowed = True
        return None, shadowed
