"""Lazily created AWS clients, one per warm container, honouring DYNAMODB_ENDPOINT_URL.

Short timeouts and a single attempt: the protection tables sit on every request's hot path,
and a slow or dead DynamoDB must fail fast (the callers fail open) instead of retrying.
"""

from functools import lru_cache
from typing import Any

from shared.settings import get_settings


@lru_cache(maxsize=1)
def dynamodb_client() -> Any:
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
def read_ssm_parameter(name: str) -> str:
    import boto3

    client = boto3.session.Session().client("ssm", region_name=get_settings().aws_region)
    return str(client.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"])


@lru_cache(maxsize=4)
def read_secret(arn: str) -> str:
    import boto3

    client = boto3.session.Session().client("secretsmanager", region_name=get_settings().aws_region)
    return str(client.get_secret_value(SecretId=arn)["SecretString"])
