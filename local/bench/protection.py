"""DynamoDB calls per request in steady state, counted with a botocore `before-call` hook.

    python -m local.bench.protection [--requests 200]

Runs the monitoring handler's protection path (limiter + breaker + metrics) and a breaker-
guarded database call against moto, and prints reads and writes per request by table.
"""

from __future__ import annotations

import argparse
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

READS = {"GetItem", "Query", "Scan", "BatchGetItem"}
TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    for name, value in {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1",
                        "POWERTOOLS_METRICS_DISABLED": "true", "POWERTOOLS_SERVICE_NAME": "orders",
                        "JWT_SECRET": "bench-secret-that-is-long-enough-for-hs256-0000"}.items():
        os.environ.setdefault(name, value)
    from moto import mock_aws

    with mock_aws():
        run(args.requests)


def run(requests: int) -> None:
    import boto3

    from infra.tables import create_tables
    from shared.aws import dynamodb_client
    from shared.protection.circuit_breaker import get_breaker
    from shared.protection.metrics import record_request
    from shared.protection.ratelimit import check_request

    create_tables(boto3.client("dynamodb", region_name="us-east-1"), TEMPLATE)
    calls: Counter[tuple[str, str]] = Counter()

    def count(model: Any, params: dict[str, Any], **_: Any) -> None:
        table = json.loads(params.get("body") or b"{}").get("TableName", "")
        calls[(model.name, table)] += 1

    dynamodb_client().meta.events.register("before-call.dynamodb", count)
    event = {"httpMethod": "GET", "resource": "/v1/orders", "headers": {},
             "requestContext": {"identity": {"sourceIp": "198.51.100.1"}}}
    breaker = get_breaker("orders")
    for _ in range(20):  # warm up caches
        check_request(event)
    calls.clear()
    import time

    started = time.perf_counter()
    for _ in range(requests):
        check_request(event)  # limiter
        ticket = breaker.before_call()  # what shared.db.transaction() does around the database
        breaker.record_success(ticket)
        record_request("GET /v1/orders", 200, 5.0, rate_limited=False, failed_open=False)  # metrics
    elapsed = time.perf_counter() - started
    print(f"{requests} requests in {elapsed:.2f} s (moto in-process)")
    for (operation, table), count_ in sorted(calls.items()):
        kind = "read" if operation in READS else "write"
        print(f"  {table:22s} {operation:10s} {kind:5s} {count_ / requests:.3f} per request")


if __name__ == "__main__":
    main()
