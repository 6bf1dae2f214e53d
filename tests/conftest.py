"""Fixtures shared by every tier: a real Postgres and a DynamoDB emulation per session, the API client."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.api import TEMPLATE, ApiClient
from tests.support.postgres import external_url, migrate, throwaway_cluster
from tests.support.users import SeededUser, factory_engine, make_user

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
    from sqlalchemy import text

    with factory_engine(database_url).begin() as connection:
        connection.execute(text("TRUNCATE orders, users CASCADE"))
    yield database_url


@pytest.fixture(scope="session")
def dynamodb_endpoint() -> Iterator[str]:
    """The fast DynamoDB emulation, served over HTTP from this process for the whole session.

    Over HTTP, not in-process moto: the functions' own DynamoDB client (shared.dynamodb) is a
    plain HTTP client, so tests exercise exactly the requests production sends.
    """
    from local.dynamodb import start_dynamodb

    server = start_dynamodb(engine="fast")
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's DynamoDB (its threaded server), for the tests that run on both engines."""
    from local.dynamodb import start_dynamodb

    server = start_dynamodb(engine="moto")
    yield server.url
    server.stop()


@pytest.fixture(params=["fast", "moto"])
def engine_endpoint(request: pytest.FixtureRequest) -> str:
    """The protection code's unit tests run on both DynamoDB engines: the fast local one and moto."""
    return str(request.getfixturevalue("dynamodb_endpoint" if request.param == "fast" else "moto_endpoint"))


@pytest.fixture(scope="session")
def template_tables() -> list[dict[str, Any]]:
    from infra.dynamodb_tables import table_definitions

    return table_definitions(TEMPLATE)


@pytest.fixture
def dynamodb(dynamodb_endpoint: str, template_tables: list[dict[str, Any]]) -> Iterator[object]:
    """Fresh, empty template tables; the functions' clients are rebuilt to point at them."""
    import boto3

    from infra.dynamodb_tables import create_tables
    from shared.dependencies import reset

    client = boto3.client("dynamodb", endpoint_url=dynamodb_endpoint, region_name="us-east-1")
    for name in client.list_tables()["TableNames"]:
        client.delete_table(TableName=name)
    create_tables(client, TEMPLATE, definitions=template_tables)
    reset()
    yield client
    reset()


@pytest.fixture
def test_env(clean_database: str, dynamodb: object, dynamodb_endpoint: str) -> dict[str, str]:
    """Environment the functions see in tests, on top of their template environment."""
    return {
        "DATABASE_URL": clean_database,
        "DB_SSL_MODE": "disable",  # the template's default is verify-full (AWS); the test cluster has no TLS
        "JWT_SECRET": TEST_JWT_SECRET,
        "DYNAMODB_ENDPOINT_URL": dynamodb_endpoint,
        "BCRYPT_ROUNDS": "4",  # speed only; the default (12) is asserted in the settings tests
        "POWERTOOLS_METRICS_DISABLED": "true",
        "METRICS_FLUSH_SECONDS": "0",  # every request visible in /metrics at once
    }


@pytest.fixture
def api(test_env: dict[str, str], dynamodb: object) -> Iterator[ApiClient]:
    """Handlers invoked in-process with real API Gateway events, real Postgres, emulated DynamoDB."""
    from shared.dependencies import reset

    saved = dict(os.environ)
    client = ApiClient(env_overrides=test_env)
    yield client
    os.environ.clear()
    os.environ.update(saved)
    reset()


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
