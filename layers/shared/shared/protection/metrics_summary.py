"""`GET /metrics`: every container's counters (MetricsTable, written by shared.protection.metrics) summed up.

The last `minutes` whole-or-current minutes (default 15, 1..60): one Query per shard (its items of those minutes,
every function's), added up here. Percentiles are read off the histogram and reported as the upper bound of the
bucket holding the percentile, so they are exact to a bucket (e.g. "p95 ≤ 50 ms").
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Iterable
from typing import Any

from shared.jsonutil import utc_timestamp
from shared.protection.metrics import BREAKER, LATENCY_BOUNDS_MS, ROUTE, SHARDS, minute_key, shard_key

DEFAULT_MINUTES, MAX_MINUTES = 15, 60


def percentiles(histogram: list[int]) -> dict[str, int | None]:
    total = sum(histogram)
    result: dict[str, int | None] = {}
    for label, fraction in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99)):
        if not total:
            result[label] = None
            continue
        target, seen = math.ceil(fraction * total), 0
        for index, count in enumerate(histogram):
            seen += count
            if seen >= target:
                result[label] = LATENCY_BOUNDS_MS[index]
                break
    return result


class _RouteTotals:
    def __init__(self) -> None:
        self.total = 0
        self.by_status: Counter[str] = Counter()
        self.histogram = [0] * len(LATENCY_BOUNDS_MS)
        self.latency_sum = 0
        self.rate_limited = 0
        self.fail_open = 0

    def add(self, counter: str, number: int) -> None:
        if counter == "requests":
            self.total += number
        elif counter.startswith("status_"):
            self.by_status[counter.removeprefix("status_")] += number
        elif counter.startswith("lat_"):
            index = counter.removeprefix("lat_")
            if index.isdigit() and int(index) < len(self.histogram):
                self.histogram[int(index)] += number
        elif counter == "latency_ms_sum":
            self.latency_sum += number
        elif counter == "rate_limited":
            self.rate_limited += number
        elif counter == "limiter_fail_open":
            self.fail_open += number

    def view(self) -> dict[str, Any]:
        return {"total": self.total, "by_status": dict(sorted(self.by_status.items())),
                "latency_ms": {**percentiles(self.histogram),
                               "mean": round(self.latency_sum / self.total, 1) if self.total else None},
                "rate_limited": self.rate_limited}


def _query_shard(client: Any, table: str, shard: int, first: int, last: int) -> Iterable[dict[str, Any]]:
    # Every sort key of minute m is "<m>#<service>", so ["<first>#", "<last + 1>"] holds exactly the window.
    request: dict[str, Any] = {"TableName": table, "KeyConditionExpression": "pk = :pk AND sk BETWEEN :from AND :to",
                               "ExpressionAttributeValues": {":pk": {"S": shard_key(shard)},
                                                             ":from": {"S": minute_key(first)},
                                                             ":to": {"S": f"{last + 1:010d}"}}}
    while True:
        page = client.query(**request)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def summarize(client: Any, table: str, minutes: int, now: float | None = None) -> dict[str, Any]:
    """Counters of every container over the last `minutes` minutes (the current one included)."""
    now = time.time() if now is None else now
    last = int(now // 60)
    routes: dict[str, _RouteTotals] = {}
    overall = _RouteTotals()
    transitions: dict[str, Counter[str]] = {}
    for shard in range(SHARDS):
        for item in _query_shard(client, table, shard, last - minutes + 1, last):
            for name, value in item.items():
                if "N" not in value:
                    continue
                kind, _, counter = name.rpartition("|")
                if name.startswith(ROUTE):
                    route = kind.removeprefix(ROUTE)
                    routes.setdefault(route, _RouteTotals()).add(counter, int(value["N"]))
                    overall.add(counter, int(value["N"]))
                elif name.startswith(BREAKER):
                    transitions.setdefault(kind.removeprefix(BREAKER), Counter())[counter] += int(value["N"])
    totals = overall.view()
    return {
        "window": {"minutes": minutes, "from": utc_timestamp((last - minutes + 1) * 60), "to": utc_timestamp(now)},
        "requests": {"total": totals["total"], "by_status": totals["by_status"], "latency_ms": totals["latency_ms"]},
        "routes": {route: totals.view() for route, totals in sorted(routes.items())},
        "rate_limit": {"rejected": overall.rate_limited, "fail_open": overall.fail_open},
        "breaker_transitions": {name: dict(counter) for name, counter in sorted(transitions.items())},
    }
