"""The engine's per-key metering (capacity units as DynamoDB counts them) and its injected throttling."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local.dynamodb import start_dynamodb
from local.dynamodb.heat import HeatMap, format_report
from local.dynamodb.store import Store
from local.dynamodb.values import DynamoError
from local.dynamodb.wire import error_body
from tests.dynamodb.conftest import make_client

NOW = 1_800_000_000.5


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def table(name: str = "hot-table", *, sort: bool = False, billing: str = "PAY_PER_REQUEST") -> dict[str, Any]:
    keys = [("pk", "HASH")] + ([("sk", "RANGE")] if sort else [])
    definition: dict[str, Any] = {"TableName": name, "BillingMode": billing,
                                  "AttributeDefinitions": [{"AttributeName": k, "AttributeType": "S"} for k, _ in keys],
                                  "KeySchema": [{"AttributeName": k, "KeyType": kind} for k, kind in keys]}
    if billing == "PROVISIONED":
        definition["ProvisionedThroughput"] = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
    return definition


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def heat(clock: Clock) -> HeatMap:
    return HeatMap(clock)


@pytest.fixture
def store(heat: HeatMap) -> Store:
    engine = Store(heat=heat)
    engine.handle("CreateTable", table())
    engine.handle("CreateTable", table("ranged", sort=True))
    engine.handle("CreateTable", table("provisioned", billing="PROVISIONED"))
    return engine


def add(store: Store, pk: str, table_name: str = "hot-table", **extra: Any) -> dict[str, Any]:
    return store.handle("UpdateItem", {"TableName": table_name, "Key": {"pk": {"S": pk}},
                                       "UpdateExpression": "ADD n :one",
                                       "ExpressionAttributeValues": {":one": {"N": "1"}}, **extra})


def row(report: dict[str, Any], key: str, section: str = "partition_keys") -> dict[str, Any]:
    return next(r for r in report[section] if r["key"] == key)


def test_reads_cost_half_a_unit_eventually_consistent_and_round_up_to_4_kb(store: Store, heat: HeatMap) -> None:
    # Given a 5,000-byte item (two 4 KB read units, five 1 KB write units)
    store.handle("PutItem", {"TableName": "hot-table", "Item": {"pk": {"S": "big"}, "filler": {"S": "x" * 4993}}})
    # When it is read strongly, then eventually consistently, and a missing item is read
    store.handle("GetItem", {"TableName": "hot-table", "Key": {"pk": {"S": "big"}}, "ConsistentRead": True})
    store.handle("GetItem", {"TableName": "hot-table", "Key": {"pk": {"S": "big"}}})
    store.handle("GetItem", {"TableName": "hot-table", "Key": {"pk": {"S": "missing"}}})
    report = heat.report()
    # Then 2 + 1 read units on the item, 0.5 for the miss, and 5 write units for the put
    assert (row(report, "big")["peak_rcu"], row(report, "big")["peak_wcu"]) == (3.0, 5.0)
    assert row(report, "missing")["peak_rcu"] == 0.5


def test_writes_cost_the_larger_image_and_a_failed_condition_still_costs(store: Store, heat: HeatMap) -> None:
    key = {"pk": {"S": "a"}}
    store.handle("PutItem", {"TableName": "hot-table", "Item": {**key, "filler": {"S": "x" * 3000}}})  # 3 units
    store.handle("UpdateItem", {"TableName": "hot-table", "Key": key, "UpdateExpression": "REMOVE filler"})  # 3
    with pytest.raises(DynamoError) as failed:
        add(store, "a", ConditionExpression="attribute_not_exists(pk)")  # the (now small) existing item: 1
    assert failed.value.code == "ConditionalCheckFailedException"
    store.handle("DeleteItem", {"TableName": "hot-table", "Key": {"pk": {"S": "a"}}})  # 1
    assert row(heat.report(), "a")["peak_wcu"] == 8.0


def test_a_query_costs_what_it_read_on_its_partition_and_items_are_metered_in_ranged_tables(
        store: Store, heat: HeatMap) -> None:
    for sk in ("1", "2", "3"):
        store.handle("PutItem", {"TableName": "ranged", "Item": {"pk": {"S": "p"}, "sk": {"S": sk},
                                                                 "filler": {"S": "x" * 2000}}})
    store.handle("Query", {"TableName": "ranged", "KeyConditionExpression": "pk = :p",
                           "ExpressionAttributeValues": {":p": {"S": "p"}}, "ConsistentRead": True})
    report = heat.report()
    assert row(report, "p")["peak_rcu"] == 2.0  # ~6 KB read: two 4 KB units
    assert row(report, "p")["peak_wcu"] == 6.0
    assert row(report, "p / 2", "items")["peak_wcu"] == 2.0


def test_peaks_are_per_second_and_means_over_the_measured_span(store: Store, heat: HeatMap, clock: Clock) -> None:
    for _ in range(5):
        add(store, "hot")
    clock.now += 1
    add(store, "hot")
    report = heat.report()
    assert (row(report, "hot")["peak_wcu"], row(report, "hot")["mean_wcu"]) == (5.0, 3.0)
    assert report["seconds"] == 2 and report["over_half"] == 0


def test_a_partition_over_its_rule_is_throttled_without_being_written(store: Store, heat: HeatMap,
                                                                       clock: Clock) -> None:
    # Given a rule: 3 write units per second per partition key value
    heat.limit("hot-table", writes=3)
    for _ in range(3):
        add(store, "hot")
    # When a fourth write comes in the same second
    with pytest.raises(DynamoError) as throttled:
        add(store, "hot")
    # Then DynamoDB's on-demand answer, with a key-range reason, and nothing written or consumed
    assert throttled.value.code == "ThrottlingException"
    assert throttled.value.message.startswith("Throughput exceeds the current capacity of your table or index.")
    assert throttled.value.extra == {"throttlingReasons": [{
        "reason": "TableWriteKeyRangeThroughputExceeded",
        "resource": "arn:aws:dynamodb:us-east-1:123456789012:table/hot-table"}]}
    item = store.handle("GetItem", {"TableName": "hot-table", "Key": {"pk": {"S": "hot"}}})["Item"]
    assert item["n"] == {"N": "3"}
    assert (row(heat.report(), "hot")["peak_wcu"], row(heat.report(), "hot")["throttled"]) == (3.0, 1)
    # And other keys, and reads of this one, go on; the next second the key takes writes again
    add(store, "cold")
    store.handle("GetItem", {"TableName": "hot-table", "Key": {"pk": {"S": "hot"}}})
    clock.now += 1
    add(store, "hot")


def test_table_rules_and_provisioned_tables_answer_with_their_own_reasons(store: Store, heat: HeatMap) -> None:
    heat.limit("provisioned", reads=0, scope="table")
    heat.limit("hot-table", writes=1, scope="table")
    with pytest.raises(DynamoError) as provisioned:
        store.handle("GetItem", {"TableName": "provisioned", "Key": {"pk": {"S": "any"}}})
    assert provisioned.value.code == "ProvisionedThroughputExceededException"
    assert provisioned.value.extra == {"ThrottlingReasons": [{
        "reason": "TableReadProvisionedThroughputExceeded",
        "resource": "arn:aws:dynamodb:us-east-1:123456789012:table/provisioned"}]}
    add(store, "one")
    with pytest.raises(DynamoError) as on_demand:
        add(store, "another")  # another key: the table as a whole is over
    assert on_demand.value.extra["throttlingReasons"][0]["reason"] == "TableWriteMaxOnDemandThroughputExceeded"


def test_aws_ceilings_throttle_the_1001st_write_unit_of_a_second(clock: Clock) -> None:
    heat = HeatMap(clock, enforce_aws_limits=True)
    store = Store(heat=heat)
    store.handle("CreateTable", table())
    for _ in range(1000):
        add(store, "hot")
    with pytest.raises(DynamoError) as throttled:
        add(store, "hot")
    assert throttled.value.code == "ThrottlingException"
    report = heat.report()
    assert report["over_half"] == 1 and report["throttled"] == 1
    assert "| hot-table | `hot` | 1,000 |" in format_report(report)


def test_the_error_body_carries_the_reasons_and_a_failed_conditions_item() -> None:
    error = DynamoError("ThrottlingException", "slow down", extra={"throttlingReasons": [{"reason": "r"}]},
                        item={"pk": {"S": "a"}})
    assert error_body(error) == {"__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException",
                                 "message": "slow down", "throttlingReasons": [{"reason": "r"}],
                                 "Item": {"pk": {"S": "a"}}}


@pytest.fixture(params=["fast", "moto"])
def served(request: pytest.FixtureRequest) -> Iterator[tuple[Any, HeatMap]]:
    heat = HeatMap()
    server = start_dynamodb(engine=request.param, heat=heat)
    client = make_client(server.url)
    client.create_table(**table())
    yield client, heat
    server.stop()


def test_both_engines_throttle_over_http_as_dynamodb_answers(served: tuple[Any, HeatMap]) -> None:
    client, heat = served
    heat.limit("hot-table", writes=0, partition="hot")
    with pytest.raises(ClientError) as throttled:
        client.update_item(TableName="hot-table", Key={"pk": {"S": "hot"}}, UpdateExpression="ADD n :one",
                           ExpressionAttributeValues={":one": {"N": "1"}})
    assert throttled.value.response["Error"]["Code"] == "ThrottlingException"
    assert throttled.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    client.update_item(TableName="hot-table", Key={"pk": {"S": "cold"}}, UpdateExpression="ADD n :one",
                       ExpressionAttributeValues={":one": {"N": "1"}})
    assert "Item" not in client.get_item(TableName="hot-table", Key={"pk": {"S": "hot"}})
