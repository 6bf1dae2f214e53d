"""Sliding-window rate limiting with DynamoDB: exact upper bound, one conditional write per request.

The window arithmetic (sub-buckets that remember their latest admission, the bound, why Reset
and Retry-After never exceed the window) is in `sliding_window`. This module keeps it atomic
across containers. GCRA was rejected because it admits up to 2N-1 in some windows of length T;
a sliding log needs one item per request, or one contended item that serialises every writer.

Atomicity: one DynamoDB item per (rule, key) holds per bucket its count `c<k>` and the epoch
milliseconds of its latest admission `t<k>`, and the newest bucket used (`b`). DynamoDB
conditions cannot add numbers, so the caller supplies the earlier buckets' counts it believes in
and the write checks them:

    ADD c<cur> 1 SET t<cur> = now  IF  b <= cur  AND  c<cur-B> = known … c<cur-1> = known
                                   AND  c<cur> < N - Σ live known earlier buckets

Every earlier bucket is checked, also those the cache believes dead: a count pins its t (both
change in the same write), and a stale cache could hold an older t. SET has no max() (only
if_not_exists, list_append, + and -: docs.aws.amazon.com/amazondynamodb/latest/developerguide/
Expressions.UpdateExpressions.html), so t<cur> is overwritten: a write landing after one with a
later clock sets it back by that gap (milliseconds), while a retry is decided no earlier than
the newest admission its failed write saw. A condition on t<cur> would make concurrent writers
of one bucket conflict, which the count condition (`c<cur> < …`) deliberately avoids. If any belief is stale the
write fails and returns the item (ReturnValuesOnConditionCheckFailure=ALL_OLD, no extra read);
the caller retries with the truth, at most three times (then rejects: the safe side). Once `b`
has moved past a bucket nobody can write to it, so finished buckets are final and this container
caches them: in steady state a request costs exactly one UpdateItem and no read, and a container
whose cache already says "full" rejects without calling DynamoDB (cached counts and times never
exceed the truth, so full by the cache is full for real, with the same Retry-After). Buckets
older than cur-B are REMOVEd; the TTL attribute `expires_at` only cleans up idle keys. Items
written before t<k> existed count each bucket as admitted at its very end (never under-counts).

Failure: a DynamoDB that does not answer, or throttles the whole table, fails open (warning log, metric) and
skips DynamoDB for a short back-off per container, so a dead table costs one 0.5 s timeout per container per
back-off. A key DynamoDB throttles for itself (a hot partition key value: shared.protection.backoff.is_hot_key)
is the opposite case: only a flood makes one key that hot, so that request is rejected (429) and this container
rejects the key without calling DynamoDB for HOT_KEY_HOLD_SECONDS (jittered), while every other key goes on as
usual. Failing open there would hand the flood through.

Hot keys: a key's item takes one write per admission (at most N per window) plus, under a flood, one conditional
write per container that has not yet seen the key full (each learns it from the item the failed write returns,
then rejects from its cache until a bucket leaves the window). So a flood costs its key about one write per
container per release, never one per request; past 1,000 writes in a second DynamoDB throttles the key, and the
rule above rejects on its behalf.
"""

from __future__ import annotations

import math
import random
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from shared.logger import logger
from shared.protection.backoff import DYNAMODB_ERRORS, Backoff, Clock, is_condition_failure, is_hot_key
from shared.protection.sliding_window import Bucket, Buckets, Decision, Window, epoch_ms
from shared.settings import RateRule

MAX_ATTEMPTS = 3
CACHE_KEYS = 10_000
FAIL_OPEN_BACKOFF_SECONDS = 1.5
HOT_KEY_HOLD_SECONDS = 1.0  # to 2 s, jittered: the throttled key's writers come back spread out



def _item_state(item: dict[str, Any] | None, window: Window) -> tuple[Buckets, int | None]:
    """Buckets and newest bucket (`b`) of a raw DynamoDB item."""
    counts: dict[int, int] = {}
    latest: dict[int, int] = {}
    newest = None
    for name, value in (item or {}).items():
        if name == "b":
            newest = int(value["N"])
        elif name[:1] in ("c", "t") and name[1:].lstrip("-").isdigit():
            (counts if name[0] == "c" else latest)[int(name[1:])] = int(value["N"])
    # Without t<k> (an item of the previous version) a bucket counts as admitted at its very end.
    return {k: Bucket(counts.get(k, 0), latest.get(k, (k + 1) * window.width_ms - 1))
            for k in counts.keys() | latest.keys()}, newest


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
        self._cache: OrderedDict[str, Buckets] = OrderedDict()
        self._held: OrderedDict[str, float] = OrderedDict()  # hot keys: rejected here until this time

    def hit(self, name: str, rule: RateRule, key: str) -> Decision:
        pk = f"{name}/{rule.window_seconds}#{key}"
        window = Window(rule)
        if self._held and self._held.get(pk, 0.0) > self._clock():
            return self._hot_key(pk, window)
        if self._backoff.active:
            return self._fail_open(pk, window)
        try:
            return self._decide(self._client(), pk, window)
        except DYNAMODB_ERRORS as error:
            if is_hot_key(error):
                logger.warning("rate limit key throttled by DynamoDB, rejecting it", extra={"rule": name})
                self._hold(pk)
                return self._hot_key(pk, window)
            logger.warning("rate limiter unavailable, failing open", extra={"error": type(error).__name__})
            self._backoff.trip()
            return self._fail_open(pk, window)
        except (KeyError, TypeError, ValueError) as error:
            # An item this code did not write (wrong types): fail open for this key only, loudly.
            logger.error("rate limit item unreadable, failing open", extra={"error": type(error).__name__})
            self._cache.pop(pk, None)
            return self._fail_open(pk, window)

    def _decide(self, client: Any, pk: str, window: Window) -> Decision:
        now_ms = epoch_ms(self._clock())
        current = window.bucket(now_ms)
        known = self._cache.get(pk, {})
        for _ in range(MAX_ATTEMPTS):
            if window.used(known, current, now_ms) >= window.rule.limit:
                # Cached counts and times never exceed the truth, so "full" by the cache is full for real.
                return window.decide(known, current, now_ms, allowed=False)
            admitted, state, newest = self._attempt(client, pk, window, known, current=current, now_ms=now_ms)
            self._remember(pk, state)
            if admitted:
                return window.decide(state, current, now_ms, allowed=True)
            known = state
            if newest is not None:
                # The retry lands after every admission the failed write saw, so it is decided no earlier
                # than the newest of them: a stalled request must not set a bucket's t<k> back (the bucket
                # would leave the window early) nor write a bucket other than bucket(now).
                latest = state[newest].latest_ms if newest in state else now_ms
                now_ms = max(now_ms, newest * window.width_ms, latest)
                current = window.bucket(now_ms)
        return window.decide(known, current, now_ms, allowed=False)

    def _attempt(self, client: Any, pk: str, window: Window, known: Buckets, *,
                 current: int, now_ms: int) -> tuple[bool, Buckets, int | None]:
        request = self._conditional_add(pk, window, known, current, now_ms)
        try:
            response = client.update_item(**request)
        except DYNAMODB_ERRORS as error:
            if not is_condition_failure(error):
                raise
            state, newest = _item_state(getattr(error, "response", {}).get("Item"), window)
            return False, state, newest
        state, newest = _item_state(response.get("Attributes"), window)
        return True, state, newest

    def _conditional_add(self, pk: str, window: Window, known: Buckets, current: int,
                         now_ms: int) -> dict[str, Any]:
        names = {"#b": "b", "#cur": f"c{current}", "#tcur": f"t{current}", "#exp": "expires_at"}
        expires = math.ceil((now_ms + window.span_ms + 2 * window.width_ms) / 1000)
        values = {":one": _number(1), ":cur": _number(current), ":now": _number(now_ms), ":exp": _number(expires)}
        conditions = ["(attribute_not_exists(#b) OR #b <= :cur)"]
        for index, bucket in enumerate(range(current - window.buckets, current)):
            names[f"#p{index}"] = f"c{bucket}"
            count = known[bucket].count if bucket in known else 0
            if count:
                values[f":p{index}"] = _number(count)
                conditions.append(f"#p{index} = :p{index}")
            else:
                conditions.append(f"attribute_not_exists(#p{index})")
        earlier = sum(b.count for k, b in window.live(known, current, now_ms).items() if k < current)
        values[":allowed"] = _number(window.rule.limit - earlier)
        conditions.append("(attribute_not_exists(#cur) OR #cur < :allowed)")
        update = "ADD #cur :one SET #b = :cur, #tcur = :now, #exp = :exp"
        expired = [f"{kind}{k}" for k in sorted(known) if k < current - window.buckets for kind in ("c", "t")]
        if expired:
            names.update({f"#x{i}": name for i, name in enumerate(expired)})
            update += " REMOVE " + ", ".join(f"#x{i}" for i in range(len(expired)))
        return {
            "TableName": self.table, "Key": {"pk": {"S": pk}}, "UpdateExpression": update,
            "ConditionExpression": " AND ".join(conditions), "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values, "ReturnValues": "ALL_NEW",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }

    def _remember(self, pk: str, state: Buckets) -> None:
        self._cache[pk] = state
        self._cache.move_to_end(pk)
        while len(self._cache) > CACHE_KEYS:
            self._cache.popitem(last=False)

    def _hold(self, pk: str) -> None:
        self._held[pk] = self._clock() + HOT_KEY_HOLD_SECONDS * random.uniform(1.0, 2.0)
        self._held.move_to_end(pk)
        while len(self._held) > CACHE_KEYS:
            self._held.popitem(last=False)

    def _hot_key(self, pk: str, window: Window) -> Decision:
        """Reject: the key is being flooded (what the cache knows of it for the headers, Retry-After ≥ the hold)."""
        now_ms = epoch_ms(self._clock())
        decision = window.decide(self._cache.get(pk, {}), window.bucket(now_ms), now_ms, allowed=False)
        hold = math.ceil(max(0.0, self._held.get(pk, 0.0) - self._clock()))
        return Decision(allowed=False, limit=decision.limit, remaining=0, reset_after=decision.reset_after,
                        retry_after=min(window.rule.window_seconds, max(decision.retry_after, hold, 1)))

    def _fail_open(self, pk: str, window: Window) -> Decision:
        now_ms = epoch_ms(self._clock())
        known = self._cache.get(pk, {})
        decision = window.decide(known, window.bucket(now_ms), now_ms, allowed=True)
        return Decision(allowed=True, limit=decision.limit, remaining=max(0, decision.remaining - 1),
                        reset_after=decision.reset_after, failed_open=True)
