"""Two DynamoDB servers side by side: the fast engine under test and moto as the reference."""

from __future__ import annotations

import http.client
import json
import urllib.parse
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from local.dynamodb import DynamoDbServer, start_dynamodb

SETS = ("SS", "NS", "BS")


def make_client(url: str) -> Any:
    return boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1", aws_access_key_id="x",
                        aws_secret_access_key="x", config=Config(retries={"max_attempts": 1}))


def raw_call(url: str, action: str, body: bytes) -> tuple[int, dict[str, Any]]:
    """One request as bytes, past boto3's client-side validation."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)
    try:
        connection.request("POST", "/", body=body, headers={"X-Amz-Target": f"DynamoDB_20120810.{action}",
                                                            "Content-Type": "application/x-amz-json-1.0"})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def error_of(answer: tuple[int, dict[str, Any]]) -> tuple[int, str, str]:
    status, payload = answer
    return status, payload.get("__type", "").rsplit("#", 1)[-1], payload.get("message", "")


def _number(text: str) -> str:
    number = Decimal(text).normalize()
    return "0" if not number else format(number, "f")


def canonical(value: Any) -> Any:
    """Responses made comparable: sets are unordered; metadata and moto's unasked-for capacity dropped;
    numbers normalised (DynamoDB answers "0.0" as "0", moto echoes the input); moto's empty
    "Attributes": {} counts as absent (DynamoDB leaves it out)."""
    if isinstance(value, dict):
        if set(value) == {"N"}:
            return {"N": _number(value["N"])}
        if set(value) == {"NS"}:
            return {"NS": sorted(_number(n) for n in value["NS"])}
        return {key: sorted(inner) if key in SETS else canonical(inner)
                for key, inner in value.items()
                if key not in ("ResponseMetadata", "ConsumedCapacity") and not (key == "Attributes" and not inner)}
    if isinstance(value, list):
        return [canonical(inner) for inner in value]
    return value


def outcome(client: Any, operation: str, request: dict[str, Any]) -> dict[str, Any]:
    try:
        return {"ok": canonical(getattr(client, operation)(**request))}
    except ClientError as error:
        return {"error": error.response["Error"]["Code"], "item": canonical(error.response.get("Item"))}


class Twin:
    """The same table on both engines; every call goes to both and the outcomes must match."""

    def __init__(self, fast: Any, moto: Any, keys: tuple[str, ...]) -> None:
        self.fast, self.moto = fast, moto
        self.table = f"twin-{uuid.uuid4().hex[:12]}"
        kinds = ("HASH", "RANGE")
        definition = {"TableName": self.table, "BillingMode": "PAY_PER_REQUEST",
                      "AttributeDefinitions": [{"AttributeName": k, "AttributeType": "S"} for k in keys],
                      "KeySchema": [{"AttributeName": k, "KeyType": kinds[i]} for i, k in enumerate(keys)]}
        for client in (fast, moto):
            client.create_table(**definition)

    def both(self, operation: str, **request: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        request = {"TableName": self.table, **request}
        return outcome(self.fast, operation, request), outcome(self.moto, operation, request)

    def same(self, operation: str, **request: Any) -> dict[str, Any]:
        fast, moto = self.both(operation, **request)
        assert fast == moto, (operation, request)
        return fast

    def drop(self) -> None:
        for client in (self.fast, self.moto):
            client.delete_table(TableName=self.table)


@pytest.fixture(scope="session")
def fast_server() -> Iterator[DynamoDbServer]:
    handle = start_dynamodb(engine="fast")
    yield handle
    handle.stop()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[DynamoDbServer]:
    handle = start_dynamodb(engine="moto")
    yield handle
    handle.stop()


@pytest.fixture(scope="session")
def clients(fast_server: DynamoDbServer, moto_server: DynamoDbServer) -> tuple[Any, Any]:
    return make_client(fast_server.url), make_client(moto_server.url)


@pytest.fixture
def twin(clients: tuple[Any, Any]) -> Iterator[Twin]:
    table = Twin(*clients, keys=("pk",))
    yield table
    table.drop()


@pytest.fixture
def twin_range(clients: tuple[Any, Any]) -> Iterator[Twin]:
    table = Twin(*clients, keys=("pk", "sk"))
    yield table
    table.drop()
