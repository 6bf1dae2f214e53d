"""API10:2023 Unsafe Consumption of APIs — data read back from DynamoDB is not trusted blindly.

The functions consume one upstream API: DynamoDB (rate-limit, breaker, idempotency, metrics state),
shared by every instance. A corrupted or hostile item there must not turn requests into 500s.
"""

from __future__ import annotations

from typing import Any

import boto3

from shared.settings import get_settings
from tests.support.api import ApiClient
from tests.support.users import TestUser


def _put(table: str, item: dict[str, Any]) -> None:
    boto3.client("dynamodb", region_name="us-east-1").put_item(TableName=table, Item=item)


def test_corrupted_breaker_item_does_not_break_requests(api: ApiClient, alice: TestUser) -> None:
    # Given the orders breaker item in DynamoDB replaced by garbage (wrong types, missing fields)
    assert api.get("/v1/orders/my-stats", token=alice.token).status == 200
    _put(get_settings().circuit_breaker_table, {"pk": {"S": "orders"}, "state": {"S": "¯\\_(ツ)_/¯"},
                                                 "failures": {"S": "many"}})
    from shared.protection.circuit_breaker import reset_breakers

    reset_breakers()  # a fresh container: nothing cached, the item is read from the table
    # When the next requests run
    statuses = {api.get("/v1/orders/my-stats", token=alice.token).status for _ in range(3)}
    # Then they are served (the item is treated as unusable, never a 500)
    assert statuses == {200}
