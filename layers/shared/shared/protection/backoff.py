"""Per-container back-off after a DynamoDB failure, and the errors that trigger it: which are throttling, and
whether a throttle is about one hot key or the whole table.

DynamoDB throttles with ProvisionedThroughputExceededException (on-demand tables also answer ThrottlingException)
and, for account-level quotas, RequestLimitExceeded: botocore's dynamodb service-2.json lists all three among
every data-plane operation's errors. Each may carry ThrottlingReasons (`throttlingReasons` in ThrottlingException)
whose `reason` is `<Table|Index><Read|Write><LimitType>`; LimitType KeyRangeThroughputExceeded means "the request
rate directed at a specific partition key value has exceeded the internal partition-level throughput limits"
(https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_ThrottlingReason.html, read 2026-11): a hot
key. The others (ProvisionedThroughputExceeded, AccountLimitExceeded, MaxOnDemandThroughputExceeded) are about the
table or the account. A throttle that gives no reason is taken as a hot key (the common case, and the answer
DynamoDB gave before reasons existed).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from shared.dynamodb import DynamoDBError, DynamoDBUnavailable

Clock = Callable[[], float]

# Any failure of the hot path's client, shared.dynamodb (a conditional-check failure is a decision).
# botocore's exceptions are deliberately absent: importing them costs every cold start ~12 ms, and
# nothing on this path uses botocore (only idempotency does, behind Powertools' own exceptions).
DYNAMODB_ERRORS: tuple[type[Exception], ...] = (DynamoDBError, DynamoDBUnavailable)


THROTTLING_CODES = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"})


def is_throttling(error: Exception) -> bool:
    """DynamoDB answered, but refused this request for now: the table is up."""
    return isinstance(error, DynamoDBError) and error.code in THROTTLING_CODES


def is_hot_key(error: Exception) -> bool:
    """A throttle caused by this request's partition key value (not by the table's or the account's capacity)."""
    if not is_throttling(error):
        return False
    response = error.response if isinstance(error, DynamoDBError) else {}
    reasons = response.get("ThrottlingReasons") or response.get("throttlingReasons") or []
    if not isinstance(reasons, list) or not reasons:
        return getattr(error, "code", "") != "RequestLimitExceeded"
    return any("KeyRangeThroughputExceeded" in str(reason.get("reason", "")) for reason in reasons
               if isinstance(reason, dict))


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
