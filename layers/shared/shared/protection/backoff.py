"""Per-container back-off after a DynamoDB failure, and the errors that trigger it."""

from __future__ import annotations

import time
from collections.abc import Callable

from shared.dynamodb import DynamoDBError, DynamoDBUnavailable

Clock = Callable[[], float]

# Any failure of the hot path's client, shared.dynamodb (a conditional-check failure is a decision).
# botocore's exceptions are deliberately absent: importing them costs every cold start ~12 ms, and
# nothing on this path uses botocore (only idempotency does, behind Powertools' own exceptions).
DYNAMODB_ERRORS: tuple[type[Exception], ...] = (DynamoDBError, DynamoDBUnavailable)


def is_condition_failure(error: Exception) -> bool:
    response = error.response if isinstance(error, DynamoDBError) else {}
    return bool(response.get("Error", {}).get("Code") == "ConditionalCheckFailedException")


class Backoff:
    """After a failure, skip DynamoDB for `seconds`: one timeout per container, never a retry storm."""

    def __init__(self, seconds: float, clock: Clock = time.time) -> None:
        self.seconds = seconds
        self._clock = clock
        self._until = 0.0

    @property
    def active(self) -> bool:
        return self._clock() < self._until

    def trip(self) -> None:
        self._until = self._clock() + self.seconds

    def clear(self) -> None:
        self._until = 0.0
