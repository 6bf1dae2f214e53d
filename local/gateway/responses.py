"""Lambda proxy response validation and API Gateway's own (gateway) responses.

Validation mirrors what AWS accepts (LocalStack's AWS-validated
`test_lambda_aws_proxy_response_format`): every key is optional, no other key is
allowed, statusCode must be int-convertible, header values must be strings (booleans
are tolerated and rendered "true"/"false"), body must be a string.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

from .events import media_type_matches
from .template import ApiSpec

ALLOWED_KEYS = frozenset({"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"})


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


class MalformedResponse(ValueError):
    pass


def _header_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    raise MalformedResponse(f"header value {value!r} is not a string")


def _status(result: dict[str, Any]) -> int:
    raw = result.get("statusCode")
    if raw is None:
        return 200
    if isinstance(raw, bool) or not isinstance(raw, (int, str)):
        raise MalformedResponse("statusCode is not a number")
    try:
        status = int(raw)
    except ValueError as exc:
        raise MalformedResponse("statusCode is not a number") from exc
    if not 100 <= status <= 599:
        raise MalformedResponse("statusCode out of range")
    return status


def _headers(result: dict[str, Any]) -> dict[str, list[str]]:
    """multiValueHeaders are merged with headers; a name in both keeps the multi values."""
    single = result.get("headers")
    multi = result.get("multiValueHeaders")
    if single is not None and not isinstance(single, dict):
        raise MalformedResponse("headers is not a map")
    if multi is not None and not isinstance(multi, dict):
        raise MalformedResponse("multiValueHeaders is not a map")
    merged = {str(name): [_header_str(value)] for name, value in (single or {}).items()}
    for name, values in (multi or {}).items():
        if not isinstance(values, list):
            raise MalformedResponse("multiValueHeaders values must be lists")
        merged[str(name)] = [_header_str(v) for v in values]
    return merged


def proxy_to_http(result: Any, api: ApiSpec, accept: str | None) -> HttpResponse:
    """Convert a handler's return value; raises MalformedResponse where AWS answers 502."""
    if not isinstance(result, dict):
        raise MalformedResponse("response is not a JSON object")
    extra = set(result) - ALLOWED_KEYS
    if extra:
        raise MalformedResponse(f"unexpected keys {sorted(extra)}")
    status = _status(result)
    merged = _headers(result)
    body = result.get("body")
    if body is not None and not isinstance(body, str):
        raise MalformedResponse("body is not a string")
    is_b64 = result.get("isBase64Encoded", False)
    if not isinstance(is_b64, bool):
        raise MalformedResponse("isBase64Encoded is not a boolean")
    out = [(name, v) for name, values in merged.items() for v in values]
    content_type = next((vs[-1] for n, vs in merged.items() if n.lower() == "content-type"), None)
    if content_type is None:
        out.append(("Content-Type", "application/json"))
    data = (body or "").encode("utf-8")
    # API Gateway converts base64 to binary only when the API declares a matching binary
    # media type (request Accept, or the response Content-Type); otherwise the text passes.
    if (
        is_b64
        and data
        and (
            media_type_matches(accept, api.binary_media_types)
            or media_type_matches(content_type, api.binary_media_types)
        )
    ):
        try:
            data = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise MalformedResponse("body is not valid base64") from exc
    return HttpResponse(status, out, data)


_ERROR_TYPES = {
    "MISSING_AUTHENTICATION_TOKEN": (403, "Missing Authentication Token", "MissingAuthenticationTokenException"),
    "INTEGRATION_FAILURE": (502, "Internal server error", "InternalServerErrorException"),
    "INTEGRATION_TIMEOUT": (504, "Endpoint request timed out", None),
    "REQUEST_TOO_LARGE": (413, "Request Too Long", None),
}
_FALLBACK = {"MISSING_AUTHENTICATION_TOKEN": "DEFAULT_4XX", "REQUEST_TOO_LARGE": "DEFAULT_4XX"}


def gateway_response(kind: str, api: ApiSpec, request_id: str) -> HttpResponse:
    """API Gateway-generated response, customised by the API's GatewayResponses when declared.

    INTEGRATION_FAILURE here is the 502 of a failed/malformed Lambda proxy call; it honours
    a declared DEFAULT_5XX like AWS's gateway-response inheritance.
    """
    status, message, error_type = _ERROR_TYPES[kind]
    headers: list[tuple[str, str]] = []
    if error_type:
        headers.append(("x-amzn-ErrorType", error_type))
    body = json.dumps({"message": message}).encode()
    custom = api.gateway_responses.get(kind) or api.gateway_responses.get(_FALLBACK.get(kind, "DEFAULT_5XX"))
    if custom:
        status = custom["status"] or status
        templates = custom["templates"]
        template = templates.get("application/json") or next(iter(templates.values()), None)
        if template is not None:
            body = (
                template.replace("$context.error.messageString", json.dumps(message))
                .replace("$context.error.message", message)
                .replace("$context.requestId", request_id)
            ).encode()
        headers.extend(custom["headers"].items())
    if not any(h.lower() == "content-type" for h, _ in headers):
        headers.append(("Content-Type", "application/json"))
    return HttpResponse(status, headers, body)
