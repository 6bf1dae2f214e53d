"""shared.db's two sessions on the real Postgres: transaction() writes, read_only() only reads."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from shared.db import read_only, transaction
from shared.protection.circuit_breaker import reset_breakers
from shared.tables import users
from tests.support.api import ApiClient
from tests.support.users import make_user


@pytest.fixture(autouse=True)
def _function_environment(api: ApiClient) -> Iterator[None]:
    """Load a function's environment once, so shared.db finds DATABASE_URL; fresh breakers around each test."""
    reset_breakers()
    assert api.get("/health").status == 200
    yield
    reset_breakers()


def count_users() -> int:
    with transaction() as connection:
        return int(connection.execute(select(func.count()).select_from(users)).scalar_one())


def test_insert_through_read_only_is_refused_and_writes_nothing(clean_database: str) -> None:
    # Given an empty users table
    assert count_users() == 0
    # When an INSERT runs through read_only()
    with pytest.raises(DBAPIError) as caught, read_only() as connection:
        connection.execute(insert(users).values(email="ro@example.com", password_hash="x", name="Read Only"))
    # Then Postgres refuses it as a write in a read-only transaction, and nothing was stored
    assert "read-only transaction" in str(caught.value)
    assert count_users() == 0


def test_update_through_read_only_is_refused_and_changes_nothing(clean_database: str) -> None:
    # Given a stored user
    user = make_user(clean_database, name="Before")
    # When an UPDATE of that user runs through read_only()
    with pytest.raises(DBAPIError) as caught, read_only() as connection:
        connection.execute(update(users).where(users.c.id == user.id).values(name="After"))
    # Then it is refused and the row keeps its value
    assert "read-only transaction" in str(caught.value)
    with transaction() as connection:
        assert connection.execute(select(users.c.name).where(users.c.id == user.id)).scalar_one() == "Before"


def test_read_only_sees_a_committed_write_at_once(clean_database: str) -> None:
    # Given a read-only connection that already looked once, and a row committed after that
    email = f"{uuid.uuid4().hex}@example.com"
    with read_only() as reader:
        before = reader.execute(select(func.count()).select_from(users).where(users.c.email == email)).scalar_one()
        with transaction() as writer:
            writer.execute(insert(users).values(email=email, password_hash="x", name="Fresh"))
        # When the same read-only connection looks again
        after = reader.execute(select(func.count()).select_from(users).where(users.c.email == email)).scalar_one()
    # Then it sees the row: no snapshot was held open between its statements
    assert (before, after) == (0, 1)


def test_each_read_only_statement_runs_in_its_own_transaction() -> None:
    # Given a read-only block (autocommit: no BEGIN around its statements)
    with read_only() as connection:
        # When two statements ask for their transaction's start time
        first = connection.execute(text("SELECT now()")).scalar_one()
        second = connection.execute(text("SELECT now()")).scalar_one()
    # Then the times differ, unlike within transaction(), where now() is fixed
    assert first != second
    with transaction() as connection:
        assert connection.execute(text("SELECT now() = (SELECT now())")).scalar_one()
        start = connection.execute(text("SELECT now()")).scalar_one()
        assert connection.execute(text("SELECT now()")).scalar_one() == start


def test_read_engine_stays_read_only_and_usable_after_a_failed_write(clean_database: str) -> None:
    # Given a read-only block that failed on a write
    with pytest.raises(DBAPIError), read_only() as connection:
        connection.execute(text("CREATE TEMPORARY TABLE scratch (id int)"))
    # When the read engine's (pooled) connection is used again
    with read_only() as connection:
        setting = connection.execute(text("SHOW transaction_read_only")).scalar_one()
        seen = connection.execute(select(func.count()).select_from(users)).scalar_one()
        first = connection.execute(text("SELECT now()")).scalar_one()
        second = connection.execute(text("SELECT now()")).scalar_one()
    # Then it still reads, in a read-only session, still one transaction per statement (autocommit kept)
    assert setting == "on"
    assert seen == 0
    assert first != second


def test_transaction_sessions_are_not_read_only(clean_database: str) -> None:
    # Given a read-only block was used first (the two engines must not share session settings)
    with read_only() as connection:
        assert connection.execute(text("SHOW transaction_read_only")).scalar_one() == "on"
    # When a transaction() asks
    with transaction() as connection:
        setting = connection.execute(text("SHOW transaction_read_only")).scalar_one()
        # Then it may write
        connection.execute(insert(users).values(email="rw@example.com", password_hash="x", name="Writer"))
    assert setting == "off"
    assert count_users() == 1
