"""Postgres access: two lazily created engines per warm container, sized for Lambda.

`transaction()` for writes, `read_only()` (autocommit, one round trip per statement) for reads.
A Lambda container serves one request at a time, so each pool holds one connection (plus a
spare for the rare nested use); thousands of containers times a big pool would exhaust
Postgres. pg8000's socket timeout bounds connects and statements, so a dead database fails
fast instead of hanging the function until its own timeout.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from shared.settings import Settings, get_settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine


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
        from shared.aws import read_secret
        from shared.jsonutil import loads

        secret = read_secret(settings.database_secret_arn)
        if secret.lstrip().startswith("{"):  # an RDS-managed secret
            fields = loads(secret)
            from urllib.parse import quote

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


def _create_engine(*, read_only: bool) -> Engine:
    from sqlalchemy import create_engine, event

    memoise_placeholder_rewrite()
    settings = get_settings()
    engine = create_engine(
        database_url(settings),
        pool_size=1,
        max_overflow=1,
        pool_recycle=300,
        pool_pre_ping=False,  # a stale connection surfaces as an error the breaker counts; no extra round trip
        connect_args={"timeout": settings.db_connect_timeout_seconds},
        **({"isolation_level": "AUTOCOMMIT"} if read_only else {}),
    )
    session_settings = [f"SET statement_timeout = {int(settings.db_statement_timeout_seconds * 1000)}"]
    if read_only:  # the autocommit engine can only read: a write through it is an error, not a commit
        session_settings.append("SET default_transaction_read_only = on")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.register_in_adapter(TIMESTAMPTZ_OID, timestamptz_in)
        cursor = dbapi_connection.cursor()
        for statement in session_settings:
            cursor.execute(statement)
        cursor.close()

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


def transaction() -> AbstractContextManager[Connection]:
    """One database transaction: committed on success, rolled back on any exception."""
    return _guarded(lambda: get_engine().begin())


def read_only() -> AbstractContextManager[Connection]:
    """Reads outside a transaction: each statement runs alone (autocommit, read-only session).

    One round trip per statement instead of BEGIN, statement, COMMIT. Under READ COMMITTED every
    statement takes its own snapshot anyway, so reads see exactly what they would in transaction().
    """
    return _guarded(lambda: get_read_engine().connect())


@contextmanager
def _guarded(connect: Callable[[], AbstractContextManager[Connection]]) -> Iterator[Connection]:
    """Guarded by the circuit breaker of this function's service: while it is open this raises
    ServiceUnavailable (503) without touching the database; an infrastructure failure
    (connection refused, timeout, dropped connection) is counted and also becomes a 503.
    Errors from a database that answered (constraint violations, ApiError) never count.
    """
    from shared.errors import ServiceUnavailable
    from shared.protection.circuit_breaker import breaker_name, get_breaker, is_infrastructure_failure

    breaker = get_breaker(breaker_name(get_settings().service_name))
    ticket = breaker.before_call()
    try:
        with connect() as connection:
            yield connection
    except Exception as error:
        if not is_infrastructure_failure(error):
            breaker.record_success(ticket)
            raise
        breaker.record_failure(ticket)
        raise ServiceUnavailable("The database is unavailable", retry_after=breaker.retry_after()) from error
    breaker.record_success(ticket)
