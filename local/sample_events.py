"""Sample API Gateway (REST v1, Lambda proxy) events for every route of template.yaml.

Built by the local gateway's own router and event builder, so each file is what API Gateway hands
the function; fixed ids and times keep them reproducible. Usage:

    python -m local.sample_events                 # (re)write events/<FunctionId>/<EventName>.json
    python -m local.sample_events --check         # exit 1 if events/ differs from what would be written
    python -m local.sample_events --token "$JWT" --out /tmp/events   # same events, with a real token

`sam local invoke UsersFunction -e events/UsersFunction/Register.json`. Routes that need a JWT
carry `Authorization: Bearer <token>`, which answers 401 until replaced by a real token (log in
first, then regenerate with --token).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from infra.cfn import load_yaml
from infra.sam_app import App, load_app
from local.gateway.events import build_event
from local.gateway.routing import Router

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "template.yaml"
EVENTS_DIR = REPO / "events"
TOKEN_PLACEHOLDER = "<token>"
SOURCE_IP = "198.51.100.7"
EPOCH = 1767225600.0  # 2026-01-01T00:00:00Z
PATH_VALUES = {"user_id": "3f1c2b8e-5d4a-4c7e-9a61-0b2d9e8f7a10", "order_id": "8a7e6d5c-4b3a-4f2e-8d1c-9b0a1f2e3d4c"}
PUBLIC_ROUTES = frozenset({("POST", "/v1/users/register"), ("POST", "/v1/users/login"), ("GET", "/health")})

_CREDENTIALS = {"email": "ada@example.com", "password": "correct-horse-battery"}
_ITEMS = {"items": [{"product": "Mechanical keyboard", "quantity": 2, "price": 49.99}]}


@dataclass(frozen=True)
class Sample:
    body: dict[str, Any] | None = None
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


# A valid request for each route that takes input (SPEC.md); the rest need no body or query.
SAMPLES: dict[tuple[str, str], Sample] = {
    ("POST", "/v1/users/register"): Sample({**_CREDENTIALS, "name": "Ada Lovelace"}),
    ("POST", "/v1/users/login"): Sample(_CREDENTIALS),
    ("PUT", "/v1/users/profile"): Sample({"name": "Ada King"}),
    ("PUT", "/v1/users/password"): Sample(
        {"current_password": _CREDENTIALS["password"], "new_password": "analytical-engine-1843"}
    ),
    ("GET", "/v1/users"): Sample(query={"page": "1", "limit": "20"}),
    ("GET", "/v1/users/search"): Sample(query={"query": "ada", "page": "1", "limit": "20"}),
    ("PUT", "/v1/users/{user_id}/roles"): Sample({"roles": ["user", "admin"]}),
    ("POST", "/v1/orders"): Sample(_ITEMS, headers={"Idempotency-Key": "order-2026-0001"}),
    ("GET", "/v1/orders"): Sample(query={"status": "created", "sort": "-created_at", "page": "1", "limit": "20"}),
    ("PUT", "/v1/orders/{order_id}"): Sample(_ITEMS),
    ("PUT", "/v1/orders/{order_id}/status"): Sample({"status": "cancelled"}),
    ("GET", "/metrics"): Sample(query={"minutes": "15"}),
}


@dataclass(frozen=True)
class RouteEvent:
    function_id: str
    name: str  # the template's event key, e.g. Register
    method: str
    path: str  # resource path, e.g. /v1/users/{user_id}
    event: dict[str, Any]

    @property
    def relative_path(self) -> Path:
        return Path(self.function_id) / f"{self.name}.json"

    @property
    def public(self) -> bool:
        return (self.method, self.path) in PUBLIC_ROUTES


def concrete_path(resource: str) -> str:
    for name, value in PATH_VALUES.items():
        resource = resource.replace("{" + name + "}", value)
    return resource


def template_events(template: Path) -> list[tuple[str, str, str, str]]:
    """(function id, event name, METHOD, path) of every Api event, in template order."""
    found = []
    for function_id, resource in (load_yaml(template).get("Resources") or {}).items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        for name, event in ((resource.get("Properties") or {}).get("Events") or {}).items():
            if (event or {}).get("Type") == "Api":
                props = event["Properties"]
                found.append((function_id, name, str(props["Method"]).upper(), str(props["Path"])))
    return found


def build_route_event(app: App, router: Router, method: str, resource: str, token: str) -> dict[str, Any]:
    sample = SAMPLES.get((method, resource), Sample())
    raw_path = concrete_path(resource)
    match = router.match(method, raw_path)
    if match is None or match.route.path != resource:
        raise ValueError(f"{method} {raw_path} does not route to {resource}")
    headers = [("Host", "localhost:3000"), ("User-Agent", "curl/8.5.0"), ("Accept", "application/json")]
    if (method, resource) not in PUBLIC_ROUTES:
        headers.append(("Authorization", f"Bearer {token}"))
    headers += list(sample.headers.items())
    body = b""
    if sample.body is not None:
        headers.append(("Content-Type", "application/json"))
        body = json.dumps(sample.body, separators=(",", ":")).encode()
    event = build_event(
        method=method, raw_path=raw_path, raw_query=urlencode(sample.query), raw_headers=headers, body=body,
        source_ip=SOURCE_IP, server_port=3000, match=match, api=app.apis[match.route.api],
        request_id=f"sample-{method.lower()}-{match.route.function.lower()}", now=EPOCH,
    )
    event["requestContext"]["extendedRequestId"] = "SAMPLEEXTENDEDID"  # random in the builder
    return event


def generate(template: Path = TEMPLATE, token: str = TOKEN_PLACEHOLDER) -> list[RouteEvent]:
    app = load_app(template, region="us-east-1")
    router = Router(app.routes)
    return [
        RouteEvent(function_id, name, method, path, build_route_event(app, router, method, path, token))
        for function_id, name, method, path in template_events(template)
    ]


def render(event: dict[str, Any]) -> str:
    return json.dumps(event, indent=2, sort_keys=True) + "\n"


def write(events: list[RouteEvent], out: Path) -> None:
    for route_event in events:
        target = out / route_event.relative_path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render(route_event.event), encoding="utf-8")


def drift(events: list[RouteEvent], out: Path) -> list[str]:
    """Files that are missing, stale or not produced by any route."""
    expected = {route_event.relative_path: render(route_event.event) for route_event in events}
    problems = [f"stale or missing: {path}" for path, text in expected.items()
                if not (out / path).is_file() or (out / path).read_text(encoding="utf-8") != text]
    present = {path.relative_to(out) for path in out.rglob("*.json")} if out.is_dir() else set()
    problems += [f"no such route: {path}" for path in sorted(present - set(expected))]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.sample_events", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--template", type=Path, default=TEMPLATE)
    parser.add_argument("--out", type=Path, default=EVENTS_DIR)
    parser.add_argument("--token", default=TOKEN_PLACEHOLDER, help="JWT to put in Authorization headers")
    parser.add_argument("--check", action="store_true", help="fail if --out differs instead of writing")
    args = parser.parse_args(argv)
    events = generate(args.template, args.token)
    if args.check:
        problems = drift(events, args.out)
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print("events are out of date: run `python -m local.sample_events`", file=sys.stderr)
        return 1 if problems else 0
    write(events, args.out)
    print(f"wrote {len(events)} events under {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
