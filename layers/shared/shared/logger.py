"""The one structured logger of every function, at the bottom of the layer (it imports only pgconnect, a leaf).

Powertools' Logger writes one JSON object per line; every module logs through this instance, so the
request keys appended by the request guard appear on every line of that request. Libraries that log
through the standard `logging` module (SQLAlchemy's pool) would write plain text lines: they are
kept quiet below CRITICAL where their messages are expected and handled (a connection the server
already closed).

Unexpected errors are logged with their traceback, but a database error's message is withheld: a
driver's message quotes the failing row (an email, a password hash), SQLAlchemy's the parameters.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator

from aws_lambda_powertools import Logger

from shared.pgconnect import sqlstate

logger = Logger(use_rfc3339=True)

logging.getLogger("sqlalchemy.pool").setLevel(logging.CRITICAL)

_DATABASE_MODULES = ("sqlalchemy", "pg8000")


def log_unexpected(error: BaseException) -> None:
    """An error no handler expected: its type and a traceback that quotes no data."""
    logger.error("unhandled error", extra={"exception_name": type(error).__name__,
                                           "exception": safe_traceback(error)})


def safe_traceback(error: BaseException) -> str:
    """The traceback of `error` and of what caused it, with database errors' messages withheld."""
    parts: list[str] = []
    for link in reversed(list(_causes(error))):
        parts.extend(traceback.format_tb(link.__traceback__))
        parts.append(f"{type(link).__module__}.{type(link).__qualname__}: {_safe_message(link)}\n")
    return "".join(parts)


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    link: BaseException | None = error
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        yield link
        link = link.__cause__ or link.__context__


def _safe_message(error: BaseException) -> str:
    if type(error).__module__.split(".")[0] not in _DATABASE_MODULES:
        return str(error)
    return f"[database message withheld] SQLSTATE {sqlstate(error) or '-'}"

