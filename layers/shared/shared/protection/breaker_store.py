"""A breaker's shared state and where it is kept: one DynamoDB item per breaker, or process memory.

One item per breaker (`pk` = service name) holds `state`, `failures`, `opened_at`, the half-open probe lease
`probe_until`, transition counters and a `version`. Every change is a compare-and-swap on `version` (PutItem with
a condition), so concurrent containers never lose an update: the loser gets the current item back
(ReturnValuesOnConditionCheckFailure) and re-decides. The rules around it are shared.protection.circuit_breaker.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from shared.jsonutil import utc_timestamp
from shared.logger import logger
from shared.protection.backoff import DYNAMODB_ERRORS, is_condition_failure

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


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
                                "opened_at": utc_timestamp(self.opened_at) if self.opened_at else None,
                                "transitions": dict(self.transitions)}
        if self.state == OPEN:
            view["retry_after"] = max(0, math.ceil(self.opened_at + reset_timeout - now))
        return view


class BreakerStore(Protocol):
    def load(self, name: str, *, consistent: bool = True) -> BreakerState: ...

    def swap(self, name: str, expected_version: int, new: BreakerState) -> BreakerState | None:
        """Store `new` if the stored version is `expected_version`; else return the stored state."""


class MemoryStore:
    """The same compare-and-swap semantics in process memory (fallback, and fast tests)."""

    def __init__(self) -> None:
        self._items: dict[str, BreakerState] = {}
        self._lock = threading.Lock()

    def load(self, name: str, *, consistent: bool = True) -> BreakerState:
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

    def load(self, name: str, *, consistent: bool = True) -> BreakerState:
        response = self._client().get_item(TableName=self.table, Key={"pk": {"S": name}}, ConsistentRead=consistent)
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
