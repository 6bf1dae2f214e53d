"""The fast engine in a background thread with its own event loop (for tests and the CLI)."""

from __future__ import annotations

from dataclasses import dataclass, field

from local.dynamodb.server import http_server
from local.dynamodb.store import Store
from local.httpserver import HttpServer
from local.loopthread import LoopThread


@dataclass
class FastServer:
    host: str
    port: int
    store: Store = field(default_factory=Store)
    runner: LoopThread = field(default_factory=lambda: LoopThread("dynamodb-fast"))
    _http: HttpServer | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> None:
        http = self._http = http_server(self.store)
        self.port = self.runner.start(lambda: http.start(self.host, self.port))

    def stop(self) -> None:
        if self._http is not None:
            self.runner.stop(self._http.close, timeout=5)


def start_fast(host: str = "127.0.0.1", port: int = 0) -> FastServer:
    server = FastServer(host, port)
    server.start()
    return server
