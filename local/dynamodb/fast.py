"""The fast engine in a background thread with its own event loop (for tests and the CLI)."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from typing import Any

from local.dynamodb.server import new_event_loop, serve
from local.dynamodb.store import Store


@dataclass
class FastServer:
    host: str
    port: int
    store: Store = field(default_factory=Store)
    loop: asyncio.AbstractEventLoop = field(default_factory=new_event_loop)
    thread: threading.Thread | None = None
    _server: asyncio.Server | None = None
    _connections: set[Any] = field(default_factory=set)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> None:
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            try:
                self._server = self.loop.run_until_complete(serve(self.store, self.host, self.port,
                                                                  self._connections))
                self.port = self._server.sockets[0].getsockname()[1]
            except BaseException as error:  # bind failures must reach the caller, not die in the thread
                failure.append(error)
                ready.set()
                return
            ready.set()
            self.loop.run_forever()
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()

        self.thread = threading.Thread(target=run, name="dynamodb-fast", daemon=True)
        self.thread.start()
        ready.wait()
        if failure:
            raise failure[0]

    def stop(self) -> None:
        if self.thread is None or not self.thread.is_alive():
            return

        def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            for connection in list(self._connections):
                if connection.transport is not None:
                    connection.transport.close()
            self.loop.call_soon(self.loop.stop)

        self.loop.call_soon_threadsafe(shutdown)
        self.thread.join(timeout=5)


def start_fast(host: str = "127.0.0.1", port: int = 0) -> FastServer:
    server = FastServer(host, port)
    server.start()
    return server
