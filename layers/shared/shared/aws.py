"""Lazily created AWS clients, one per warm container, honouring DYNAMODB_ENDPOINT_URL.

Short timeouts and a single attempt: the protection tables sit on every request's hot path,
and a slow or dead DynamoDB must fail fast (the callers fail open) instead of retrying.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from shared.settings import get_settings

if TYPE_CHECKING:
    from shared.dynamodb import DynamoDBClient


@lru_cache(maxsize=1)
def dynamodb_client() -> DynamoDBClient:
    """The light client of the hot path (rate limits, breakers, metrics, health)."""
    from shared.dynamodb import DynamoDBClient

    settings = get_settings()
    return DynamoDBClient(region=settings.aws_region, endpoint_url=settings.dynamodb_endpoint_url,
                          timeout=settings.dynamodb_timeout_seconds)


@lru_cache(maxsize=1)
def dynamodb_sdk_client() -> Any:
    """botocore's client, for what takes one (Powertools idempotency); same timeouts, one attempt."""
    # botocore directly: `import boto3` also imports s3transfer (~90 ms of a cold start here) for nothing.
    import botocore.session
    from botocore.config import Config

    settings = get_settings()
    config = Config(
        connect_timeout=settings.dynamodb_timeout_seconds,
        read_timeout=settings.dynamodb_timeout_seconds,
        retries={"max_attempts": 1, "mode": "standard"},
        max_pool_connections=4,
        tcp_keepalive=True,
    )
    return botocore.session.get_session().create_client(
        "dynamodb",
        region_name=settings.aws_region,
        endpoint_url=settings.dynamodb_endpoint_url or None,
        config=config,
    )


@lru_cache(maxsize=4)
def read_secret(arn: str) -> str:
    import boto3

    client = boto3.session.Session().client("secretsmanager", region_name=get_settings().aws_region)
    return str(client.get_secret_value(SecretId=arn)["SecretString"])


def reset_dynamodb_clients() -> None:
    """Forget both clients (tests, a new endpoint): the next call builds them from the settings."""
    if dynamodb_client.cache_info().currsize:
        dynamodb_client().close()
    dynamodb_client.cache_clear()
    dynamodb_sdk_client.cache_clear()
