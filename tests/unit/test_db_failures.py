"""Which database errors count against the breaker, and which mean "this pooled connection was dead"."""

from __future__ import annotations

import pg8000
import pytest
from sqlalchemy import exc as sa

from shared.db_failures import is_dead_connection, is_infrastructure_failure
from shared.errors import NotFound
from shared.pgconnect import sqlstate


def server_error(code: str, message: str = "boom") -> pg8000.DatabaseError:
    """What pg8000 raises for an ErrorResponse: the server's fields as a dict."""
    return pg8000.DatabaseError({"S": "ERROR", "C": code, "M": message})


def wrapped(cls: type[sa.DBAPIError], orig: BaseException, *, invalidated: bool = False) -> sa.DBAPIError:
    return cls("SELECT 1", {}, orig, connection_invalidated=invalidated)  # type: ignore[call-arg]


def network_error(cause: BaseException) -> pg8000.InterfaceError:
    error = pg8000.InterfaceError("network error")
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(("error", "counted"), [
    (sa.OperationalError("SELECT 1", {}, Exception("connection refused")), True),
    (sa.InterfaceError("SELECT 1", {}, Exception("network error")), True),
    (ConnectionRefusedError(), True),
    (TimeoutError(), True),
    (wrapped(sa.DatabaseError, server_error("57014", "canceling statement due to statement timeout")), True),
    (wrapped(sa.DatabaseError, server_error("57P01", "terminating connection due to administrator command")), True),
    (wrapped(sa.DatabaseError, server_error("53300", "too many connections")), True),
    (wrapped(sa.DatabaseError, server_error("28P01", "password authentication failed")), True),
    (wrapped(sa.DatabaseError, server_error("22P02", "invalid input syntax")), False),
    (sa.IntegrityError("INSERT", {}, Exception("duplicate key")), False),
    (sa.ProgrammingError("SELECT", {}, Exception("syntax")), False),
    (NotFound(), False),
    (ValueError("bad"), False),
])
def test_only_infrastructure_failures_count(error: Exception, counted: bool) -> None:
    assert is_infrastructure_failure(error) is counted


def test_sqlstate_is_read_from_pg8000s_fields() -> None:
    assert sqlstate(wrapped(sa.DatabaseError, server_error("57014"))) == "57014"
    assert sqlstate(sa.InterfaceError("SELECT 1", {}, Exception("network error"))) == ""


@pytest.mark.parametrize(("error", "dead"), [
    # The server closed the socket while it sat in the pool: SQLAlchemy invalidated the connection
    (wrapped(sa.InterfaceError, network_error(BrokenPipeError()), invalidated=True), True),
    (wrapped(sa.InterfaceError, network_error(ConnectionResetError()), invalidated=True), True),
    # A timeout on a live-looking connection: the server may still be working, never run it again
    (wrapped(sa.InterfaceError, network_error(TimeoutError()), invalidated=True), False),
    # Errors that did not invalidate the connection
    (wrapped(sa.DatabaseError, server_error("57014")), False),
    (sa.IntegrityError("INSERT", {}, Exception("duplicate key")), False),
    # pg8000 raises the socket's own error when the first read of a reply fails
    (ConnectionResetError(), True),
    (BrokenPipeError(), True),
    (TimeoutError(), False),
])
def test_dead_connection_means_invalidated_and_not_a_timeout(error: Exception, dead: bool) -> None:
    assert is_dead_connection(error) is dead
