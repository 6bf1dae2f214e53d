"""Fixtures: gateways started in-process on free ports, torn down with their workers."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from local.gateway.server import GatewayHandle, start_in_thread

FIXTURES = Path(__file__).parent / "fixtures"
TEMPLATE = FIXTURES / "template.yaml"


class Sink(io.StringIO):
    """Thread-safe text sink standing in for stdout/stderr."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()

    def write(self, s: str) -> int:
        with self.lock:
            return super().write(s)

    def lines(self) -> list[str]:
        with self.lock:
            return self.getvalue().splitlines()


@pytest.fixture(scope="session")
def sinks() -> tuple[Sink, Sink]:
    return Sink(), Sink()


@pytest.fixture(scope="session")
def gw(sinks: tuple[Sink, Sink]) -> Iterator[GatewayHandle]:
    out, err = sinks
    handle = start_in_thread(
        TEMPLATE,
        port=0,
        max_workers=4,
        integration_timeout=29,
        reload=False,
        stdout=lambda: out,
        stderr=lambda: err,
    )
    yield handle
    handle.stop()


@pytest.fixture(scope="session")
def http() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


def start(template: Path = TEMPLATE, **kw: object) -> GatewayHandle:
    out, err = Sink(), Sink()
    kw.setdefault("stdout", lambda: out)
    kw.setdefault("stderr", lambda: err)
    kw.setdefault("reload", False)
    handle = start_in_thread(template, port=0, **kw)  # type: ignore[arg-type]
    handle.out, handle.err = out, err  # type: ignore[attr-defined]
    return handle
