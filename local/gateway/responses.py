"""Lambda proxy response validation and conversion to the HTTP response the client gets.

Validation mirrors what AWS accepts (LocalStack's AWS-validated
`test_lambda_aws_proxy_response_format`): every key is optional, no other key is
allowed, statusCode must be int-convertible, header values must be strings (booleans
are tolerated and rendered "true"/"false"), body must be a string.
API Gateway's own responses (404/413/502/504...) are in `gateway_responses.py`.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from infra.sam_app import ApiSpec
from local.httpserver import Response as HttpResponse

from .events import media_type_matches

ALLOWED_KEYS = frozenset({"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"})
# Framing is the gateway's to write: a function's own values for these are not passed on.
_FRAMING = frozenset({"content-length", "connection", "transfer-encoding", "date"})


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


def _headers(result: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """`headers` and `multiValueHeaders` merged as API Gateway does: a name in both (compared
    case-insensitively) is spelled as in `multiValueHeaders` and carries the multi values, then
    the single value unless it is already one of them (AWS "Lambda proxy integration" docs; LocalStack's
    AWS-validated `invoke-api-multi-headers-overwrite[-casing]` snapshots)."""
    single = result.get("headers")
    multi = result.get("multiValueHeaders")
    if single is not None and not isinstance(single, dict):
        raise MalformedResponse("headers is not a map")
    if multi is not None and not isinstance(multi, dict):
        raise MalformedResponse("multiValueHeaders is not a map")
    merged: dict[str, tuple[str, list[str]]] = {}
    for name, values in (multi or {}).items():
        if not isinstance(values, list):
            raise MalformedResponse("multiValueHeaders values must be lists")
        _, known = merged.setdefault(str(name).lower(), (str(name), []))
        known.extend(_header_str(v) for v in values)
    for name, value in (single or {}).items():
        _, known = merged.setdefault(str(name).lower(), (str(name), []))
        text = _header_str(value)
        if text not in known:
            known.append(text)
    return list(merged.values())


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
    out = [(name, v) for name, values in merged if name.lower() not in _FRAMING for v in values]
    if not any(name.lower() == "content-type" for name, _ in out):
        out.append(("Content-Type", "application/json"))
    data = (body or "").encode("utf-8")
    # API Gateway decodes a base64 proxy body only when the request's FIRST Accept media type
    # matches one of the API's BinaryMediaTypes; the response Content-Type plays no part for
    # Lambda proxy integrations ("Binary media types for REST APIs"). Otherwise the text passes.
    if is_b64 and data and media_type_matches(accept, api.binary_media_types):
        try:
            data = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise MalformedResponse("body is not valid base64") from exc
    return HttpResponse(status, out, data)
