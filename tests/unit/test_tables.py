"""DynamoDB tables come from template.yaml, the only copy of their schema."""

import boto3
from moto import mock_aws

from infra.dynamodb_tables import create_tables, table_definitions
from tests.support.api import TEMPLATE


def test_definitions_cover_every_table_in_the_template() -> None:
    definitions = {d["TableName"]: d for d in table_definitions(TEMPLATE)}
    assert set(definitions) == {"RateLimitTable", "CircuitBreakerTable", "IdempotencyTable", "MetricsTable"}
    assert definitions["IdempotencyTable"]["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert definitions["IdempotencyTable"]["TimeToLive"] == "expiration"
    assert [k["AttributeName"] for k in definitions["MetricsTable"]["KeySchema"]] == ["pk", "sk"]


def test_create_tables_is_idempotent_and_sets_ttl() -> None:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        # Given an empty DynamoDB / When the tables are created twice
        first = create_tables(client, TEMPLATE)
        second = create_tables(client, TEMPLATE)
        # Then each exists once, with the template's keys and TTL attribute
        assert sorted(first) == sorted(second) == sorted(client.list_tables()["TableNames"])
        ttl = client.describe_time_to_live(TableName="RateLimitTable")["TimeToLiveDescription"]
        assert ttl["AttributeName"] == "expires_at" and ttl["TimeToLiveStatus"] == "ENABLED"
        breaker = client.describe_table(TableName="CircuitBreakerTable")["Table"]
        assert breaker["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
