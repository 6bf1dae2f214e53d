"""SAM's `Cors` (on an AWS::Serverless::Api, or `Globals.Api.Cors`) as API Gateway serves it after the transform.

SAM gives every path of the API an OPTIONS method with a MOCK integration, unless the path already has an
OPTIONS of its own (samtranslator `SwaggerEditor.add_cors`, a path and its trailing-slash twin once). API Gateway
answers it without invoking anything: the request template `{"statusCode": 200}` picks the default integration
response, 200 with the `{}` template and these headers (README "CORS"):

- Access-Control-Allow-Origin: AllowOrigin (SAM's default '*'), whatever the request's Origin;
- Access-Control-Allow-Methods: AllowMethods, else the path's own methods plus OPTIONS, upper case, sorted
  (every method for a path with ANY);
- Access-Control-Allow-Headers: AllowHeaders; Access-Control-Max-Age: MaxAge (only when given);
- Access-Control-Allow-Credentials: 'true' only when AllowCredentials is true.

Each value is a mapping expression ('static', or context.* / stageVariables.*), evaluated like a gateway
response's. An OPTIONS to a path the API does not have is the missing-route gateway response, as any method is.
"""

from __future__ import annotations

from collections.abc import Iterable

from infra.sam_app import MOCK, App, CorsSpec, Route
from local.httpserver import Response

from .gateway_responses import GatewayContext, RequestFacts, mapped_value

ALL_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")  # SAM's list for ANY, sorted
MOCK_BODY = b"{}\n"  # SAM's integration response template for the OPTIONS mock


def _key(api: str, path: str) -> tuple[str, str]:
    return api, path.rstrip("/") or "/"


def allowed_methods(methods: Iterable[str]) -> str:
    """SAM's computed Access-Control-Allow-Methods for a path with these methods."""
    upper = {method.upper() for method in methods}
    return ",".join(ALL_METHODS if "ANY" in upper else sorted(upper | {"OPTIONS"}))


def _expressions(spec: CorsSpec, methods: str) -> list[tuple[str, str]]:
    expressions = [("Access-Control-Allow-Origin", spec.allow_origin),
                   ("Access-Control-Allow-Methods", spec.allow_methods or f"'{methods}'")]
    if spec.allow_headers:
        expressions.append(("Access-Control-Allow-Headers", spec.allow_headers))
    if spec.max_age is not None:
        expressions.append(("Access-Control-Max-Age", spec.max_age))
    if spec.allow_credentials:
        expressions.append(("Access-Control-Allow-Credentials", "'true'"))
    return expressions


class Preflights:
    """The OPTIONS mocks of an application's APIs that have Cors: their routes, and their answers."""

    def __init__(self, app: App) -> None:
        methods: dict[tuple[str, str], set[str]] = {}
        paths: dict[tuple[str, str], str] = {}
        for route in app.routes:
            key = _key(route.api, route.path)
            methods.setdefault(key, set()).add(route.method)
            paths.setdefault(key, route.path)
        self.headers: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self.routes: list[Route] = []
        for key, found in methods.items():
            spec = app.apis[key[0]].cors
            if spec is None or "OPTIONS" in found:
                continue
            self.headers[key] = _expressions(spec, allowed_methods(found))
            self.routes.append(Route(paths[key], "OPTIONS", "", key[0], integration=MOCK))

    def respond(self, route: Route, facts: RequestFacts) -> Response:
        context = GatewayContext(facts, "", "")
        headers = [(name, value) for name, expression in self.headers[_key(route.api, route.path)]
                   if (value := mapped_value(expression, context)) is not None]
        return Response(200, [*headers, ("Content-Type", "application/json")], MOCK_BODY)
