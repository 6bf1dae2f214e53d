"""shared.db's two sessions on the real Postgres: db.write runs a transaction, db.read only reads."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from shared import db
from shared.dependencies import reset
from shared.pg_schema import users
from tests.support.api import ApiClient
from tests.support.users import make_user


@pytest.fixture(autouse=True)
def _function_environment(api: ApiClient) -> Iterator[None]:
    """Load a function's environment once, so shared.db finds DATABASE_URL; fresh breakers around each test."""
    reset()
    assert api.get("/health").status == 200
    yield
    reset()


def count_users() -> int:
    return int(db.write(lambda connection: connection.execute(select(func.count()).select_from(users)).scalar_one()))


def test_insert_through_read_only_is_refused_and_writes_nothing(clean_database: str) -> None:
    # Given an empty users table
    assert count_users() == 0
    # When an INSERT runs through db.read
    with pytest.raises(DBAPIError) as caught:
        db.read(lambda connection: connection.execute(
            insert(users).values(email="ro@example.com", password_hash="x", name="Read Only")))
    # Then Postgres refuses it as a write in a read-only transaction, and nothing was stored
    assert "read-only transaction" in str(caught.value)
    assert count_users() == 0


def test_update_through_read_only_is_refused_and_changes_nothing(clean_database: str) -> None:
    # Given a stored user
    user = make_user(clean_database, name="Before")
    # When an UPDATE of that user runs through db.read
    with pytest.raises(DBAPIError) as caught:
        db.read(lambda connection: connection.execute(
            update(users).where(users.c.id == user.id).values(name="After")))
    # Then it is refused and the row keeps its value
    assert "read-only transaction" in str(caught.value)
    stored = select(users.c.name).where(users.c.id == user.id)
    assert db.write(lambda connection: connection.execute(stored).scalar_one()) == "Before"


def test_read_only_sees_a_committed_write_at_once(clean_database: str) -> None:
    # Given a read-only connection that already looked once, and a row committed after that
    email = f"{uuid.uuid4().hex}@example.com"
    matching = select(func.count()).select_from(users).where(users.c.email == email)

    def look_twice(reader: Connection) -> tuple[int, int]:
        before = reader.execute(matching).scalar_one()
        db.write(lambda writer: writer.execute(insert(users).values(email=email, password_hash="x", name="Fresh")))
        # When the same read-only connection looks again
        return before, reader.execute(matching).scalar_one()

    # Then it sees the row: no snapshot was held open between its statements
    assert db.read(look_twice) == (0, 1)


def test_each_read_only_statement_runs_in_its_own_transaction() -> None:
    # Given a read-only unit of work (autocommit: no BEGIN around its statements)
    def two_start_times(connection: Connection) -> tuple[object, object]:
        # When two statements ask for their transaction's start time
        return (connection.execute(text("SELECT now()")).scalar_one(),
                connection.execute(text("SELECT now()")).scalar_one())

    first, second = db.read(two_start_times)
    # Then the times differ, unlike within db.write, where now() is fixed
    assert first != second
    start, again = db.write(two_start_times)
    assert start == again


def test_read_engine_stays_read_only_and_usable_after_a_failed_write(clean_database: str) -> None:
    # Given a read-only unit of work that failed on a write
    with pytest.raises(DBAPIError):
        db.read(lambda connection: connection.execute(text("CREATE TEMPORARY TABLE scratch (id int)")))

    # When the read engine's (pooled) connection is used again
    def look(connection: Connection) -> tuple[object, ...]:
        return (connection.execute(text("SHOW transaction_read_only")).scalar_one(),
                connection.execute(select(func.count()).select_from(users)).scalar_one(),
                connection.execute(text("SELECT now()")).scalar_one(),
                connection.execute(text("SELECT now()")).scalar_one())

    setting, seen, first, second = db.read(look)
    # Then it still reads, in a read-only session, still one transaction per statement (autocommit kept)
    assert setting == "on"
    assert seen == 0
    assert first != second


def test_transaction_sessions_are_not_read_only(clean_database: str) -> None:
    # Given a read-only unit of work was run first (the two engines must not share session settings)
    read_only = text("SHOW transaction_read_only")
    assert db.read(lambda connection: connection.execute(read_only).scalar_one()) == "on"

    # When a db.write asks
    def ask_then_write(connection: Connection) -> object:
        setting = connection.execute(read_only).scalar_one()
        # Then it may write
        connection.execute(insert(users).values(email="rw@example.com", password_hash="x", name="Writer"))
        return setting

    assert db.write(ask_then_write) == "off"
    assert count_users() == 1
