"""Property: the limiter never admits more than the limit in any window, whatever the timing."""

from __future__ import annotations

import itertools
import math
from typing import Any

import boto3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from shared.protection.ratelimit import BUCKETS, RateLimiter
from shared.settings import RateRule
from tests.unit.test_ratelimit import TABLE, FakeClock, create_table

_keys = itertools.count()

requests = st.lists(
    st.tuples(st.floats(min_value=0, max_value=30, allow_nan=False), st.integers(min_value=0, max_value=2)),
    min_size=1, max_size=60,
)
rules = st.builds(RateRule, limit=st.integers(1, 6), window_seconds=st.sampled_from([1, 5, 10, 60]))


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


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(gaps=requests, rule=rules)
def test_never_more_than_the_limit_in_any_window(gaps: list[tuple[float, int]], rule: RateRule) -> None:
    with mock_aws():
        client: Any = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client)
        clock = FakeClock()
        containers = [RateLimiter(TABLE, lambda: client, clock=clock) for _ in range(3)]
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
