"""Circuit breakers per downstream service, shared by every container through DynamoDB.

The state is one item per breaker, changed only by compare-and-swap (shared.protection.breaker_store); the
rules around it are here:

- closed: calls pass. An infrastructure failure adds one to `failures`; reaching the threshold
  opens the breaker. A success writes only when the cached item shows failures (to reset them),
  so the steady state costs no write, and at most one cached GetItem per second per container.
- open: calls fail fast with 503 and Retry-After until `opened_at + reset_timeout`. Then one
  caller claims the probe by swapping open → half_open with a lease; everyone else keeps
  failing fast. At most one probe runs per lease across all containers.
- half_open: the probe's success closes the breaker, its failure re-opens it. A probe that
  never reports (its container died) loses the lease after PROBE_LEASE_SECONDS.

Each container caches the item for at most CACHE_SECONDS, refreshed by an eventually consistent GetItem (half a
read unit; a breaker's decisions never depend on it: every change is a compare-and-swap that returns the stored
item when it loses). Reads that decide something themselves (a probe's end, /health) are strongly consistent.
So an item takes at most one read per container per second (0.5 RCU each: 3,000 warm containers are half of a
partition's 3,000 RCU/s), and writes only around outages: failures until the threshold, and one probe claim per
container per reset period (each loser gets the winner's item back and caches it).

Throttling is not an outage: a throttled read keeps the last known state and reads less often (back-off doubling
to MAX_READ_BACKOFF_SECONDS, jittered); a throttled write is simply not made (a failure not counted — others count
it —, a probe not claimed: 503 as for any loser, a success not reset: the next success does it). If the table is
unreachable, the breaker degrades to a private in-memory store with the same rules for a short back-off (each
container then decides alone); the shared state resumes when the table answers again.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any, TypeVar

from shared.errors import ServiceUnavailable
from shared.logger import logger
from shared.protection.backoff import DYNAMODB_ERRORS, Backoff, Clock, is_throttling
from shared.protection.breaker_store import (
    CLOSED,
    HALF_OPEN,
    OPEN,
    BreakerState,
    BreakerStore,
    DynamoStore,
    MemoryStore,
)

__all__ = ["CLOSED", "HALF_OPEN", "OPEN", "BreakerState", "BreakerStore", "CircuitBreaker", "DynamoStore",
           "MemoryStore", "Ticket"]
T = TypeVar("T")
LEGAL_TRANSITIONS = frozenset({(CLOSED, OPEN), (OPEN, HALF_OPEN), (HALF_OPEN, CLOSED), (HALF_OPEN, OPEN),
                               (HALF_OPEN, HALF_OPEN)})  # the last: a new probe after a lost lease
CACHE_SECONDS = 1.0
MAX_READ_BACKOFF_SECONDS = 8.0
PROBE_LEASE_SECONDS = 10.0  # the functions' timeout: a probe cannot outlive it
DEGRADED_BACKOFF_SECONDS = 2.0
MAX_SWAPS = 3



@dataclass(frozen=True)
class Ticket:
    """What `before_call` allowed: a normal call, or the one half-open probe (with its version)."""

    probe_version: int | None = None


Listener = Callable[[str, str, str], None]  # (breaker, from_state, to_state)


class _Throttled(Exception):
    """DynamoDB throttled the breaker item: the table is up, this read or write just did not happen."""


class CircuitBreaker:
    def __init__(self, name: str, store: BreakerStore, *, threshold: int, reset_timeout: float,
                 clock: Clock = time.time, on_transition: Listener | None = None) -> None:
        self.name = name
        self.threshold = threshold
        self.reset_timeout = reset_timeout
        self._shared = store
        self._local = MemoryStore()
        self._clock = clock
        self._degraded = Backoff(DEGRADED_BACKOFF_SECONDS, clock)
        self._cached: BreakerState | None = None
        self._fresh_until = 0.0
        self._read_backoff = 0.0
        self._on_transition = on_transition

    # --- storage with a cache and an in-memory fallback -------------------------------------------

    def _store(self) -> BreakerStore:
        return self._local if self._degraded.active else self._shared

    def _call_store(self, action: Callable[[BreakerStore], Any]) -> Any:
        try:
            return action(self._store())
        except DYNAMODB_ERRORS as error:
            if is_throttling(error):
                raise _Throttled from error
            logger.warning("circuit breaker table unavailable, using in-memory breaker",
                           extra={"breaker": self.name, "error": type(error).__name__})
            self._degraded.trip()
            self._cached = None
            return action(self._local)

    def state(self, *, fresh: bool = False) -> BreakerState:
        """The shared state, cached ≤ CACHE_SECONDS (`fresh`: read now, strongly consistent)."""
        now = self._clock()
        if fresh or self._cached is None or now >= self._fresh_until:
            try:
                loaded = self._call_store(lambda store: store.load(self.name, consistent=fresh))
            except _Throttled:
                return self._keep_cached(now)
            self._remember(loaded, now)
            self._read_backoff = 0.0
        return self._cached if self._cached is not None else BreakerState()

    def _remember(self, state: BreakerState, now: float) -> None:
        self._cached, self._fresh_until = state, now + CACHE_SECONDS

    def _keep_cached(self, now: float) -> BreakerState:
        # A hot item, not an outage: the last known state stays (a new container starts from its private one),
        # and this container reads less often until the reads go through again.
        self._read_backoff = min(MAX_READ_BACKOFF_SECONDS, max(CACHE_SECONDS, self._read_backoff * 2))
        self._fresh_until = now + self._read_backoff * random.uniform(1.0, 1.5)
        logger.info("circuit breaker item throttled; keeping the cached state", extra={"breaker": self.name})
        if self._cached is None:
            self._cached = self._local.load(self.name)
        return self._cached

    def _swap(self, current: BreakerState, new: BreakerState) -> BreakerState | None:
        """CAS; on success cache `new` and report a transition. Returns the stored state on conflict; raises
        _Throttled when the write was throttled (nothing stored)."""
        stored = self._call_store(lambda store: store.swap(self.name, current.version, new))
        self._remember(stored if stored is not None else new, self._clock())
        if stored is None and new.state != current.state and self._on_transition:
            self._on_transition(self.name, current.state, new.state)
        return stored if stored is None else BreakerState(**asdict(stored))

    # --- the protocol around one call ----------------------------------------------------------------

    def before_call(self) -> Ticket:
        """Allow the call, claim the half-open probe, or raise 503 fast."""
        current = self.state()
        if current.state == CLOSED:
            return Ticket()
        now = self._clock()
        ready = current.opened_at + self.reset_timeout <= now if current.state == OPEN else current.probe_until <= now
        if ready:
            claimed = current.moved_to(HALF_OPEN, probe_until=now + PROBE_LEASE_SECONDS)
            try:
                if self._swap(current, claimed) is None:
                    return Ticket(probe_version=claimed.version)
            except _Throttled:
                pass  # not claimed: like any container that lost the claim, fail fast
        latest = self.state()  # after a lost claim: what the store holds
        if latest.state == CLOSED:
            return Ticket()  # another container's probe closed it; this one's view was stale
        raise self._unavailable(latest)

    def _unavailable(self, current: BreakerState) -> ServiceUnavailable:
        now = self._clock()
        if current.state == OPEN:
            wait = current.opened_at + self.reset_timeout - now
        else:
            wait = min(current.probe_until - now, self.reset_timeout)
        return ServiceUnavailable(f"The {self.name} service is temporarily unavailable",
                                  retry_after=max(1, math.ceil(wait)))

    def record_success(self, ticket: Ticket) -> None:
        if ticket.probe_version is not None:
            self._finish_probe(ticket.probe_version, closed=True)
            return
        current = self.state()
        if current.state == CLOSED and current.failures:
            try:
                self._swap(current, replace(current, failures=0, version=current.version + 1))
            except _Throttled:
                return  # the next success resets them

    def record_failure(self, ticket: Ticket) -> None:
        if ticket.probe_version is not None:
            self._finish_probe(ticket.probe_version, closed=False)
            return
        current = self.state()
        for _ in range(MAX_SWAPS):
            if current.state != CLOSED:
                return
            failures = current.failures + 1
            if failures >= self.threshold:
                new = current.moved_to(OPEN, failures=failures, opened_at=self._clock())
            else:
                new = replace(current, failures=failures, version=current.version + 1)
            try:
                stored = self._swap(current, new)
            except _Throttled:
                return  # many containers are failing at once: the ones whose writes went through count it
            if stored is None:
                return
            current = stored

    def _finish_probe(self, version: int, *, closed: bool) -> None:
        current = self.state(fresh=True)
        if current.state != HALF_OPEN or current.version != version:
            return  # our lease was lost; whoever holds it decides
        if closed:
            new = current.moved_to(CLOSED, failures=0, opened_at=0.0, probe_until=0.0)
        else:
            new = current.moved_to(OPEN, opened_at=self._clock(), probe_until=0.0)
        try:
            self._swap(current, new)
        except _Throttled:
            # The outcome is not stored; the lease runs out and another probe is claimed (PROBE_LEASE_SECONDS).
            logger.warning("circuit breaker probe result not stored: item throttled", extra={"breaker": self.name})

    def call(self, work: Callable[[], T], *, counts: Callable[[Exception], bool]) -> T:
        """Run `work` behind the breaker: 503 at once while open; a failure `counts` says is the downstream's
        own is recorded and becomes a 503 (ServiceUnavailable, from the error); anything else passes through."""
        ticket = self.before_call()
        try:
            result = work()
        except Exception as error:
            if not counts(error):
                self.record_success(ticket)  # the downstream answered: it is up
                raise
            self.record_failure(ticket)
            logger.warning("downstream unavailable", extra={"breaker": self.name, "error": type(error).__name__})
            unavailable = ServiceUnavailable(f"The {self.name} service is unavailable", retry_after=self.retry_after())
            raise unavailable from error
        self.record_success(ticket)
        return result

    def retry_after(self) -> int:
        return self._unavailable(self.state()).retry_after

