"""Admin use cases: list, search, read, change roles, delete (the last admin is protected)."""

from __future__ import annotations

import math
from typing import Any
from uuid import UUID

from shared import db
from shared.errors import ValidationFailed
from shared.text import CONTROL_CHARACTERS, is_utf8
from users_api import repository
from users_api.models import RolesUpdate, User, user_view

SEARCH_MAX = 100


def _page(users: list[User], total: int, page: int, limit: int) -> dict[str, Any]:
    return {
        "users": [user_view(user) for user in users],
        "pagination": {"page": page, "limit": limit, "total": total, "pages": math.ceil(total / limit)},
    }


def list_users(page: int, limit: int) -> dict[str, Any]:
    users, total = db.read(lambda connection: repository.page_of_users(connection, page=page, limit=limit))
    return _page(users, total, page, limit)


def search_term(raw: str) -> str:
    """The query stripped of surrounding whitespace: 1-100 characters, no control characters."""
    term = raw.strip()
    if not 1 <= len(term) <= SEARCH_MAX or CONTROL_CHARACTERS.search(term) or not is_utf8(term):
        raise ValidationFailed(details=[{
            "field": "query",
            "message": f"must be 1 to {SEARCH_MAX} characters without control characters",
            "type": "value_error",
        }])
    return term


def search_users(raw_query: str, page: int, limit: int) -> dict[str, Any]:
    where = repository.search_filter(search_term(raw_query))
    users, total = db.read(lambda connection: repository.page_of_users(connection, page=page, limit=limit,
                                                                        where=where))
    return _page(users, total, page, limit)


def get_user(user_id: UUID) -> User:
    return db.read(lambda connection: repository.get_user(connection, user_id))


def set_roles(user_id: UUID, request: RolesUpdate) -> User:
    return db.write(lambda connection: repository.set_roles(connection, user_id, request.canonical()))


def delete_user(user_id: UUID) -> dict[str, Any]:
    db.write(lambda connection: repository.delete_user(connection, user_id))
    return {"deleted": True, "id": str(user_id)}
