"""What a database error means for the caller: an outage the breaker counts, or a dead pooled connection.

Answers of a working database (constraint violations, bad input, an ApiError raised by a unit of
work) are neither: they pass through untouched and never count against the breaker.
"""

from __future__ import annotations

import pg8000
from sqlalchemy import exc as sa

from shared.pgconnect import sqlstate

# SQLSTATE classes that mean "the database cannot serve us", whoever asks: connection exceptions,
# refused credentials, no such database, insufficient resources (too many connections), operator
# intervention (shutdown, and query_canceled: the statement timeout) and system errors.
_UNAVAILABLE_SQLSTATES = ("08", "28", "3D", "53", "57", "58")
# The server ended the session (fast shutdown, restart, failover: "terminating connection due to
# administrator command"): the statement never completed, and the connection is gone.
_SESSION_ENDED = ("57P01", "57P02")


def is_infrastructure_failure(error: BaseException) -> bool:
    """Cannot connect, connection lost, timed out: these count. Answers of a working database never do."""
    if isinstance(error, sa.OperationalError | sa.InterfaceError | sa.TimeoutError):
        return True
    if isinstance(error, sa.DBAPIError):
        return bool(error.connection_invalidated) or sqlstate(error).startswith(_UNAVAILABLE_SQLSTATES)
    return isinstance(error, ConnectionError | TimeoutError | pg8000.InterfaceError)


def is_dead_connection(error: BaseException) -> bool:
    """The connection dropped (SQLAlchemy invalidated it) or the server ended the session, and not
    because of a timeout (then the server may still be working on it)."""
    if isinstance(error, ConnectionError):
        # pg8000 lets the first read of a reply raise the socket's own error (core._read), unwrapped, so
        # SQLAlchemy neither wraps nor invalidates it: a reset or closed connection, by definition.
        return True
    if not isinstance(error, sa.DBAPIError):
        return False
    if sqlstate(error) in _SESSION_ENDED:
        return True
    if not error.connection_invalidated:
        return False
    cause: BaseException | None = error.orig
    while cause is not None:
        if isinstance(cause, TimeoutError):
            return False
        cause = cause.__cause__ or cause.__context__
    return True
