"""Property: the limiter never admits more than the limit in any window, whatever the timing."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.dynamodb import DynamoDBClient
from shared.protection.ratelimit import BUCKETS, RateLimiter
from shared.settings import RateRule
from tests.support.dynamodb import hash_key_table, hot_path_client, throwaway_table
from tests.unit.test_ratelimit import TABLE, FakeClock

_keys = itertools.count()

requests = st.lists(
    st.tuples(st.floats(min_value=0, max_value=30, allow_nan=False), st.integers(min_value=0, max_value=2)),
    min_size=1, max_size=60,
)
rules = st.builds(RateRule, limit=st.integers(1, 6), window_seconds=st.sampled_from([1, 5, 10, 60]))


@pytest.fixture
def table(dynamodb_endpoint: str) -> Iterator[str]:
    with throwaway_table(dynamodb_endpoint, hash_key_table(TABLE)) as name:
        yield name


@pytest.fixture
def client(dynamodb_endpoint: str) -> Iterator[DynamoDBClient]:
    subject = hot_path_client(dynamodb_endpoint)
    yield subject
    subject.close()


def max_in_any_window(times: list[float], window: float) -> int:
    """Reference sliding log: the most admissions inside any half-open window (t - T, t]."""
    return max((sum(1 for s in times if t - window < s <= t) for t in times), default=0)


def bucket_model(times: list[float], rule: RateRule) -> list[bool]:
    """Reference of the documented rule: admit iff the B+1 buckets ending now hold < limit."""
    width = rule.window_seconds / BUCKETS
    admitted: list[int] = []
    result = []
    for t in times:
        current = math.floor(t / width)
        used = sum(1 for b in admitted if current - BUCKETS <= b <= current)
        result.append(used < rule.limit)
        if used < rule.limit:
            admitted.append(current)
    return result


# The table and client are shared by every example of a run (hence the suppressed health check);
# each example starts from nothing all the same: a key never used before, containers with empty caches.
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(gaps=requests, rule=rules)
def test_never_more_than_the_limit_in_any_window(client: DynamoDBClient, table: str, gaps: list[tuple[float, int]],
                                                 rule: RateRule) -> None:
    # Given a key no request has used yet, and three containers with empty caches
    clock = FakeClock()
    containers = [RateLimiter(table, lambda: client, clock=clock) for _ in range(3)]
    key = f"k{next(_keys)}"
    times, admitted = [], []
    # When requests arrive at arbitrary times through three containers with their own caches
    for gap, container in gaps:
        clock.now += gap
        times.append(clock.now)
        admitted.append(containers[container].hit("p", rule, key).allowed)
    # Then no window of the rule's length ever holds more than the limit
    accepted_times = [t for t, ok in zip(times, admitted, strict=True) if ok]
    assert max_in_any_window(accepted_times, rule.window_seconds) <= rule.limit
    # And the decisions are exactly those of the documented bucket model (errs only by rejecting)
    assert admitted == bucket_model(times, rule)
