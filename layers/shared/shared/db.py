"""Postgres access: one lazily created engine per warm container, sized for Lambda.

A Lambda container serves one request at a time, so the pool holds one connection (plus a
spare for the rare nested use); thousands of containers times a big pool would exhaust
Postgres. pg8000's socket timeout bounds connects and statements, so a dead database fails
fast instead of hanging the function until its own timeout.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING

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


@lru_cache(maxsize=1)
def get_engine() -> Engine:
    from sqlalchemy import create_engine, event

    settings = get_settings()
    engine = create_engine(
        database_url(settings),
        pool_size=1,
        max_overflow=1,
        pool_recycle=300,
        pool_pre_ping=False,  # a stale connection surfaces as an error the breaker counts; no extra round trip
        connect_args={"timeout": settings.db_connect_timeout_seconds},
    )
    statement_timeout_ms = int(settings.db_statement_timeout_seconds * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute(f"SET statement_timeout = {statement_timeout_ms}")
        cursor.close()

    return engine


def reset_engine() -> None:
    """Drop pooled connections (tests, and after a fork)."""
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()


@contextmanager
def transaction() -> Iterator[Connection]:
    """One database transaction: committed on success, rolled back on any exception.

    Guarded by the circuit breaker of this function's service: while it is open this raises
    ServiceUnavailable (503) without touching the database; an infrastructure failure
    (connection refused, timeout, dropped connection) is counted and also becomes a 503.
    Errors from a database that answered (constraint violations, ApiError) never count.
    """
    from shared.errors import ServiceUnavailable
    from shared.protection.circuit_breaker import breaker_name, get_breaker, is_infrastructure_failure

    breaker = get_breaker(breaker_name(get_settings().service_name))
    ticket = breaker.before_call()
    try:
        with get_engine().begin() as connection:
            yield connection
    except Exception as error:
        if not is_infrastructure_failure(error):
            breaker.record_success(ticket)
            raise
        breaker.record_failure(ticket)
        raise ServiceUnavailable("The database is unavailable", retry_after=breaker.retry_after()) from error
    breaker.record_success(ticket)
