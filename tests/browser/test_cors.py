"""CORS in a real browser: a page on another origin calls the API with fetch and a bearer token.

The stack allows one origin (conftest: ALLOWED, a page server on its own port). From there every
answer is readable: a 201 with its X-Request-ID, and the error bodies of a 401, two 404s (the
function's and the gateway's own) and a 429. The same page on another port is not allowed: the
browser refuses the answers (fetch rejects with a TypeError), although the API did answer.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import requests
from selenium import webdriver

from local.stack import Stack
from tests.browser.chromium import screenshot
from tests.browser.conftest import ORDER, ORDER_LIMIT, Account, Origins


def call(driver: webdriver.Chrome, url: str, **options: Any) -> dict[str, Any]:
    """What the page's callApi (pages/cors.html) could read of the answer."""
    seen: dict[str, Any] = driver.execute_async_script(
        "const [url, options, done] = arguments; callApi(url, options).then(done);", url, options)
    return seen


def access_log(stack: Stack) -> list[dict[str, Any]]:
    """The gateway's access-log lines so far (tests/e2e's stack writes its children's output to stack.log)."""
    lines = (stack.config.state_dir / "stack.log").read_text().splitlines()
    entries = [json.loads(line) for line in lines if line.startswith('{"timestamp"') and '"requestId"' in line]
    return [{key: entry.get(key) for key in ("method", "path", "status", "function")} for entry in entries]


def test_an_allowed_origin_reads_a_created_order_and_every_error(browser: webdriver.Chrome, stack: Stack,
                                                                 origins: Origins, account: Account) -> None:
    api = stack.base_url
    # Given the front-end page served from the allowed origin (another port than the API)
    browser.get(f"{origins.allowed.origin}/cors.html")
    # When it creates an order with a bearer token and a JSON body (a preflighted request)
    created = call(browser, f"{api}/v1/orders", method="POST", token=account.token, body=ORDER)
    # Then the browser sent a preflight, which the gateway answered itself
    assert {"method": "OPTIONS", "path": "/v1/orders", "status": 200, "function": None} in access_log(stack)
    # And it passed: the 201, its body and its exposed headers are readable
    assert created.get("status") == 201, created
    assert created["body"]["data"]["order"]["status"] == "created"
    assert created["headers"]["X-Request-ID"]
    assert created["headers"]["X-RateLimit-Limit"] == str(ORDER_LIMIT)
    # And error bodies are readable too: 401 without a token and with a bad one
    for token in (None, "not-a-jwt"):
        denied = call(browser, f"{api}/v1/users/profile", token=token)
        assert (denied.get("status"), denied["body"]["error"]["code"]) == (401, "UNAUTHORIZED"), denied
    # And a 404 from the function (no such order) and from the gateway (no such route)
    missing = call(browser, f"{api}/v1/orders/{uuid.uuid4()}", token=account.token)
    assert (missing.get("status"), missing["body"]["error"]["code"]) == (404, "NOT_FOUND"), missing
    unknown = call(browser, f"{api}/v1/no-such-route")
    assert (unknown.get("status"), unknown["body"]["error"]["code"]) == (404, "NOT_FOUND"), unknown
    # And a 429 once the order budget is spent, with its Retry-After
    for _ in range(ORDER_LIMIT - 1):
        assert call(browser, f"{api}/v1/orders", method="POST", token=account.token, body=ORDER)["status"] == 201
    limited = call(browser, f"{api}/v1/orders", method="POST", token=account.token, body=ORDER)
    assert (limited.get("status"), limited["body"]["error"]["code"]) == (429, "RATE_LIMIT_EXCEEDED"), limited
    assert limited["headers"]["Retry-After"] == str(limited["body"]["error"]["retry_after"])
    screenshot(browser, "cors-allowed-origin")


def test_an_origin_that_is_not_allowed_is_blocked_by_the_browser(browser: webdriver.Chrome, stack: Stack,
                                                                 origins: Origins, account: Account) -> None:
    api = stack.base_url
    # Given the same page served from an origin the API does not allow
    browser.get(f"{origins.other.origin}/cors.html")
    # When it makes a simple request and a preflighted one
    simple = call(browser, f"{api}/health")
    preflighted = call(browser, f"{api}/v1/orders", method="POST", token=account.token, body=ORDER)
    # Then the browser refuses both answers to the page
    assert simple.get("error") == "TypeError", simple
    assert preflighted.get("error") == "TypeError", preflighted
    screenshot(browser, "cors-other-origin")
    # Although the API is up and answers that origin, only without an Access-Control-Allow-Origin
    answer = requests.get(f"{api}/health", headers={"Origin": origins.other.origin}, timeout=10)
    assert answer.status_code == 200
    assert "Access-Control-Allow-Origin" not in answer.headers
    orders = requests.get(f"{api}/v1/orders", headers=account.headers, timeout=10).json()
    assert orders["data"]["pagination"]["total"] == 0  # the preflight stopped the order before it was sent
