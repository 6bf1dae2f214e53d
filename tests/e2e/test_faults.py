"""Fault suite on the real local stack: dependencies that stop, come back, hang, and workers that die.

Each test checks the status codes clients see, what the breaker does, and that no order the API
acknowledged (201) is missing from Postgres afterwards (read directly with SQL). Complements
test_protection.py (breaker open/close on a stopped Postgres, fail-open with DynamoDB stopped).
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable

import pytest
import requests

from local.stack import Stack
from tests.e2e.faults import (
    ORDER,
    OrderLoad,
    committed_order_ids,
    orders_table_locked,
    postgres_frozen,
    register_and_login,
    restore_dynamodb,
    worker_pids,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

HIGH = {"RATE_LIMIT_DEFAULT": "100000/60", "RATE_LIMIT_ORDER_CREATE": "100000/60"}


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def wait_healthy(base_url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if requests.get(f"{base_url}/health", timeout=15).status_code == 200:
            return
        time.sleep(0.5)
    raise AssertionError(f"/health not healthy within {seconds} s")


def test_postgres_restart_under_write_load_keeps_every_acknowledged_order(make_stack: Callable[..., Stack]) -> None:
    # Given a stack with a short breaker reset and a user creating orders from four threads
    stack = make_stack(CIRCUIT_BREAKER_RESET_TIMEOUT="2", **HIGH)
    user_id, token = register_and_login(stack.base_url)
    with OrderLoad(stack.base_url, token) as load:
        time.sleep(1.5)
        # When Postgres stops (immediate mode, as a crash) and comes back 3 s later
        stack.stop_postgres()
        time.sleep(3)
        stack.start_postgres()
        wait_healthy(stack.base_url)
        time.sleep(1.5)
    # Then clients only saw 201 or a 503 SERVICE_UNAVAILABLE with Retry-After (never 500/502/504)
    assert load.statuses() <= {201, 503}, load.errors()
    assert 503 in load.statuses() and load.errors() == {"SERVICE_UNAVAILABLE+retry"}
    # And every acknowledged order is in Postgres; an extra row can only come from a 503 whose commit landed
    committed = committed_order_ids(stack, user_id)
    assert load.acknowledged() <= committed
    assert len(committed - load.acknowledged()) <= sum(1 for status, _ in load.results if status == 503)
    # And writes succeed again after recovery (the breaker closed)
    assert load.results[-1][0] == 201
    breakers = requests.get(f"{stack.base_url}/health", timeout=15).json()["data"]["circuit_breakers"]
    assert breakers["orders"]["state"] == "closed"


def test_dynamodb_stop_and_restart(make_stack: Callable[..., Stack]) -> None:
    # Given a stack with a small default limit and an order created while DynamoDB is up
    stack = make_stack(RATE_LIMIT_DEFAULT="6/60")
    user_id, token = register_and_login(stack.base_url)
    first = requests.post(f"{stack.base_url}/v1/orders", json=ORDER, headers=auth(token), timeout=15)
    assert first.status_code == 201
    # When the DynamoDB emulation stops
    stack.stop_dynamodb_server()
    # Then reads fail open (200, not limited even past the limit) and /health reports the outage
    reads = [requests.get(f"{stack.base_url}/v1/users/profile", headers=auth(token), timeout=15).status_code
             for _ in range(8)]
    assert reads == [200] * 8
    health = requests.get(f"{stack.base_url}/health", timeout=15)
    assert health.status_code == 503 and health.json()["data"]["status"] == "degraded"
    # And an order without a key is still created (Postgres is the record), one with a key is a 503
    plain = requests.post(f"{stack.base_url}/v1/orders", json=ORDER, headers=auth(token), timeout=15)
    assert plain.status_code == 201, plain.text
    keyed = requests.post(f"{stack.base_url}/v1/orders", json=ORDER, timeout=15,
                          headers={**auth(token), "Idempotency-Key": "during-outage"})
    assert keyed.status_code == 503 and keyed.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert "Retry-After" in keyed.headers
    # When it comes back (tables recreated: moto keeps nothing) and the fail-open back-off passes
    restore_dynamodb(stack)
    time.sleep(2)
    wait_healthy(stack.base_url)
    # Then the limiter enforces again: 6 accepted with falling Remaining, then 429
    statuses = [requests.get(f"{stack.base_url}/v1/users/profile", headers=auth(token), timeout=15)
                for _ in range(7)]
    assert [r.status_code for r in statuses] == [200] * 6 + [429]
    assert [r.headers["X-RateLimit-Remaining"] for r in statuses[:6]] == ["5", "4", "3", "2", "1", "0"]
    # And the keyed create now works, and both acknowledged orders are in Postgres
    committed = committed_order_ids(stack, user_id)
    assert {first.json()["data"]["order"]["id"], plain.json()["data"]["order"]["id"]} <= committed


def test_hanging_postgres_is_a_503_then_fails_fast_and_recovers(make_stack: Callable[..., Stack]) -> None:
    # Given a breaker that opens after 2 failures and an order committed before the hang
    stack = make_stack(CIRCUIT_BREAKER_FAILURE_THRESHOLD="2", CIRCUIT_BREAKER_RESET_TIMEOUT="2", **HIGH)
    user_id, token = register_and_login(stack.base_url)
    created = requests.post(f"{stack.base_url}/v1/orders", json=ORDER, headers=auth(token), timeout=15)
    order_id = created.json()["data"]["order"]["id"]
    # When Postgres stops answering (processes frozen, sockets open)
    with postgres_frozen(stack):
        answers = []
        for _ in range(4):
            started = time.perf_counter()
            response = requests.get(f"{stack.base_url}/v1/orders/{order_id}", headers=auth(token), timeout=30)
            answers.append((response.status_code, response.json()["error"]["code"], time.perf_counter() - started))
        # Then the first calls time out inside the function (pg8000's socket timeout) as 503, not 504/500,
        # and once the breaker is open the 503 comes without waiting for the database
        assert [(status, code) for status, code, _ in answers] == [(503, "SERVICE_UNAVAILABLE")] * 4
        assert answers[-1][2] < 1.0, answers
        assert max(seconds for *_, seconds in answers) < 15
    # When Postgres resumes and the reset timeout passes
    time.sleep(2.5)
    # Then the probe closes the breaker and the committed order is intact
    recovered = requests.get(f"{stack.base_url}/v1/orders/{order_id}", headers=auth(token), timeout=15)
    assert recovered.status_code == 200 and recovered.json()["data"]["order"]["id"] == order_id
    assert committed_order_ids(stack, user_id) == {order_id}


def test_worker_killed_mid_request_is_a_502_and_nothing_acknowledged_is_lost(
        make_stack: Callable[..., Stack]) -> None:
    # Given a user with one order, and a keyed create stuck in its INSERT (the orders table is locked),
    # i.e. after authentication and after its idempotency record was saved as in progress
    stack = make_stack(**HIGH)
    user_id, token = register_and_login(stack.base_url)
    first = requests.post(f"{stack.base_url}/v1/orders", json=ORDER, headers=auth(token), timeout=15)
    assert first.status_code == 201
    busy_before = set(worker_pids(stack, "OrdersFunction"))
    assert busy_before
    with orders_table_locked(stack), requests.Session() as session:
        pending = _start_in_thread(lambda: session.post(
            f"{stack.base_url}/v1/orders", json=ORDER, timeout=30,
            headers={**auth(token), "Idempotency-Key": "killed-mid-request"}))
        time.sleep(1.0)
        # When every orders worker is killed (SIGKILL) while that request is inside one
        for pid in worker_pids(stack, "OrdersFunction"):
            os.kill(pid, signal.SIGKILL)
        response = pending()
    # Then the client gets the gateway's 502 in the envelope, not a hang
    assert response.status_code == 502, response.text
    assert response.json()["success"] is False
    # And new workers serve the next request
    after = requests.post(f"{stack.base_url}/v1/orders", json=ORDER, headers=auth(token), timeout=15)
    assert after.status_code == 201
    assert not set(worker_pids(stack, "OrdersFunction")) & busy_before
    # And a retry with the same key is refused while the dead invocation's record is in progress...
    keyed = {**auth(token), "Idempotency-Key": "killed-mid-request"}
    retry = requests.post(f"{stack.base_url}/v1/orders", json=ORDER, headers=keyed, timeout=15)
    assert retry.status_code == 409 and retry.json()["error"]["code"] == "IDEMPOTENCY_KEY_IN_USE"
    # ...until it expires with the function Timeout (10 s); then the order is created exactly once
    retried = _retry_until_created(stack.base_url, keyed, seconds=20)
    replay = requests.post(f"{stack.base_url}/v1/orders", json=ORDER, headers=keyed, timeout=15)
    assert replay.headers.get("Idempotent-Replayed") == "true" and replay.json() == retried.json()
    # And Postgres holds exactly the acknowledged orders: the killed request committed nothing
    acknowledged = {response.json()["data"]["order"]["id"] for response in (first, after, retried)}
    assert committed_order_ids(stack, user_id) == acknowledged


def _retry_until_created(base_url: str, headers: dict[str, str], seconds: float) -> requests.Response:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        response = requests.post(f"{base_url}/v1/orders", json=ORDER, headers=headers, timeout=15)
        if response.status_code != 409:
            assert response.status_code == 201, response.text
            return response
        time.sleep(1)
    raise AssertionError(f"the key stayed in use for {seconds} s")


def _start_in_thread(call: Callable[[], requests.Response]) -> Callable[[], requests.Response]:
    """Run `call` in a thread; the returned function waits for and returns its response."""
    import threading

    box: list[requests.Response | BaseException] = []

    def run() -> None:
        try:
            box.append(call())
        except BaseException as error:  # surfaced to the test by `wait`
            box.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def wait() -> requests.Response:
        thread.join(60)
        result = box[0]
        if isinstance(result, BaseException):
            raise result
        return result

    return wait
