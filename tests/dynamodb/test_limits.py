"""DynamoDB's documented limits on the fast engine: malformed or oversized input is a 400, never a 500.

Limits and messages: see local/dynamodb/limits.py (AWS Constraints page, scylla's test_limits.py recorded
against DynamoDB, botocore's service-2.json).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local.dynamodb import DynamoDbServer
from tests.dynamodb.conftest import error_of, make_client, raw_call

VALUES = {":v": {"N": "1"}}


@pytest.fixture
def fast(fast_server: DynamoDbServer) -> Iterator[tuple[Any, str]]:
    """A fresh (pk, sk) table on the fast engine: (boto3 client, table name)."""
    client, table = make_client(fast_server.url), f"limits-{uuid.uuid4().hex[:12]}"
    client.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                              {"AttributeName": "sk", "AttributeType": "S"}],
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                   {"AttributeName": "sk", "KeyType": "RANGE"}])
    client.put_item(TableName=table, Item={"pk": {"S": "k"}, "sk": {"S": "s"}, "a": {"N": "1"}, "b": {"N": "2"}})
    yield client, table
    client.delete_table(TableName=table)


KEY = {"pk": {"S": "k"}, "sk": {"S": "s"}}


def rejected(call: Any, **request: Any) -> str:
    """The message of the ValidationException the call must raise."""
    with pytest.raises(ClientError) as error:
        call(**request)
    assert error.value.response["Error"]["Code"] == "ValidationException", error.value.response
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return str(error.value.response["Error"]["Message"])


def conditional(fast: tuple[Any, str], condition: str, **extra: Any) -> dict[str, Any]:
    return {"TableName": fast[1], "Key": KEY, "UpdateExpression": "SET z = :v", "ConditionExpression": condition,
            "ExpressionAttributeValues": VALUES, **extra}


@pytest.mark.parametrize("condition", [
    "(" * 2000 + "a < b" + ")" * 2000,  # used to exhaust the recursion limit: 500
    "NOT " * 1000 + "a < b",
    "a < b " + "OR (a < b " * 454 + ")" * 454,
    "(" * 4096,
])
def test_deeply_nested_conditions_are_validation_errors(fast: tuple[Any, str], condition: str) -> None:
    # Given conditions nested far deeper than any DynamoDB accepts; When each is sent; Then a 400 names the field
    assert "Invalid ConditionExpression" in rejected(fast[0].update_item, **conditional(fast, condition))


def test_a_four_mib_or_chain_is_refused_by_size_before_parsing(fast: tuple[Any, str]) -> None:
    # Given a 4 MiB OR-chain (used to take seconds and end in a RecursionError 500)
    chain = " OR ".join(["a = :v"] * (4 * 1024 * 1024 // 10))
    # Then DynamoDB's size message, with the size it measured
    message = rejected(fast[0].update_item, **conditional(fast, chain))
    assert message == ("Invalid ConditionExpression: Expression size has exceeded the maximum allowed size; "
                       f"expression size: {len(chain)}")


def padded(head: str, tail: str, size: int) -> str:
    """head + spaces + tail, exactly `size` bytes long."""
    return head + " " * (size - len(head) - len(tail)) + tail


@pytest.mark.parametrize("size", [4096, 4097])
def test_expression_size_limit_is_4096_bytes_for_every_kind(fast: tuple[Any, str], size: int) -> None:
    client, table = fast
    # Given each kind of expression padded to exactly 4096 bytes, and to 4097
    requests = {
        "ConditionExpression": (client.update_item, conditional(fast, padded("a", "= :v", size))),
        "UpdateExpression": (client.update_item, {"TableName": table, "Key": KEY, "ExpressionAttributeValues": VALUES,
                                                  "UpdateExpression": padded("SET a", "= :v", size)}),
        "ProjectionExpression": (client.get_item, {"TableName": table, "Key": KEY,
                                                   "ProjectionExpression": padded("a,", "b", size)}),
        "KeyConditionExpression": (client.query, {"TableName": table, "ExpressionAttributeValues": {":k": {"S": "k"}},
                                                  "KeyConditionExpression": padded("pk", "= :k", size)}),
        "FilterExpression": (client.scan, {"TableName": table, "FilterExpression": padded("a", "= :v", size),
                                           "ExpressionAttributeValues": VALUES}),
    }
    for kind, (call, request) in requests.items():
        # Then 4096 bytes are accepted and 4097 refused with DynamoDB's size message
        if size == 4096:
            call(**request)
        else:
            assert rejected(call, **request) == (f"Invalid {kind}: Expression size has exceeded the maximum allowed "
                                                 "size; expression size: 4097")


def test_300_operators_pass_and_the_301st_is_refused(fast: tuple[Any, str]) -> None:
    # Given 150 comparisons joined by 149 ORs (299 operators), and one more "OR a < b" (301)
    allowed = " OR ".join(["a < b"] * 150)
    client = fast[0]
    client.update_item(**conditional(fast, allowed))
    message = rejected(client.update_item, **conditional(fast, allowed + " OR a < b"))
    # Then DynamoDB's count, which it reports as 301 however many there are (scylla test_limits.py)
    assert message == "Invalid ConditionExpression: The expression contains too many operators; operator count: 301"
    assert rejected(client.update_item, **conditional(fast, "NOT " * 1000 + "a < b")).endswith("operator count: 301")


def test_redundant_parentheses_are_refused_and_single_ones_kept(fast: tuple[Any, str]) -> None:
    client = fast[0]
    client.update_item(**conditional(fast, "(a < b) AND (NOT (a = :v) OR b > a)"))
    assert rejected(client.update_item, **conditional(fast, "((a < b))")) == (
        "Invalid ConditionExpression: The expression has redundant parentheses;")


def test_document_paths_are_limited_to_32_levels(fast: tuple[Any, str]) -> None:
    client, table = fast
    client.get_item(TableName=table, Key=KEY, ProjectionExpression="a" + ".b" * 31)
    message = rejected(client.get_item, TableName=table, Key=KEY, ProjectionExpression="a" + ".b" * 32)
    assert message == "Invalid ProjectionExpression: The document path has too many nesting levels; nesting levels: 33"


def test_huge_list_indexes_are_refused(fast: tuple[Any, str]) -> None:
    client, table = fast
    # Given a 5,000-digit index (used to be int()'s ValueError: 500) and a 4,000-digit one within 4 KB
    assert "Expression size has exceeded" in rejected(
        client.update_item, TableName=table, Key=KEY, UpdateExpression="SET a[" + "9" * 5000 + "] = :v",
        ExpressionAttributeValues=VALUES)
    assert "List index is out of range" in rejected(
        client.get_item, TableName=table, Key=KEY, ProjectionExpression="a[" + "9" * 4000 + "]")
    # Then an index past a list's end still means "append" for SET, as in DynamoDB
    client.update_item(TableName=table, Key=KEY, UpdateExpression="SET l = :l", ExpressionAttributeValues={
        ":l": {"L": [{"N": "1"}]}})
    item = client.update_item(TableName=table, Key=KEY, UpdateExpression="SET l[2147483647] = :v",
                              ExpressionAttributeValues=VALUES, ReturnValues="ALL_NEW")["Attributes"]
    assert item["l"] == {"L": [{"N": "1"}, {"N": "1"}]}


@pytest.mark.parametrize("number", ["1e999999999999999999", "-1e999999999999999999", "1e126", "1e-131",
                                    "1e-999999999999999999999", "1" * 39, "1e" + "9" * 5000])
def test_out_of_range_numbers_are_validation_errors_wherever_they_appear(fast: tuple[Any, str], number: str) -> None:
    client, table = fast
    # Given a number DynamoDB cannot store, as an item attribute, an ADD operand and a key
    message = rejected(client.put_item, TableName=table, Item={**KEY, "n": {"N": number}})
    assert message.startswith(("Number overflow", "Number underflow", "Attempting to store more than 38"))
    assert rejected(client.update_item, TableName=table, Key=KEY, UpdateExpression="ADD a :n",
                    ExpressionAttributeValues={":n": {"N": number}}) == message
    # Then the stored item is untouched
    assert client.get_item(TableName=table, Key=KEY)["Item"]["a"] == {"N": "1"}


def test_numbers_at_the_edges_of_the_range_are_stored(fast: tuple[Any, str]) -> None:
    client, table = fast
    edges = {"max": "9.9999999999999999999999999999999999999E+125", "min": "1E-130", "neg": "-1E-130",
             "digits": "1234567890123456789012345678901234567800000"}
    client.put_item(TableName=table, Item={**KEY, **{name: {"N": value} for name, value in edges.items()}})
    item = client.get_item(TableName=table, Key=KEY)["Item"]
    assert item["min"] == {"N": "0." + "0" * 129 + "1"} and item["digits"]["N"] == edges["digits"]


def test_item_size_limit_is_400_kib_including_names(fast: tuple[Any, str]) -> None:
    client, table = fast
    # Given an item of exactly 409,600 bytes: names pk, sk, big (7) + values k, s (2) + the string
    exact = {**KEY, "big": {"S": "x" * (409_600 - 9)}}
    client.put_item(TableName=table, Item=exact)
    # When one byte more is put, or an update grows the item past the limit
    assert rejected(client.put_item, TableName=table, Item={**KEY, "big": {"S": "x" * (409_600 - 8)}}) == (
        "Item size has exceeded the maximum allowed size")
    assert rejected(client.update_item, TableName=table, Key=KEY, UpdateExpression="SET c = :v",
                    ExpressionAttributeValues=VALUES) == "Item size to update has exceeded the maximum allowed size"
    # Then the stored item is the exact one
    assert len(client.get_item(TableName=table, Key=KEY)["Item"]["big"]["S"]) == 409_600 - 9


def test_key_sizes_are_limited(fast: tuple[Any, str]) -> None:
    client, table = fast
    client.put_item(TableName=table, Item={"pk": {"S": "p" * 2048}, "sk": {"S": "s" * 1024}})
    assert "Size of hashkey has exceeded" in rejected(client.put_item, TableName=table,
                                                      Item={"pk": {"S": "p" * 2049}, "sk": {"S": "s"}})
    assert "range keys has exceeded" in rejected(client.get_item, TableName=table,
                                                 Key={"pk": {"S": "p"}, "sk": {"S": "s" * 1025}})


def test_nested_values_are_limited_to_32_levels(fast: tuple[Any, str]) -> None:
    client, table = fast

    def nested(levels: int) -> dict[str, Any]:
        value: dict[str, Any] = {"S": "leaf"}
        for _ in range(levels - 1):
            value = {"M": {"n": value}}
        return value
    # Given a value whose leaf is at level 32 (the attribute is level 1), and one at level 33
    client.put_item(TableName=table, Item={**KEY, "d": nested(32)})
    message = rejected(client.put_item, TableName=table, Item={**KEY, "d": nested(33)})
    assert message.startswith("Nesting Levels have exceeded supported limits")
    # Then an update that would push a value past level 32 is refused too
    assert rejected(client.update_item, TableName=table, Key=KEY, UpdateExpression="SET d.n = :d",
                    ExpressionAttributeValues={":d": nested(32)}).startswith("Nesting Levels have exceeded")


def test_a_value_nested_hundreds_of_levels_is_a_400_over_http(fast_server: DynamoDbServer,
                                                               fast: tuple[Any, str]) -> None:
    # Given an Item 300 maps deep: valid JSON (600 levels) that used to exhaust the recursion limit (500)
    value: dict[str, Any] = {"S": "leaf"}
    for _ in range(300):
        value = {"M": {"n": value}}
    body = json.dumps({"TableName": fast[1], "Item": {**KEY, "d": value}}).encode()
    # Then the engine answers DynamoDB's nesting ValidationException
    status, code, message = error_of(raw_call(fast_server.url, "PutItem", body))
    assert (status, code) == (400, "ValidationException") and message.startswith("Nesting Levels have exceeded")


def test_placeholder_keys_are_checked(fast: tuple[Any, str]) -> None:
    client, table = fast
    long_name = "#" + "n" * 255
    assert "size of key: 256" in rejected(client.get_item, TableName=table, Key=KEY, ProjectionExpression=long_name,
                                          ExpressionAttributeNames={long_name: "a"})
    assert rejected(client.get_item, TableName=table, Key=KEY, ProjectionExpression="#a",
                    ExpressionAttributeNames={"#a": "a", "a-b": "b"}) == (
        'ExpressionAttributeNames contains invalid key: Syntax error; key: "a-b"')


@pytest.mark.parametrize(("member", "value", "message"), [
    ("TableName", {}, "Start of structure or map found where not expected"),
    ("ConditionExpression", 5, "NUMBER_VALUE can not be converted to String"),
    ("ExpressionAttributeNames", ["#a"], "Start of list found where not expected"),
    ("ConsistentRead", "yes", "STRING_VALUE can not be converted to Boolean"),
])
def test_members_of_the_wrong_json_type_are_serialization_errors(fast_server: DynamoDbServer, fast: tuple[Any, str],
                                                                 member: str, value: Any, message: str) -> None:
    # Given a GetItem whose member has a JSON type DynamoDB's model does not allow (boto3 would not send it)
    body = json.dumps({"TableName": fast[1], "Key": KEY, member: value}).encode()
    # Then a SerializationException, as DynamoDB's deserialiser answers (it used to be a 500 or ignored)
    assert error_of(raw_call(fast_server.url, "GetItem", body)) == (400, "SerializationException", message)
