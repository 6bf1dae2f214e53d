"""Postgres access: `read(work)` and `write(work)`, each running one unit of work on a pooled connection.

`work` is a function of an open SQLAlchemy Connection. `write` runs it in one transaction (committed when
it returns, rolled back when it raises); `read` runs it on a second, autocommit engine whose sessions are
read-only: one round trip per statement instead of BEGIN, statement, COMMIT, and under READ COMMITTED
every statement takes its own snapshot anyway, so reads see what they would inside a transaction.

Engines are created on first use and kept for the warm container. A Lambda container serves one
request at a time, so each pool holds one connection (plus a spare for a nested use): thousands of
containers times a big pool would exhaust Postgres.

Dead pooled connections (SQLAlchemy's "Dealing with Disconnects", optimistic variant). After a restart or
a failover every pooled connection is dead, and a request only finds out when it uses one. A unit of work
whose *reused* connection turns out dead before COMMIT was sent runs once more, on a fresh connection,
inside the same request: nothing can have committed (the server rolled the transaction back when the
connection died; the read engine cannot write), so running it again is safe, and the dead connection is
not counted against the breaker. A failure during COMMIT is never retried (it may have committed), nor
is a timeout (the server may still be working), nor a failure of a fresh connection (a real outage).
The alternative, `pool_pre_ping`, costs a round trip on every checkout: two per authenticated read.

Every unit of work is guarded by the circuit breaker of this function's service: while it is open, the
request gets 503 without touching the database; an infrastructure failure (cannot connect, connection
lost, timed out) is counted and also becomes a 503. Answers from a working database (constraint
violations, ApiError raised by the work) never count.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

from shared.errors import ServiceUnavailable
from shared.pgconnect import ConnectOptions, open_connection, sqlstate, tls_context
from shared.settings import Settings, get_settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

T = TypeVar("T")
Work = Callable[["Connection"], T]
_USES = "uses"  # per DBAPI connection: how many units of work it has served

# SQLAlchemy logs a traceback at ERROR when it closes a connection the server already dropped; after a
# restart that is expected (and handled below), and it would be a non-JSON line in the function's log.
logging.getLogger("sqlalchemy.pool").setLevel(logging.CRITICAL)


def normalise_url(url: str) -> str:
    """Accept plain `postgresql://` / `postgres://` URLs and read them as pg8000."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+pg8000://" + url[len(prefix):]
    return url


def database_url(settings: Settings) -> str:
    if settings.database_url:
        return normalise_url(settings.database_url)
    if settings.database_secret_arn:
        from urllib.parse import quote

        from shared.aws import read_secret
        from shared.jsonutil import loads

        secret = read_secret(settings.database_secret_arn)
        if secret.lstrip().startswith("{"):  # an RDS-managed secret
            fields = loads(secret)
            return (f"postgresql+pg8000://{quote(fields['username'])}:{quote(fields['password'], safe='')}"
                    f"@{fields['host']}:{fields.get('port', 5432)}/{fields.get('dbname', 'postgres')}")
        return normalise_url(secret.strip())
    raise RuntimeError("no database configured: set DATABASE_URL or DATABASE_SECRET_ARN")


TIMESTAMPTZ_OID = 1184


def timestamptz_in(text: str) -> datetime | str:
    """Postgres' ISO output (`2026-01-01 10:00:00.5+00`) through datetime.fromisoformat, about ten times
    faster than pg8000's strptime (a 20-order page holds 40); the rest (infinity, BC) goes to pg8000's."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        from pg8000.converters import timestamptz_in as pg8000_timestamptz_in

        return pg8000_timestamptz_in(text)


def memoise_placeholder_rewrite() -> None:
    """Make pg8000 rewrite each distinct statement's `%s` placeholders once, not on every execute.

    pg8000 turns `%s` into `$1`, `$2`… by scanning the SQL character by character on each call
    (~0.1 ms for a longer read, the largest cost left on a read request). In the DB-API "format"
    style SQLAlchemy uses, the result depends on the SQL text alone and the values pass through
    unchanged, so remembering it is exact (tests/unit/test_db_placeholders.py holds that).
    """
    import pg8000.legacy

    original = pg8000.legacy.convert_paramstyle
    if getattr(original, "memoised", False):
        return

    @lru_cache(maxsize=1024)
    def rewritten(query: str) -> str:
        return str(original("format", query, ())[0])

    def convert_paramstyle(style: str, query: str, args: Any) -> tuple[str, Any]:
        if style != "format":
            return original(style, query, args)
        return rewritten(query), args

    convert_paramstyle.memoised = True  # type: ignore[attr-defined]
    pg8000.legacy.convert_paramstyle = convert_paramstyle


def connect_options(settings: Settings, *, read_only: bool) -> ConnectOptions:
    """Session settings travel in the startup packet: no SET statement, no extra round trip."""
    startup = {"statement_timeout": str(int(settings.db_statement_timeout_seconds * 1000))}
    if read_only:  # the autocommit engine can only read: a write through it is an error, not a commit
        startup["default_transaction_read_only"] = "on"
    return ConnectOptions(connect_timeout=settings.db_connect_timeout_seconds,
                          statement_timeout=settings.db_statement_timeout_seconds,
                          ssl_mode=settings.db_ssl_mode, ssl_root_cert=settings.db_ssl_root_cert,
                          startup_params=startup, refused_retry=settings.db_connect_retry_seconds)


def _create_engine(*, read_only: bool) -> Engine:
    from sqlalchemy import create_engine, event

    memoise_placeholder_rewrite()
    settings = get_settings()
    options = connect_options(settings, read_only=read_only)
    context = tls_context(options.ssl_mode, options.ssl_root_cert)
    engine = create_engine(
        database_url(settings),
        pool_size=1,
        max_overflow=1,
        pool_recycle=300,
        pool_pre_ping=False,  # optimistic instead: see the module docstring
        hide_parameters=True,  # an error's message or traceback must never carry an email or a hash
        **({"isolation_level": "AUTOCOMMIT"} if read_only else {}),
    )

    @event.listens_for(engine, "do_connect")
    def _open(_dialect, _record, _cargs, cparams):  # type: ignore[no-untyped-def]
        return open_connection(options, context, **cparams)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, record):  # type: ignore[no-untyped-def]
        dbapi_connection.register_in_adapter(TIMESTAMPTZ_OID, timestamptz_in)
        record.info[_USES] = 0

    return engine


@lru_cache(maxsize=1)
def get_engine() -> Engine:
    return _create_engine(read_only=False)


@lru_cache(maxsize=1)
def get_read_engine() -> Engine:
    return _create_engine(read_only=True)


def reset_engine() -> None:
    """Drop pooled connections (tests, and after a fork)."""
    for factory in (get_engine, get_read_engine):
        if factory.cache_info().currsize:
            factory().dispose()
        factory.cache_clear()


def write(work: Work[T]) -> T:
    """`work(connection)` in one transaction: committed when it returns, rolled back when it raises."""
    return _guarded(get_engine, work, transactional=True)


def read(work: Work[T]) -> T:
    """`work(connection)` on the read-only autocommit engine: each statement runs alone."""
    return _guarded(get_read_engine, work, transactional=False)


def ping() -> None:
    """One trivial statement, outside the breaker (health checks report the database itself)."""
    from sqlalchemy import text

    _with_one_retry(get_read_engine, lambda connection: connection.execute(text("SELECT 1")), transactional=False)


class StaleConnection(Exception):
    """A reused pooled connection was dead before anything could commit: safe to run the work again."""


def _guarded(engine: Callable[[], Engine], work: Work[T], *, transactional: bool) -> T:
    from shared.protection.circuit_breaker import breaker_name, get_breaker

    breaker = get_breaker(breaker_name(get_settings().service_name))
    ticket = breaker.before_call()
    try:
        result = _with_one_retry(engine, work, transactional=transactional)
    except Exception as error:
        if not is_infrastructure_failure(error):
            breaker.record_success(ticket)
            raise
        breaker.record_failure(ticket)
        from shared.observability import logger

        logger.warning("database unavailable", extra={"error": type(error).__name__, "sqlstate": sqlstate(error),
                                                      "cause": type(error.__cause__).__name__})
        raise ServiceUnavailable("The database is unavailable", retry_after=breaker.retry_after()) from error
    breaker.record_success(ticket)
    return result


def _with_one_retry(engine: Callable[[], Engine], work: Work[T], *, transactional: bool) -> T:
    try:
        return _attempt(engine(), work, transactional=transactional)
    except StaleConnection as stale:
        from shared.observability import logger

        logger.info("stale database connection replaced", extra={"error": type(stale.__cause__).__name__})
        try:
            return _attempt(engine(), work, transactional=transactional)
        except StaleConnection as again:  # dead twice in a row is an outage, not a stale pool
            raise again.__cause__ from None  # type: ignore[misc]


def _attempt(engine: Engine, work: Work[T], *, transactional: bool) -> T:
    with engine.connect() as connection:
        uses = connection.info.get(_USES, 0)
        connection.info[_USES] = uses + 1
        transaction = connection.begin() if transactional else None
        try:
            result = work(connection)
        except Exception as error:
            if uses and is_dead_connection(error):
                connection.invalidate()  # a shutdown notice leaves the socket open; never pool it again
                raise StaleConnection() from error
            raise
        if transaction is not None:
            transaction.commit()  # a failure from here on may have committed: never retried
        return result


# SQLSTATE classes that mean "the database cannot serve us", whoever asks: connection exceptions,
# refused credentials, no such database, insufficient resources (too many connections), operator
# intervention (shutdown, and query_canceled: the statement timeout) and system errors.
_UNAVAILABLE_SQLSTATES = ("08", "28", "3D", "53", "57", "58")


def is_infrastructure_failure(error: BaseException) -> bool:
    """Cannot connect, connection lost, timed out: these count. Answers of a working database never do."""
    import pg8000
    from sqlalchemy import exc as sa

    if isinstance(error, sa.OperationalError | sa.InterfaceError | sa.TimeoutError):
        return True
    if isinstance(error, sa.DBAPIError):
        return bool(error.connection_invalidated) or sqlstate(error).startswith(_UNAVAILABLE_SQLSTATES)
    return isinstance(error, ConnectionError | TimeoutError | pg8000.InterfaceError)


# The server ended the session (fast shutdown, restart, failover: "terminating connection due to
# administrator command"): the statement never completed, and the connection is gone.
_SESSION_ENDED = ("57P01", "57P02")


def is_dead_connection(error: BaseException) -> bool:
    """The connection dropped (SQLAlchemy invalidated it) or the server ended the session, and not
    because of a timeout (then the server may still be working)."""
    from sqlalchemy.exc import DBAPIError

    if not isinstance(error, DBAPIError):
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
