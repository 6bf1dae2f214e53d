"""API10:2023 Unsafe Consumption of APIs — data read back from DynamoDB is not trusted blindly.

The functions consume one upstream API: DynamoDB (rate-limit, breaker, idempotency, metrics state),
shared by every instance. A corrupted or hostile item there must not turn requests into 500s.
"""

from __future__ import annotations

from typing import Any

from shared.protection.rate_policy import EVERYTHING_ELSE
from shared.settings import get_settings
from tests.support.api import ApiClient
from tests.support.users import SeededUser


def _put(dynamodb: Any, table: str, item: dict[str, Any]) -> None:
    dynamodb.put_item(TableName=table, Item=item)


def test_corrupted_breaker_item_does_not_break_requests(api: ApiClient, alice: SeededUser, dynamodb: Any) -> None:
    # Given the orders breaker item in DynamoDB replaced by garbage (wrong types, missing fields)
    assert api.get("/v1/orders/my-stats", token=alice.token).status == 200
    _put(dynamodb, get_settings().circuit_breaker_table, {"pk": {"S": "orders"}, "state": {"S": "¯\\_(ツ)_/¯"},
                                                 "failures": {"S": "many"}})
    from shared.dependencies import reset

    reset()  # a fresh container: nothing cached, the item is read from the table
    # When the next requests run
    statuses = {api.get("/v1/orders/my-stats", token=alice.token).status for _ in range(3)}
    # Then they are served (the item is treated as unusable, never a 500)
    assert statuses == {200}


def test_corrupted_rate_limit_item_does_not_break_requests(api: ApiClient, alice: SeededUser, dynamodb: Any) -> None:
    # Given Alice's rate-limit item overwritten with wrong types (strings where counts belong)
    assert api.get("/v1/users/profile", token=alice.token).status == 200
    settings = get_settings()
    pk = f"default/{EVERYTHING_ELSE.default.window_seconds}#user:{alice.id}"
    _put(dynamodb, settings.rate_limit_table, {"pk": {"S": pk}, "b": {"S": "latest"}, "c0": {"S": "lots"},
                                     "expires_at": {"S": "never"}})
    from shared.dependencies import reset

    reset()  # a fresh container: nothing cached, the item is read from the table
    # When the next requests run / Then they get an answer from the API, never a 500
    statuses = {api.get("/v1/users/profile", token=alice.token).status for _ in range(3)}
    assert statuses <= {200, 429}, statuses
