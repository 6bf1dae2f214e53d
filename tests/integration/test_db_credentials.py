"""A rotated database password is read again from the secret; DB_SESSION_SETTINGS=role puts the statement
timeout on the role (what the migrations do on every deploy, for RDS Proxy)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from infra.deploy.migrations_resource import apply_role_settings
from shared.database import Database
from shared.dependencies import reset
from shared.protection.circuit_breaker import CircuitBreaker, MemoryStore
from shared.settings import Settings
from tests.support.postgres import throwaway_cluster

ROLE = "rotating_app"
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db"


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """A cluster where ROLE must give its password over TCP (scram), as on RDS."""
    with throwaway_cluster() as private:
        hba = private.data_dir / "pg_hba.conf"
        rules = f"host all {ROLE} 127.0.0.1/32 scram-sha-256\n" + hba.read_text()
        admin = create_engine(private.url)
        with admin.begin() as connection:
            connection.execute(text(f"CREATE ROLE {ROLE} LOGIN PASSWORD 'first-password-0001'"))
            connection.execute(text(f"GRANT ALL ON DATABASE app TO {ROLE}"))
        private._run("sh", "-c", f"cat > {hba} <<'EOF'\n{rules}EOF")
        with admin.connect() as connection:
            connection.execute(text("SELECT pg_reload_conf()"))
        admin.dispose()
        yield private


def database(cluster: Any, stored: dict[str, str], **settings: Any) -> Database:
    secret = lambda _arn: json.dumps(stored)  # noqa: E731 - Secrets Manager, as the functions read it
    config = Settings(database_secret_arn=SECRET_ARN, db_host="127.0.0.1", db_name="app", **settings)
    breaker = CircuitBreaker("users", MemoryStore(), threshold=5, reset_timeout=30)
    return Database(config, breaker, secret)


def who(connection: Any) -> str:
    return str(connection.execute(text("SELECT current_user")).scalar_one())


def test_a_rotated_password_is_read_again_and_the_request_succeeds(cluster: Any) -> None:
    # Given a container connected with the secret's first password
    stored = {"username": ROLE, "password": "first-password-0001", "port": str(cluster.port)}
    db = database(cluster, stored)
    assert db.read(who) == ROLE
    # When the secret is rotated (new password on the role and in the secret) and the pooled connection is gone
    admin = create_engine(cluster.url)
    with admin.begin() as connection:
        connection.execute(text(f"ALTER ROLE {ROLE} PASSWORD 'second-password-0002'"))
        connection.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{ROLE}'"))
    admin.dispose()
    stored["password"] = "second-password-0002"
    # Then the next unit of work reads the secret again and succeeds, and nothing counted against the breaker
    assert db.read(who) == ROLE
    assert db.breaker.state().failures == 0
    db.dispose()


def test_role_mode_puts_the_statement_timeout_on_the_role(cluster: Any,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # Given DB_SESSION_SETTINGS=role with a 2 s statement timeout, applied as a deploy's migrations do
    monkeypatch.setenv("DB_SESSION_SETTINGS", "role")
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT_SECONDS", "2")
    reset()
    url = f"postgresql+pg8000://{ROLE}:second-password-0002@127.0.0.1:{cluster.port}/app"
    admin = create_engine(cluster.url)
    with admin.begin() as connection:
        connection.execute(text(f"ALTER ROLE {ROLE} PASSWORD 'second-password-0002'"))
    admin.dispose()
    apply_role_settings(url)
    reset()
    # When a function connects in role mode
    stored = {"username": ROLE, "password": "second-password-0002", "port": str(cluster.port)}
    db = database(cluster, stored, db_session_settings="role", db_statement_timeout_seconds=2)
    # Then its session has the role's timeout, although nothing was sent at startup
    assert db.read(lambda connection: connection.execute(text("SHOW statement_timeout")).scalar_one()) == "2s"
    assert db.write(lambda connection: connection.execute(text("SHOW statement_timeout")).scalar_one()) == "2s"
    db.dispose()
