"""Rate limits, breakers and fail-open over HTTP through the local gateway (real processes)."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from local.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ORDER = {"items": [{"product": "Widget", "quantity": 2, "price": 12.5}]}


def register_and_login(base_url: str) -> str:
    email = f"e2e-{uuid.uuid4().hex[:10]}@example.com"
    body = {"email": email, "password": "correct-horse-battery", "name": "E2E"}
    assert requests.post(f"{base_url}/v1/users/register", json=body, timeout=10).status_code == 201
    login = requests.post(f"{base_url}/v1/users/login", json={"email": email, "password": body["password"]},
                          timeout=10)
    return str(login.json()["data"]["token"])


def test_forty_concurrent_orders_by_one_user(make_stack: Callable[..., Stack]) -> None:
    # Given a stack with the default 20/60 order limit and one user
    stack = make_stack()
    token = register_and_login(stack.base_url)
    headers = {"Authorization": f"Bearer {token}"}

    def create(_: int) -> int:
        return requests.post(f"{stack.base_url}/v1/orders", json=ORDER, headers=headers, timeout=30).status_code

    # When 40 creations arrive at once
    with ThreadPoolExecutor(max_workers=40) as pool:
        statuses = Counter(pool.map(create, range(40)))
    # Then exactly 20 are created and 20 limited, none fails
    assert statuses == {201: 20, 429: 20}
    listed = requests.get(f"{stack.base_url}/v1/orders", headers=headers, timeout=10).json()
    assert listed["data"]["pagination"]["total"] == 20


def test_eleventh_login_is_limited_and_forwarded_for_does_not_help(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack()
    body = {"email": "nobody@example.com", "password": "wrong-password"}
    for index in range(10):
        response = requests.post(f"{stack.base_url}/v1/users/login", json=body, timeout=10,
                                 headers={"X-Forwarded-For": f"10.1.0.{index}"})
        assert response.status_code == 401
        assert response.headers["X-RateLimit-Remaining"] == str(9 - index)
    response = requests.post(f"{stack.base_url}/v1/users/login", json=body, timeout=10,
                             headers={"X-Forwarded-For": "192.0.2.200"})
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    assert int(response.headers["Retry-After"]) == response.json()["error"]["retry_after"] >= 1
    for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"):
        assert name in response.headers


def test_breaker_opens_on_outage_and_closes_after_recovery(make_stack: Callable[..., Stack]) -> None:
    # Given a stack with a 2 s reset timeout, a user and an order committed before the outage
    stack = make_stack(CIRCUIT_BREAKER_RESET_TIMEOUT="2", RATE_LIMIT_DEFAULT="10000/60")
    token = register_and_login(stack.base_url)
    headers = {"Authorization": f"Bearer {token}"}
    created = requests.post(f"{stack.base_url}/v1/orders", json=ORDER, headers=headers, timeout=10)
    assert created.status_code == 201
    order_id = created.json()["data"]["order"]["id"]
    # When Postgres stops
    stack.stop_postgres()
    statuses, fast_latencies = [], []
    for _ in range(8):
        started = time.perf_counter()
        response = requests.get(f"{stack.base_url}/v1/orders", headers=headers, timeout=15)
        statuses.append(response.status_code)
        fast_latencies.append((time.perf_counter() - started) * 1000)
        assert "Retry-After" in response.headers
    # Then every response is 503 (the breaker opens after the threshold) and /health says open
    assert statuses == [503] * 8
    print(f"503 latencies once open (ms): {[round(x, 1) for x in fast_latencies[5:]]}")
    health = requests.get(f"{stack.base_url}/health", timeout=15)
    assert health.status_code == 503
    assert health.json()["data"]["circuit_breakers"]["orders"]["state"] == "open"
    # When Postgres returns and the reset timeout passes
    stack.start_postgres()
    time.sleep(2.5)
    recovered = [requests.get(f"{stack.base_url}/v1/orders/{order_id}", headers=headers, timeout=15).status_code
                 for _ in range(3)]
    # Then the probe closes the breaker and the order committed before the outage is there
    assert 200 in recovered and recovered[-1] == 200
    health = requests.get(f"{stack.base_url}/health", timeout=15).json()["data"]
    assert health["circuit_breakers"]["orders"]["state"] == "closed"


def test_requests_succeed_when_dynamodb_is_down(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack()
    token = register_and_login(stack.base_url)
    stack.stop_dynamodb_server()
    response = requests.get(f"{stack.base_url}/v1/users/profile", headers={"Authorization": f"Bearer {token}"},
                            timeout=15)
    assert response.status_code == 200, response.text
    assert response.headers["X-RateLimit-Limit"] == "100"
