"""The moto engine, the alternative to the default fast engine: moto's DynamoDB backend served with HTTP/1.1
keep-alive (`--engine moto` or DYNAMODB_ENGINE=moto; the protection unit tests also run on it).

Stock `moto_server` speaks HTTP/1.0 (one TCP connection per request) through a dispatcher that
guesses the service from every request, which caps it at a few hundred UpdateItem/s. Here the
DynamoDB backend app is served directly by werkzeug's threaded server with HTTP/1.1 keep-alive,
so the functions' pooled boto3 connections are reused.

moto's backend is not safe under concurrent mutation (a conditional UpdateItem is a read, a check
and a write), so request handling is serialised by one lock: that is what DynamoDB guarantees
per item, and it keeps the rate-limit concurrency tests meaningful. Parsing and I/O stay
concurrent.

moto cannot throttle. Given a HeatMap (`start_moto(heat=…)`), its rules are applied in front of moto
(`_throttling`): each request counts one unit against its table and partition key value (moto reports no
item sizes), and a request over a rule gets DynamoDB's throttling answer without reaching moto.
"""

from __future__ import annotations

import io
import json
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

from local.dynamodb.heat import HeatMap
from local.dynamodb.values import DynamoError
from local.dynamodb.wire import error_body

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _serialised(app: WsgiApp) -> WsgiApp:
    lock = threading.Lock()

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with lock:
            return list(app(environ, start_response))

    return wsgi


_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem"})
_READS = frozenset({"GetItem", "Query"})


def _throttling(app: WsgiApp, heat: HeatMap) -> WsgiApp:
    """`heat`'s throttling rules in front of moto, one unit per request; key schemas learnt from CreateTable."""
    schemas: dict[str, tuple[str, bool]] = {}  # table -> (hash key attribute, on-demand)

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        action = str(environ.get("HTTP_X_AMZ_TARGET", "")).rpartition(".")[2]
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        if action not in _WRITES | _READS | {"CreateTable"}:
            return app(environ, start_response)
        try:
            request = json.loads(body or b"{}")
            table = str(request.get("TableName"))
        except (ValueError, AttributeError):
            return app(environ, start_response)  # moto answers malformed requests itself
        if action == "CreateTable":
            hash_key = next((k.get("AttributeName") for k in request.get("KeySchema") or [] if k.get("KeyType") ==
                             "HASH"), "")
            schemas[table] = (str(hash_key), request.get("BillingMode") == "PAY_PER_REQUEST")
            return app(environ, start_response)
        hash_key, on_demand = schemas.get(table, ("", True))
        key = request.get("Item" if action == "PutItem" else "Key") or {}
        partition = str(next(iter((key.get(hash_key) or {"": "*"}).values())))
        write = action in _WRITES
        try:
            heat.admit(table, on_demand, partition, write=write)
        except DynamoError as error:
            payload = json.dumps(error_body(error)).encode()
            start_response("400 Bad Request", [("Content-Type", "application/x-amz-json-1.0"),
                                               ("Content-Length", str(len(payload)))])
            return [payload]
        heat.record(table, partition, reads=0.0 if write else 1.0, writes=1.0 if write else 0.0)
        return app(environ, start_response)

    return wsgi


def _request_handler() -> type:
    from moto.moto_server.werkzeug_app import MotoRequestHandler  # noqa: PLC0415 - moto takes ~1 s to import

    class KeepAliveHandler(MotoRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in separate writes: without NODELAY, Nagle + delayed ACK
            # stall every keep-alive response by milliseconds.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_request(self, *args: Any, **kwargs: Any) -> None:
            """No per-request log line: it costs more than the request."""

    return KeepAliveHandler


@dataclass
class MotoServer:
    server: BaseWSGIServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        return f"http://{self.server.host}:{self.server.port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def start_moto(host: str = "127.0.0.1", port: int = 0, heat: HeatMap | None = None) -> MotoServer:
    """Serve moto's DynamoDB on host:port (0 = any free port) in a background thread; `heat`: see above."""
    from moto.moto_server.werkzeug_app import create_backend_app  # noqa: PLC0415 - as above

    backend: WsgiApp = create_backend_app("dynamodb")
    app = _serialised(_throttling(backend, heat) if heat is not None else backend)
    server = make_server(host, port, app, threaded=True, request_handler=_request_handler())
    thread = threading.Thread(target=server.serve_forever, name="dynamodb", daemon=True)
    thread.start()
    return MotoServer(server, thread)
