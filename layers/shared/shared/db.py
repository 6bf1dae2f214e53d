"""The functions' database API: `db.read(work)` and `db.write(work)` on this container's Postgres.

`work` is a function of an open SQLAlchemy Connection (repositories take one); see shared.database for
what the two do, the breaker around them and the retry of a dead pooled connection.
"""

from __future__ import annotations

from typing import TypeVar

from shared.database import Work
from shared.dependencies import dependencies

T = TypeVar("T")


def read(work: Work[T]) -> T:
    return dependencies().database.read(work)


def write(work: Work[T]) -> T:
    return dependencies().database.write(work)


def ping() -> None:
    dependencies().database.ping()
