"""Benchmark register and login in-process at the production bcrypt cost: `python -m local.bench.users`.

Starts a throwaway Postgres cluster (migrated), runs the users handler in-process with
gateway-built events (the same path as the integration tests) against the DynamoDB emulation, and
reports p50/p90 latency per operation. bcrypt dominates both: register hashes once, login
compares once (against a dummy hash for unknown emails, so failures cost the same).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable

import boto3

from infra.dynamodb_tables import create_tables
from local.dynamodb import start_dynamodb
from shared.dependencies import reset
from tests.support.api import TEMPLATE, ApiClient
from tests.support.postgres import migrate, throwaway_cluster

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The function packages are Lambda code roots, not installed packages (pytest adds them the same way).
for _code_root in ("functions/users", "functions/orders", "functions/monitoring"):
    sys.path.insert(0, os.path.join(_ROOT, _code_root))


def _measure(calls: dict[str, tuple[Callable[[int], int], int]], runs: int) -> dict[str, list[float]]:
    """Round-robin over the operations so background load hits them all alike."""
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for index in range(runs):
        for name, (call, expected) in calls.items():
            started = time.perf_counter()
            status = call(index)
            samples[name].append((time.perf_counter() - started) * 1000)
            if status != expected:
                raise SystemExit(f"{name}: unexpected status {status} (wanted {expected})")
    return samples


def _report(name: str, samples: list[float]) -> None:
    ordered = sorted(samples)
    p90 = ordered[max(0, int(len(ordered) * 0.9) - 1)]
    print(f"{name:<22} n={len(samples):<3} p50={statistics.median(samples):7.1f} ms  p90={p90:7.1f} ms"
          f"  min={ordered[0]:7.1f} ms")


def run(runs: int, rounds: int) -> None:
    dynamodb = start_dynamodb(engine="fast")
    with throwaway_cluster() as cluster:
        migrate(cluster.url)
        reset()
        create_tables(boto3.client("dynamodb", endpoint_url=dynamodb.url, region_name="us-east-1"), TEMPLATE)
        api = ApiClient(env_overrides={
            "DATABASE_URL": cluster.url, "JWT_SECRET": "bench-secret-" + uuid.uuid4().hex * 2,
            "BCRYPT_ROUNDS": str(rounds), "DYNAMODB_ENDPOINT_URL": dynamodb.url,
            "RATE_LIMIT_AUTH": "1000000/60", "RATE_LIMIT_DEFAULT": "1000000/60",
        })
        password = "correct horse battery"
        api.post("/v1/users/register", json={"email": "warm@example.com", "password": password, "name": "W"})
        api.post("/v1/users/login", json={"email": "nobody@example.com", "password": password})  # dummy hash

        def register(i: int) -> int:
            body = {"email": f"bench{i}@example.com", "password": password, "name": "Bench"}
            return api.post("/v1/users/register", json=body).status

        def login(i: int) -> int:
            return api.post("/v1/users/login", json={"email": f"bench{i}@example.com", "password": password}).status

        def login_unknown(i: int) -> int:
            return api.post("/v1/users/login", json={"email": f"ghost{i}@example.com", "password": password}).status

        def login_wrong(i: int) -> int:
            return api.post("/v1/users/login", json={"email": f"bench{i}@example.com", "password": "x" * 12}).status

        print(f"bcrypt cost factor: {rounds} (settings default 12); in-process handler, {runs} calls each")
        samples = _measure({
            "register": (register, 201),
            "login (ok)": (login, 200),
            "login (wrong pw)": (login_wrong, 401),
            "login (unknown email)": (login_unknown, 401),
        }, runs)
        for name, values in samples.items():
            _report(name, values)
        reset()
    dynamodb.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=12, help="bcrypt cost factor (default: production 12)")
    args = parser.parse_args()
    run(args.runs, args.rounds)


if __name__ == "__main__":
    main()
