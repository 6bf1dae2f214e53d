"""The event loop the local servers run on (uvloop, a pinned dependency), and a thread to run one in."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import uvloop

T = TypeVar("T")


def new_event_loop() -> asyncio.AbstractEventLoop:
    return uvloop.new_event_loop()


class LoopThread:
    """An event loop on a daemon thread: `start(setup)` runs setup on it and returns its result
    (or raises its error); `stop(cleanup)` runs cleanup there, then ends the loop and the thread."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.loop = new_event_loop()
        self.thread: threading.Thread | None = None

    def start(self, setup: Callable[[], Awaitable[T]]) -> T:
        ready = threading.Event()
        outcome: list[Any] = []

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            try:
                outcome.append(self.loop.run_until_complete(setup()))
            except BaseException as error:  # bind failures must reach the caller, not die here
                outcome.append(error)
                ready.set()
                return
            ready.set()
            self.loop.run_forever()
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()

        self.thread = threading.Thread(target=run, name=self.name, daemon=True)
        self.thread.start()
        ready.wait()
        if isinstance(outcome[0], BaseException):
            raise outcome[0]
        result: T = outcome[0]
        return result

    def stop(self, cleanup: Callable[[], Coroutine[Any, Any, None]] | None = None, timeout: float = 10) -> None:
        if self.thread is None or not self.thread.is_alive():
            return
        if cleanup is not None:
            future = asyncio.run_coroutine_threadsafe(cleanup(), self.loop)
            with contextlib.suppress(Exception):
                future.result(timeout=timeout)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=timeout)
