"""SQLAlchemy Core queries on `users`. Returns domain objects, raises typed errors, never leaks rows."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Select, delete, func, insert, literal, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from shared.errors import Conflict, EmailAlreadyRegistered, NotFound
from shared.paging import Page
from shared.pg_schema import users
from users_api.domain import User

_PUBLIC = (users.c.id, users.c.email, users.c.name, users.c.roles, users.c.created_at, users.c.updated_at,
           users.c.token_version)
_EMAIL_UNIQUE = "users_email_key"
ADMIN = "admin"


def _user(row: Any) -> User:  # a Row with the _PUBLIC columns
    return User(id=row.id, email=row.email, name=row.name, roles=tuple(row.roles), created_at=row.created_at,
                updated_at=row.updated_at, token_version=row.token_version)


def _is_email_conflict(error: IntegrityError) -> bool:
    return _EMAIL_UNIQUE in str(error.orig)


def insert_user(connection: Connection, *, email: str, name: str, password_hash: str) -> User:
    """A new `user`; a duplicate email (the unique index decides, so races are safe) → 409."""
    statement = insert(users).values(email=email, name=name, password_hash=password_hash, roles=["user"])
    try:
        row = connection.execute(statement.returning(*_PUBLIC)).one()
    except IntegrityError as error:
        if _is_email_conflict(error):
            raise EmailAlreadyRegistered() from error
        raise
    return _user(row)


def find_credentials(connection: Connection, email: str) -> tuple[User, str] | None:
    row = connection.execute(select(*_PUBLIC, users.c.password_hash).where(users.c.email == email)).one_or_none()
    return None if row is None else (_user(row), row.password_hash)


def password_hash_of(connection: Connection, user_id: UUID) -> str | None:
    return connection.execute(select(users.c.password_hash).where(users.c.id == user_id)).scalar_one_or_none()


def get_user(connection: Connection, user_id: UUID) -> User:
    row = connection.execute(select(*_PUBLIC).where(users.c.id == user_id)).one_or_none()
    if row is None:
        raise NotFound("User not found")
    return _user(row)


def update_profile(connection: Connection, user_id: UUID, changes: dict[str, str]) -> User:
    statement = (update(users).where(users.c.id == user_id)
                 .values(**changes, updated_at=func.now()).returning(*_PUBLIC))
    try:
        row = connection.execute(statement).one_or_none()
    except IntegrityError as error:
        if _is_email_conflict(error):
            raise EmailAlreadyRegistered() from error
        raise
    if row is None:
        raise NotFound("User not found")
    return _user(row)


def set_password(connection: Connection, user_id: UUID, password_hash: str, *, expected_version: int) -> User | None:
    """New hash and a bumped token version, only if the version is still `expected_version` (None otherwise):
    every token issued before stops working, and of two racing changes only the first one lands."""
    row = connection.execute(
        update(users).where(users.c.id == user_id, users.c.token_version == expected_version)
        .values(password_hash=password_hash, token_version=users.c.token_version + 1, updated_at=func.now())
        .returning(*_PUBLIC)
    ).one_or_none()
    return None if row is None else _user(row)


def _lock_admins(connection: Connection) -> set[UUID]:
    """Lock every admin row until commit, so two demotions/deletions can't both pass the check.

    Always taken first and in id order, so concurrent admin operations queue instead of
    deadlocking. Under READ COMMITTED a waiting lock re-checks the condition on the committed
    row, so an admin demoted by the transaction we waited for is no longer counted.
    `FOR NO KEY UPDATE` leaves order inserts (FK key-share locks) unblocked.
    """
    query = (select(users.c.id).where(literal(ADMIN) == func.any(users.c.roles)).order_by(users.c.id)
             .with_for_update(key_share=True))
    return set(connection.execute(query).scalars())


def _locked_user(connection: Connection, user_id: UUID, *, for_delete: bool = False) -> User:
    query = select(*_PUBLIC).where(users.c.id == user_id).with_for_update(key_share=not for_delete)
    row = connection.execute(query).one_or_none()
    if row is None:
        raise NotFound("User not found")
    return _user(row)


def _guard_last_admin(admins: set[UUID], user: User, losing_admin: bool) -> None:
    if losing_admin and ADMIN in user.roles and not admins - {user.id}:
        raise Conflict("The last admin cannot be demoted or deleted")


def set_roles(connection: Connection, user_id: UUID, roles: list[str]) -> User:
    """Replace roles; a real change bumps the token version (old tokens carry stale roles)."""
    admins = _lock_admins(connection)
    current = _locked_user(connection, user_id)
    if set(current.roles) == set(roles):
        return current
    _guard_last_admin(admins, current, losing_admin=ADMIN not in roles)
    row = connection.execute(
        update(users).where(users.c.id == user_id)
        .values(roles=roles, token_version=users.c.token_version + 1, updated_at=func.now())
        .returning(*_PUBLIC)
    ).one()
    return _user(row)


def delete_user(connection: Connection, user_id: UUID) -> None:
    """Delete the user; their orders go with them (ON DELETE CASCADE)."""
    admins = _lock_admins(connection)
    current = _locked_user(connection, user_id, for_delete=True)
    _guard_last_admin(admins, current, losing_admin=True)
    connection.execute(delete(users).where(users.c.id == user_id))


def escape_like(text: str) -> str:
    """`%`, `_` and the escape character itself match literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_filter(query: str) -> Any:
    pattern = f"%{escape_like(query)}%"
    return users.c.email.ilike(pattern, escape="\\") | users.c.name.ilike(pattern, escape="\\")


def page_of_users(connection: Connection, *, page: int, limit: int, where: Any = None) -> Page[User]:
    """One page ordered by creation (oldest first, id as tie-break) and the total count."""
    count_query: Select[Any] = select(func.count()).select_from(users)
    page_query = select(*_PUBLIC).order_by(users.c.created_at, users.c.id)
    if where is not None:
        count_query, page_query = count_query.where(where), page_query.where(where)
    total = int(connection.execute(count_query).scalar_one())
    offset = (page - 1) * limit
    if offset >= total:  # also keeps absurd page numbers away from Postgres' bigint OFFSET
        return Page([], total, page, limit)
    rows = connection.execute(page_query.limit(limit).offset(offset)).all()
    return Page([_user(row) for row in rows], total, page, limit)
