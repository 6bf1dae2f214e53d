"""CORS through the whole local stack (`CORS_ALLOW_ORIGINS=... make run`), with a plain HTTP client sending what a
browser sends: the preflight answered by the gateway, then the actual request answered by the function.
(The real-browser test is tests/browser.)"""

from __future__ import annotations

from collections.abc import Callable

import requests

from local.stack import Stack

SHOP, LOCAL, EVIL = "https://shop.example", "http://localhost:5500", "https://evil.example"
USER = {"email": "cors-e2e@example.com", "password": "correct-horse-battery", "name": "Cors"}


def preflight(base_url: str, path: str, origin: str, method: str) -> requests.Response:
    return requests.options(f"{base_url}{path}", timeout=10, headers={
        "Origin": origin, "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization,content-type,idempotency-key"})


def test_a_listed_page_preflights_then_reads_the_answer_and_its_headers(make_stack: Callable[..., Stack]) -> None:
    # Given a stack started with two allowed origins (the same keyword `make run` reads from the environment)
    stack = make_stack(CORS_ALLOW_ORIGINS=f"{SHOP},{LOCAL}")
    base = stack.base_url
    # When a page on a listed origin preflights the registration
    allowed = preflight(base, "/v1/users/register", LOCAL, "POST")
    # Then the gateway answers it (the list's preflight is the static '*' of SAM's mock), for the headers asked
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == "*"
    assert allowed.headers["Access-Control-Allow-Methods"] == "OPTIONS,POST"
    assert {"authorization", "content-type", "idempotency-key"} <= {
        name.strip().lower() for name in allowed.headers["Access-Control-Allow-Headers"].split(",")}
    # And the actual request's 201 names that origin, and exposes X-Request-ID and the rate-limit headers
    created = requests.post(f"{base}/v1/users/register", json=USER, headers={"Origin": LOCAL}, timeout=10)
    assert created.status_code == 201
    assert created.headers["Access-Control-Allow-Origin"] == LOCAL
    assert created.headers["Vary"] == "Origin"
    exposed = set(created.headers["Access-Control-Expose-Headers"].split(","))
    assert {"X-Request-ID", "X-RateLimit-Remaining"} <= exposed
    assert created.headers["X-Request-ID"]
    # And an error from a function and one from the gateway are readable too
    denied = requests.get(f"{base}/v1/orders", headers={"Origin": SHOP}, timeout=10)
    missing = requests.get(f"{base}/v1/nowhere", headers={"Origin": SHOP}, timeout=10)
    assert (denied.status_code, missing.status_code) == (401, 404)
    for response in (denied, missing):
        assert response.headers["Access-Control-Allow-Origin"] == SHOP
        assert "X-Request-ID" in response.headers["Access-Control-Expose-Headers"]


def test_an_unlisted_page_cannot_read_the_answer(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(CORS_ALLOW_ORIGINS=SHOP)
    # One origin: the preflight names it, so a browser on another origin stops there
    refused = preflight(stack.base_url, "/v1/orders", EVIL, "POST")
    assert refused.status_code == 200 and refused.headers["Access-Control-Allow-Origin"] == SHOP
    # And were the request sent anyway, its answer names no origin: the browser withholds it
    answer = requests.get(f"{stack.base_url}/health", headers={"Origin": EVIL}, timeout=10)
    assert answer.status_code == 200
    assert "Access-Control-Allow-Origin" not in answer.headers


def test_without_cors_allow_origins_options_is_not_found(stack: Stack) -> None:
    response = preflight(stack.base_url, "/v1/orders", SHOP, "POST")
    assert response.status_code == 404
    assert not [name for name in response.headers if name.lower().startswith("access-control-")]
