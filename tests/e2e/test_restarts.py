"""Postgres restarts under traffic: once the database answers again, no client sees a 503.

Every warm worker holds pooled connections that a restart kills. shared.db runs a unit of work whose
reused connection turns out dead once more on a fresh connection, and does not count the dead one
against the breaker, so recovery is immediate and the breaker stays closed.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from local.stack import Stack
from tests.e2e.faults import OrderLoad, committed_order_ids, register_and_login

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

HIGH = {"RATE_LIMIT_DEFAULT": "100000/60", "RATE_LIMIT_ORDER_CREATE": "100000/60", "RATE_LIMIT_AUTH": "100000/60"}
RESTARTS = 3
PASSWORD = "correct-horse-battery"


def breakers(stack: Stack) -> dict[str, str]:
    health = requests.get(f"{stack.base_url}/health", timeout=15).json()["data"]
    return {name: view["state"] for name, view in health["circuit_breakers"].items()}


def test_restarts_under_concurrent_writers_cost_no_503_once_the_database_answers(
        make_stack: Callable[..., Stack]) -> None:
    # Given the default breaker (5 failures, 30 s) and four threads creating orders on warm workers
    stack = make_stack(**HIGH)
    user_id, token = register_and_login(stack.base_url)
    restarts: list[tuple[float, float]] = []  # (went down, answered again), monotonic seconds
    with OrderLoad(stack.base_url, token, threads=4) as load:
        time.sleep(1.5)
        # When Postgres restarts (fast shutdown: every pooled connection dies) three times
        for _ in range(RESTARTS):
            down = time.monotonic()
            stack.restart_postgres()
            restarts.append((down, time.monotonic()))
            time.sleep(2)
        stopped = time.monotonic()
    # Then every order sent after the database answered again (and before it next went down) was created
    ends = [down for down, _ in restarts[1:]] + [stopped]
    after = [status for (_, back), end in zip(restarts, ends, strict=True)
             for status, _ in load.sent_between(back, end)]
    assert len(after) > 30 and set(after) == {201}, load.errors()
    # And while it restarted, a client saw at worst a 503 with Retry-After (a COMMIT cut off by the
    # shutdown may have landed, so it is never retried), never a 500, 502 or 504
    assert load.statuses() <= {201, 503} and load.errors() <= {"SERVICE_UNAVAILABLE+retry"}
    # And the breaker never opened
    assert breakers(stack) == {"users": "closed", "orders": "closed"}
    # And every acknowledged order is in Postgres, and nothing was created twice (a row the client was not
    # told about can only come from a request that failed while the server went down)
    committed = committed_order_ids(stack, user_id)
    assert load.acknowledged() <= committed
    assert len(committed) <= len(load.acknowledged()) + sum(1 for status, _ in load.results if status != 201)


def test_parallel_requests_right_after_a_one_second_restart_all_succeed(make_stack: Callable[..., Stack]) -> None:
    # Given warm users and monitoring workers, each with pooled read and write connections
    stack = make_stack(**HIGH)
    base = stack.base_url
    _, token = register_and_login(base)
    email = f"parallel-{uuid.uuid4().hex[:8]}@example.com"
    assert requests.post(f"{base}/v1/users/register", json={"email": email, "password": PASSWORD, "name": "P"},
                         timeout=15).status_code == 201
    calls: list[Callable[[], requests.Response]] = [
        lambda: requests.post(f"{base}/v1/users/register", timeout=15, json={
            "email": f"p-{uuid.uuid4().hex[:8]}@example.com", "password": PASSWORD, "name": "P"}),
        lambda: requests.post(f"{base}/v1/users/login", json={"email": email, "password": PASSWORD}, timeout=15),
        lambda: requests.get(f"{base}/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=15),
    ] * 2
    with ThreadPoolExecutor(max_workers=6) as pool:
        assert all(r.status_code < 300 for r in pool.map(lambda call: call(), calls))
    # When Postgres is down for one second
    assert stack.postgres is not None
    stack.postgres.stop(mode="fast")
    time.sleep(1)
    stack.postgres.start()
    # Then six parallel register, login and /metrics calls all succeed
    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = [response.status_code for response in pool.map(lambda call: call(), calls)]
    assert statuses == [201, 200, 200] * 2
    # And the breakers stay closed while the database is up
    health = requests.get(f"{base}/health", timeout=15).json()["data"]
    assert health["checks"]["database"]["status"] == "up"
    assert {name: view["state"] for name, view in health["circuit_breakers"].items()} == {
        "users": "closed", "orders": "closed"}
