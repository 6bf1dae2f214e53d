"""Request metrics shared by every container (MetricsTable) plus CloudWatch EMF.

Storage, built so that no item and no partition key gets hotter as containers are added (docs/architecture.md,
"Scaling: hot keys and throttling"): a container writes into one of SHARDS partition keys (`shard#<nn>`, picked
at random when the container starts), one item per (minute, function): sk `<minute, 10 digits>#<service>`. Its
attributes are atomic ADD counters named `r|<METHOD> <resource>|<counter>` — `requests`, `status_<code>`, a
coarse latency histogram `lat_<i>` (upper bounds LATENCY_BOUNDS_MS), `latency_ms_sum`, `rate_limited`,
`limiter_fail_open` — and `b|<breaker>|<from>_to_<to>` for breaker transitions, plus `flushes`, the number
of writes the item took. TTL `expires_at` (2 h) only cleans up. shared.protection.metrics_summary adds the
shards up at read time (one Query per shard).

Cost: counters are merged in process and flushed at the end of a request, one UpdateItem per pending minute
(one round trip, however many routes were served), at most every `interval` seconds. The interval starts at
METRICS_FLUSH_SECONDS (default 1 s; 0 writes every request, as the tests do) and adapts: every write returns
the item's `flushes`, i.e. how often all containers of this shard and function wrote it this minute, so the
difference since this container's previous write is every writer's rate; when that rate is above
TARGET_WRITES_PER_SECOND the interval grows in proportion (up to MAX_FLUSH_SECONDS), and it shrinks back (at
most halving per write) when the rate drops. So an item takes about TARGET_WRITES_PER_SECOND writes a
second whatever the number of containers (up to SHARDS x TARGET x MAX_FLUSH_SECONDS = 9,600 writing containers
per function; beyond that the rate grows again, and throttling backs the writers off). The price is lag: a
container's last interval of counts appears with its next flush, and is lost if the container is reclaimed first.

Failures never reach the request: if the write is throttled the counters stay pending and the interval doubles;
if the table is unreachable they stay pending (bounded) and the container skips DynamoDB for BACKOFF_SECONDS.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from shared.logger import logger
from shared.protection.backoff import DYNAMODB_ERRORS, Backoff, Clock, is_throttling

LATENCY_BOUNDS_MS = (5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000)
RETENTION_SECONDS = 2 * 3600
SHARDS = 16
TARGET_WRITES_PER_SECOND = 10.0
MAX_FLUSH_SECONDS = 60.0
MAX_PENDING_MINUTES = 60
MAX_COUNTERS_PER_WRITE = 100  # keeps the UpdateExpression far below DynamoDB's 4 KB
BACKOFF_SECONDS = 1.5
ROUTE, BREAKER = "r|", "b|"
_FIXED_NAMES = {"#f": "flushes", "#x": "expires_at"}
_ONE, _ZERO = {"N": "1"}, {"N": "0"}

emf = Metrics()  # CloudWatch EMF; flushed by `@emf.log_metrics` in each handler stack


def latency_bucket(latency_ms: float) -> int:
    for index, bound in enumerate(LATENCY_BOUNDS_MS):
        if latency_ms <= bound:
            return index
    return len(LATENCY_BOUNDS_MS) - 1  # nothing outlives the 10 s function timeout


def shard_key(shard: int) -> str:
    return f"shard#{shard:02d}"


def minute_key(minute: int, source: str = "") -> str:
    return f"{minute:010d}#{source}"


class MetricsRecorder:
    """Counters merged per minute in process, flushed as one UpdateItem per minute into this container's shard."""

    def __init__(self, table: str, client: Callable[[], Any], *, clock: Clock = time.time,
                 flush_interval: float = 0.0, source: str = "service", shard: int | None = None) -> None:
        self.table = table
        self.source = source
        self.shard = random.randrange(SHARDS) if shard is None else shard
        self._client = client
        self._clock = clock
        self._base_interval = flush_interval
        self.interval = flush_interval
        self._next_flush = -math.inf
        self._backoff = Backoff(BACKOFF_SECONDS, clock)
        self._pending: OrderedDict[int, Counter[str]] = OrderedDict()
        self._last_write: tuple[int, int, float] | None = None  # (minute, the item's flushes, when)

    def add(self, prefix: str, counters: dict[str, int]) -> None:
        minute = int(self._clock() // 60)
        pending = self._pending.get(minute)
        if pending is None:
            pending = self._pending[minute] = Counter()
            while len(self._pending) > MAX_PENDING_MINUTES:
                self._pending.popitem(last=False)
        pending.update({prefix + name: value for name, value in counters.items()})

    def pending(self) -> int:
        return len(self._pending)

    def flush(self, *, force: bool = False) -> None:
        now = self._clock()
        if self._backoff.active or (not force and now < self._next_flush):
            return
        self._next_flush = now + self.interval
        for minute in list(self._pending):
            try:
                flushes = self._write(minute, self._pending[minute])
            except DYNAMODB_ERRORS as error:
                self._failed(error)
                return
            del self._pending[minute]
            self._adapt(flushes, minute, now)

    def _write(self, minute: int, counters: Counter[str]) -> int:
        """ADD the minute's counters (in chunks, rarely more than one); the item's `flushes` after the last one."""
        key = {"pk": {"S": shard_key(self.shard)}, "sk": {"S": minute_key(minute, self.source)}}
        expires = {"N": str(minute * 60 + RETENTION_SECONDS)}
        names, flushes = list(counters), 0
        for start in range(0, len(names), MAX_COUNTERS_PER_WRITE):
            chunk = names[start:start + MAX_COUNTERS_PER_WRITE]
            attributes = {f"#a{i}": name for i, name in enumerate(chunk)}
            attributes.update(_FIXED_NAMES)
            values = {f":a{i}": {"N": str(counters[name])} for i, name in enumerate(chunk)}
            values[":one"], values[":x"] = _ONE, expires
            adds = ", ".join([f"#a{i} :a{i}" for i in range(len(chunk))])
            response = self._client().update_item(
                TableName=self.table, Key=key, UpdateExpression=f"ADD {adds}, #f :one SET #x = :x",
                ExpressionAttributeNames=attributes, ExpressionAttributeValues=values, ReturnValues="UPDATED_NEW")
            flushes = int(response.get("Attributes", {}).get("flushes", _ZERO)["N"])
            if len(chunk) < len(names):  # written: a failure of a later chunk must not add these again
                for name in chunk:
                    del counters[name]
        return flushes

    def _adapt(self, flushes: int, minute: int, now: float) -> None:
        """Set the interval so that this item takes about TARGET_WRITES_PER_SECOND writes a second."""
        last, self._last_write = self._last_write, (minute, flushes, now)
        if not self._base_interval:
            return  # 0: every request is written (tests); nothing to adapt
        if last is not None and last[0] == minute and now > last[2]:
            rate = (flushes - last[1]) / (now - last[2])  # every writer's, since this container's previous write
        else:
            rate = flushes / min(60.0, max(now - minute * 60, 1.0))  # a new item: its whole life so far
        wanted = self.interval * rate / TARGET_WRITES_PER_SECOND
        self.interval = min(MAX_FLUSH_SECONDS, max(self._base_interval, self.interval / 2, wanted))

    def _failed(self, error: Exception) -> None:
        if is_throttling(error):
            # The item is hot right now: keep the counters, write less often (the interval adapts back later).
            self.interval = min(MAX_FLUSH_SECONDS, max(self._base_interval, 1.0, self.interval * 2))
            self._next_flush = self._clock() + self.interval
            logger.info("metrics write throttled; counters kept", extra={"interval": self.interval})
            return
        logger.warning("metrics table unavailable; counters kept", extra={"error": type(error).__name__})
        self._backoff.trip()

    def record_request(self, route: str, status: int, latency_ms: float, *, rate_limited: bool,
                       failed_open: bool) -> None:
        """Count one request (shared table + EMF). Never raises: metrics must not break a request."""
        counters = {"requests": 1, f"status_{status}": 1, f"lat_{latency_bucket(latency_ms)}": 1,
                    "latency_ms_sum": round(latency_ms)}
        if rate_limited:
            counters["rate_limited"] = 1
        if failed_open:
            counters["limiter_fail_open"] = 1
        self.add(f"{ROUTE}{route}|", counters)
        self.flush()
        _emit_emf(status, latency_ms, rate_limited=rate_limited, failed_open=failed_open)

    def record_transition(self, breaker: str, from_state: str, to_state: str) -> None:
        """Count a breaker transition; written with the current request's metrics."""
        logger.warning("circuit breaker transition", extra={"breaker": breaker, "from": from_state, "to": to_state})
        self.add(f"{BREAKER}{breaker}|", {f"{from_state}_to_{to_state}": 1})
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
        # Powertools flushes inside add_metric at 100 values; when that flush raises, it keeps them all, and
        # every later add_metric formats the whole growing list (quadratic CPU, unbounded memory): drop them.
        emf.clear_metrics()
        logger.debug("EMF metrics dropped", extra={"metric": name})
