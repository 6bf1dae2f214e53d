"""Many containers hitting one key at once through a real DynamoDB server: exactly `limit` pass."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from local.dynamodb import DynamoDbServer, start_dynamodb
from shared.dynamodb import DynamoDBClient
from shared.protection.ratelimit import Decision, RateLimiter
from shared.settings import RateRule

TABLE = "ConcurrencyRateLimit"


@pytest.fixture(scope="module")
def server() -> Iterator[DynamoDbServer]:
    handle = start_dynamodb()
    yield handle
    handle.stop()


def client(url: str) -> Any:
    """boto3, to manage the table."""
    return boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1", aws_access_key_id="x",
                        aws_secret_access_key="x",
                        config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=5))


def container_client(url: str) -> DynamoDBClient:
    """What each container's limiter uses in production: shared.dynamodb (a generous timeout under load)."""
    return DynamoDBClient(region="us-east-1", endpoint_url=url, timeout=5)


def test_concurrent_containers_admit_exactly_the_limit(server: DynamoDbServer) -> None:
    # Given a fresh table and 12 containers, each with its own client and cache
    admin = client(server.url)
    if TABLE in admin.list_tables()["TableNames"]:
        admin.delete_table(TableName=TABLE)
    admin.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                       AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                       KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    rule = RateRule(limit=20, window_seconds=60)
    clients = [container_client(server.url) for _ in range(12)]
    containers = [RateLimiter(TABLE, functools.partial(lambda c: c, c)) for c in clients]
    barrier = threading.Barrier(len(containers))
    results: list[Decision] = []
    lock = threading.Lock()

    def burst(limiter: RateLimiter) -> None:
        barrier.wait()
        for _ in range(4):
            decision = limiter.hit("order_create", rule, "user:one")
            assert not decision.failed_open
            with lock:
                results.append(decision)

    threads = [threading.Thread(target=burst, args=(limiter,)) for limiter in containers]
    # When all 48 requests race
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for each in clients:
        each.close()
    # Then exactly 20 are admitted
    assert len(results) == 48
    assert [decision.allowed for decision in results].count(True) == 20
    # And no answer asks to wait, or announces a reset, beyond the 60 s window
    rejected = [decision for decision in results if not decision.allowed]
    assert all(1 <= decision.retry_after <= 60 and decision.reset_after <= 60 for decision in rejected)
