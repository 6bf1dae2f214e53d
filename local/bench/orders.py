"""Benchmark the orders routes through the local stack with wrk: `python -m local.bench.orders`.

Starts a private stack (Postgres, DynamoDB emulation, gateway; generous rate limits so the limiter never
rejects), registers a user with 20 orders, then measures at concurrency 16 with keep-alive:
GET /v1/orders (the 20 rows, authenticated) and POST /v1/orders (one Laptop order per request,
no Idempotency-Key). Reports req/s, p50 and p99. A benchmark, not a test: numbers are printed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

import requests

from local.bench.gateway import run_wrk
from local.postgres import free_port
from local.stack import Stack, StackConfig

LAPTOP = '{"items":[{"product":"Laptop","quantity":1,"price":75000.00}]}'
RELAXED = {"RATE_LIMIT_AUTH": "100000/60", "RATE_LIMIT_ORDER_CREATE": "10000000/60",
           "RATE_LIMIT_DEFAULT": "10000000/60", "BCRYPT_ROUNDS": "4", "POWERTOOLS_LOG_LEVEL": "WARNING"}


def start_stack(state: Path) -> Stack:
    env = dict(RELAXED)
    log = (state / "stack.log").open("w")
    config = StackConfig(state_dir=state, port=0, pg_port=free_port(), dynamodb_port=free_port(), extra_env=env,
                         log=log)
    stack = Stack(config)
    stack.start()
    return stack


def seed_user(base_url: str, orders: int) -> str:
    credentials = {"email": f"bench-{uuid.uuid4().hex[:8]}@example.com", "password": "correct horse battery"}
    requests.post(f"{base_url}/v1/users/register", json={**credentials, "name": "Bench"}, timeout=10).raise_for_status()
    token = str(requests.post(f"{base_url}/v1/users/login", json=credentials, timeout=10).json()["data"]["token"])
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    for _ in range(orders):
        requests.post(f"{base_url}/v1/orders", data=LAPTOP, headers=headers, timeout=10).raise_for_status()
    return token


def lua_script(path: Path, method: str, token: str, body: str | None) -> Path:
    lines = [f'wrk.method = "{method}"', f'wrk.headers["Authorization"] = "Bearer {token}"']
    if body is not None:
        lines += ['wrk.headers["Content-Type"] = "application/json"', f"wrk.body = {json.dumps(body)}"]
    path.write_text("\n".join(lines) + "\n")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=int, default=10)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed: `apt-get install -y wrk`", file=sys.stderr)
        return 2
    state = Path(tempfile.mkdtemp(prefix="uoapi-bench-", dir="/tmp"))
    state.chmod(0o755)
    stack = start_stack(state)
    try:
        token = seed_user(stack.base_url, 20)
        url = f"{stack.base_url}/v1/orders"
        get_script = lua_script(state / "get.lua", "GET", token, None)
        post_script = lua_script(state / "post.lua", "POST", token, LAPTOP)
        run_wrk(url, args.connections, 3, script=get_script)  # warm every worker
        rows = [("GET /v1/orders (20 rows)", run_wrk(url, args.connections, args.duration, script=get_script)),
                ("POST /v1/orders", run_wrk(url, args.connections, args.duration, script=post_script))]
    finally:
        stack.stop()
        shutil.rmtree(state, ignore_errors=True)
    print(f"\nOrders benchmark through the local gateway, c={args.connections}, {args.duration}s each, keep-alive")
    print(f"{'route':<28}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'non-2xx':>10}")
    for name, r in rows:
        print(f"{name:<28}{r['rps']:>10.0f}{r['p50']:>10.2f}{r['p99']:>10.2f}{r['non2xx']:>10.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
