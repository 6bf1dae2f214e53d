"""Throttling is not an outage: what the limiter, the breaker and the metrics do when DynamoDB throttles them.

The engines throttle on demand (local.dynamodb.heat rules; in front of moto, which cannot throttle by itself), so
these run over HTTP on both, through the functions' own client. A rule of 0 units refuses every request it covers,
whatever the clock; each test also checks that the engine did throttle, so none can pass by not being throttled.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from local.dynamodb.heat import HeatMap
from shared.dynamodb import DynamoDBClient, DynamoDBError
from shared.errors import ServiceUnavailable
from shared.protection.backoff import is_hot_key, is_throttling
from shared.protection.circuit_breaker import OPEN, CircuitBreaker, DynamoStore
from shared.protection.metrics import MetricsRecorder
from shared.protection.metrics_summary import summarize
from shared.protection.ratelimit import RateLimiter
from shared.settings import RateRule
from tests.support.dynamodb import hash_key_table, hot_path_client, template_table, throwaway_table
from tests.unit.conftest import ThrottlingEngine
from tests.unit.test_ratelimit import FakeClock

RULE = RateRule(limit=3, window_seconds=60)
FLOODER, OTHER = "ip:203.0.113.7", "ip:198.51.100.1"


@pytest.fixture
def client(throttle: ThrottlingEngine) -> Iterator[DynamoDBClient]:
    subject = hot_path_client(throttle.url)
    yield subject
    subject.close()


@pytest.fixture
def hash_table(throttle: ThrottlingEngine) -> Iterator[str]:
    with throwaway_table(throttle.url, hash_key_table("ThrottledTable")) as name:
        yield name


def calls(client: DynamoDBClient) -> int:
    return sum(client.calls.values())


# --- the limiter -----------------------------------------------------------------------------------------------

def test_a_key_throttled_for_itself_is_rejected_not_failed_open(throttle: ThrottlingEngine, client: DynamoDBClient,
                                                                 hash_table: str) -> None:
    clock = FakeClock()
    limiter = RateLimiter(hash_table, lambda: client, clock=clock)
    # Given a key DynamoDB throttles (a flood made its partition hot)
    throttle.heat.limit(hash_table, writes=0, partition=f"default/60#{FLOODER}")
    # When a request for it comes
    decision = limiter.hit("default", RULE, FLOODER)
    # Then it is rejected with a Retry-After, not admitted by failing open
    assert throttle.heat.throttled(hash_table) == 1
    assert (decision.allowed, decision.failed_open) == (False, False)
    assert 1 <= decision.retry_after <= 60
    # And for a moment this container rejects the key without asking DynamoDB again
    before = calls(client)
    assert not limiter.hit("default", RULE, FLOODER).allowed
    assert calls(client) == before
    # While every other key is decided by DynamoDB as usual: no back-off, no fail-open
    other = limiter.hit("default", RULE, OTHER)
    assert (other.allowed, other.failed_open, calls(client)) == (True, False, before + 1)
    # And once the hold is over and the key takes writes again, it is admitted
    throttle.heat.clear()
    clock.now += 2.0
    assert limiter.hit("default", RULE, FLOODER).allowed


@pytest.fixture
def table_wide(throttle: ThrottlingEngine) -> Iterator[tuple[Any, HeatMap, str]]:
    """A client whose whole table is throttled (a table-level reason in the error: not one hot key)."""
    with throwaway_table(throttle.url, hash_key_table("WideTable")) as name:
        throttle.heat.limit(name, writes=0, scope="table")
        client = hot_path_client(throttle.url)
        yield client, throttle.heat, name
        client.close()


def test_a_table_throttled_as_a_whole_fails_open_like_an_unreachable_one(table_wide: Any) -> None:
    client, heat, name = table_wide
    clock = FakeClock()
    limiter = RateLimiter(name, lambda: client, clock=clock)
    decision = limiter.hit("default", RULE, OTHER)
    assert heat.throttled(name) == 1
    assert (decision.allowed, decision.failed_open) == (True, True)
    # And the container backs off instead of sending every request into a saturated table
    before = calls(client)
    assert limiter.hit("default", RULE, FLOODER).failed_open
    assert calls(client) == before


def test_which_throttles_are_a_hot_key() -> None:
    def error(code: str, **members: Any) -> DynamoDBError:
        return DynamoDBError(code, "", 400, {"Error": {"Code": code, "Message": ""}, **members})

    key_range = [{"reason": "TableWriteKeyRangeThroughputExceeded", "resource": "arn:aws:dynamodb:::table/t"}]
    table_max = [{"reason": "TableWriteMaxOnDemandThroughputExceeded", "resource": "arn:aws:dynamodb:::table/t"}]
    assert is_hot_key(error("ThrottlingException", throttlingReasons=key_range))
    assert is_hot_key(error("ProvisionedThroughputExceededException", ThrottlingReasons=key_range))
    assert is_hot_key(error("ProvisionedThroughputExceededException"))  # no reason given: the usual cause
    assert not is_hot_key(error("ThrottlingException", throttlingReasons=table_max))
    assert not is_hot_key(error("RequestLimitExceeded"))  # the account's quota
    assert is_throttling(error("RequestLimitExceeded"))
    assert not is_throttling(error("ConditionalCheckFailedException"))
    assert not is_hot_key(error("ValidationException"))


# --- the breaker -----------------------------------------------------------------------------------------------

def make_breaker(client: DynamoDBClient, table: str, clock: FakeClock) -> CircuitBreaker:
    return CircuitBreaker("orders", DynamoStore(table, lambda: client), threshold=3, reset_timeout=30, clock=clock)


def open_breaker(breaker: CircuitBreaker) -> None:
    for _ in range(3):
        breaker.record_failure(breaker.before_call())


def test_a_throttled_probe_claim_fails_fast_and_never_serves(throttle: ThrottlingEngine, client: DynamoDBClient,
                                                             hash_table: str) -> None:
    # Given an open breaker whose reset timeout has passed
    clock = FakeClock()
    breaker = make_breaker(client, hash_table, clock)
    open_breaker(breaker)
    clock.now += 30
    # When the breaker item is hot and the probe claim is throttled
    throttle.heat.limit(hash_table, writes=0)
    with pytest.raises(ServiceUnavailable):
        breaker.before_call()
    # Then the request failed fast (as for any container that lost the claim), the shared state is untouched
    assert throttle.heat.throttled(hash_table) == 1
    assert DynamoStore(hash_table, lambda: client).load("orders").state == OPEN
    # And once writes go through, one probe is claimed
    throttle.heat.clear()
    assert breaker.before_call().probe_version is not None


def test_throttled_reads_keep_the_known_state_and_back_off(throttle: ThrottlingEngine, client: DynamoDBClient,
                                                           hash_table: str) -> None:
    # Given an open breaker this container knows
    clock = FakeClock()
    breaker = make_breaker(client, hash_table, clock)
    open_breaker(breaker)
    # When every read of its item is throttled for the next ten seconds of requests
    throttle.heat.limit(hash_table, reads=0)
    reads = client.calls[("GetItem", hash_table)]
    for _ in range(100):
        clock.now += 0.1
        # Then it keeps failing fast from the state it knew (not serving from a private, closed breaker)
        with pytest.raises(ServiceUnavailable):
            breaker.before_call()
    assert throttle.heat.throttled(hash_table) >= 1
    # And it reads less often while throttled: after 1, 2, 4, 8 s (jittered), not ten times
    assert client.calls[("GetItem", hash_table)] - reads <= 4


def test_throttled_writes_of_failures_and_successes_never_raise(throttle: ThrottlingEngine, client: DynamoDBClient,
                                                                hash_table: str) -> None:
    clock = FakeClock()
    breaker = make_breaker(client, hash_table, clock)
    breaker.record_failure(breaker.before_call())  # one failure stored
    clock.now += 1.1
    throttle.heat.limit(hash_table, writes=0)
    breaker.record_success(breaker.before_call())  # the reset is throttled: left to the next success
    breaker.record_failure(breaker.before_call())  # not counted here: other containers' failures count it
    assert throttle.heat.throttled(hash_table) == 2
    assert DynamoStore(hash_table, lambda: client).load("orders").failures == 1


# --- the metrics -----------------------------------------------------------------------------------------------

def test_throttled_metrics_never_fail_a_request_and_lose_nothing(throttle: ThrottlingEngine,
                                                                 client: DynamoDBClient) -> None:
    with throwaway_table(throttle.url, template_table("MetricsTable")) as table:
        clock = FakeClock(1_800_000_000.0)
        recorder = MetricsRecorder(table, lambda: client, clock=clock, flush_interval=1.0, source="orders")
        # Given the metrics item is throttled while twenty requests are counted, two a second
        throttle.heat.limit(table, writes=0)
        for _ in range(20):
            recorder.record_request("GET /x", 200, 3.0, rate_limited=False, failed_open=False)
            clock.now += 0.5
        # Then none of them failed, the counters wait in the container, and it writes less often
        assert throttle.heat.throttled(table) >= 2
        assert recorder.pending() == 1
        assert recorder.interval >= 4.0
        # When the item takes writes again, the next flush writes them all
        throttle.heat.clear()
        clock.now += recorder.interval
        recorder.record_request("GET /x", 200, 3.0, rate_limited=False, failed_open=False)
        assert recorder.pending() == 0
        assert summarize(client, table, 5, now=clock.now)["requests"]["total"] == 21
