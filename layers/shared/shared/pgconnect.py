"""Opening one pg8000 connection: short connect timeout, server-side statement timeout, optional TLS.

Three clocks, in the order they must fire:
- connecting (TCP, TLS handshake, Postgres startup) is bounded by `connect_timeout`: a database that is
  down or frozen is noticed in seconds. A server that refuses (nothing listens, or it answers "starting
  up" / "shutting down", SQLSTATE 57P03) is asked again with a short back-off for `refused_retry`
  seconds: a restart or a failover shorter than that costs the request some latency, not an error, so a
  burst of requests during a one-second restart does not open the circuit breaker;
- a statement is bounded by the server's `statement_timeout`, sent in the startup packet (no extra round
  trip, no SET): Postgres cancels the query itself, so nothing keeps running on the server and the
  connection stays usable;
- the socket's read timeout is `statement_timeout` plus a margin, so it only fires when the server cannot
  answer at all (frozen, network gone), never before the server's own timeout.

pg8000 applies one `timeout` to connecting and reading alike, so the socket is opened here and handed
to pg8000 (`sock=`, a documented parameter). TLS is negotiated here too, with Postgres' SSLRequest,
because the socket that ends up in use must be ours to re-time after the startup.
"""

from __future__ import annotations

import socket
import ssl
import struct
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import pg8000

SslMode = Literal["disable", "require", "verify-full"]
SSL_REQUEST = struct.pack("!ii", 8, 80877103)  # Postgres protocol: length 8, SSLRequest code
READ_MARGIN_SECONDS = 1.0
FIRST_BACKOFF_SECONDS = 0.05
CANNOT_CONNECT_NOW = "57P03"  # "the database system is starting up" / "is shutting down"


@dataclass(frozen=True)
class ConnectOptions:
    connect_timeout: float
    read_timeout: float  # the socket's, once connected: longer than any statement timeout sent in startup_params
    ssl_mode: SslMode = "disable"
    ssl_root_cert: str = ""
    startup_params: dict[str, str] = field(default_factory=dict)
    refused_retry: float = 1.0


def tls_context(mode: SslMode, root_cert: str) -> ssl.SSLContext | None:
    """`require` encrypts without checking who answers; `verify-full` checks the chain and the host name.

    With no `root_cert`, verify-full trusts the system store (enough for RDS Proxy, whose endpoints carry
    public ACM certificates); direct RDS/Aurora needs Amazon's RDS CA bundle passed as `root_cert`.
    A configured bundle that is missing fails here, at the first connection, with its path in the message.
    """
    if mode == "disable":
        return None
    if mode == "require":
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    try:
        return ssl.create_default_context(cafile=root_cert or None)
    except (FileNotFoundError, ssl.SSLError) as error:
        raise RuntimeError(f"DB_SSL_ROOT_CERT {root_cert!r} cannot be loaded as a CA bundle: {error}") from error


def start_tls(sock: socket.socket, context: ssl.SSLContext, host: str) -> ssl.SSLSocket:
    """Ask the server to switch to TLS (SSLRequest), then handshake; a server that says no is refused."""
    sock.sendall(SSL_REQUEST)
    answer = sock.recv(1)
    if answer != b"S":
        raise ConnectionError(f"the database at {host} does not accept TLS (answered {answer!r})")
    return context.wrap_socket(sock, server_hostname=host)


def open_connection(options: ConnectOptions, context: ssl.SSLContext | None, *, host: str = "localhost",
                    port: int = 5432, **params: Any) -> Any:
    """A pg8000 connection (the DB-API module SQLAlchemy's dialect uses), ready for statements.

    `params` are what SQLAlchemy derived from the URL (user, password, database). Failures to reach
    the server are raised as pg8000's InterfaceError, so SQLAlchemy reports them as disconnects.
    """
    deadline = time.monotonic() + options.refused_retry
    backoff = FIRST_BACKOFF_SECONDS
    while True:
        try:
            return _connect_once(options, context, host=host, port=port, **params)
        except Exception as error:
            if not _refused(error) or time.monotonic() + backoff > deadline:
                raise
        time.sleep(backoff)
        backoff *= 2


def sqlstate(error: BaseException) -> str:
    """The SQLSTATE of a pg8000 error (it carries the server's fields as a dict), or of the pg8000 error a
    SQLAlchemy error wraps; "" for anything else."""
    for candidate in (error, getattr(error, "orig", None)):
        args = getattr(candidate, "args", ())
        if args and isinstance(args[0], dict):
            return str(args[0].get("C", ""))
    return ""


def _refused(error: BaseException) -> bool:
    """Nothing listens, or Postgres says it cannot take connections yet (or any more)."""
    return isinstance(error.__cause__, ConnectionRefusedError) or sqlstate(error) == CANNOT_CONNECT_NOW


def _connect_once(options: ConnectOptions, context: ssl.SSLContext | None, *, host: str, port: int,
                  **params: Any) -> Any:
    sock: socket.socket | None = None
    try:
        sock = socket.create_connection((host, port), timeout=options.connect_timeout)
        if context is not None:
            sock = start_tls(sock, context, host)
        connection = pg8000.Connection(host=host, port=port, sock=sock, ssl_context=False,
                                       startup_params=dict(options.startup_params), **params)
    except OSError as error:  # refused, timed out, TLS verification failed, reset during startup
        if sock is not None:
            sock.close()
        raise pg8000.InterfaceError(f"cannot connect to the database at {host}:{port}: {error}") from error
    except BaseException:
        if sock is not None:
            sock.close()
        raise
    sock.settimeout(options.read_timeout)
    return connection
