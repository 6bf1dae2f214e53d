"""Circuit breakers per downstream service, shared by every container through DynamoDB.

One item per breaker (`pk` = service name) holds `state`, `failures`, `opened_at`, the half-open
probe lease `probe_until`, transition counters and a `version`. Every change is a compare-and-
swap on `version` (PutItem with a condition), so concurrent containers never lose an update:
the loser gets the current item back (ReturnValuesOnConditionCheckFailure) and re-decides.

- closed: calls pass. An infrastructure failure adds one to `failures`; reaching the threshold
  opens the breaker. A success writes only when the cached item shows failures (to reset them),
  so the steady state costs no write, and one cached GetItem per second per container.
- open: calls fail fast with 503 and Retry-After until `opened_at + reset_timeout`. Then one
  caller claims the probe by swapping open → half_open with a lease; everyone else keeps
  failing fast. At most one probe runs per lease across all containers.
- half_open: the probe's success closes the breaker, its failure re-opens it. A probe that
  never reports (its container died) loses the lease after PROBE_LEASE_SECONDS.

Each container caches the item for at most CACHE_SECONDS. If the table itself is unreachable,
the breaker degrades to a private in-memory store with the same rules for a short back-off
(each container then decides alone); the shared state resumes when the table answers again.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Protocol, TypeVar

from shared.errors import ServiceUnavailable
from shared.logger import logger
from shared.protection.backoff import DYNAMODB_ERRORS, Backoff, Clock, is_condition_failure

T = TypeVar("T")
CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"
LEGAL_TRANSITIONS = frozenset({(CLOSED, OPEN), (OPEN, HALF_OPEN), (HALF_OPEN, CLOSED), (HALF_OPEN, OPEN),
                               (HALF_OPEN, HALF_OPEN)})  # the last: a new probe after a lost lease
CACHE_SECONDS = 1.0
PROBE_LEASE_SECONDS = 10.0  # the functions' timeout: a probe cannot outlive it
DEGRADED_BACKOFF_SECONDS = 2.0
MAX_SWAPS = 3


@dataclass(frozen=True)
class BreakerState:
    state: str = CLOSED
    failures: int = 0
    opened_at: float = 0.0
    probe_until: float = 0.0
    version: int = 0
    transitions: dict[str, int] = field(default_factory=dict)

    def moved_to(self, state: str, **changes: Any) -> BreakerState:
        counters = dict(self.transitions)
        name = f"{self.state}_to_{state}"
        counters[name] = counters.get(name, 0) + 1
        return replace(self, state=state, version=self.version + 1, transitions=counters, **changes)

    def public(self, reset_timeout: float, now: float) -> dict[str, Any]:
        view: dict[str, Any] = {"state": self.state, "failures": self.failures,
                                "opened_at": _iso(self.opened_at) if self.opened_at else None,
                                "transitions": dict(self.transitions)}
        if self.state == OPEN:
            view["retry_after"] = max(0, math.ceil(self.opened_at + reset_timeout - now))
        return view


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


class BreakerStore(Protocol):
    def load(self, name: str) -> BreakerState: ...

    def swap(self, name: str, expected_version: int, new: BreakerState) -> BreakerState | None:
        """Store `new` if the stored version is `expected_version`; else return the stored state."""


class MemoryStore:
    """The same compare-and-swap semantics in process memory (fallback, and fast tests)."""

    def __init__(self) -> None:
        self._items: dict[str, BreakerState] = {}
        self._lock = threading.Lock()

    def load(self, name: str) -> BreakerState:
        with self._lock:
            return self._items.get(name, BreakerState())

    def swap(self, name: str, expected_version: int, new: BreakerState) -> BreakerState | None:
        with self._lock:
            current = self._items.get(name, BreakerState())
            if current.version != expected_version:
                return current
            self._items[name] = new
            return None


class DynamoStore:
    """Breaker items in CircuitBreakerTable; every write conditional on the version read."""

    def __init__(self, table: str, client: Callable[[], Any]) -> None:
        self.table = table
        self._client = client

    def load(self, name: str) -> BreakerState:
        response = self._client().get_item(TableName=self.table, Key={"pk": {"S": name}}, ConsistentRead=True)
        return _from_item(response.get("Item"))

    def swap(self, name: str, expected_version: int, new: BreakerState) -> BreakerState | None:
        condition = "attribute_not_exists(pk)" if expected_version == 0 else "version = :v"
        request: dict[str, Any] = {"TableName": self.table, "Item": _to_item(name, new),
                                   "ConditionExpression": condition,
                                   "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}
        if expected_version:
            request["ExpressionAttributeValues"] = {":v": {"N": str(expected_version)}}
        try:
            self._client().put_item(**request)
        except DYNAMODB_ERRORS as error:
            if not is_condition_failure(error):
                raise
            return _from_item(getattr(error, "response", {}).get("Item"))
        return None


def _to_item(name: str, state: BreakerState) -> dict[str, Any]:
    return {
        "pk": {"S": name}, "state": {"S": state.state}, "failures": {"N": str(state.failures)},
        "opened_at": {"N": repr(state.opened_at)}, "probe_until": {"N": repr(state.probe_until)},
        "version": {"N": str(state.version)},
        "transitions": {"M": {key: {"N": str(value)} for key, value in state.transitions.items()}},
    }


def _from_item(item: dict[str, Any] | None) -> BreakerState:
    if not item:
        return BreakerState()
    try:
        state = BreakerState(
            state=item["state"]["S"], failures=int(item["failures"]["N"]),
            opened_at=float(item["opened_at"]["N"]), probe_until=float(item["probe_until"]["N"]),
            version=int(item["version"]["N"]),
            transitions={key: int(value["N"]) for key, value in item.get("transitions", {}).get("M", {}).items()},
        )
        if state.state not in (CLOSED, OPEN, HALF_OPEN):
            raise ValueError(state.state)
        return state
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        # Shared state we cannot read must not fail the request: treat it as closed (serve) and say so.
        # Its version stays unknown, so conditional writes conflict and leave the item for an operator.
        logger.error("circuit breaker item unreadable; treating as closed",
                     extra={"breaker": str(item.get("pk", {}).get("S", "?")), "error": type(error).__name__})
        return BreakerState()


@dataclass(frozen=True)
class Ticket:
    """What `before_call` allowed: a normal call, or the one half-open probe (with its version)."""

    probe_version: int | None = None


Listener = Callable[[str, str, str], None]  # (breaker, from_state, to_state)


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
        self._cached: tuple[BreakerState, float] | None = None
        self._on_transition = on_transition

    # --- storage with a cache and an in-memory fallback -------------------------------------------

    def _store(self) -> BreakerStore:
        return self._local if self._degraded.active else self._shared

    def _call_store(self, action: Callable[[BreakerStore], Any]) -> Any:
        try:
            return action(self._store())
        except DYNAMODB_ERRORS as error:
            logger.warning("circuit breaker table unavailable, using in-memory breaker",
                           extra={"breaker": self.name, "error": type(error).__name__})
            self._degraded.trip()
            self._cached = None
            return action(self._local)

    def state(self, *, fresh: bool = False) -> BreakerState:
        now = self._clock()
        if fresh or self._cached is None or now - self._cached[1] >= CACHE_SECONDS:
            self._cached = (self._call_store(lambda store: store.load(self.name)), now)
        return self._cached[0]

    def _swap(self, current: BreakerState, new: BreakerState) -> BreakerState | None:
        """CAS; on success cache `new` and report a transition. Returns the stored state on conflict."""
        stored = self._call_store(lambda store: store.swap(self.name, current.version, new))
        now = self._clock()
        self._cached = (stored if stored is not None else new, now)
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
            if self._swap(current, claimed) is None:
                return Ticket(probe_version=claimed.version)
        raise self._unavailable(self.state())

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
            self._swap(current, replace(current, failures=0, version=current.version + 1))

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
            stored = self._swap(current, new)
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
        self._swap(current, new)

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


def as_dict(state: BreakerState) -> dict[str, Any]:
    return asdict(state)


# --- one breaker per service in this container ---------------------------------------------------
