"""Alembic migrations go up and down on a real Postgres and match the code's table definitions."""

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from shared.pg_schema import metadata
from tests.support.postgres import migrate


@pytest.fixture
def scratch_database(database_url: str) -> Iterator[str]:
    """A fresh, empty database on the session's server."""
    admin = create_engine(database_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS migrations_scratch"))
        connection.execute(text("CREATE DATABASE migrations_scratch"))
    yield database_url.rsplit("/", 1)[0] + "/migrations_scratch"
    with admin.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS migrations_scratch WITH (FORCE)"))
    admin.dispose()


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    names = set(inspect(engine).get_table_names())
    engine.dispose()
    return names


def test_upgrade_downgrade_upgrade(scratch_database: str) -> None:
    # Given an empty database / When migrated to head
    migrate(scratch_database)
    # Then both tables exist
    assert {"users", "orders"} <= _tables(scratch_database)
    # When migrated down to base / Then they are gone
    migrate(scratch_database, "base", downgrade=True)
    assert not {"users", "orders"} & _tables(scratch_database)
    # When migrated up again / Then it works again (downgrade left nothing behind)
    migrate(scratch_database)
    assert {"users", "orders"} <= _tables(scratch_database)


def test_migrated_schema_matches_the_code_tables(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    engine.dispose()
    assert differences == []


def test_schema_constraints_hold(database_url: str, clean_database: str) -> None:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        with pytest.raises(Exception, match="users_email_lower_case"):
            connection.execute(text("INSERT INTO users (email, password_hash, name) VALUES ('A@x.io', 'h', 'n')"))
        connection.rollback()
        user_id = connection.execute(text(
            "INSERT INTO users (email, password_hash, name) VALUES ('a@x.io', 'h', 'n') RETURNING id")).scalar()
        roles = connection.execute(text("SELECT roles FROM users WHERE id = :id"), {"id": user_id}).scalar()
        assert roles == ["user"]
        with pytest.raises(Exception, match="orders_status_valid"):
            connection.execute(text("INSERT INTO orders (user_id, items, status, total_amount) "
                                    "VALUES (:id, '[]', 'shipped', 1)"), {"id": user_id})
    engine.dispose()
