"""The request shapes this project sends, through boto3, against the fast engine and moto: same answers."""

from __future__ import annotations

import time
from typing import Any

from shared.protection.breaker_store import BreakerState, _to_item
from shared.protection.ratelimit import RateLimiter
from shared.protection.sliding_window import Bucket, Window
from shared.settings import RateRule
from tests.dynamodb.conftest import Twin

RULE = RateRule(limit=5, window_seconds=60)


def limiter_request(twin: Twin, known: dict[int, int], current: int) -> dict[str, Any]:
    """The limiter's write in bucket `current` (6 s buckets), believing `known` counts, each admitted at its
    bucket's last millisecond."""
    buckets = {k: Bucket(count, (k + 1) * 6000 - 1) for k, count in known.items()}
    request = RateLimiter(twin.table, lambda: None)._conditional_add("user:1", Window(RULE), buckets, current,
                                                                     current * 6000)
    request.pop("TableName")
    return request


def test_rate_limiter_conditional_add_admits_until_full_then_returns_the_item(twin: Twin) -> None:
    # Given the limiter's exact request: 10 bucket conditions, ADD + SET, ALL_NEW, ALL_OLD on failure
    known: dict[int, int] = {}
    # When it is sent until the limit is reached, each time with the counts the last answer returned
    outcomes = []
    for _ in range(RULE.limit + 2):
        result = twin.same("update_item", **limiter_request(twin, known, current=1000))
        outcomes.append("ok" if "ok" in result else result["error"])
        if "ok" in result:
            known = {1000: int(result["ok"]["Attributes"]["c1000"]["N"])}
        else:
            # Then a failed condition carries the current item, identical on both engines
            assert result["item"]["c1000"] == {"N": str(RULE.limit)}
    assert outcomes == ["ok"] * RULE.limit + ["ConditionalCheckFailedException"] * 2


def test_rate_limiter_stale_belief_fails_and_removes_expired_buckets(twin: Twin) -> None:
    # Given an item with counts in an old bucket
    twin.same("update_item", **limiter_request(twin, {}, current=500))
    # When a writer with a wrong belief about a previous bucket writes, it fails with the item
    stale = twin.same("update_item", **limiter_request(twin, {505: 3}, current=506))
    assert stale["error"] == "ConditionalCheckFailedException"
    # Then the correct belief succeeds; a later bucket REMOVEs the expired counts
    twin.same("update_item", **limiter_request(twin, {}, current=506))
    result = twin.same("update_item", **limiter_request(twin, {500: 1, 506: 1}, current=520))
    assert "c500" not in result["ok"]["Attributes"]


def test_circuit_breaker_versioned_put(twin: Twin) -> None:
    # Given the breaker's first write (attribute_not_exists(pk)) and versioned swaps (version = :v)
    first = BreakerState(state="open", failures=3, opened_at=time.time(), version=1, transitions={"open": 1})
    twin.same("put_item", Item=_to_item("db", first), ConditionExpression="attribute_not_exists(pk)",
              ReturnValuesOnConditionCheckFailure="ALL_OLD")
    # When a second creator and a stale swap race, and a correct swap follows
    again = twin.same("put_item", Item=_to_item("db", first), ConditionExpression="attribute_not_exists(pk)",
                      ReturnValuesOnConditionCheckFailure="ALL_OLD")
    second = BreakerState(state="half_open", failures=0, version=2)
    stale = twin.same("put_item", Item=_to_item("db", second), ConditionExpression="version = :v",
                      ExpressionAttributeValues={":v": {"N": "7"}}, ReturnValuesOnConditionCheckFailure="ALL_OLD")
    swapped = twin.same("put_item", Item=_to_item("db", second), ConditionExpression="version = :v",
                        ExpressionAttributeValues={":v": {"N": "1"}}, ReturnValuesOnConditionCheckFailure="ALL_OLD")
    # Then the losers get the stored item back and the winner's item is what a consistent read returns
    assert again["error"] == stale["error"] == "ConditionalCheckFailedException"
    assert again["item"]["version"] == {"N": "1"} and "ok" in swapped
    read = twin.same("get_item", Key={"pk": {"S": "db"}}, ConsistentRead=True)
    assert read["ok"]["Item"]["version"] == {"N": "2"}


def test_metrics_many_adds_and_set_then_paginated_query(twin_range: Twin) -> None:
    # Given the metrics writer's shape: many ADDs + SET on (pk, sk) items
    for sk in ("a", "b", "c", "d", "e"):
        for repeat in range(2):
            counters = {"total": 1 + repeat, "s200": 2, "lat_5": 1, "rate_limited": 0}
            names = {f"#a{i}": name for i, name in enumerate(counters)}
            values = {f":a{i}": {"N": str(v)} for i, v in enumerate(counters.values())}
            values[":exp"] = {"N": "1700000000"}
            adds = ", ".join(f"#a{i} :a{i}" for i in range(len(counters)))
            twin_range.same("update_item", Key={"pk": {"S": "minute#1"}, "sk": {"S": sk}},
                            UpdateExpression=f"ADD {adds} SET expires_at = :exp", ExpressionAttributeNames=names,
                            ExpressionAttributeValues=values)
    # When they are read back with Limit-sized pages, forwards and backwards
    for forward in (True, False):
        request: dict[str, Any] = {"KeyConditionExpression": "pk = :pk", "Limit": 2, "ScanIndexForward": forward,
                                   "ExpressionAttributeValues": {":pk": {"S": "minute#1"}}}
        items = []
        while True:
            page = twin_range.same("query", **request)["ok"]
            items += page["Items"]
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        # Then every item comes once, in key order, with the summed counters
        assert [item["sk"]["S"] for item in items] == (list("abcde") if forward else list("edcba"))
        assert items[0]["total"] == {"N": "3"}


def test_query_range_conditions_filter_projection_and_count(twin_range: Twin) -> None:
    # Given items under one partition key
    for sk in ("a1", "a2", "b1", "b2", "c1"):
        twin_range.same("put_item", Item={"pk": {"S": "p"}, "sk": {"S": sk}, "n": {"N": str(len(sk) * 10)},
                                          "tag": {"S": sk[0]}})
    values = {":pk": {"S": "p"}, ":lo": {"S": "a2"}, ":hi": {"S": "b2"}, ":pre": {"S": "b"}}
    # When each range operator, a filter, a projection and Select COUNT are used
    for condition, used in [("pk = :pk AND sk BETWEEN :lo AND :hi", (":lo", ":hi")),
                            ("pk = :pk AND begins_with(sk, :pre)", (":pre",)), ("pk = :pk AND sk > :lo", (":lo",)),
                            ("pk = :pk AND sk <= :hi", (":hi",)), ("pk = :pk AND sk = :lo", (":lo",))]:
        request_values = {":pk": values[":pk"], **{name: values[name] for name in used}}
        twin_range.same("query", KeyConditionExpression=condition, ExpressionAttributeValues=request_values)
    # Then all answers match, including filtered counts and projections
    twin_range.same("query", KeyConditionExpression="pk = :pk", FilterExpression="#t = :t",
                    ExpressionAttributeNames={"#t": "tag"}, ExpressionAttributeValues={":pk": values[":pk"],
                                                                                      ":t": {"S": "b"}})
    twin_range.same("query", KeyConditionExpression="pk = :pk", ProjectionExpression="sk, n",
                    ExpressionAttributeValues={":pk": values[":pk"]})
    counted = twin_range.same("query", KeyConditionExpression="pk = :pk", Select="COUNT",
                              ExpressionAttributeValues={":pk": values[":pk"]})
    assert counted["ok"]["Count"] == 5 and "Items" not in counted["ok"]


def test_update_return_values_and_expression_functions(twin: Twin) -> None:
    # Given an item with a number, a list, a map and a string set
    key = {"pk": {"S": "k"}}
    twin.same("put_item", Item={**key, "n": {"N": "5"}, "l": {"L": [{"S": "x"}]}, "m": {"M": {"a": {"N": "1"}}},
                                "ss": {"SS": ["a", "b"]}})
    updates = [
        ("SET n = n + :v, l = list_append(l, :l)", {":v": {"N": "2"}, ":l": {"L": [{"S": "y"}]}}),
        ("SET m.a = m.a - :v, z = if_not_exists(z, :v)", {":v": {"N": "3"}}),
        ("ADD ss :s DELETE ss :d", {":s": {"SS": ["c"]}, ":d": {"SS": ["a"]}}),
        ("REMOVE z SET n = :v", {":v": {"N": "0"}}),
    ]
    # When each runs with each ReturnValues mode
    for mode in ("ALL_NEW", "UPDATED_NEW", "UPDATED_OLD", "ALL_OLD", "NONE"):
        for expression, values in updates:
            twin.same("update_item", Key=key, UpdateExpression=expression, ExpressionAttributeValues=values,
                      ReturnValues=mode)
    # Then the final items match too
    twin.same("get_item", Key=key)


def test_conditions_grammar_and_typing(twin: Twin) -> None:
    # Given an item with several attribute types
    key = {"pk": {"S": "k"}}
    twin.same("put_item", Item={**key, "n": {"N": "10"}, "s": {"S": "hello"}, "l": {"L": [{"N": "1"}]},
                                "b": {"BOOL": True}, "ns": {"NS": ["1", "2"]}})
    conditions = [
        "n BETWEEN :one AND :big", "n IN (:one, :ten)", "NOT n = :ten OR s = :s", "n = :ten AND (s = :one OR b = :t)",
        "begins_with(s, :he)", "contains(s, :he)", "contains(ns, :one)", "contains(l, :one)", "size(s) = :five",
        "size(l) < :ten", "attribute_type(n, :ntype)", "n <> :s", "attribute_exists(l[0])",
        "attribute_not_exists(l[3])", "NOT attribute_exists(nope) AND n >= :ten", "n < :one OR n > :big",
    ]
    values = {":one": {"N": "1"}, ":ten": {"N": "10"}, ":big": {"N": "100"}, ":s": {"S": "hello"},
              ":t": {"BOOL": True}, ":he": {"S": "he"}, ":five": {"N": "5"}, ":ntype": {"S": "N"}}
    # When each is used as a PutItem-style condition on a no-op update
    for condition in conditions:
        used = {name: value for name, value in values.items() if name in condition}
        twin.same("update_item", Key=key, UpdateExpression="SET touched = :ten", ConditionExpression=condition,
                  ExpressionAttributeValues={**used, ":ten": values[":ten"]}, ReturnValues="ALL_NEW",
                  ReturnValuesOnConditionCheckFailure="ALL_OLD")


def test_errors_match(twin: Twin) -> None:
    # Given requests DynamoDB rejects
    key = {"pk": {"S": "k"}}
    bad = [
        ("update_item", {"Key": key, "UpdateExpression": "SET a = :v", "ExpressionAttributeValues": {}}),
        ("update_item", {"Key": key, "UpdateExpression": "SET a = :v"}),
        ("update_item", {"Key": key, "UpdateExpression": "SET a = :v",
                         "ExpressionAttributeValues": {":v": {"N": "1"}, ":w": {"N": "2"}}}),
        ("update_item", {"Key": key, "UpdateExpression": "SET a = :v", "ExpressionAttributeNames": {"#x": "x"},
                         "ExpressionAttributeValues": {":v": {"N": "1"}}}),
        ("update_item", {"Key": key, "UpdateExpression": "SET pk = :v", "ExpressionAttributeValues": {":v":
                                                                                                        {"S": "z"}}}),
        ("update_item", {"Key": key, "UpdateExpression": "SET a = :v, a = :v",
                         "ExpressionAttributeValues": {":v": {"N": "1"}}}),
        ("update_item", {"Key": key, "UpdateExpression": "SET a = :v AND", "ExpressionAttributeValues": {":v":
                                                                                                          {"N": "1"}}}),
        ("update_item", {"Key": key, "UpdateExpression": "ADD a :v", "ExpressionAttributeValues": {":v":
                                                                                                    {"S": "x"}}}),
        ("update_item", {"Key": {"pk": {"N": "1"}}, "UpdateExpression": "SET a = :v",
                         "ExpressionAttributeValues": {":v": {"N": "1"}}}),
        ("put_item", {"Item": {"other": {"S": "x"}}}),
        ("get_item", {"Key": {"pk": {"S": "k"}, "extra": {"S": "x"}}}),
        ("put_item", {"Item": key, "ConditionExpression": "status = :v", "ExpressionAttributeValues":
                      {":v": {"S": "x"}}}),
    ]
    # Then both engines answer with the same error code
    for operation, request in bad:
        fast, moto = twin.both(operation, **request)
        assert fast == moto and "error" in fast, (operation, request, fast, moto)
    assert twin.both("get_item", TableName="missing-table", Key=key)[0]["error"] == "ResourceNotFoundException"
