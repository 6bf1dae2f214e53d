"""DynamoDB's documented limits, enforced before any expensive work, and the item-size arithmetic.

Sources (AWS):
- Limits / constraints: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html
  (archived as awsdocs/amazon-dynamodb-developer-guide doc_source/Limits.md): expression strings 4 KB;
  one expression attribute name or value placeholder 255 bytes; all ExpressionAttributeNames and
  ExpressionAttributeValues together 2 MB; 300 operators or functions; item 400 KB including attribute
  names; nested attributes 32 levels deep; partition key 2048 bytes, sort key 1024 bytes. 1 KB = 1024 bytes.
- Item size arithmetic: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
  (number: 1 byte per two significant digits + 1; list/map: 3 bytes + 1 per element; null/bool: 1).
Error messages, where recorded: scylladb/scylladb test/alternator/test_limits.py and
test_projection_expression.py (run against DynamoDB: "Expression size has exceeded the maximum allowed size;
expression size: N", "The expression contains too many operators; operator count: 301", "The document path
has too many nesting levels; nesting levels: 33"); botocore data/dynamodb/2012-08-10/service-2.json
(TransactionCanceledException: "Item size to update has exceeded the maximum allowed size", "Nesting Levels
have exceeded supported limits"); moto's dynamodb/exceptions.py ("Item size has exceeded the maximum allowed
size", key-size messages). The placeholder-length, substitution-size and list-index messages are our own
wording (no recorded DynamoDB text found).
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Any

from local.dynamodb.values import MAX_LEVELS, SET_TYPES, Item, Value, too_deep, validation

MAX_EXPRESSION_BYTES = 4096
MAX_OPERATORS = 300
MAX_PLACEHOLDER_BYTES = 255
MAX_SUBSTITUTION_BYTES = 2 * 1024 * 1024
MAX_ITEM_BYTES = 400 * 1024
MAX_PATH_ELEMENTS = MAX_LEVELS  # a document path, and so every stored value, is at most 32 levels deep
MAX_HASH_KEY_BYTES = 2048
MAX_RANGE_KEY_BYTES = 1024
MAX_LIST_INDEX = 2**31 - 1  # beyond any list a 400 KB item can hold; DynamoDB's own bound is not documented
_PLACEHOLDER = re.compile(r"[#:][A-Za-z0-9_]+")
EXPRESSION_PARAMETERS = ("ConditionExpression", "UpdateExpression", "ProjectionExpression", "FilterExpression",
                         "KeyConditionExpression")


def utf8_length(text: str) -> int:
    # surrogatepass: JSON may carry lone surrogates ("\ud800"); they are measured, not a crash.
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def check_expression_size(text: str, kind: str) -> None:
    """Refuses an expression over 4 KB before it is tokenised (a 4 MiB one costs one length check)."""
    if len(text) > MAX_EXPRESSION_BYTES or utf8_length(text) > MAX_EXPRESSION_BYTES:
        raise validation(f"Invalid {kind}: Expression size has exceeded the maximum allowed size; "
                         f"expression size: {utf8_length(text)}")


def number_size(text: str) -> int:
    digits = text.lstrip("-").replace(".", "").strip("0")
    return math.ceil(len(digits) / 2) + 1


def _binary_size(encoded: str) -> int:
    return len(encoded) * 3 // 4 - encoded[-2:].count("=")


def _scalar_size(kind: str, raw: Any) -> int:
    if kind == "S":
        return utf8_length(raw)
    if kind == "N":
        return number_size(raw)
    if kind == "B":
        return _binary_size(raw)
    if kind in SET_TYPES:
        return sum(_scalar_size(SET_TYPES[kind], element) for element in raw)
    return 1  # BOOL, NULL


def measure(item: Item) -> tuple[int, int]:
    """(size in bytes as DynamoDB counts it, deepest document-path length); iterative, so depth costs no stack."""
    size, deepest = 0, 1 if item else 0
    pending: list[tuple[Value, int]] = []
    for name, value in item.items():
        size += utf8_length(name)
        ((kind, raw),) = value.items()
        if kind in ("L", "M"):
            pending.append((value, 1))
        else:  # most attributes are scalars: no trip through the stack
            size += _scalar_size(kind, raw)
    while pending:
        value, level = pending.pop()
        deepest = max(deepest, level)
        ((kind, raw),) = value.items()
        if kind == "L":
            size += 3 + len(raw)
            pending.extend((element, level + 1) for element in raw)
        elif kind == "M":
            size += 3 + len(raw) + sum(utf8_length(key) for key in raw)
            pending.extend((element, level + 1) for element in raw.values())
        else:
            size += _scalar_size(kind, raw)
    return size, deepest


def value_size(value: Value) -> int:
    ((kind, raw),) = value.items()
    return measure({"": value})[0] if kind in ("L", "M") else _scalar_size(kind, raw)


def check_item(item: Item, updated: bool = False) -> None:
    size, deepest = measure(item)
    if deepest > MAX_PATH_ELEMENTS:
        raise too_deep()
    if size > MAX_ITEM_BYTES:
        raise validation("Item size to update has exceeded the maximum allowed size" if updated else
                         "Item size has exceeded the maximum allowed size")


def check_key_size(value: Value, hash_key: bool) -> None:
    ((kind, raw),) = value.items()
    size = _scalar_size(kind, raw)
    if hash_key and size > MAX_HASH_KEY_BYTES:
        raise validation("One or more parameter values were invalid: Size of hashkey has exceeded the maximum size "
                         f"limit of {MAX_HASH_KEY_BYTES} bytes")
    if not hash_key and size > MAX_RANGE_KEY_BYTES:
        raise validation("One or more parameter values were invalid: Aggregated size of all range keys has exceeded "
                         f"the size limit of {MAX_RANGE_KEY_BYTES} bytes")


def check_substitutions(names: dict[str, str], values: dict[str, Value]) -> None:
    """Placeholder keys: syntax and 255 bytes each; names and values together at most 2 MB."""
    total = sum(_placeholder_length(key, "#") for key in names) + sum(_placeholder_length(key, ":") for key in values)
    total += sum(utf8_length(name) for name in names.values()) + sum(value_size(value) for value in values.values())
    if total > MAX_SUBSTITUTION_BYTES:
        raise validation("ExpressionAttributeNames and ExpressionAttributeValues exceed the maximum allowed size "
                         f"of {MAX_SUBSTITUTION_BYTES} bytes; size: {total}")


@lru_cache(maxsize=8192)  # the same few placeholders come in every request
def _placeholder_length(key: str, sigil: str) -> int:
    what = "ExpressionAttributeNames" if sigil == "#" else "ExpressionAttributeValues"
    if not _PLACEHOLDER.fullmatch(key) or key[0] != sigil:
        raise validation(f'{what} contains invalid key: Syntax error; key: "{key}"')
    if len(key) > MAX_PLACEHOLDER_BYTES:
        raise validation(f"{what} contains invalid key: The expression attribute map contains a key that is too "
                         f"long; size of key: {len(key)}")
    return len(key)
