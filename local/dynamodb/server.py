"""DynamoDB JSON 1.0 over HTTP/1.1 keep-alive: asyncio (+ uvloop) and httptools, one thread.

Every request is parsed, executed and answered synchronously inside the protocol callback, so
no two operations ever interleave: that is DynamoDB's per-item atomicity, with no lock. SigV4
signatures are not checked. Anything that is not a DynamoDB call (e.g. the stack's readiness
GET) gets a 400 UnknownOperationException, which is an answer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
import zlib
from decimal import Decimal
from typing import Any

import httptools

from local.dynamodb.store import Store
from local.dynamodb.values import DynamoError

_PREFIX = "com.amazonaws.dynamodb.v20120810#"
_TARGET_PREFIX = "DynamoDB_20120810."
_REASONS = {200: "OK", 400: "Bad Request", 413: "Payload Too Large", 500: "Internal Server Error"}
_MAX_BODY = 16 * 1024 * 1024
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
        try:
            request = json.loads(body or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise DynamoError("SerializationException", "Start of structure or map found where not expected") \
                from None
        result = store.handle(target[len(_TARGET_PREFIX):], request)
        return 200, json.dumps(result, separators=(",", ":"), default=_json_default).encode()
    except DynamoError as error:
        payload: dict[str, Any] = {"__type": _PREFIX + error.code, "message": error.message}
        if error.item is not None:
            payload["Item"] = error.item
        return error.status, json.dumps(payload, separators=(",", ":")).encode()
    except Exception as error:  # a bug here must still answer, and say where to look
        _log.exception("local DynamoDB failed on %s", target)
        payload = {"__type": _PREFIX + "InternalServerError", "message": f"{type(error).__name__}: {error}"}
        return 500, json.dumps(payload).encode()


class _Connection(asyncio.Protocol):
    def __init__(self, store: Store, connections: set[_Connection]) -> None:
        self.store = store
        self.connections = connections
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.target: str | None = None
        self.body: list[bytes] = []
        self.size = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's transports are not subclasses
        self.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.connections.discard(self)
        self.transport = None

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._answer(400, b'{"message":"upgrade not supported"}', keep_alive=False)
        except httptools.HttpParserError:
            self._answer(400, b'{"__type":"' + _PREFIX.encode() + b'SerializationException",'
                         b'"message":"malformed HTTP request"}', keep_alive=False)

    # httptools callbacks
    def on_message_begin(self) -> None:
        self.target, self.body, self.size = None, [], 0

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"x-amz-target":
            self.target = value.decode("latin-1")

    def on_body(self, body: bytes) -> None:
        self.size += len(body)
        if self.size <= _MAX_BODY:
            self.body.append(body)

    def on_message_complete(self) -> None:
        keep_alive = self.parser.should_keep_alive()
        if self.size > _MAX_BODY:
            self._answer(413, b'{"__type":"' + _PREFIX.encode() + b'ValidationException",'
                         b'"message":"Request too large"}', keep_alive=False)
            return
        status, payload = execute(self.store, self.target, b"".join(self.body))
        self._answer(status, payload, keep_alive)

    def _answer(self, status: int, payload: bytes, keep_alive: bool) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        head = (f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n"
                "Content-Type: application/x-amz-json-1.0\r\n"
                f"Content-Length: {len(payload)}\r\n"
                f"x-amzn-RequestId: {uuid.uuid4().hex}\r\n"
                f"x-amz-crc32: {zlib.crc32(payload)}\r\n"
                f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n")
        self.transport.write(head.encode() + payload)
        if not keep_alive:
            self.transport.close()


async def serve(store: Store, host: str, port: int, connections: set[_Connection]) -> asyncio.Server:
    loop = asyncio.get_running_loop()
    return await loop.create_server(lambda: _Connection(store, connections), host, port, reuse_address=True)


def new_event_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:  # plain asyncio still works, only slower
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()
