"""Request metrics shared by every container (MetricsTable) plus CloudWatch EMF.

Storage: one item per (minute, route): pk `minute#<epoch minute>`, sk `route#<METHOD> <resource>`,
with atomic ADD counters — `requests`, `status_<code>`, a coarse latency histogram `lat_<i>`
(upper bounds LATENCY_BOUNDS_MS), `latency_ms_sum`, `rate_limited`, `limiter_fail_open`.
Breaker transitions go to sk `breaker#<name>` in the same minute. TTL `expires_at` (2 h) only
cleans up.

Cost: counters are merged in process and flushed at the end of a request once
METRICS_FLUSH_SECONDS (default 1 s) have passed since the last flush, so a busy container writes
each item at most once a second instead of once per request (one UpdateItem of several ADDs per
item). The price is lag: a container's last second of counts appears with its next invocation,
and is lost if the container is reclaimed first. METRICS_FLUSH_SECONDS=0 writes every request
(the tests use it). If the write fails (table unreachable) the counters stay pending
in this container (bounded) and are added by the next successful flush, after a short back-off;
a container that is reclaimed while DynamoDB is down loses its pending counters.

Reading is shared.protection.metrics_summary.
"""

from __future__ import annotations

import math
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from shared.logger import logger
from shared.protection.backoff import DYNAMODB_ERRORS, Backoff, Clock

LATENCY_BOUNDS_MS = (5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000)
RETENTION_SECONDS = 2 * 3600
MAX_PENDING_ITEMS = 256
BACKOFF_SECONDS = 1.5

emf = Metrics()  # CloudWatch EMF; flushed by `@emf.log_metrics` in each handler stack


def latency_bucket(latency_ms: float) -> int:
    for index, bound in enumerate(LATENCY_BOUNDS_MS):
        if latency_ms <= bound:
            return index
    return len(LATENCY_BOUNDS_MS) - 1  # nothing outlives the 10 s function timeout


class MetricsRecorder:
    """Counters merged per (minute, item) in process, flushed as one UpdateItem per item."""

    def __init__(self, table: str, client: Callable[[], Any], clock: Clock = time.time,
                 flush_interval: float = 0.0) -> None:
        self.table = table
        self._client = client
        self._clock = clock
        self._flush_interval = flush_interval
        self._last_flush = -math.inf
        self._backoff = Backoff(BACKOFF_SECONDS, clock)
        self._pending: OrderedDict[tuple[int, str], Counter[str]] = OrderedDict()

    def add(self, sk: str, counters: dict[str, int]) -> None:
        key = (int(self._clock() // 60), sk)
        self._pending.setdefault(key, Counter()).update(counters)
        while len(self._pending) > MAX_PENDING_ITEMS:
            self._pending.popitem(last=False)

    def flush(self, *, force: bool = False) -> None:
        if self._backoff.active:
            return
        if not force and self._clock() - self._last_flush < self._flush_interval:
            return
        self._last_flush = self._clock()
        for key in list(self._pending):
            try:
                self._write(key, self._pending[key])
            except DYNAMODB_ERRORS as error:
                logger.warning("metrics table unavailable; counters kept", extra={"error": type(error).__name__})
                self._backoff.trip()
                return
            del self._pending[key]

    def _write(self, key: tuple[int, str], counters: Counter[str]) -> None:
        minute, sk = key
        names = {f"#a{i}": name for i, name in enumerate(counters)}
        values = {f":a{i}": {"N": str(value)} for i, value in enumerate(counters.values())}
        values[":exp"] = {"N": str(minute * 60 + RETENTION_SECONDS)}
        adds = ", ".join(f"#a{i} :a{i}" for i in range(len(counters)))
        self._client().update_item(
            TableName=self.table, Key={"pk": {"S": f"minute#{minute}"}, "sk": {"S": sk}},
            UpdateExpression=f"ADD {adds} SET expires_at = :exp",
            ExpressionAttributeNames=names, ExpressionAttributeValues=values,
        )

    def pending(self) -> int:
        return len(self._pending)

    def record_request(self, route: str, status: int, latency_ms: float, *, rate_limited: bool,
                       failed_open: bool) -> None:
        """Count one request (shared table + EMF). Never raises: metrics must not break a request."""
        counters = {"requests": 1, f"status_{status}": 1, f"lat_{latency_bucket(latency_ms)}": 1,
                    "latency_ms_sum": round(latency_ms)}
        if rate_limited:
            counters["rate_limited"] = 1
        if failed_open:
            counters["limiter_fail_open"] = 1
        self.add(f"route#{route}", counters)
        self.flush()
        _emit_emf(status, latency_ms, rate_limited=rate_limited, failed_open=failed_open)

    def record_transition(self, breaker: str, from_state: str, to_state: str) -> None:
        """Count a breaker transition; written with the current request's metrics."""
        logger.warning("circuit breaker transition", extra={"breaker": breaker, "from": from_state, "to": to_state})
        self.add(f"breaker#{breaker}", {f"{from_state}_to_{to_state}": 1})
        _safe_emf(f"CircuitBreaker_{to_state}", MetricUnit.Count, 1)




def _emit_emf(status: int, latency_ms: float, *, rate_limited: bool, failed_open: bool) -> None:
    _safe_emf("Requests", MetricUnit.Count, 1)
    _safe_emf("Latency", MetricUnit.Milliseconds, latency_ms)
    if status >= 500:
        _safe_emf("ServerErrors", MetricUnit.Count, 1)
    if rate_limited:
        _safe_emf("RateLimited", MetricUnit.Count, 1)
    if failed_open:
        _safe_emf("RateLimiterFailOpen", MetricUnit.Count, 1)


def _safe_emf(name: str, unit: MetricUnit, value: float) -> None:
    try:
        emf.add_metric(name=name, unit=unit, value=value)
    except Exception:  # e.g. no namespace configured: EMF is best effort, the shared table is not
        logger.debug("EMF metric dropped", extra={"metric": name})
