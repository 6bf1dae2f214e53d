"""Circuit breaker: transitions, bounded probes, shared state in DynamoDB (emulated), fallback."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from shared.dynamodb import DynamoDBClient
from shared.errors import ServiceUnavailable
from shared.protection.circuit_breaker import (
    CLOSED,
    HALF_OPEN,
    OPEN,
    CircuitBreaker,
    DynamoStore,
    MemoryStore,
)
from tests.support.dynamodb import hash_key_table, hot_path_client, throwaway_table, unreachable_client
from tests.unit.test_ratelimit import FakeClock

TABLE = "CircuitBreakerTable"


@pytest.fixture
def table(engine_endpoint: str) -> Iterator[str]:
    """A fresh, empty breaker table of its own (the emulation lives for the whole session)."""
    with throwaway_table(engine_endpoint, hash_key_table(TABLE)) as name:
        yield name


@pytest.fixture
def client(engine_endpoint: str) -> Iterator[DynamoDBClient]:
    """The functions' own DynamoDB client; `client.calls` counts what reaches DynamoDB."""
    subject = hot_path_client(engine_endpoint)
    yield subject
    subject.close()


def make(store: Any, clock: FakeClock, transitions: list[tuple[str, str]] | None = None) -> CircuitBreaker:
    record = (lambda _n, a, b: transitions.append((a, b))) if transitions is not None else None
    return CircuitBreaker("orders", store, threshold=3, reset_timeout=30, clock=clock, on_transition=record)


def fail(breaker: CircuitBreaker) -> None:
    breaker.record_failure(breaker.before_call())


def test_opens_after_threshold_and_fails_fast_with_retry_after(client: DynamoDBClient, table: str) -> None:
    clock = FakeClock()
    breaker = make(DynamoStore(table, lambda: client), clock)
    for _ in range(3):
        fail(breaker)
    with pytest.raises(ServiceUnavailable) as raised:
        breaker.before_call()
    assert raised.value.retry_after == 30
    assert breaker.state().state == OPEN


def test_open_state_is_shared_by_other_containers(client: DynamoDBClient, table: str) -> None:
    clock = FakeClock()
    first, second = make(DynamoStore(table, lambda: client), clock), make(DynamoStore(table, lambda: client), clock)
    for _ in range(3):
        fail(first)
    clock.now += 1.5  # the other container's cache expires
    with pytest.raises(ServiceUnavailable):
        second.before_call()


def test_failures_from_several_containers_add_up_without_lost_updates(client: DynamoDBClient, table: str) -> None:
    clock = FakeClock()
    breakers = [make(DynamoStore(table, lambda: client), clock) for _ in range(3)]
    for breaker in breakers:  # each has a stale cache after the first write
        breaker.state()
    for breaker in breakers:
        fail(breaker)
    assert breakers[0].state(fresh=True).state == OPEN


def test_half_open_admits_one_probe_and_success_closes(client: DynamoDBClient, table: str) -> None:
    clock = FakeClock()
    transitions: list[tuple[str, str]] = []
    containers = [make(DynamoStore(table, lambda: client), clock, transitions) for _ in range(4)]
    for _ in range(3):
        fail(containers[0])
    clock.now += 31
    # When four containers all try after the reset timeout
    tickets, rejected = [], 0
    for breaker in containers:
        try:
            tickets.append((breaker, breaker.before_call()))
        except ServiceUnavailable:
            rejected += 1
    # Then exactly one holds the probe
    assert len(tickets) == 1 and rejected == 3
    breaker, ticket = tickets[0]
    breaker.record_success(ticket)
    assert breaker.state(fresh=True).state == CLOSED
    assert transitions == [(CLOSED, OPEN), (OPEN, HALF_OPEN), (HALF_OPEN, CLOSED)]


def test_a_container_whose_view_is_stale_is_let_through_once_another_probe_closed_it(
        client: DynamoDBClient, table: str) -> None:
    # Given an open breaker past its reset timeout, seen as open by a second container
    clock = FakeClock()
    first, second = make(DynamoStore(table, lambda: client), clock), make(DynamoStore(table, lambda: client), clock)
    for _ in range(3):
        fail(first)
    clock.now += 31
    assert second.state().state == OPEN
    # When the first container's probe succeeds and closes it, within the second one's cache lifetime
    first.record_success(first.before_call())
    # Then the second one, losing the probe claim to a closed breaker, lets the call through instead of a 503
    second.record_success(second.before_call())
    assert second.state().state == CLOSED


def test_failed_probe_reopens_for_another_timeout(client: DynamoDBClient, table: str) -> None:
    clock = FakeClock()
    breaker = make(DynamoStore(table, lambda: client), clock)
    for _ in range(3):
        fail(breaker)
    clock.now += 31
    breaker.record_failure(breaker.before_call())
    state = breaker.state(fresh=True)
    assert state.state == OPEN and state.opened_at == clock.now
    assert state.transitions == {"closed_to_open": 1, "open_to_half_open": 1, "half_open_to_open": 1}


def test_success_in_closed_state_does_not_write(client: DynamoDBClient, table: str) -> None:
    clock = FakeClock()
    breaker = make(DynamoStore(table, lambda: client), clock)
    for _ in range(50):
        breaker.record_success(breaker.before_call())
        clock.now += 0.1
    # One cached read per second of fake time, no writes
    assert client.calls == Counter({("GetItem", table): 5})


def test_a_success_resets_earlier_failures(client: DynamoDBClient, table: str) -> None:
    clock = FakeClock()
    breaker = make(DynamoStore(table, lambda: client), clock)
    fail(breaker)
    fail(breaker)
    breaker.record_success(breaker.before_call())
    fail(breaker)
    fail(breaker)
    assert breaker.state(fresh=True).state == CLOSED


def test_lost_probe_lease_can_be_reclaimed() -> None:
    clock = FakeClock()
    store = MemoryStore()
    breaker = make(store, clock)
    for _ in range(3):
        fail(breaker)
    clock.now += 31
    breaker.before_call()  # the probe's container dies without reporting
    clock.now += 11
    ticket = make(store, clock).before_call()
    assert ticket.probe_version is not None


def test_degrades_to_in_memory_breaker_when_table_unreachable() -> None:
    dead = unreachable_client()
    clock = FakeClock()
    breaker = make(DynamoStore(TABLE, lambda: dead), clock)
    # Calls still pass, and failures still open this container's breaker
    breaker.record_success(breaker.before_call())
    for _ in range(3):
        fail(breaker)
    with pytest.raises(ServiceUnavailable):
        breaker.before_call()


def test_call_guards_any_downstream_with_the_same_rules() -> None:
    # Given a breaker for some downstream (threshold 3), and calls that fail with the downstream's own error
    breaker = make(MemoryStore(), FakeClock())

    def refused() -> None:
        raise ConnectionRefusedError()

    def not_found() -> None:
        raise KeyError("no such thing")  # an answer of a working downstream

    # When a call succeeds, then its result comes back
    assert breaker.call(lambda: 42, counts=lambda e: isinstance(e, OSError)) == 42
    # When the downstream answers with an error it does not own, then it passes through and counts nothing
    with pytest.raises(KeyError):
        breaker.call(not_found, counts=lambda e: isinstance(e, OSError))
    # When it fails three times, then each is a 503 from the error, and the breaker opens: the next is refused
    for _ in range(3):
        with pytest.raises(ServiceUnavailable) as raised:
            breaker.call(refused, counts=lambda e: isinstance(e, OSError))
        assert isinstance(raised.value.__cause__, ConnectionRefusedError)
    ran: list[int] = []
    with pytest.raises(ServiceUnavailable):
        breaker.call(lambda: ran.append(1), counts=lambda e: True)
    assert ran == [] and breaker.state().state == OPEN
