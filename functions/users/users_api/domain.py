"""The users function's domain objects, as use cases return them (never rows, never response bodies)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


@dataclass(frozen=True)
class User:
    id: UUID
    email: str
    name: str
    roles: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    token_version: int = 0


@dataclass(frozen=True)
class IssuedToken:
    """A fresh bearer token for `user`, valid for `expires_in` seconds."""

    token: str
    expires_in: int
    user: User
