"""API Gateway's own (gateway) responses: default bodies, GatewayResponses customisation, and the
`ResponseParameters` header mappings evaluated against the request, as API Gateway does.

AWS facts (README "Facts relied on"): a gateway response is a status, headers from parameter
mappings and a body from a *non-VTL* template that only substitutes variables; a header mapping's
source is a `'static'` value, `method.request.{header,multivalueheader,querystring,
multivaluequerystring,path}.NAME`, `stageVariables.NAME` or `context.NAME`; a mapping whose source
is absent from the request sets no header.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from infra.cfn import ACCOUNT_ID
from infra.sam_app import ApiSpec
from local.httpserver import Response

from .events import API_ID, DEPLOYMENT_ID, parse_query, request_time, resource_id

# response type -> (default status, default message, x-amzn-ErrorType)
_DEFAULTS = {
    "MISSING_AUTHENTICATION_TOKEN": (403, "Missing Authentication Token", "MissingAuthenticationTokenException"),
    "INTEGRATION_FAILURE": (502, "Internal server error", "InternalServerErrorException"),
    "INTEGRATION_TIMEOUT": (504, "Endpoint request timed out", None),
    "REQUEST_TOO_LARGE": (413, "Request Too Long", None),
}
_NAME = r"[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*"
_VARIABLE = re.compile(rf"\$(?:\{{(context|stageVariables)\.({_NAME})\}}|(context|stageVariables)\.({_NAME}))")


@dataclass
class RequestFacts:
    """What a gateway response may map from: the method request and its context."""

    request_id: str
    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    source_ip: str
    stage: str
    epoch: float
    path_parameters: dict[str, str] | None = None
    resource_path: str | None = None


def gateway_response(kind: str, api: ApiSpec, facts: RequestFacts) -> Response:
    """The response of type `kind`, customised by the API's GatewayResponses (own type, else the
    DEFAULT_4XX / DEFAULT_5XX it falls back to, as AWS's gateway-response inheritance does)."""
    status, message, error_type = _DEFAULTS[kind]
    headers: list[tuple[str, str]] = [("x-amzn-ErrorType", error_type)] if error_type else []
    body = json.dumps({"message": message}).encode()
    family = "DEFAULT_4XX" if status < 500 else "DEFAULT_5XX"
    custom = api.gateway_responses.get(kind) or api.gateway_responses.get(family)
    if custom:
        status = custom["status"] or status
        context = GatewayContext(facts, kind, message)
        templates = custom["templates"]
        template = templates.get("application/json") or next(iter(templates.values()), None)
        if template is not None:
            body = render_template(template, context).encode()
        for name, expression in custom["headers"].items():
            value = mapped_value(expression, context)
            if value is not None:
                headers.append((name, value))
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/json"))
    return Response(status, headers, body)


class GatewayContext:
    """The `$context` variables a gateway response can use, computed only when asked for."""

    def __init__(self, facts: RequestFacts, kind: str, message: str) -> None:
        self.facts, self.kind, self.message = facts, kind, message

    def get(self, name: str) -> str | None:
        produce = _CONTEXT.get(name)
        return produce(self) if produce is not None else None

    def host(self) -> str:
        return (_last(self.facts.headers, "host") or "localhost").split(":", 1)[0]


def _resource(context: GatewayContext, value: Callable[[str], str]) -> str | None:
    path = context.facts.resource_path
    return value(path) if path is not None else None


_CONTEXT: dict[str, Callable[[GatewayContext], str | None]] = {
    "accountId": lambda c: ACCOUNT_ID,
    "apiId": lambda c: API_ID,
    "deploymentId": lambda c: DEPLOYMENT_ID,
    "domainName": lambda c: c.host(),
    "domainPrefix": lambda c: c.host().split(".", 1)[0],
    "error.message": lambda c: c.message,
    "error.messageString": lambda c: json.dumps(c.message),
    "error.responseType": lambda c: c.kind,
    "httpMethod": lambda c: c.facts.method,
    "identity.sourceIp": lambda c: c.facts.source_ip,
    "identity.userAgent": lambda c: _last(c.facts.headers, "user-agent"),
    "path": lambda c: f"/{c.facts.stage}{c.facts.path}",
    "protocol": lambda c: "HTTP/1.1",
    "requestId": lambda c: c.facts.request_id,
    "requestTime": lambda c: request_time(c.facts.epoch),
    "requestTimeEpoch": lambda c: str(int(c.facts.epoch * 1000)),
    "resourceId": lambda c: _resource(c, resource_id),
    "resourcePath": lambda c: _resource(c, str),
    "stage": lambda c: c.facts.stage,
}


def render_template(template: str, context: GatewayContext) -> str:
    """Simple variable substitution, not VTL: a known `$context.x` or `${context.x}` is replaced,
    `$stageVariables.x` is empty (stage variables are not emulated), anything else stays as written."""

    def substitute(match: re.Match[str]) -> str:
        source, name = match.group(1) or match.group(3), match.group(2) or match.group(4)
        if source == "stageVariables":
            return ""
        value = context.get(name)
        return value if value is not None else match.group(0)

    return _VARIABLE.sub(substitute, template)


def mapped_value(expression: str, context: GatewayContext) -> str | None:
    """Evaluate one `ResponseParameters` source; None when the request does not have it."""
    if len(expression) >= 2 and expression[0] == expression[-1] == "'":
        return expression[1:-1]
    source, _, name = expression.partition(".")
    if source == "context":
        return context.get(name)
    if source == "stageVariables" or not expression.startswith("method.request."):
        return None  # stage variables are not emulated; unknown sources map nothing
    position, _, name = expression[len("method.request.") :].partition(".")
    return _request_value(position, name, context.facts)


def _request_value(position: str, name: str, facts: RequestFacts) -> str | None:
    if position in ("header", "multivalueheader"):
        values = [v for n, v in facts.headers if n.lower() == name.lower()]
    elif position in ("querystring", "multivaluequerystring"):
        values = (parse_query(facts.query)[1] or {}).get(name, [])
    elif position == "path":
        value = (facts.path_parameters or {}).get(name)
        values = [value] if value is not None else []
    else:
        return None
    if not values:
        return None
    return ",".join(values) if position.startswith("multivalue") else values[-1]


def _last(headers: list[tuple[str, str]], lname: str) -> str | None:
    found = None
    for name, value in headers:
        if name.lower() == lname:
            found = value
    return found
