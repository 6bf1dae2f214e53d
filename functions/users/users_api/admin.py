"""Admin use cases: list, search, read, change roles, delete (the last admin is protected)."""

from __future__ import annotations

from uuid import UUID

from shared import db
from shared.errors import ValidationFailed
from shared.paging import Page
from shared.text import CONTROL_CHARACTERS, is_utf8
from users_api import repository
from users_api.domain import User
from users_api.models import RolesUpdate

SEARCH_MAX = 100


def list_users(page: int, limit: int) -> Page[User]:
    return db.read(lambda connection: repository.page_of_users(connection, page=page, limit=limit))


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


def search_users(raw_query: str, page: int, limit: int) -> Page[User]:
    where = repository.search_filter(search_term(raw_query))
    return db.read(lambda connection: repository.page_of_users(connection, page=page, limit=limit, where=where))


def get_user(user_id: UUID) -> User:
    return db.read(lambda connection: repository.get_user(connection, user_id))


def set_roles(user_id: UUID, request: RolesUpdate) -> User:
    return db.write(lambda connection: repository.set_roles(connection, user_id, request.canonical()))


def delete_user(user_id: UUID) -> None:
    db.write(lambda connection: repository.delete_user(connection, user_id))
