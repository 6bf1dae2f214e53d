"""CPU per request of the protection code on the request path: limiter, breaker and metrics, as one container runs them.

Starts the fast DynamoDB engine in a child process (so this process's CPU time is the functions' side only),
then runs N requests through `RateLimiter.hit`, `CircuitBreaker.before_call/record_success` and
`MetricsRecorder.record_request`, with a simulated clock advancing `--gap-ms` per request (a busy container), and
prints CPU microseconds per request (process_time; median of rounds). Run it on two checkouts to compare them:

    python -m local.bench.protection_cpu [--requests 5000] [--rounds 5] [--gap-ms 10] [--routes 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from typing import Any

from local.postgres import free_port
from shared.dynamodb import DynamoDBClient
from shared.protection.circuit_breaker import CircuitBreaker, DynamoStore
from shared.protection.metrics import MetricsRecorder, emf
from shared.protection.ratelimit import RateLimiter
from shared.settings import RateRule
from shared.sigv4 import Credentials

TABLES = {"RateLimitTable": ["pk"], "CircuitBreakerTable": ["pk"], "MetricsTable": ["pk", "sk"]}
RULE = RateRule(limit=1_000_000, window_seconds=60)


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def start_engine() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "local.dynamodb", "--port", str(port)],
                               stdout=subprocess.PIPE)
    assert process.stdout is not None
    process.stdout.readline()  # "DynamoDB listening on ..."
    return process, f"http://127.0.0.1:{port}"


def create_tables(client: DynamoDBClient) -> None:
    for name, keys in TABLES.items():
        client.call("CreateTable", {
            "TableName": name, "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": k, "AttributeType": "S"} for k in keys],
            "KeySchema": [{"AttributeName": k, "KeyType": kind} for k, kind in zip(keys, ("HASH", "RANGE"),
                                                                                strict=False)]})


def one_round(client: DynamoDBClient, requests: int, *, gap: float, routes: int, flush_seconds: float,
              keys: str) -> dict[str, Any]:
    clock = Clock()
    limiter = RateLimiter("RateLimitTable", lambda: client, clock=clock)
    metrics = MetricsRecorder("MetricsTable", lambda: client, clock=clock, flush_interval=flush_seconds)
    breaker = CircuitBreaker("orders", DynamoStore("CircuitBreakerTable", lambda: client), threshold=5,
                             reset_timeout=30, clock=clock)
    names = [f"GET /v1/route{n}" for n in range(routes)]
    client.calls.clear()
    started = time.process_time()
    for n in range(requests):
        limiter.hit("default", RULE, f"user:{keys}-{n % 500}")  # fresh keys per round: no stale item
        ticket = breaker.before_call()
        breaker.record_success(ticket)
        metrics.record_request(names[n % routes], 200, 7.0, rate_limited=False, failed_open=False)
        emf.clear_metrics()  # each invocation's EMF flush
        clock.now += gap
    cpu = time.process_time() - started
    return {"us_per_request": cpu / requests * 1e6, "calls_per_request": sum(client.calls.values()) / requests,
            "metrics_writes_per_request": client.calls[("UpdateItem", "MetricsTable")] / requests}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--gap-ms", type=float, default=10.0, help="simulated time between a container's requests")
    parser.add_argument("--routes", type=int, default=3, help="distinct routes the container serves")
    args = parser.parse_args(argv)
    engine, url = start_engine()
    try:
        local = Credentials("local", "local", None)
        client = DynamoDBClient(region="us-east-1", endpoint_url=url, timeout=2.0, credentials=lambda: local)
        create_tables(client)
        for label, flush_seconds in (("METRICS_FLUSH_SECONDS=1", 1.0), ("METRICS_FLUSH_SECONDS=0", 0.0)):
            rounds = [one_round(client, args.requests, gap=args.gap_ms / 1000, routes=args.routes,
                                flush_seconds=flush_seconds, keys=f"{label}-{n}") for n in range(args.rounds)]
            middle = sorted(rounds, key=lambda r: r["us_per_request"])[len(rounds) // 2]
            each = ", ".join(f"{r['us_per_request']:.0f}" for r in rounds)
            print(f"{label}: {statistics.median(r['us_per_request'] for r in rounds):.0f} µs CPU per request "
                  f"(rounds {each}); DynamoDB calls per request {middle['calls_per_request']:.3f}, "
                  f"of which metrics writes {middle['metrics_writes_per_request']:.3f}")
    finally:
        engine.terminate()
        engine.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
