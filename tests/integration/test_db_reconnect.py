"""shared.db against a Postgres that restarts, drops connections, times out or is gone.

A private cluster (the session's is shared by every xdist worker and must never restart), the
orders function's environment and its breaker on the DynamoDB emulation.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, create_engine, func, insert, select, text

from shared import db
from shared.database import connect_options
from shared.dependencies import dependencies, reset
from shared.errors import ServiceUnavailable
from shared.pg_schema import users
from shared.pgconnect import sqlstate
from shared.settings import get_settings
from tests.support.postgres import migrate, throwaway_cluster

TIMEOUTS = {"DB_CONNECT_TIMEOUT_SECONDS": "0.5", "DB_STATEMENT_TIMEOUT_SECONDS": "1"}


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    with throwaway_cluster() as private:
        migrate(private.url)
        yield private


@pytest.fixture
def environment(cluster: Any, dynamodb: object, dynamodb_endpoint: str,
                monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    if not cluster.running():
        cluster.start()
    for name, value in {"DATABASE_URL": cluster.url, "DYNAMODB_ENDPOINT_URL": dynamodb_endpoint,
                        "POWERTOOLS_SERVICE_NAME": "orders", "CIRCUIT_BREAKER_FAILURE_THRESHOLD": "5",
                        **TIMEOUTS}.items():
        monkeypatch.setenv(name, value)
    reset()
    yield
    reset()


def failures() -> int:
    return dependencies().breaker("orders").state(fresh=True).failures


def add_user(email: str) -> Any:
    return db.write(lambda connection: connection.execute(
        insert(users).values(email=email, password_hash="x", name="N").returning(users.c.id)).scalar_one())


def count(email: str) -> int:
    return int(db.read(lambda connection: connection.execute(
        select(func.count()).select_from(users).where(users.c.email == email)).scalar_one()))


def terminate_backends(cluster: Any) -> None:
    """Drop every client connection server-side, as a restart or failover does."""
    admin = create_engine(cluster.url)
    with admin.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'"))
    admin.dispose()


@pytest.mark.usefixtures("environment")
def test_writes_and_reads_after_a_restart_succeed_on_fresh_connections(cluster: Any) -> None:
    # Given both engines holding pooled connections
    add_user("before@example.com")
    assert count("before@example.com") == 1
    # When Postgres restarts (every pooled connection dies)
    cluster.stop(mode="fast")
    cluster.start()
    # Then the next write and read succeed inside the same call, on fresh connections
    add_user("after@example.com")
    assert count("after@example.com") == 1
    # And the dead connections did not count against the breaker, and nothing was written twice
    assert failures() == 0
    assert dependencies().breaker("orders").state(fresh=True).state == "closed"


@pytest.mark.usefixtures("environment")
def test_a_dropped_connection_inside_a_transaction_reruns_the_whole_unit_once(cluster: Any) -> None:
    # Given a pooled write connection
    add_user("warm@example.com")
    terminate_backends(cluster)
    calls: list[int] = []

    def two_inserts(connection: Connection) -> None:
        calls.append(1)
        connection.execute(insert(users).values(email="one@example.com", password_hash="x", name="N"))
        connection.execute(insert(users).values(email="two@example.com", password_hash="x", name="N"))

    # When a two-statement unit of work meets the dead connection
    db.write(two_inserts)
    # Then it ran twice (the first attempt failed before anything was sent), and each row exists once
    assert len(calls) == 2
    assert (count("one@example.com"), count("two@example.com")) == (1, 1)
    assert failures() == 0


@pytest.mark.usefixtures("environment")
def test_a_failure_at_commit_is_never_run_again(cluster: Any) -> None:
    # Given a unit of work whose connection dies after its statements, before COMMIT reaches the server
    calls: list[int] = []

    def insert_then_lose_the_connection(connection: Connection) -> None:
        calls.append(1)
        connection.execute(insert(users).values(email="commit@example.com", password_hash="x", name="N"))
        terminate_backends(cluster)

    # When it runs
    with pytest.raises(ServiceUnavailable):
        db.write(insert_then_lose_the_connection)
    # Then it ran once: a failed COMMIT may have committed, so it is an error, not a retry
    assert len(calls) == 1
    assert failures() == 1
    assert count("commit@example.com") == 0  # here the server rolled back: the backend died first


@pytest.mark.usefixtures("environment")
def test_an_outage_is_one_counted_failure_and_a_503(cluster: Any) -> None:
    # Given pooled connections, then Postgres gone
    add_user("outage@example.com")
    cluster.stop(mode="fast")
    # When a read needs it
    with pytest.raises(ServiceUnavailable):
        count("outage@example.com")
    # Then the stale connection was replaced once, the fresh one failed, and exactly one failure counted
    assert failures() == 1
    # And a connection that was never pooled is not retried either
    with pytest.raises(ServiceUnavailable):
        add_user("outage2@example.com")
    assert failures() == 2


@pytest.mark.usefixtures("environment")
def test_a_slow_statement_is_cancelled_by_the_server_and_the_connection_survives(cluster: Any) -> None:
    # Given a statement timeout of 1 s and a connect timeout of 0.5 s
    def server_pid(connection: Connection) -> int:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())

    pid = db.read(server_pid)
    # When a statement runs longer than the statement timeout
    with pytest.raises(ServiceUnavailable) as caught:
        db.read(lambda connection: connection.execute(text("SELECT pg_sleep(3)")))
    # Then Postgres cancelled it (57014), so it is not left running on the server...
    assert sqlstate(caught.value.__cause__) == "57014"  # type: ignore[arg-type]
    admin = create_engine(cluster.url)
    with admin.connect() as connection:
        running = connection.execute(text("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%'"
                                          " AND state = 'active'")).scalar_one()
    admin.dispose()
    assert running == 0
    # ...it counted as a timeout, and the same pooled connection serves the next read
    assert failures() == 1
    assert db.read(server_pid) == pid


def test_connect_and_statement_timeouts_are_ordered(monkeypatch: pytest.MonkeyPatch) -> None:
    # The socket waits longer than the server's statement timeout, so the server always answers first
    monkeypatch.setitem(os.environ, "DB_STATEMENT_TIMEOUT_SECONDS", "5")
    reset()
    options = connect_options(get_settings(), read_only=True)
    reset()
    statement_timeout = int(options.startup_params["statement_timeout"]) / 1000
    assert options.read_timeout > statement_timeout > options.connect_timeout
    assert options.startup_params == {"statement_timeout": "5000", "default_transaction_read_only": "on"}
