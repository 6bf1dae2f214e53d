"""shared.auth.principal: revocation and roles come from the database row, not from the token."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from shared.auth import principal as principal_module
from shared.auth.principal import Principal, admin_only, authenticate, current_principal
from shared.auth.tokens import issue_token
from shared.dependencies import reset
from shared.errors import Forbidden, Unauthorized

USER_ID = uuid.uuid4()
CREATED = datetime(2026, 1, 1, tzinfo=UTC)


def account_row(roles: list[str], token_version: int) -> SimpleNamespace:
    return SimpleNamespace(email="a@example.com", name="A", roles=roles, created_at=CREATED, updated_at=CREATED,
                           token_version=token_version)


def principal(roles: tuple[str, ...], token_version: int = 0) -> Principal:
    return Principal(user_id=USER_ID, email="a@example.com", roles=roles, name="A", created_at=CREATED,
                     updated_at=CREATED, token_version=token_version)


@pytest.fixture(autouse=True)
def secret_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("JWT_SECRET", "principal-unit-secret-long-enough-0123456789abcdef")
    reset()
    yield
    reset()


def stored_row(monkeypatch: pytest.MonkeyPatch, row: Any) -> None:
    """Make the users lookup return `row` without a database."""
    connection = SimpleNamespace(execute=lambda _query, _params=None: SimpleNamespace(one_or_none=lambda: row))
    monkeypatch.setattr(principal_module.db, "read", lambda work: work(connection))


def test_roles_come_from_the_row_not_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a token claiming admin for a user whose row says plain user, same version
    stored_row(monkeypatch, account_row(["user"], 2))
    token = issue_token(USER_ID, "a@example.com", ["user", "admin"], 2)
    # When authenticated
    who = authenticate(f"Bearer {token}")
    # Then the principal has the stored roles only
    assert who == principal(("user",), token_version=2)
    assert who.is_admin is False


@pytest.mark.parametrize("row", [None, account_row(["user"], 3)])
def test_deleted_user_or_bumped_version_is_revoked(monkeypatch: pytest.MonkeyPatch, row: Any) -> None:
    # Given the row is gone, or its token_version moved past the token's
    stored_row(monkeypatch, row)
    token = issue_token(USER_ID, "a@example.com", ["user"], 2)
    # Then the token is refused
    with pytest.raises(Unauthorized, match="revoked"):
        authenticate(f"Bearer {token}")


def test_missing_header_never_reaches_the_database(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(_work: object) -> None:
        raise AssertionError("database touched")

    monkeypatch.setattr(principal_module.db, "read", explode)
    with pytest.raises(Unauthorized):
        authenticate(None)


def test_current_principal_and_admin_only_read_the_router_context() -> None:
    # Given a router with no principal in its context
    router = APIGatewayRouter()
    router.context = {}
    # Then asking for the caller is 401
    with pytest.raises(Unauthorized):
        current_principal(router)
    # And with a plain user the admin gate is 403 while an admin passes through
    router.context = {"principal": principal(("user",))}
    with pytest.raises(Forbidden):
        admin_only(router, lambda _app: "next")  # type: ignore[arg-type]
    router.context = {"principal": principal(("user", "admin"))}
    assert admin_only(router, lambda _app: "next") == "next"  # type: ignore[arg-type]
