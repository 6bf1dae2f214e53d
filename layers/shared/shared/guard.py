"""The per-request guard around `app.resolve`: what must see every request and every response.

Powertools runs its request validation before any global middleware, so what must also see a 400
from validation wraps the resolver instead, as small steps with one job each:

1. `request_id`: the client's X-Request-ID when it is well-formed, else API Gateway's request id;
   put on every log line of the request, and on the response.
2. `rate_decision`: the rate limit, decided first from the raw event's (httpMethod, resource), with the
   function's own `RateLimits`: a request that would fail validation still spends budget (malformed
   floods are limited too), and every response carries X-RateLimit-*;
3. `refusal`: checks of the raw request a route never sees (body size, content type, binary body);
4. the route, through the resolver; whatever still escapes it (an error inside one of its error handlers)
   is a 500 in the envelope, never a bare Lambda error;
5. `finish`: headers on the response (X-Request-ID, X-RateLimit-*, CORS), one access log line, request metrics.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.middleware_factory import lambda_handler_decorator

from shared.cors import cors_headers
from shared.dependencies import dependencies
from shared.envelope import proxy_failure
from shared.errors import ApiError, PayloadTooLarge, RateLimitExceeded, ValidationFailed
from shared.logger import log_unexpected, logger
from shared.protection.rate_policy import RateLimits
from shared.protection.sliding_window import Decision
from shared.raw_event import Event, body_size, header, is_binary_body, is_json_content

_CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
_REQUEST_KEYS = ("request_id", "method", "path", "user_id")

ProxyResult = dict[str, Any]
Handler = Callable[[Event, Any], ProxyResult]
Check = Callable[[Event], ApiError | None]


def request_id(event: Event) -> str:
    client_id = header(event, "X-Request-ID")
    if client_id and _CLIENT_REQUEST_ID.fullmatch(client_id):
        return client_id
    return str((event.get("requestContext") or {}).get("requestId") or "")


def too_large(event: Event) -> ApiError | None:
    limit = dependencies().settings.max_body_bytes
    return PayloadTooLarge(f"Request body exceeds {limit} bytes") if body_size(event) > limit else None


def not_json(event: Event) -> ApiError | None:
    # Every body this API takes is JSON. Left to Powertools, a form would be parsed into "fields" made of
    # raw body text (echoed back in errors), and a multipart header without a boundary raises.
    if event.get("body") and not is_json_content(header(event, "Content-Type")):
        return ValidationFailed("Content-Type must be application/json")
    return None


def not_text(event: Event) -> ApiError | None:
    # Powertools would decode it as UTF-8 and raise UnicodeDecodeError: a 500.
    return ValidationFailed("Request body is not valid JSON") if is_binary_body(event) else None


CHECKS: tuple[Check, ...] = (too_large, not_json, not_text)


def rate_decision(rate_limits: RateLimits, event: Event) -> Decision:
    """The limiter's answer for this request. The limiter fails open on DynamoDB errors itself; anything else
    that breaks the key or the limiter (a misconfiguration) fails open too, logged, rather than the request."""
    limit = rate_limits.for_event(event)
    rule = limit.rule(dependencies().settings)
    try:
        return dependencies().limiter.hit(limit.name, rule, limit.key(event))
    except Exception as error:  # fail open, as for an unreachable table
        log_unexpected(error)
        return Decision(allowed=True, limit=rule.limit, remaining=rule.limit - 1, reset_after=rule.window_seconds,
                        failed_open=True)


def refusal(event: Event, decision: Decision) -> ApiError | None:
    """Why this request gets no further than the guard, or None."""
    if not decision.allowed:
        return RateLimitExceeded(retry_after=decision.retry_after)
    return next((error for check in CHECKS if (error := check(event)) is not None), None)


def add_headers(result: ProxyResult, headers: dict[str, str]) -> None:
    """Add headers to a proxy result that may use `headers`, `multiValueHeaders` or both."""
    if "multiValueHeaders" in result:
        multi = result["multiValueHeaders"] = dict(result["multiValueHeaders"] or {})
        for name, value in headers.items():
            multi[name] = [value]
    else:
        result["headers"] = {**(result.get("headers") or {}), **headers}


def finish(event: Event, result: ProxyResult, decision: Decision, rid: str, started: float) -> None:
    cors = cors_headers(dependencies().settings.cors_allow_origins, header(event, "Origin"))
    add_headers(result, {"X-Request-ID": rid, **decision.headers(), **cors})
    latency_ms = (time.perf_counter() - started) * 1000
    status = int(result.get("statusCode") or 500)
    logger.info("request", extra={"status": status, "route": event.get("resource"),
                                  "latency_ms": round(latency_ms, 2), "rate_limited": not decision.allowed})
    dependencies().metrics.record_request(f"{event.get('httpMethod')} {event.get('resource')}", status, latency_ms,
                                          rate_limited=not decision.allowed, failed_open=decision.failed_open)


def request_guard(rate_limits: RateLimits) -> Callable[[Handler], Handler]:
    """The guard for a function with these rate limits (a Powertools handler decorator)."""

    @lambda_handler_decorator
    def guard(handler: Handler, event: Event, context: Any) -> ProxyResult:
        started = time.perf_counter()
        rid = request_id(event)
        logger.remove_keys(list(_REQUEST_KEYS))
        logger.append_keys(request_id=rid, method=event.get("httpMethod"), path=event.get("path"))
        decision = rate_decision(rate_limits, event)
        refused = refusal(event, decision)
        try:
            result = proxy_failure(refused) if refused is not None else handler(event, context)
        except Exception as error:  # what escaped the resolver (its own error handlers included)
            log_unexpected(error)
            result = proxy_failure(ApiError())
        finish(event, result, decision, rid, started)
        return result

    return guard
