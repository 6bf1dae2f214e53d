"""Property: whatever the interleaving, the breaker only makes legal transitions and at most one
probe runs at a time across containers (reference model: the state diagram in the SPEC)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.errors import ServiceUnavailable
from shared.protection.circuit_breaker import (
    HALF_OPEN,
    LEGAL_TRANSITIONS,
    PROBE_LEASE_SECONDS,
    CircuitBreaker,
    MemoryStore,
    Ticket,
)
from tests.unit.test_ratelimit import FakeClock

steps = st.lists(
    st.tuples(st.sampled_from(["call", "succeed", "fail", "wait"]), st.integers(0, 2), st.floats(0, 40)),
    max_size=80,
)


@settings(max_examples=200, deadline=None)
@given(script=steps)
def test_only_legal_transitions_and_bounded_probes(script: list[tuple[str, int, float]]) -> None:
    clock = FakeClock()
    store = MemoryStore()
    seen: list[tuple[str, str]] = []
    containers = [CircuitBreaker("users", store, threshold=3, reset_timeout=30, clock=clock,
                                 on_transition=lambda _n, a, b: seen.append((a, b))) for _ in range(3)]
    in_flight: list[list[Ticket]] = [[] for _ in containers]
    probes: dict[int, float] = {}  # outstanding probe version -> when it was claimed
    for action, index, seconds in script:
        breaker, tickets = containers[index], in_flight[index]
        if action == "call":
            try:
                ticket = breaker.before_call()
            except ServiceUnavailable as error:
                assert error.retry_after >= 1
            else:
                tickets.append(ticket)
                if ticket.probe_version is not None:
                    # A new probe only when no other probe is outstanding within its lease
                    assert all(clock.now >= claimed + PROBE_LEASE_SECONDS for claimed in probes.values())
                    probes[ticket.probe_version] = clock.now
        elif action in ("succeed", "fail") and tickets:
            ticket = tickets.pop(0)
            probes.pop(ticket.probe_version or -1, None)
            (breaker.record_success if action == "succeed" else breaker.record_failure)(ticket)
        elif action == "wait":
            clock.now += seconds
        # Every transition is an edge of the diagram
        assert set(seen) <= LEGAL_TRANSITIONS
        if store.load("users").state == HALF_OPEN:
            assert probes
