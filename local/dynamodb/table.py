"""Tables: schema, key extraction, item storage in key order, and the control-plane descriptions."""

from __future__ import annotations

import bisect
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from local.dynamodb.limits import check_key_size
from local.dynamodb.values import DynamoError, Item, Value, sort_key, validation

_TABLE_NAME = re.compile(r"[a-zA-Z0-9_.-]{3,255}")
_KEY_TYPES = frozenset({"S", "N", "B"})


def not_found() -> DynamoError:
    return DynamoError("ResourceNotFoundException", "Requested resource not found")


@dataclass
class Partition:
    """Items of one hash key, ordered by range key (bisect on a sorted list of range keys)."""

    items: dict[Any, Item] = field(default_factory=dict)
    order: list[Any] = field(default_factory=list)

    def put(self, key: Any, item: Item) -> None:
        if key not in self.items:
            bisect.insort(self.order, key)
        self.items[key] = item

    def delete(self, key: Any) -> None:
        if self.items.pop(key, None) is None:
            return
        if key is None:  # hash-only table: one item, and None does not order
            self.order.clear()
        else:
            del self.order[bisect.bisect_left(self.order, key)]


@dataclass
class Table:
    name: str
    key_schema: list[dict[str, str]]
    attribute_definitions: list[dict[str, str]]
    billing_mode: str
    extra: dict[str, Any]  # indexes, throughput, SSE: accepted and described, not used
    hash_key: str = ""
    range_key: str | None = None
    key_types: dict[str, str] = field(default_factory=dict)
    created: float = field(default_factory=time.time)
    table_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    ttl_attribute: str | None = None
    partitions: dict[Any, Partition] = field(default_factory=dict)
    count: int = 0

    def __post_init__(self) -> None:
        self.hash_key = self.key_schema[0]["AttributeName"]
        self.range_key = self.key_schema[1]["AttributeName"] if len(self.key_schema) > 1 else None
        types = {d["AttributeName"]: d["AttributeType"] for d in self.attribute_definitions}
        self.key_types = {k["AttributeName"]: types[k["AttributeName"]] for k in self.key_schema}

    # -- keys --------------------------------------------------------------------------------
    def key_names(self) -> tuple[str, ...]:
        return (self.hash_key,) if self.range_key is None else (self.hash_key, self.range_key)

    def check_key(self, key: Any) -> tuple[Any, Any]:
        """(hash, range) sort keys of a request's Key; ValidationException when it does not fit."""
        if not isinstance(key, dict) or set(key) != set(self.key_names()):
            raise validation("The provided key element does not match the schema")
        for name in self.key_names():
            if next(iter(key[name])) != self.key_types[name]:
                raise validation("The provided key element does not match the schema")
            self._not_empty(name, key[name])
            check_key_size(key[name], hash_key=name == self.hash_key)
        return self._key_of(key)

    def check_item_key(self, item: Item) -> tuple[Any, Any]:
        for name in self.key_names():
            value = item.get(name)
            if value is None:
                raise validation(f"One or more parameter values were invalid: Missing the key {name} in the item")
            kind = next(iter(value))
            if kind != self.key_types[name]:
                raise validation(f"One or more parameter values were invalid: Type mismatch for key {name} "
                                 f"expected: {self.key_types[name]} actual: {kind}")
            self._not_empty(name, value)
            check_key_size(value, hash_key=name == self.hash_key)
        return self._key_of(item)

    @staticmethod
    def _not_empty(name: str, value: Value) -> None:
        if next(iter(value.values())) == "":
            raise validation("One or more parameter values are not valid. The AttributeValue for a key attribute "
                             f"cannot contain an empty string value. Key: {name}")

    def _key_of(self, item: Item) -> tuple[Any, Any]:
        range_value = sort_key(item[self.range_key]) if self.range_key else None
        return sort_key(item[self.hash_key]), range_value

    def key_item(self, item: Item) -> Item:
        return {name: item[name] for name in self.key_names()}

    # -- storage -----------------------------------------------------------------------------
    def get(self, key: tuple[Any, Any]) -> Item | None:
        partition = self.partitions.get(key[0])
        return None if partition is None else partition.items.get(key[1])

    def put(self, key: tuple[Any, Any], item: Item) -> None:
        partition = self.partitions.get(key[0])
        if partition is None:
            partition = self.partitions[key[0]] = Partition()
        before = len(partition.items)
        partition.put(key[1], item)
        self.count += len(partition.items) - before

    def delete(self, key: tuple[Any, Any]) -> None:
        partition = self.partitions.get(key[0])
        if partition is None:
            return
        before = len(partition.items)
        partition.delete(key[1])
        self.count += len(partition.items) - before
        if not partition.items:
            del self.partitions[key[0]]

    def partition_items(self, hash_value: Any) -> list[Item]:
        partition = self.partitions.get(hash_value)
        if partition is None:
            return []
        return [partition.items[key] for key in partition.order]

    def scan_from(self, start: tuple[Any, Any] | None) -> Iterator[Item]:
        """Every item in (hash, range) order, after `start` when given (so pages survive deletions)."""
        for hash_value in sorted(self.partitions):
            if start is not None and hash_value < start[0]:
                continue
            partition = self.partitions[hash_value]
            for range_value in partition.order:
                if start is not None and hash_value == start[0] and (
                        range_value is None or range_value <= start[1]):
                    continue
                yield partition.items[range_value]

    # -- control plane -----------------------------------------------------------------------
    def description(self, status: str = "ACTIVE") -> dict[str, Any]:
        arn = f"arn:aws:dynamodb:us-east-1:123456789012:table/{self.name}"
        description: dict[str, Any] = {
            "AttributeDefinitions": self.attribute_definitions, "TableName": self.name,
            "KeySchema": self.key_schema, "TableStatus": status, "CreationDateTime": self.created,
            "ProvisionedThroughput": {"NumberOfDecreasesToday": 0, "ReadCapacityUnits": 0, "WriteCapacityUnits": 0,
                                      **self.extra.get("ProvisionedThroughput", {})},
            "TableSizeBytes": 0, "ItemCount": self.count, "TableArn": arn, "TableId": self.table_id,
            "BillingModeSummary": {"BillingMode": self.billing_mode}, "DeletionProtectionEnabled": False,
        }
        for name in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            if self.extra.get(name):
                description[name] = [{**index, "IndexStatus": "ACTIVE", "IndexArn": f"{arn}/index/"
                                      f"{index.get('IndexName')}", "ItemCount": 0, "IndexSizeBytes": 0}
                                     for index in self.extra[name]]
        if self.extra.get("SSESpecification", {}).get("Enabled"):
            description["SSEDescription"] = {"Status": "ENABLED", "SSEType": "KMS"}
        return description


def new_table(request: dict[str, Any]) -> Table:
    name = request.get("TableName")
    if not isinstance(name, str) or not _TABLE_NAME.fullmatch(name):
        raise validation("TableName must be at least 3 characters long and at most 255 characters long, "
                         "containing only [a-zA-Z0-9_.-]")
    key_schema = request.get("KeySchema")
    definitions = request.get("AttributeDefinitions")
    if not isinstance(key_schema, list) or not isinstance(definitions, list):
        raise validation("KeySchema and AttributeDefinitions are required")
    for element in (*key_schema, *definitions):
        if not isinstance(element, dict) or not isinstance(element.get("AttributeName"), str):
            raise DynamoError("SerializationException", "KeySchema and AttributeDefinitions elements must be "
                              "structures with a string AttributeName")
    kinds = [k.get("KeyType") for k in key_schema]
    if kinds not in (["HASH"], ["HASH", "RANGE"]):
        raise validation("Invalid KeySchema: the first KeySchemaElement is not a HASH key type, or there are "
                         "more than two elements")
    types = {d["AttributeName"]: d.get("AttributeType") for d in definitions}
    for key in key_schema:
        if types.get(key.get("AttributeName")) not in _KEY_TYPES:
            raise validation("One or more parameter values were invalid: Some index key attributes are not "
                             "defined in AttributeDefinitions")
    billing = request.get("BillingMode", "PROVISIONED")
    if billing not in ("PROVISIONED", "PAY_PER_REQUEST"):
        raise validation(f"Invalid BillingMode: {billing}")
    if billing == "PROVISIONED" and "ProvisionedThroughput" not in request:
        raise validation("One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits "
                         "must both be specified when BillingMode is PROVISIONED")
    extra: dict[str, Any] = {k: request[k] for k in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes",
                                                     "ProvisionedThroughput", "SSESpecification") if k in request}
    return Table(name, key_schema, definitions, billing, extra)
