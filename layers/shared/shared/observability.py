"""Structured logging and the per-request guard that wraps every handler.

Powertools runs its request-validation middleware before any global middleware, so what must
see every request and response, even a 400 from validation, wraps `app.resolve` here:
the request id, the rate limit, the body-size limit, the access log line and request metrics.

The rate limit is decided first, from the raw event's (httpMethod, resource): a request that
would fail validation (or is too large) still spends budget, so malformed floods are limited
too, and its response still carries the X-RateLimit-* headers.
"""

from __future__ import annotations

import base64
import re
import time
import traceback
from collections.abc import Callable, Iterator
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.middleware_factory import lambda_handler_decorator

from shared.errors import PayloadTooLarge, RateLimitExceeded, ValidationFailed
from shared.events import header, is_json_content
from shared.pgconnect import sqlstate
from shared.protection.metrics import record_request
from shared.protection.ratelimit import check_request
from shared.responses import proxy_failure
from shared.settings import get_settings

logger = Logger(use_rfc3339=True)

_CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
_REQUEST_KEYS = ("request_id", "method", "path", "user_id")

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def request_id_of(event: dict[str, Any]) -> str:
    client_id = header(event, "X-Request-ID")
    if client_id and _CLIENT_REQUEST_ID.fullmatch(client_id):
        return client_id
    return str((event.get("requestContext") or {}).get("requestId") or "")


def log_unexpected(error: BaseException) -> None:
    """An error no handler expected, with its traceback but without what a database error quotes."""
    logger.error("unhandled error", extra={"exception_name": type(error).__name__,
                                           "exception": safe_traceback(error)})


def safe_traceback(error: BaseException) -> str:
    """The traceback of `error` and of what caused it, with database errors' messages withheld: a driver's
    message quotes the failing row (an email, a password hash), and SQLAlchemy's quotes the parameters."""
    parts: list[str] = []
    for link in reversed(list(_causes(error))):
        parts.extend(traceback.format_tb(link.__traceback__))
        parts.append(f"{type(link).__module__}.{type(link).__qualname__}: {_safe_message(link)}\n")
    return "".join(parts)


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    link: BaseException | None = error
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        yield link
        link = link.__cause__ or link.__context__


def _safe_message(error: BaseException) -> str:
    if type(error).__module__.split(".")[0] not in ("sqlalchemy", "pg8000"):
        return str(error)
    return f"[database message withheld] SQLSTATE {sqlstate(error) or '-'}"


def add_headers(result: dict[str, Any], headers: dict[str, str]) -> None:
    """Add headers to a proxy result that may use `headers`, `multiValueHeaders` or both."""
    if "multiValueHeaders" in result:
        multi = result["multiValueHeaders"] = dict(result["multiValueHeaders"] or {})
        for name, value in headers.items():
            multi[name] = [value]
    else:
        result["headers"] = {**(result.get("headers") or {}), **headers}


def body_size(event: dict[str, Any]) -> int:
    body = event.get("body") or ""
    size = len(body.encode()) if isinstance(body, str) else len(body)
    return size * 3 // 4 if event.get("isBase64Encoded") else size


def not_text(event: dict[str, Any]) -> bool:
    """A base64 body (how API Gateway passes bytes) that is not UTF-8, so it cannot be JSON."""
    if not event.get("isBase64Encoded") or not event.get("body"):
        return False
    try:
        base64.b64decode(event["body"], validate=True).decode()
    except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors
        return True
    return False


@lambda_handler_decorator
def request_guard(handler: Handler, event: dict[str, Any], context: Any) -> dict[str, Any]:
    started = time.perf_counter()
    request_id = request_id_of(event)
    logger.remove_keys(list(_REQUEST_KEYS))
    logger.append_keys(request_id=request_id, method=event.get("httpMethod"), path=event.get("path"))
    decision = check_request(event)
    if not decision.allowed:
        result = proxy_failure(RateLimitExceeded(retry_after=decision.retry_after))
    elif body_size(event) > get_settings().max_body_bytes:
        result = proxy_failure(PayloadTooLarge(f"Request body exceeds {get_settings().max_body_bytes} bytes"))
    elif event.get("body") and not is_json_content(header(event, "Content-Type")):
        # Every body this API takes is JSON. Left to Powertools, a form would be parsed into
        # "fields" made of raw body text (echoed back in errors) and a bad multipart header raises.
        result = proxy_failure(ValidationFailed("Content-Type must be application/json"))
    elif not_text(event):  # Powertools' decoding would raise UnicodeDecodeError: a 500
        result = proxy_failure(ValidationFailed("Request body is not valid JSON"))
    else:
        result = handler(event, context)
    add_headers(result, {"X-Request-ID": request_id, **decision.headers()})
    latency_ms = (time.perf_counter() - started) * 1000
    status = int(result.get("statusCode") or 500)
    logger.info("request", extra={
        "status": status,
        "route": event.get("resource"),
        "latency_ms": round(latency_ms, 2),
        "rate_limited": not decision.allowed,
    })
    record_request(f"{event.get('httpMethod')} {event.get('resource')}", status, latency_ms,
                   rate_limited=not decision.allowed, failed_open=decision.failed_open)
    return result
