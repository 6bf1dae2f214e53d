"""Postgres for one warm container: two engines, and units of work run on them behind the circuit breaker.

`write(work)` runs `work(connection)` in one transaction (committed when it returns, rolled back when
it raises); `read(work)` runs it on a second, autocommit engine whose sessions are read-only: one
round trip per statement instead of BEGIN, statement, COMMIT, and under READ COMMITTED every
statement takes its own snapshot anyway, so reads see what they would inside a transaction.

A Lambda container serves one request at a time, so each pool holds one connection (plus a spare
for a nested use): thousands of containers times a big pool would exhaust Postgres.

Dead pooled connections (SQLAlchemy's "Dealing with Disconnects", optimistic variant). After a restart or
a failover every pooled connection is dead, and a request only finds out when it uses one. A unit of work
whose *reused* connection turns out dead before COMMIT was sent runs once more, on a fresh connection,
inside the same request: nothing can have committed (the server rolled the transaction back when the
connection died; the read engine cannot write), so running it again is safe, and the dead connection is
not counted against the breaker. A failure during COMMIT is never retried (it may have committed), nor
is a timeout (the server may still be working), nor a failure of a fresh connection (a real outage).
The alternative, `pool_pre_ping`, costs a round trip on every checkout: two per authenticated read.

The breaker: while it is open, a unit of work gets 503 without touching the database; an
infrastructure failure (shared.db_failures) is counted and also becomes a 503.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from functools import cached_property
from typing import Any, TypeVar

from sqlalchemy import URL, Connection, Engine, NullPool, create_engine, event, make_url, text

from shared.db_failures import is_dead_connection, is_infrastructure_failure
from shared.jsonutil import loads
from shared.logger import logger
from shared.pg8000_speedups import TIMESTAMPTZ_OID, memoise_placeholder_rewrite, timestamptz_in
from shared.pgconnect import READ_MARGIN_SECONDS, ConnectOptions, open_connection, sqlstate, tls_context
from shared.protection.circuit_breaker import CircuitBreaker
from shared.settings import Settings

T = TypeVar("T")
Work = Callable[[Connection], T]
_USES = "uses"  # per DBAPI connection: how many units of work it has served
INVALID_PASSWORD = "28P01"
MIGRATION_READ_TIMEOUT = 280.0  # under the migrations function's 300 s Timeout


def normalise_url(url: str) -> str:
    """Accept plain `postgresql://` / `postgres://` URLs and read them as pg8000."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+pg8000://" + url[len(prefix):]
    return url


def database_url(settings: Settings, read_secret: Callable[[str], str]) -> str:
    """DATABASE_URL, else the Secrets Manager secret (a URL, or RDS's JSON); DB_HOST and DB_NAME replace
    the host and the database of either (an RDS-managed master secret holds only username and password)."""
    if settings.database_url:
        url = make_url(normalise_url(settings.database_url))
    elif settings.database_secret_arn:
        url = _secret_url(read_secret(settings.database_secret_arn))
    else:
        raise RuntimeError("no database configured: set DATABASE_URL or DATABASE_SECRET_ARN")
    url = url.set(host=settings.db_host or url.host, database=settings.db_name or url.database)
    if not url.host:
        raise RuntimeError("the database secret names no host: set DB_HOST")
    return url.render_as_string(hide_password=False)


def _secret_url(secret: str) -> URL:
    if not secret.lstrip().startswith("{"):
        return make_url(normalise_url(secret.strip()))
    fields = loads(secret)
    return URL.create("postgresql+pg8000", username=fields["username"], password=fields["password"],
                      host=fields.get("host"), port=int(fields.get("port") or 5432),
                      database=fields.get("dbname") or "postgres")


def session_settings(settings: Settings, *, read_only: bool) -> dict[str, str]:
    """The session settings of an engine's connections: the statement timeout, and read-only for reads."""
    values = {"statement_timeout": str(int(settings.db_statement_timeout_seconds * 1000))}
    if read_only:  # the autocommit engine can only read: a write through it is an error, not a commit
        values["default_transaction_read_only"] = "on"
    return values


def connect_options(settings: Settings, *, read_only: bool) -> ConnectOptions:
    """Session settings travel in the startup packet (no SET statement, no extra round trip), unless they
    are the role's (DB_SESSION_SETTINGS=role, for RDS Proxy): then the migrations set the statement timeout
    on the role, and the read engine is read-only by the code that uses it (reads only) rather than by the
    server. The socket's read timeout stays above the statement timeout either way."""
    startup = session_settings(settings, read_only=read_only) if settings.db_session_settings == "startup" else {}
    return ConnectOptions(connect_timeout=settings.db_connect_timeout_seconds,
                          read_timeout=settings.db_statement_timeout_seconds + READ_MARGIN_SECONDS,
                          ssl_mode=settings.db_ssl_mode, ssl_root_cert=settings.db_ssl_root_cert,
                          startup_params=startup, refused_retry=settings.db_connect_retry_seconds)


def migration_engine(settings: Settings, url: str, *, read_timeout: float = MIGRATION_READ_TIMEOUT) -> Engine:
    """An unpooled engine for schema migrations: the same TLS and connect timeout as the functions', but no
    statement timeout (an index build may take minutes; the migrations function's own timeout bounds it)."""
    options = ConnectOptions(connect_timeout=settings.db_connect_timeout_seconds, read_timeout=read_timeout,
                             ssl_mode=settings.db_ssl_mode, ssl_root_cert=settings.db_ssl_root_cert,
                             refused_retry=settings.db_connect_retry_seconds)
    engine = create_engine(normalise_url(url), poolclass=NullPool, hide_parameters=True)
    _open_with(engine, options, tls_context(options.ssl_mode, options.ssl_root_cert))
    if settings.db_session_settings == "role":  # the role's statement timeout is the functions', not ours

        @event.listens_for(engine, "connect")
        def _no_statement_timeout(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("SET statement_timeout = 0")
            cursor.close()

    return engine


def _open_with(engine: Engine, options: ConnectOptions, context: ssl.SSLContext | None) -> None:
    """Connections of `engine` are opened by shared.pgconnect with `options`, over TLS with `context`."""

    @event.listens_for(engine, "do_connect")
    def _open(_dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> Any:
        return open_connection(options, context, **cparams)


class StaleConnection(Exception):
    """A reused pooled connection was dead before anything could commit: safe to run the work again."""


class Database:
    def __init__(self, settings: Settings, breaker: CircuitBreaker, read_secret: Callable[[str], str]) -> None:
        self.settings = settings
        self.breaker = breaker
        self._read_secret = read_secret

    @cached_property
    def url(self) -> str:
        return database_url(self.settings, self._read_secret)

    @cached_property
    def tls(self) -> ssl.SSLContext | None:
        """One TLS context for both engines: loading a CA store takes ~30 ms of the first connection."""
        return tls_context(self.settings.db_ssl_mode, self.settings.db_ssl_root_cert)

    @cached_property
    def engine(self) -> Engine:
        return self._create_engine(read_only=False)

    @cached_property
    def read_engine(self) -> Engine:
        return self._create_engine(read_only=True)

    def write(self, work: Work[T]) -> T:
        """`work(connection)` in one transaction: committed when it returns, rolled back when it raises."""
        return self._guarded(lambda: self.engine, work, transactional=True)

    def read(self, work: Work[T]) -> T:
        """`work(connection)` on the read-only autocommit engine: each statement runs alone."""
        return self._guarded(lambda: self.read_engine, work, transactional=False)

    def ping(self) -> None:
        """One trivial statement, outside the breaker (health checks report the database itself)."""
        self._with_recovery(lambda: self.read_engine, lambda c: c.execute(text("SELECT 1")), transactional=False)

    def dispose(self) -> None:
        """Close every pooled connection (tests; a SnapStart restore must not reuse a snapshot's sockets)."""
        for name in ("engine", "read_engine"):
            engine = self.__dict__.pop(name, None)
            if engine is not None:
                engine.dispose()

    def _create_engine(self, *, read_only: bool) -> Engine:
        memoise_placeholder_rewrite()
        engine = create_engine(
            self.url,
            pool_size=1,
            max_overflow=1,
            pool_recycle=300,
            pool_pre_ping=False,  # optimistic instead: see the module docstring
            hide_parameters=True,  # an error's message or traceback must never carry an email or a hash
            **({"isolation_level": "AUTOCOMMIT"} if read_only else {}),
        )

        _open_with(engine, connect_options(self.settings, read_only=read_only), self.tls)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, record: Any) -> None:
            dbapi_connection.register_in_adapter(TIMESTAMPTZ_OID, timestamptz_in)
            record.info[_USES] = 0

        return engine

    def _guarded(self, engine: Callable[[], Engine], work: Work[T], *, transactional: bool) -> T:
        return self.breaker.call(lambda: self._with_recovery(engine, work, transactional=transactional),
                                 counts=_counted)

    def _with_recovery(self, engine: Callable[[], Engine], work: Work[T], *, transactional: bool) -> T:
        """Run the unit once more after each thing that is not an outage, at most once each: a dead pooled
        connection (a fresh one is used), and a password the secret's rotation changed (it is read again)."""
        recovered: set[str] = set()
        while True:
            try:
                return _attempt(engine(), work, transactional=transactional)
            except StaleConnection as stale:
                if "connection" in recovered:  # dead twice in a row is an outage, not a stale pool
                    raise stale.__cause__ from None  # type: ignore[misc]
                recovered.add("connection")
                logger.info("stale database connection replaced", extra={"error": type(stale.__cause__).__name__})
            except Exception as error:
                if "password" in recovered or not self._password_rotated(error):
                    raise
                recovered.add("password")
                logger.info("database password refused: reading the secret again")
                self.dispose()
                self.__dict__.pop("url", None)

    def _password_rotated(self, error: BaseException) -> bool:
        """Postgres refused the password (28P01) of a secret that Secrets Manager may have rotated since."""
        return bool(self.settings.database_secret_arn) and sqlstate(error) == INVALID_PASSWORD


def _counted(error: Exception) -> bool:
    """An outage the breaker counts (and logs with what the database said, never its message)."""
    if not is_infrastructure_failure(error):
        return False
    logger.warning("database unavailable", extra={"error": type(error).__name__, "sqlstate": sqlstate(error),
                                                  "cause": type(error.__cause__).__name__})
    return True


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
