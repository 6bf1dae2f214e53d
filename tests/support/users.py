"""Factories for users and tokens, straight through the database (no HTTP, no bcrypt cost)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import cache

from sqlalchemy import Engine, create_engine, insert

from shared.auth.tokens import issue_token
from shared.pg_schema import users

DEFAULT_PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class SeededUser:
    id: uuid.UUID
    email: str
    roles: tuple[str, ...]
    token: str


@cache
def factory_engine(database_url: str) -> Engine:
    """One engine per database for the factories; pre-ping because some tests restart the cluster.

    `ssl_context=False`: pg8000's default first asks the server for TLS, building a default SSL context
    (~30 ms loading the system CA store) on every connection; the test clusters have no TLS.
    """
    return create_engine(database_url, pool_pre_ping=True, connect_args={"ssl_context": False})


def make_user(database_url: str, *, email: str | None = None, name: str = "Test User",
              roles: tuple[str, ...] = ("user",), password: str = DEFAULT_PASSWORD) -> SeededUser:
    """Insert a user and return it with a valid token (JWT_SECRET must be set in the env)."""
    import bcrypt

    email = (email or f"user-{uuid.uuid4().hex[:10]}@example.com").lower()
    password_hash = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()  # cheap cost for tests
    with factory_engine(database_url).begin() as connection:
        user_id = connection.execute(
            insert(users).values(email=email, name=name, roles=list(roles), password_hash=password_hash)
            .returning(users.c.id)
        ).scalar_one()
    return SeededUser(id=user_id, email=email, roles=roles, token=issue_token(user_id, email, list(roles), 0))
