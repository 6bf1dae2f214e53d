"""Throwaway tables on the session's DynamoDB emulation, and the functions' own client pointed at it.

The emulation lives for the whole pytest process, so every table made here has a unique name and
is deleted afterwards. Tables are managed with boto3 (test setup only); the code under test talks to
them through shared.dynamodb, the client production uses on the hot path.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any
from uuid import uuid4

from infra.dynamodb_tables import table_definitions
from local.postgres import free_port
from shared.dynamodb import DynamoDBClient
from tests.support.api import TEMPLATE

REGION = "us-east-1"
TIMEOUT = 2.0  # above the functions' 0.5 s: moto on a busy 2-core machine can be slower, and no test here is about time


@lru_cache(maxsize=2)
def admin_client(endpoint: str) -> Any:
    """boto3, for CreateTable/DeleteTable only (one per endpoint: building one costs tens of ms)."""
    import boto3

    return boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION)


def hot_path_client(endpoint: str) -> DynamoDBClient:
    return DynamoDBClient(region=REGION, endpoint_url=endpoint, timeout=TIMEOUT)


def unreachable_client() -> DynamoDBClient:
    """The same client pointed at a closed port: every call raises DynamoDBUnavailable."""
    return DynamoDBClient(region=REGION, endpoint_url=f"http://127.0.0.1:{free_port()}", timeout=TIMEOUT)


def hash_key_table(name: str) -> dict[str, Any]:
    """CreateTable arguments of a table keyed by `pk` alone (rate limits, breakers)."""
    return {"TableName": name, "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]}


def template_table(logical_name: str) -> dict[str, Any]:
    """CreateTable arguments of one of template.yaml's tables (the schema's only copy), without TTL."""
    for definition in table_definitions(TEMPLATE, REGION):
        if definition["TableName"] == logical_name:
            definition.pop("TimeToLive", None)
            return definition
    raise LookupError(f"no table {logical_name!r} in {TEMPLATE}")


@contextmanager
def throwaway_table(endpoint: str, definition: dict[str, Any]) -> Iterator[str]:
    """Create `definition` under a unique name (its TableName plus a suffix); delete it on exit."""
    admin = admin_client(endpoint)
    name = f"{definition['TableName']}-{uuid4().hex[:8]}"
    admin.create_table(**{**definition, "TableName": name})
    try:
        yield name
    finally:
        admin.delete_table(TableName=name)
