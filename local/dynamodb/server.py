"""DynamoDB JSON 1.0 over the shared HTTP/1.1 server (`local/httpserver.py`), one thread.

The handler is synchronous, so every request is parsed, executed and answered inside the protocol
callback: no two operations ever interleave, which is DynamoDB's per-item atomicity with no lock.
SigV4 signatures are not checked. Anything that is not a DynamoDB call (e.g. the stack's readiness
GET) gets a 400 UnknownOperationException, which is an answer.
"""

from __future__ import annotations

import json
import logging
import uuid
import zlib
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from local.dynamodb.store import Store
from local.dynamodb.values import DynamoError
from local.dynamodb.wire import ERROR_TYPE_PREFIX, error_body, parse_request
from local.httpserver import HttpServer, Limits, Request, Response

_TARGET_PREFIX = "DynamoDB_20120810."
# DynamoDB caps a request at 16 MB (BatchWriteItem); head limits and timeouts are local safety bounds.
LIMITS = Limits(max_url=16 * 1024, max_head=64 * 1024, max_body=16 * 1024 * 1024, idle_timeout=300.0)
_log = logging.getLogger("local.dynamodb")


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(type(value).__name__)


def execute(store: Store, target: str | None, body: bytes) -> tuple[int, bytes]:
    """(status, JSON body) for one request; never raises."""
    try:
        if not target or not target.startswith(_TARGET_PREFIX):
            raise DynamoError("UnknownOperationException", "Expected X-Amz-Target: DynamoDB_20120810.<Action>")
        result = store.handle(target[len(_TARGET_PREFIX):], parse_request(body))
        return 200, json.dumps(result, separators=(",", ":"), default=_json_default).encode()
    except DynamoError as error:
        return error.status, json.dumps(error_body(error), separators=(",", ":")).encode()
    except Exception as error:  # a bug here must still answer, and say where to look
        _log.exception("local DynamoDB failed on %s", target)
        payload = {"__type": ERROR_TYPE_PREFIX + "InternalServerError", "message": f"{type(error).__name__}: {error}"}
        return 500, json.dumps(payload).encode()


def handler(store: Store) -> Callable[[Request], Response]:
    """The request handler: synchronous, so the shared server runs it inside the protocol callback."""

    def handle(request: Request) -> Response:
        if request.too_large:
            return _answer(413, _error_body("ValidationException", "Request too large"))
        status, payload = execute(store, request.header("x-amz-target"), request.body)
        return _answer(status, payload)

    return handle


_PROTOCOL_CODES = {413: "ValidationException", 414: "ValidationException", 431: "ValidationException",
                   500: "InternalServerError", 503: "ServiceUnavailable"}


def protocol_error(status: int, message: str) -> Response:
    """Malformed HTTP, oversized heads, too many connections: a DynamoDB-shaped error body."""
    return _answer(status, _error_body(_PROTOCOL_CODES.get(status, "SerializationException"), message))


def _error_body(code: str, message: str) -> bytes:
    return json.dumps({"__type": ERROR_TYPE_PREFIX + code, "message": message}, separators=(",", ":")).encode()


def _answer(status: int, payload: bytes) -> Response:
    return Response(status, [("Content-Type", "application/x-amz-json-1.0"),
                             ("x-amzn-RequestId", uuid.uuid4().hex),
                             ("x-amz-crc32", str(zlib.crc32(payload)))], payload)


def http_server(store: Store) -> HttpServer:
    return HttpServer(handler(store), LIMITS, error_response=protocol_error)
