"""A local DynamoDB (moto) served fast enough not to be the bottleneck of the functions.

Stock `moto_server` speaks HTTP/1.0 (one TCP connection per request) through a dispatcher that
guesses the service from every request, which caps it at a few hundred UpdateItem/s. Here the
DynamoDB backend app is served directly by werkzeug's threaded server with HTTP/1.1 keep-alive,
so the functions' pooled boto3 connections are reused.

moto's backend is not safe under concurrent mutation (a conditional UpdateItem is a read, a check
and a write), so request handling is serialised by one lock: that is what DynamoDB guarantees
per item, and it keeps the rate-limit concurrency tests meaningful. Parsing and I/O stay
concurrent.

    python -m local.dynamodb --port 8000 [--host 127.0.0.1] [--template template.yaml]
"""

from __future__ import annotations

import argparse
import signal
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
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
    from moto.moto_server.werkzeug_app import MotoRequestHandler

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
class DynamoDbServer:
    server: BaseWSGIServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        return f"http://{self.server.host}:{self.server.port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def start_dynamodb(host: str = "127.0.0.1", port: int = 0) -> DynamoDbServer:
    """Serve moto's DynamoDB on host:port (0 = any free port) in a background thread."""
    from moto.moto_server.werkzeug_app import create_backend_app

    app = _serialised(create_backend_app("dynamodb"))
    server = make_server(host, port, app, threaded=True, request_handler=_request_handler())
    thread = threading.Thread(target=server.serve_forever, name="dynamodb", daemon=True)
    thread.start()
    return DynamoDbServer(server, thread)


def create_template_tables(url: str, template: Path, region: str = "us-east-1") -> list[str]:
    import boto3

    from infra.tables import create_tables

    client = boto3.client("dynamodb", endpoint_url=url, region_name=region,
                          aws_access_key_id="local", aws_secret_access_key="local")
    return create_tables(client, template, region)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--template", type=Path, help="create the tables this SAM template declares")
    args = parser.parse_args(argv)
    handle = start_dynamodb(args.host, args.port)
    if args.template:
        create_template_tables(handle.url, args.template)
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    print(f"DynamoDB listening on {handle.url}", flush=True)
    stopped.wait()
    handle.stop()


if __name__ == "__main__":
    main()
