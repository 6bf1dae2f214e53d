"""The request body and its top-level members, checked before any action runs.

`parse_request(body)` is what the HTTP layer calls instead of `json.loads`: every failure is a DynamoError,
including JSON nested deeper than the decoder goes (RecursionError), which used to be a 500.
`error_body(error)` is the JSON body of an error answer (what the HTTP layer sends with `error.status`).
`check_request(request)` (called by Store.handle) refuses members of the wrong JSON type with DynamoDB's
SerializationException, and expressions over 4 KB with its ValidationException, before anything is parsed.

What DynamoDB answers for a body it cannot deserialise is SerializationException (botocore's
service-2.json has no shape for it; it is the JSON protocol's error, as moto's dynamodb/exceptions.py
SerializationException and its "Start of structure or map found where not expected" message show). JSON
nested deeper than ~1,000 levels inside an object can only be a value nested far beyond DynamoDB's 32 levels,
so it gets the ValidationException DynamoDB gives for those ("Nesting Levels have exceeded supported
limits"); a deep body that is not even an object stays a SerializationException.
"""

from __future__ import annotations

import json
from typing import Any

from local.dynamodb.limits import EXPRESSION_PARAMETERS, check_expression_size
from local.dynamodb.values import DynamoError, too_deep

_MEMBER_TYPES: dict[str, tuple[type, str]] = {
    **{name: (str, "String") for name in ("TableName", *EXPRESSION_PARAMETERS, "ReturnValues",
                                          "ReturnValuesOnConditionCheckFailure", "Select", "IndexName",
                                          "ExclusiveStartTableName", "ReturnConsumedCapacity",
                                          "ReturnItemCollectionMetrics", "BillingMode")},
    **{name: (dict, "Map") for name in ("Key", "Item", "ExclusiveStartKey", "ExpressionAttributeValues",
                                        "ExpressionAttributeNames", "TimeToLiveSpecification",
                                        "ProvisionedThroughput", "SSESpecification")},
    **{name: (list, "List") for name in ("KeySchema", "AttributeDefinitions", "GlobalSecondaryIndexes",
                                         "LocalSecondaryIndexes")},
    **{name: (int, "Integer") for name in ("Limit", "Segment", "TotalSegments")},
    **{name: (bool, "Boolean") for name in ("ConsistentRead", "ScanIndexForward")},
}


ERROR_TYPE_PREFIX = "com.amazonaws.dynamodb.v20120810#"


def error_body(error: DynamoError) -> dict[str, Any]:
    """An error answer's body: `__type`, `message`, the error shape's other members (ThrottlingReasons), and
    the item a failed condition returns (ReturnValuesOnConditionCheckFailure)."""
    body: dict[str, Any] = {"__type": ERROR_TYPE_PREFIX + error.code, "message": error.message, **(error.extra or {})}
    if error.item is not None:
        body["Item"] = error.item
    return body


def serialization(message: str) -> DynamoError:
    return DynamoError("SerializationException", message)


def parse_request(body: bytes) -> dict[str, Any]:
    """The request object of a DynamoDB JSON 1.0 body; DynamoError for anything that is not one."""
    try:
        request = json.loads(body or b"{}")
    except RecursionError:
        if body.lstrip()[:1] == b"{":
            raise too_deep() from None
        raise serialization("Start of list found where not expected") from None
    except (ValueError, UnicodeDecodeError):
        raise serialization("Start of structure or map found where not expected") from None
    if not isinstance(request, dict):
        raise serialization("Request body must be a JSON object")
    return request


def _mismatch(value: Any, label: str) -> DynamoError:
    """DynamoDB's (Jackson's) wording for a member of the wrong JSON type."""
    if isinstance(value, dict):
        return serialization("Start of structure or map found where not expected")
    if isinstance(value, list):
        return serialization("Start of list found where not expected")
    token = ("TRUE_VALUE" if value else "FALSE_VALUE") if isinstance(value, bool) else \
        "STRING_VALUE" if isinstance(value, str) else "NUMBER_VALUE"
    return serialization(f"{token} can not be converted to {label}")


def check_request(request: dict[str, Any]) -> None:
    """Member types, then expression sizes: cheap checks that keep malformed input from costing anything.
    Exact JSON types (`type(...) is`): json.loads makes no subclasses, and JSON true is no Integer."""
    for name, value in request.items():
        spec = _MEMBER_TYPES.get(name)
        if spec is not None and value is not None and type(value) is not spec[0]:  # null: an absent member
            raise _mismatch(value, spec[1])
    for value in (request.get("ExpressionAttributeNames") or {}).values():
        if type(value) is not str:
            raise _mismatch(value, "String")
    for name in EXPRESSION_PARAMETERS:
        text = request.get(name)
        if text is not None:
            check_expression_size(text, name)
