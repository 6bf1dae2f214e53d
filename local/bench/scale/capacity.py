"""The capacity and cost model of docs/capacity.md, as arithmetic anyone can rerun and change.

    python -m local.bench.scale.capacity [--rps 10 100 1000 10000]

Every input is a named constant below with where it comes from: figures measured in this repository (CPU per
route, DynamoDB calls and SQL statements per request), estimates (marked ESTIMATE), and AWS's published prices
(us-east-1, on-demand, no free tier) and default quotas, read 2026-11 (pages in docs/capacity.md).
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass

from shared.protection.metrics import SHARDS, TARGET_WRITES_PER_SECOND

SECONDS_PER_MONTH = 730 * 3600
CREATE_SHARE = 1 / 20


@dataclass(frozen=True)
class Route:
    name: str
    function: str
    share: float  # of the mix: 1 login : 1 create : 18 reads (6 profile, 4 each of the other reads)
    cpu_ms: float  # function CPU per request on one full core (docs/benchmarks.md; ESTIMATE where noted)
    dynamodb_calls: float  # steady state (python -m local.bench.calls): the limiter's write, + 2 for keyed creates
    sql_statements: int  # principal lookup + the statement(s); writes add BEGIN and COMMIT
    db_cpu_ms: float  # ESTIMATE: Postgres CPU for those statements (index lookups ~0.1-0.3 ms, a 20-row page 1 ms)
    write_units: float  # DynamoDB write units per request: the limiter's item (< 1 KB), idempotency items (~1.5 KB)


ROUTES = (
    Route("POST /v1/users/login", "users", 1 / 20, 272.0, 1.0, 1, 0.2, 1.0),  # bcrypt cost 12 ~270 ms
    Route("POST /v1/orders", "orders", 1 / 20, 3.0, 2.0, 5, 1.5, 1.0 + 0.5 * 2 * 2.0),  # cpu ESTIMATE; half keyed
    Route("GET /v1/users/profile", "users", 6 / 20, 1.4, 1.0, 1, 0.2, 1.0),  # one query: the principal's row
    Route("GET /v1/orders/{order_id}", "orders", 4 / 20, 1.9, 1.0, 2, 0.3, 1.0),
    Route("GET /v1/orders", "orders", 4 / 20, 3.1, 1.0, 2, 1.2, 1.0),  # 20 rows and the count in one statement
    Route("GET /v1/orders/my-stats", "orders", 4 / 20, 2.0, 1.0, 2, 0.8, 1.0),  # cpu ESTIMATE (as get order)
)

# Lambda (template.yaml: python3.12, x86_64, 512 MB). CPU is proportional to memory, one vCPU at 1,769 MB
# (docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html), so CPU-bound work takes 1769/512 as long.
MEMORY_GB = 0.5
CPU_STRETCH = 1769 / 512
DYNAMODB_MS, SQL_MS = 4.0, 1.5  # ESTIMATE: in-Region round trips (DynamoDB single-digit ms; RDS Proxy adds ~1 ms)
HEADROOM = 2.0  # concurrency to provision for: Poisson bursts and cold starts on top of the steady mean
LAMBDA_REQUEST, LAMBDA_GB_SECOND = 0.20 / 1e6, 0.0000166667  # aws.amazon.com/lambda/pricing
LAMBDA_CONCURRENCY_QUOTA = 1000  # default per Region (docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html)

API_GATEWAY_TIERS = ((333e6, 3.50), (667e6, 2.80), (19e9, 2.38), (math.inf, 1.51))  # REST, per million, per month
API_GATEWAY_QUOTA = 10_000  # rps, account and Region (docs.aws.amazon.com/apigateway/latest/developerguide/limits.html)

# The limiter's conditional writes per request, measured by `python -m local.bench.scale` at each step (100,000 users):
# a user's next request usually lands on a container whose cache predates their last one, so its write fails once
# and is retried with the item it returned. 14 containers, 120 s: 1.03; 122 containers, 120 s: 1.28; 1,000, 70 s: 1.73.
LIMITER_WRITES = {10: 1.03, 100: 1.03, 1000: 1.28, 10_000: 1.73}
WRITE_UNIT, READ_UNIT = 0.625 / 1e6, 0.125 / 1e6  # on-demand, aws.amazon.com/dynamodb/pricing/on-demand
TABLE_WCU_QUOTA, NEW_TABLE_WCU = 40_000, 4_000  # per-table default; what a new on-demand table takes at once
METRICS_ITEM_WCU = 2.0  # a metrics item is 1-3 KB

ACU_HOUR, ACU_PER_VCPU, DB_UTILISATION = 0.12, 4.0, 0.6  # Aurora Serverless v2 (Standard); 1 ACU ~ 2 GiB + 1/4 vCPU
MIN_ACU = 0.5  # scale-to-zero (0 ACU) is not available behind RDS Proxy
IO_PER_WRITE_REQUEST, IO_PRICE = 6.0, 0.20 / 1e6  # ESTIMATE: WAL and page writes of a create; Aurora Standard I/O
PROXY_ACU_HOUR, PROXY_MIN_ACU = 0.015, 8  # RDS Proxy on Aurora Serverless v2: per ACU-hour, 8 ACU minimum
CONNECTIONS_PER_CONTAINER = 2  # shared.database: a read engine and a write engine, one pooled connection each

LOG_BYTES_PER_REQUEST, LOG_GB = 1200, 0.50  # access log line + EMF blob + Lambda REPORT; CloudWatch Logs ingestion


@dataclass(frozen=True)
class Step:
    rps: float
    concurrency: dict[str, float]
    db_connections_multiplexed: float
    db_connections_pinned: float
    acu: float
    limiter_wcu: float
    idempotency_wcu: float
    breaker_rcu_per_item: float
    metrics_item_writes: float
    costs: dict[str, float]


def warm(busy: float) -> int:
    """Containers to keep for a steady `busy` concurrency: HEADROOM times it, at least one."""
    return max(1, math.ceil(busy * HEADROOM))


def duration_ms(route: Route, limiter_retries: float = 0.0) -> float:
    calls = route.dynamodb_calls + limiter_retries
    return route.cpu_ms * CPU_STRETCH + calls * DYNAMODB_MS + route.sql_statements * SQL_MS


def api_gateway_cost(requests: float) -> float:
    cost, left = 0.0, requests
    for size, price in API_GATEWAY_TIERS:
        taken = min(left, size)
        cost += taken / 1e6 * price
        left -= taken
    return cost


def step(rps: float) -> Step:
    retries = LIMITER_WRITES[min(LIMITER_WRITES, key=lambda measured: abs(math.log(measured / rps)))]
    concurrency: dict[str, float] = {}
    for route in ROUTES:
        busy = rps * route.share * duration_ms(route, retries - 1) / 1000  # Little's law
        concurrency[route.function] = concurrency.get(route.function, 0.0) + busy
    containers = sum(warm(busy) for busy in concurrency.values())
    db_seconds = sum(rps * r.share * r.sql_statements * SQL_MS / 1000 for r in ROUTES)  # statements in flight
    db_vcpu = sum(rps * r.share * r.db_cpu_ms / 1000 for r in ROUTES) / DB_UTILISATION
    acu = max(MIN_ACU, math.ceil(db_vcpu * ACU_PER_VCPU * 2) / 2)
    requests = rps * SECONDS_PER_MONTH
    limiter_wcu = rps * retries
    write_units = sum(rps * r.share * (r.write_units - 1.0) for r in ROUTES) + limiter_wcu
    metrics_writes = sum(min(warm(busy), SHARDS * TARGET_WRITES_PER_SECOND) for busy in concurrency.values())
    breaker_reads = containers * 0.5  # one eventually consistent read per container per second
    creates = sum(requests * r.share for r in ROUTES if r.name == "POST /v1/orders")
    gb_seconds = sum(requests * r.share * duration_ms(r, retries - 1) / 1000 for r in ROUTES) * MEMORY_GB
    costs = {
        "API Gateway (REST)": api_gateway_cost(requests),
        "Lambda": requests * LAMBDA_REQUEST + gb_seconds * LAMBDA_GB_SECOND,
        "DynamoDB": (write_units + metrics_writes * METRICS_ITEM_WCU) * SECONDS_PER_MONTH * WRITE_UNIT
        + breaker_reads * SECONDS_PER_MONTH * READ_UNIT,
        "Aurora Serverless v2": acu * ACU_HOUR * 730 + creates * IO_PER_WRITE_REQUEST * IO_PRICE,
        "RDS Proxy": max(acu, PROXY_MIN_ACU) * PROXY_ACU_HOUR * 730,
        "CloudWatch Logs": requests * LOG_BYTES_PER_REQUEST / 1e9 * LOG_GB,
    }
    hottest_breaker = max(warm(busy) for busy in concurrency.values()) * 0.5  # a function's containers, its item
    idempotency_wcu = rps * CREATE_SHARE * 0.5 * 2 * 2.0  # half the creates keyed: two writes of ~1.5 KB
    return Step(rps, concurrency, db_seconds, containers * CONNECTIONS_PER_CONTAINER, acu, limiter_wcu,
                idempotency_wcu, hottest_breaker, metrics_writes, costs)


def render(steps: list[Step]) -> str:
    head = "| | " + " | ".join(f"{s.rps:,.0f} req/s" for s in steps) + " |\n|---|" + "---|" * len(steps)
    rows = [
        ("Lambda concurrency, users (steady / to allow for)",
         [f"{s.concurrency['users']:.1f} / {warm(s.concurrency['users'])}" for s in steps]),
        ("Lambda concurrency, orders", [f"{s.concurrency['orders']:.1f} / {warm(s.concurrency['orders'])}"
                                        for s in steps]),
        (f"share of the account's {LAMBDA_CONCURRENCY_QUOTA:,} concurrent executions",
         [f"{sum(warm(b) for b in s.concurrency.values()) / LAMBDA_CONCURRENCY_QUOTA:.0%}" for s in steps]),
        (f"share of API Gateway's {API_GATEWAY_QUOTA:,} req/s", [f"{s.rps / API_GATEWAY_QUOTA:.0%}" for s in steps]),
        ("Postgres connections via RDS Proxy: busy (multiplexed) / if every session pins",
         [f"{s.db_connections_multiplexed:.1f} / {s.db_connections_pinned:.0f}" for s in steps]),
        ("Aurora Serverless v2 capacity (ACU)", [f"{s.acu:g}" for s in steps]),
        ("RateLimitTable WCU/s (whole table; a key ≤ its budget, 100/60 s)", [f"{s.limiter_wcu:,.0f}" for s in steps]),
        ("IdempotencyTable WCU/s (an item: 2 writes per keyed create)", [f"{s.idempotency_wcu:,.0f}" for s in steps]),
        ("CircuitBreakerTable RCU/s on the busiest breaker item", [f"{s.breaker_rcu_per_item:,.1f}" for s in steps]),
        ("MetricsTable writes/s (all items; each item ≤ ~10/s)", [f"{s.metrics_item_writes:,.0f}" for s in steps]),
    ]
    lines = [head] + [f"| {label} | " + " | ".join(values) + " |" for label, values in rows]
    lines.append("| **monthly cost, USD** | " + " | ".join("" for _ in steps) + " |")
    for component in steps[0].costs:
        lines.append(f"| {component} | " + " | ".join(f"{s.costs[component]:,.0f}" for s in steps) + " |")
    lines.append("| **total** | " + " | ".join(f"**{sum(s.costs.values()):,.0f}**" for s in steps) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rps", type=float, nargs="+", default=[10, 100, 1000, 10_000])
    args = parser.parse_args(argv)
    print("| route | warm duration on Lambda (ms) |\n|---|---|")
    print("\n".join(f"| {r.name} | {duration_ms(r):.0f} |" for r in ROUTES))
    print()
    print(render([step(rps) for rps in args.rps]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
