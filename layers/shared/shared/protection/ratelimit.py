"""Sliding-window rate limiting with DynamoDB: exact upper bound, one conditional write per request.

Algorithm: a sliding-window counter over B = 10 sub-buckets that only errs on the side of
rejecting. The window of T seconds is cut into buckets of w = T/B seconds. A request in bucket
`k` is admitted iff the admissions counted in buckets k-B .. k (B+1 buckets, spanning up to
T + w seconds and always covering the real window (t-T, t]) are fewer than the limit N. Any
window of length T lies inside such a span, so no more than N requests are ever admitted in
any window. The error is one-sided: a request may be rejected that an exact sliding log would
admit, by at most one bucket, i.e. the effective window is between T and T + T/B (60 s..66 s
for 60 s windows). GCRA was rejected because it admits up to 2N-1 in some windows of length T
(a burst of N followed by steady emission), and a sliding log needs one item per request or a
read before the write.

Atomicity: one DynamoDB item per (rule, key) holds a count attribute per bucket (`c<k>`) and the
newest bucket used (`b`). DynamoDB conditions cannot add numbers, so the caller supplies the
previous buckets' counts it believes in and the write checks them:

    ADD c<k> 1  IF  b <= k  AND  c<k-B> = known … c<k-1> = known  AND  c<k> < N - Σ known

If any belief is stale, the write fails and returns the current item (ReturnValuesOnCondition-
CheckFailure=ALL_OLD, no extra read); the caller retries with the truth, at most three times
(afterwards it rejects — erring on the safe side). Once `b` has moved past a bucket nobody can
write to it (`b <= k`), so counts of finished buckets are final and this container caches them:
in steady state a request costs exactly one UpdateItem and no read, and a container that knows
a key is already over its limit rejects without calling DynamoDB at all. Expiry is decided by
bucket ids; the TTL attribute `expires_at` only cleans up idle keys.

Failure: any DynamoDB error fails open (warning log, metric) and skips DynamoDB for a short
back-off per container, so a dead table costs one 0.5 s timeout per container per back-off.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.events import header
from shared.protection.backoff import DYNAMODB_ERRORS, Backoff, Clock, is_condition_failure
from shared.settings import RateRule, Settings, get_settings

BUCKETS = 10
MAX_ATTEMPTS = 3
CACHE_KEYS = 10_000
FAIL_OPEN_BACKOFF_SECONDS = 1.5

AUTH_ROUTES = frozenset({("POST", "/v1/users/register"), ("POST", "/v1/users/login")})
ORDER_CREATE_ROUTE = ("POST", "/v1/orders")
# bcrypt runs twice per password change (check, then hash): as tight a budget as login, per user, so one
# caller cannot hold every worker on bcrypt while others wait.
PASSWORD_ROUTE = ("PUT", "/v1/users/password")

Counts = dict[int, int]


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_after: int  # seconds until every request counted now has left the window
    retry_after: int = 0  # on rejection: seconds until a request can be admitted again
    failed_open: bool = False

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_after),
        }


@dataclass(frozen=True)
class Window:
    """Bucket arithmetic of one rule."""

    rule: RateRule
    buckets: int = BUCKETS

    @property
    def width(self) -> float:
        return self.rule.window_seconds / self.buckets

    def bucket(self, now: float) -> int:
        return math.floor(now / self.width)

    def used(self, counts: Counts, current: int) -> int:
        return sum(counts.get(j, 0) for j in range(current - self.buckets, current + 1))

    def decide(self, counts: Counts, current: int, now: float, *, allowed: bool) -> Decision:
        limit = self.rule.limit
        return Decision(
            allowed=allowed,
            limit=limit,
            remaining=max(0, limit - self.used(counts, current)),
            reset_after=self._reset_after(counts, current, now),
            retry_after=0 if allowed else self._retry_after(counts, current, now),
        )

    def _seconds_until(self, bucket: int, now: float) -> int:
        return max(1, math.ceil(bucket * self.width - now))

    def _reset_after(self, counts: Counts, current: int, now: float) -> int:
        live = [j for j in range(current - self.buckets, current + 1) if counts.get(j, 0)]
        return self._seconds_until(max(live) + self.buckets + 1, now) if live else 0

    def _retry_after(self, counts: Counts, current: int, now: float) -> int:
        # The first future bucket whose span holds fewer than `limit` of the requests counted now.
        for ahead in range(1, self.buckets + 2):
            still_counted = sum(counts.get(j, 0) for j in range(current + ahead - self.buckets, current + 1))
            if still_counted < self.rule.limit:
                return self._seconds_until(current + ahead, now)
        return self._seconds_until(current + self.buckets + 1, now)


def _item_state(item: dict[str, Any] | None) -> tuple[Counts, int | None]:
    """Bucket counts and newest bucket of a raw DynamoDB item."""
    counts: Counts = {}
    newest = None
    for name, value in (item or {}).items():
        if name == "b":
            newest = int(value["N"])
        elif name.startswith("c") and name[1:].lstrip("-").isdigit():
            counts[int(name[1:])] = int(value["N"])
    return counts, newest


def _number(value: int) -> dict[str, str]:
    return {"N": str(value)}


class RateLimiter:
    """Admits or rejects one hit per call; safe across threads, processes and containers."""

    def __init__(self, table: str, client: Callable[[], Any], clock: Clock = time.time,
                 backoff_seconds: float = FAIL_OPEN_BACKOFF_SECONDS) -> None:
        self.table = table
        self._client = client
        self._clock = clock
        self._backoff = Backoff(backoff_seconds, clock)
        self._cache: OrderedDict[str, Counts] = OrderedDict()
        self._cache_owner: object = None

    def hit(self, name: str, rule: RateRule, key: str) -> Decision:
        pk = f"{name}/{rule.window_seconds}#{key}"
        window = Window(rule)
        client = self._current_client()
        if self._backoff.active:
            return self._fail_open(pk, window)
        try:
            return self._decide(client, pk, window)
        except DYNAMODB_ERRORS as error:
            from shared.observability import logger

            logger.warning("rate limiter unavailable, failing open", extra={"error": type(error).__name__})
            self._backoff.trip()
            return self._fail_open(pk, window)
        except (KeyError, TypeError, ValueError) as error:
            # An item this code did not write (wrong types): fail open for this key only, loudly.
            from shared.observability import logger

            logger.error("rate limit item unreadable, failing open", extra={"error": type(error).__name__})
            self._cache.pop(pk, None)
            return self._fail_open(pk, window)

    def _current_client(self) -> Any:
        # A new client means a new endpoint or a new emulator: cached counts belong to the old one.
        client = self._client()
        if client is not self._cache_owner:
            self._cache.clear()
            self._backoff.clear()
            self._cache_owner = client
        return client

    def _decide(self, client: Any, pk: str, window: Window) -> Decision:
        now = self._clock()
        current = window.bucket(now)
        known = self._cache.get(pk, {})
        for _ in range(MAX_ATTEMPTS):
            if window.used(known, current) >= window.rule.limit:
                # Cached counts never exceed the truth, so "full" by the cache is full for real.
                return window.decide(known, current, now, allowed=False)
            admitted, counts, newest = self._attempt(client, pk, window, known, current=current, now=now)
            self._remember(pk, counts)
            if admitted:
                return window.decide(counts, current, now, allowed=True)
            known, current = counts, max(current, newest if newest is not None else current)
        return window.decide(known, current, now, allowed=False)

    def _attempt(self, client: Any, pk: str, window: Window, known: Counts, *,
                 current: int, now: float) -> tuple[bool, Counts, int | None]:
        request = self._conditional_add(pk, window, known, current, now)
        try:
            response = client.update_item(**request)
        except DYNAMODB_ERRORS as error:
            if not is_condition_failure(error):
                raise
            counts, newest = _item_state(getattr(error, "response", {}).get("Item"))
            return False, counts, newest
        counts, newest = _item_state(response.get("Attributes"))
        return True, counts, newest

    def _conditional_add(self, pk: str, window: Window, known: Counts, current: int,
                         now: float) -> dict[str, Any]:
        names = {"#b": "b", "#cur": f"c{current}", "#exp": "expires_at"}
        values = {":one": _number(1), ":cur": _number(current),
                  ":exp": _number(math.ceil(now + window.rule.window_seconds + 2 * window.width))}
        conditions = ["(attribute_not_exists(#b) OR #b <= :cur)"]
        for index, bucket in enumerate(range(current - window.buckets, current)):
            names[f"#p{index}"] = f"c{bucket}"
            if known.get(bucket, 0):
                values[f":p{index}"] = _number(known[bucket])
                conditions.append(f"#p{index} = :p{index}")
            else:
                conditions.append(f"attribute_not_exists(#p{index})")
        previous = sum(known.get(j, 0) for j in range(current - window.buckets, current))
        values[":allowed"] = _number(window.rule.limit - previous)
        conditions.append("(attribute_not_exists(#cur) OR #cur < :allowed)")
        update = "ADD #cur :one SET #b = :cur, #exp = :exp"
        expired = sorted(j for j in known if j < current - window.buckets)
        if expired:
            names.update({f"#x{i}": f"c{j}" for i, j in enumerate(expired)})
            update += " REMOVE " + ", ".join(f"#x{i}" for i in range(len(expired)))
        return {
            "TableName": self.table, "Key": {"pk": {"S": pk}}, "UpdateExpression": update,
            "ConditionExpression": " AND ".join(conditions), "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values, "ReturnValues": "ALL_NEW",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }

    def _remember(self, pk: str, counts: Counts) -> None:
        self._cache[pk] = counts
        self._cache.move_to_end(pk)
        while len(self._cache) > CACHE_KEYS:
            self._cache.popitem(last=False)

    def _fail_open(self, pk: str, window: Window) -> Decision:
        now = self._clock()
        known = self._cache.get(pk, {})
        decision = window.decide(known, window.bucket(now), now, allowed=True)
        return Decision(allowed=True, limit=decision.limit, remaining=max(0, decision.remaining - 1),
                        reset_after=decision.reset_after, failed_open=True)


# --- which rule and key a request falls under -------------------------------------------------


def source_ip(event: dict[str, Any]) -> str:
    """The caller's address as API Gateway saw it. Never X-Forwarded-For: clients can forge it."""
    identity = (event.get("requestContext") or {}).get("identity") or {}
    return str(identity.get("sourceIp") or "unknown")


def token_subject(event: dict[str, Any]) -> str | None:
    """The user id of a validly signed bearer token, else None (no database lookup: keying only)."""
    from shared.auth.tokens import bearer_token, decode_token
    from shared.errors import Unauthorized

    try:
        return str(decode_token(bearer_token(header(event, "Authorization"))).user_id)
    except (Unauthorized, RuntimeError):
        return None


def select_rule(event: dict[str, Any], settings: Settings) -> tuple[str, RateRule, str]:
    """(rule name, rule, key) for a raw REST v1 event, chosen by (httpMethod, resource)."""
    route = (str(event.get("httpMethod") or "").upper(), str(event.get("resource") or ""))
    if route in AUTH_ROUTES:
        return "auth", settings.rate_limit_auth, f"ip:{source_ip(event)}"
    user = token_subject(event)
    key = f"user:{user}" if user else f"ip:{source_ip(event)}"
    if route == ORDER_CREATE_ROUTE:
        return "order_create", settings.rate_limit_order_create, key
    if route == PASSWORD_ROUTE:
        return "password", settings.rate_limit_password, key
    return "default", settings.rate_limit_default, key


_instances: dict[str, RateLimiter] = {}


def get_limiter() -> RateLimiter:
    """This container's limiter (its cache of finished buckets lives as long as the container)."""
    table = get_settings().rate_limit_table
    if table not in _instances:
        from shared.aws import dynamodb_client

        _instances[table] = RateLimiter(table, dynamodb_client)
    return _instances[table]


def check_request(event: dict[str, Any]) -> Decision:
    """The rate-limit decision for one incoming request (one conditional write at most)."""
    name, rule, key = select_rule(event, get_settings())
    return get_limiter().hit(name, rule, key)
