"""Properties: against an exact reference model, whatever the timing and whichever containers decide.

The limiter (DynamoDB emulation over HTTP, several containers with their own caches, one fake clock)
must decide exactly as the documented bucket model, and its answers must hold against a sliding log:
never more than the limit in any window, headers within the window, a client that waits Retry-After
is admitted (and one second less is not), Reset covers the newest counted admission.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.dynamodb import DynamoDBClient
from shared.protection.ratelimit import RateLimiter
from shared.protection.sliding_window import BUCKETS
from shared.settings import RateRule
from tests.support.dynamodb import hash_key_table, hot_path_client, throwaway_table
from tests.unit.test_ratelimit import TABLE, FakeClock

_keys = itertools.count()
START_MS = 1_700_000_000_000

PLAIN, WAIT_RETRY_AFTER, WAIT_ONE_SECOND_LESS = "plain", "wait Retry-After", "wait Retry-After - 1 s"
# A step: (gap in thousandths of the window, container, what the client does after a rejection)
steps = st.lists(
    st.tuples(st.one_of(st.integers(0, 40), st.integers(0, 1300)), st.integers(0, 2),
              st.sampled_from([PLAIN, WAIT_RETRY_AFTER, WAIT_ONE_SECOND_LESS])),
    min_size=1, max_size=60,
)
rules = st.builds(RateRule, limit=st.integers(1, 6), window_seconds=st.sampled_from([1, 5, 10, 60]))


@pytest.fixture
def table(engine_endpoint: str) -> Iterator[str]:
    with throwaway_table(engine_endpoint, hash_key_table(TABLE)) as name:
        yield name


@pytest.fixture
def client(engine_endpoint: str) -> Iterator[DynamoDBClient]:
    subject = hot_path_client(engine_endpoint)
    yield subject
    subject.close()


def max_in_any_window(times: list[int], window_ms: int) -> int:
    """Reference sliding log: the most admissions inside any half-open window (t - T, t]."""
    return max((sum(1 for s in times if t - window_ms < s <= t) for t in times), default=0)


@dataclass
class BucketModel:
    """The documented rule, from the admission log alone: a bucket of T/B counts whole while its latest
    admission is inside (now - T, now]; admit iff those buckets hold fewer than the limit. The headers
    are found by trying every later whole second, not by formula."""

    rule: RateRule
    admitted: list[int] = field(default_factory=list)  # epoch milliseconds

    @property
    def window_ms(self) -> int:
        return self.rule.window_seconds * 1000

    def used(self, now_ms: int) -> int:
        width = self.window_ms // BUCKETS
        latest: dict[int, int] = {}
        count: dict[int, int] = {}
        for t in self.admitted:
            if t // width >= now_ms // width - BUCKETS:
                latest[t // width] = max(latest.get(t // width, t), t)
                count[t // width] = count.get(t // width, 0) + 1
        return sum(count[k] for k in count if latest[k] > now_ms - self.window_ms)

    def hit(self, now_ms: int) -> tuple[bool, int, int, int]:
        """(allowed, remaining, reset, retry_after) of a request at now_ms."""
        limit, seconds = self.rule.limit, range(self.rule.window_seconds + 1)
        allowed = self.used(now_ms) < limit
        if allowed:
            self.admitted.append(now_ms)
        reset = next(s for s in seconds if self.used(now_ms + 1000 * s) == 0)
        retry = 0 if allowed else next(s for s in seconds[1:] if self.used(now_ms + 1000 * s) < limit)
        return allowed, max(0, limit - self.used(now_ms)), reset, retry


# The table and client are shared by every example of a run (hence the suppressed health check);
# each example starts from nothing all the same: a key never used before, containers with empty caches.
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=steps, rule=rules, offset_ms=st.integers(0, 59_999))
def test_decisions_match_the_model_and_the_headers_hold(client: DynamoDBClient, table: str,
                                                        plan: list[tuple[int, int, str]], rule: RateRule,
                                                        offset_ms: int) -> None:
    # Given a key no request has used yet, three containers with empty caches, and the reference model
    now_ms = START_MS + offset_ms
    clock = FakeClock(now_ms / 1000)
    containers = [RateLimiter(table, lambda: client, clock=clock) for _ in range(3)]
    key, model, window_ms = f"k{next(_keys)}", BucketModel(rule), rule.window_seconds * 1000
    last = None
    # When requests arrive at arbitrary times through the containers, some after waiting as told
    for gap, container, action in plan:
        waiting = action != PLAIN and last is not None and not last.allowed
        if waiting and last is not None:
            now_ms += 1000 * (last.retry_after - (action == WAIT_ONE_SECOND_LESS))
        else:
            now_ms += math.floor(gap * window_ms / 1000)
        clock.now = now_ms / 1000
        decision = containers[container].hit("p", rule, key)
        # Then every decision and header is the model's
        assert (decision.allowed, decision.remaining, decision.reset_after, decision.retry_after) == model.hit(now_ms)
        # And the headers never exceed the window
        assert decision.reset_after <= rule.window_seconds and decision.retry_after <= rule.window_seconds
        # And Reset lasts until the newest counted admission has left the window
        newest = model.admitted[-1] if model.admitted else None
        if newest is not None and newest > now_ms - window_ms:
            assert 1000 * decision.reset_after >= newest + window_ms - now_ms
        # And a client that waited Retry-After (no one else sending) gets in, one second less does not
        if waiting:
            assert decision.allowed == (action == WAIT_RETRY_AFTER)
        last = decision
    # And no window of the rule's length ever holds more than the limit
    assert max_in_any_window(model.admitted, window_ms) <= rule.limit
