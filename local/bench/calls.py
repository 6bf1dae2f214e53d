"""DynamoDB calls per request, per scenario, counted by the functions' own clients.

Starts Postgres and the DynamoDB emulation (the local stack), then invokes the handlers in this
process through the gateway's own router and event builder (tests.support.api.ApiClient) with the
stack's function environment, so the shared lazily created client is the one every call goes through.
Counts are taken in steady state (after a warm-up), per operation, averaged over N requests.

    python -m local.bench.calls [--requests 50]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from local.bench.harness import HIGH_LIMITS, ITEMS, start_project, stop_project
from shared.dependencies import dependencies
from tests.support.api import ApiClient
from tests.support.users import DEFAULT_PASSWORD, make_user

Scenario = Callable[[Any], Any]


def scenarios(user: Any, order_id: str, admin: Any) -> dict[str, Scenario]:
    body = {"items": ITEMS}
    return {
        "health (public)": lambda api: api.get("/health"),
        "login": lambda api: api.post("/v1/users/login", json={"email": user.email, "password": DEFAULT_PASSWORD}),
        "profile": lambda api: api.get("/v1/users/profile", token=user.token),
        "list orders": lambda api: api.get("/v1/orders", query={"limit": "20"}, token=user.token),
        "get order": lambda api: api.get(f"/v1/orders/{order_id}", token=user.token),
        "my-stats": lambda api: api.get("/v1/orders/my-stats", token=user.token),
        "create order": lambda api: api.post("/v1/orders", json=body, token=user.token),
        "create order (Idempotency-Key, new)": _keyed_create(user, body),
        "metrics (admin)": lambda api: api.get("/metrics", token=admin.token),
    }


def _keyed_create(user: Any, body: dict[str, Any]) -> Scenario:
    counter = iter(range(10**9))
    return lambda api: api.post("/v1/orders", json=body, token=user.token,
                                headers={"Idempotency-Key": f"k-{next(counter)}"})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args(argv)
    log = tempfile.NamedTemporaryFile("w", prefix="bench-calls-", suffix=".log", delete=False)  # noqa: SIM115
    stack, state = start_project({}, log)
    try:
        with contextlib.redirect_stdout(log):  # the handlers' JSON logs and EMF lines
            rows = measure(stack, args.requests)
    finally:
        stop_project(stack, state)
    print(f"\nDynamoDB calls per request (steady state, mean over {args.requests} requests)")
    print("| scenario | calls/request | by operation |\n|---|---|---|")
    for name, (total, ops) in rows.items():
        detail = ", ".join(f"{op} {count:.2f}" for op, count in sorted(ops.items()))
        print(f"| {name} | {total:.2f} | {detail} |")
    return 0


def measure(stack: Any, requests: int) -> dict[str, tuple[float, dict[str, float]]]:
    os.environ.update({**stack.function_env(), **HIGH_LIMITS, "BCRYPT_ROUNDS": "4"})
    sys.path[:0] = [str(Path("functions") / name) for name in ("users", "orders", "monitoring")]
    api = ApiClient({**stack.function_env(), **HIGH_LIMITS, "BCRYPT_ROUNDS": "4"})
    user = make_user(stack.database_url)
    admin = make_user(stack.database_url, roles=("user", "admin"))
    order_id = api.post("/v1/orders", json={"items": ITEMS}, token=user.token).data["order"]["id"]
    rows = {}
    for name, call in scenarios(user, order_id, admin).items():
        for _ in range(5):
            assert call(api).status < 400
        container = dependencies()  # the warm container of this scenario's function
        sdk_calls: Counter[str] = Counter()  # idempotency goes through botocore; the rest through shared.dynamodb
        container.dynamodb_sdk.meta.events.register("before-call.dynamodb",
                                                    lambda model, counted=sdk_calls, **_: counted.update([model.name]))
        container.dynamodb.calls.clear()
        for _ in range(requests):
            call(api)
        assert dependencies() is container, "the scenario switched containers"
        calls = Counter(sdk_calls)
        for (operation, _table), count in container.dynamodb.calls.items():
            calls[operation] += count
        rows[name] = (sum(calls.values()) / requests, {op: n / requests for op, n in calls.items()})
    return rows


if __name__ == "__main__":
    sys.exit(main())
