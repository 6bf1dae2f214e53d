"""Real-browser tests: one private local stack, pages on other origins, a fresh headless Chromium per test.

Collected only with RUN_BROWSER=1 (`make test-browser`, which installs Chromium first): they need
Debian's chromium and chromedriver, which `make test` does not install.

The stack allows exactly one browser origin (ALLOWED, a tiny page server on its own port); a second
page server (OTHER, another port) is an origin the API does not allow. Order creation is limited to
ORDER_LIMIT a minute so a 429 is easy to reach; the other budgets are generous, since every test
(and the dashboard's polling) comes from 127.0.0.1.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from selenium import webdriver

from local.stack import Stack
from tests.browser.chromium import chromium
from tests.e2e.conftest import _start_stack, _stop_stack

collect_ignore_glob = [] if os.environ.get("RUN_BROWSER") == "1" else ["test_*.py"]
PAGES = Path(__file__).parent / "pages"
ORDER_LIMIT = 3
PASSWORD = "correct-horse-battery"
ORDER = {"items": [{"product": "Widget", "quantity": 2, "price": 12.5}]}


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # the base class names it `format`
        pass


@dataclass
class PageServer:
    """A static file server for PAGES on 127.0.0.1:<free port>: one browser origin."""

    server: ThreadingHTTPServer

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def serve_pages() -> PageServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(PAGES)))
    threading.Thread(target=server.serve_forever, name="browser-pages", daemon=True).start()
    return PageServer(server)


@dataclass(frozen=True)
class Origins:
    allowed: PageServer
    other: PageServer


@pytest.fixture(scope="session")
def origins() -> Iterator[Origins]:
    allowed, other = serve_pages(), serve_pages()
    yield Origins(allowed, other)
    allowed.stop()
    other.stop()


@pytest.fixture(scope="session")
def stack(origins: Origins) -> Iterator[Stack]:
    started, state = _start_stack({"RATE_LIMIT_AUTH": "1000/60", "RATE_LIMIT_DEFAULT": "1000/60",
                                   "RATE_LIMIT_ORDER_CREATE": f"{ORDER_LIMIT}/60",
                                   "CORS_ALLOW_ORIGINS": origins.allowed.origin})
    yield started
    _stop_stack(started, state)


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    with chromium() as driver:
        yield driver


@dataclass(frozen=True)
class Account:
    email: str
    password: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def new_email() -> str:
    return f"browser-{uuid.uuid4().hex[:10]}@example.com"


@pytest.fixture
def account(stack: Stack) -> Account:
    """A fresh user (its own order budget), registered and logged in over HTTP."""
    email = new_email()
    body = {"email": email, "password": PASSWORD, "name": "Browser"}
    assert requests.post(f"{stack.base_url}/v1/users/register", json=body, timeout=10).status_code == 201
    login = requests.post(f"{stack.base_url}/v1/users/login", json={"email": email, "password": PASSWORD},
                          timeout=10)
    assert login.status_code == 200, login.text
    return Account(email, PASSWORD, str(login.json()["data"]["token"]))
