"""users_api.models and the pure helpers: normalisation, validation, mass assignment, LIKE escaping."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from shared.errors import ValidationFailed
from users_api.admin import search_term
from users_api.domain import User
from users_api.models import (
    LoginRequest,
    PasswordChange,
    ProfileUpdate,
    RegisterRequest,
    RolesUpdate,
)
from users_api.output import UserOut
from users_api.repository import escape_like

VALID = {"email": "Ann@Example.com", "password": "password123", "name": "Ann"}


def test_register_normalises_email_and_trims_name() -> None:
    # Given an email with spaces and capitals and a padded name
    request = RegisterRequest.model_validate({**VALID, "email": "  Ann.Lee+x@Example.COM ", "name": "  Ann  "})
    # Then the stored forms are lower-case and trimmed
    assert request.email == "ann.lee+x@example.com"
    assert request.name == "Ann"


@pytest.mark.parametrize("extra", [{"roles": ["admin"]}, {"id": str(uuid.uuid4())}, {"token_version": 9}])
def test_register_rejects_unknown_fields(extra: dict[str, object]) -> None:
    # Given a register body trying to set server-owned fields (mass assignment) / Then it is invalid
    with pytest.raises(ValidationError):
        RegisterRequest.model_validate({**VALID, **extra})


@pytest.mark.parametrize("email", [
    "", "plain", "a@b", "a@b.c", "@example.com", "a@@example.com", "a b@example.com", "a@exa mple.com",
    "a..b@example.com", ".a@example.com", "a@-example.com", "a@example..com", "ä@example.com",
    "a\x00@example.com", "x" * 65 + "@example.com", "a@" + "b" * 250 + ".com", "\ud800@example.com",
])
def test_invalid_emails_are_rejected(email: str) -> None:
    with pytest.raises(ValidationError):
        RegisterRequest.model_validate({**VALID, "email": email})


@pytest.mark.parametrize("email", ["a@b.co", "first.last+tag@sub.example.org", "o'neil@example.ie", "x_y-z@a-b.io"])
def test_reasonable_emails_are_accepted(email: str) -> None:
    assert RegisterRequest.model_validate({**VALID, "email": email}).email == email.lower()


@pytest.mark.parametrize(("name", "ok"), [
    ("A", True), ("x" * 100, True), ("x" * 101, False), ("", False), ("   ", False), ("  x  ", True),
    ("Zoë 李", True), ("bad\x00name", False), ("tab\there", False), (42, False), (None, False),
])
def test_name_rules(name: object, ok: bool) -> None:
    body = {**VALID, "name": name}
    if ok:
        assert RegisterRequest.model_validate(body).name == str(name).strip()
    else:
        with pytest.raises(ValidationError):
            RegisterRequest.model_validate(body)


@pytest.mark.parametrize(("password", "ok"), [
    ("a" * 8, True), ("a" * 7, False), ("a" * 72, True), ("a" * 73, False), ("€" * 24, True), ("€" * 24 + "a", False),
])
def test_new_password_byte_rule(password: str, ok: bool) -> None:
    for build in (lambda: RegisterRequest.model_validate({**VALID, "password": password}),
                  lambda: PasswordChange.model_validate({"current_password": "x", "new_password": password})):
        if ok:
            build()
        else:
            with pytest.raises(ValidationError):
                build()


def test_login_accepts_any_text_so_wrong_lengths_are_just_wrong_credentials() -> None:
    # Given an over-long password and a malformed email / Then the model accepts them (→ 401 later, not 400)
    request = LoginRequest.model_validate({"email": "not-an-email", "password": "€" * 30})
    assert request.password == "€" * 30


@pytest.mark.parametrize("body", [{}, {"name": None}, {"email": None, "name": "x"}, {"roles": ["admin"]},
                                  {"name": "x", "password": "newpassword1"}])
def test_profile_update_needs_one_real_field_and_nothing_else(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ProfileUpdate.model_validate(body)


def test_profile_update_keeps_only_given_fields() -> None:
    request = ProfileUpdate.model_validate({"email": " New@Example.com "})
    assert request.model_dump(include=request.model_fields_set) == {"email": "new@example.com"}


@pytest.mark.parametrize(("roles", "canonical"), [
    (["admin", "user"], ["user", "admin"]), (["user", "user"], ["user"]), (["admin"], ["admin"]),
])
def test_roles_are_a_canonical_subset(roles: list[str], canonical: list[str]) -> None:
    assert RolesUpdate.model_validate({"roles": roles}).canonical() == canonical


@pytest.mark.parametrize("roles", [[], ["superuser"], ["Admin"], "admin", None, [1]])
def test_invalid_roles_are_rejected(roles: object) -> None:
    with pytest.raises(ValidationError):
        RolesUpdate.model_validate({"roles": roles})


def test_the_user_output_never_exposes_secrets() -> None:
    # Given a domain user with a token version
    now = datetime.now(UTC)
    user = User(id=uuid.uuid4(), email="a@example.com", name="A", roles=("user",), created_at=now, updated_at=now,
                token_version=7)
    # Then the public shape has exactly the six documented fields
    public = UserOut.model_validate(user).model_dump()
    assert set(public) == {"id", "email", "name", "roles", "created_at", "updated_at"}


@pytest.mark.parametrize(("raw", "escaped"), [
    ("100%_off", "100\\%\\_off"), ("a\\b", "a\\\\b"), ("plain", "plain"), ("%_", "\\%\\_"),
])
def test_like_escaping(raw: str, escaped: str) -> None:
    assert escape_like(raw) == escaped


@pytest.mark.parametrize(("raw", "term"), [(" ann ", "ann"), ("x" * 100, "x" * 100)])
def test_search_term_is_trimmed(raw: str, term: str) -> None:
    assert search_term(raw) == term


@pytest.mark.parametrize("raw", ["   ", "x" * 101, "a\x00b"])
def test_bad_search_terms_are_validation_errors(raw: str) -> None:
    with pytest.raises(ValidationFailed):
        search_term(raw)
