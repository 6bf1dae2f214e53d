"""Fixtures shared by every tier: a real Postgres for the session, moto per test, the API client."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.api import TEMPLATE, ApiClient
from tests.support.postgres import external_url, migrate, throwaway_cluster
from tests.support.users import SeededUser, make_user

# Fake credentials and region before anything creates a boto3 client.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_REGION", "us-east-1")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")

TEST_JWT_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"
os.environ["JWT_SECRET"] = TEST_JWT_SECRET  # factories sign tokens outside any handler


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    url = external_url()
    if url:
        migrate(url)
        yield url
        return
    with throwaway_cluster() as cluster:
        migrate(cluster.url)
        yield cluster.url


@pytest.fixture
def clean_database(database_url: str) -> Iterator[str]:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE orders, users CASCADE"))
    engine.dispose()
    yield database_url


@pytest.fixture
def dynamodb() -> Iterator[object]:
    """In-process moto with the template's tables."""
    import boto3
    from moto import mock_aws

    from infra.tables import create_tables
    from shared.aws import dynamodb_client

    with mock_aws():
        dynamodb_client.cache_clear()
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_tables(client, TEMPLATE)
        yield client
    dynamodb_client.cache_clear()


@pytest.fixture
def test_env(clean_database: str) -> dict[str, str]:
    """Environment the functions see in tests, on top of their template environment."""
    return {
        "DATABASE_URL": clean_database,
        "JWT_SECRET": TEST_JWT_SECRET,
        "DYNAMODB_ENDPOINT_URL": "",
        "BCRYPT_ROUNDS": "4",  # speed only; the default (12) is asserted in the settings tests
        "POWERTOOLS_METRICS_DISABLED": "true",
        "METRICS_FLUSH_SECONDS": "0",  # every request visible in /metrics at once
    }


@pytest.fixture
def api(test_env: dict[str, str], dynamodb: object) -> Iterator[ApiClient]:
    """Handlers invoked in-process with real API Gateway events, real Postgres, moto DynamoDB."""
    from shared.db import reset_engine
    from shared.settings import get_settings

    saved = dict(os.environ)
    client = ApiClient(env_overrides=test_env)
    yield client
    os.environ.clear()
    os.environ.update(saved)
    get_settings.cache_clear()
    reset_engine()


# Two ordinary users and an admin, straight through the database (tests override where needed).

@pytest.fixture
def alice(test_env: dict[str, str]) -> SeededUser:
    return make_user(test_env["DATABASE_URL"])


@pytest.fixture
def bob(test_env: dict[str, str]) -> SeededUser:
    return make_user(test_env["DATABASE_URL"])


@pytest.fixture
def admin(test_env: dict[str, str]) -> SeededUser:
    return make_user(test_env["DATABASE_URL"], roles=("user", "admin"))
