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
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _serialised(app: WsgiApp) -> WsgiApp:
    lock = threading.Lock()

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with lock:
            return list(app(environ, start_response))

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


def start_moto(host: str = "127.0.0.1", port: int = 0) -> MotoServer:
    """Serve moto's DynamoDB on host:port (0 = any free port) in a background thread."""
    from moto.moto_server.werkzeug_app import create_backend_app  # noqa: PLC0415 - as above

    app = _serialised(create_backend_app("dynamodb"))
    server = make_server(host, port, app, threaded=True, request_handler=_request_handler())
    thread = threading.Thread(target=server.serve_forever, name="dynamodb", daemon=True)
    thread.start()
    return MotoServer(server, thread)
