"""Request models of the users routes (unknown fields rejected) and the rules they apply.

Decisions (documented here and in the project docs):
- Email: stripped and lower-cased, then a syntax check only (ASCII local part and domain, a dot
  in the domain, at most 254 characters); no DNS lookup.
- Name: surrounding whitespace stripped, then 1-100 characters, no control characters.
- Password: 8-72 bytes of UTF-8 (bcrypt's limit), checked before bcrypt ever sees it.
- Roles: a non-empty subset of `user`/`admin`; duplicates collapse; stored as ["user", "admin"] order.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema, model_validator

from shared.auth.passwords import password_problem
from shared.text import printable_text, utf8_text

ROLE_ORDER = ("user", "admin")
NAME_MAX = 100
EMAIL_MAX = 254
_EMAIL = re.compile(
    r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
)


def normalise_email(value: str) -> str:
    return value.strip().lower()


def is_valid_email(email: str) -> bool:
    local = email.partition("@")[0]
    return len(email) <= EMAIL_MAX and len(local) <= 64 and _EMAIL.fullmatch(email) is not None


def _email(value: str) -> str:
    email = normalise_email(utf8_text(value))
    if not is_valid_email(email):
        raise ValueError("must be a valid email address")
    return email


def _name(value: str) -> str:
    name = utf8_text(value).strip()
    if not 1 <= len(name) <= NAME_MAX:
        raise ValueError(f"must be 1 to {NAME_MAX} characters after trimming whitespace")
    return printable_text(name)


def _new_password(value: str) -> str:
    problem = password_problem(value)
    if problem:
        raise ValueError(problem)
    return value


# What the OpenAPI document tells clients. A schema keyword appears only where every value it
# refuses is refused here too (fuzzing holds us to that); rules applied after trimming, or counted
# in bytes, are given in words and held by the validators.
Email = Annotated[str, AfterValidator(_email),
                  WithJsonSchema({"type": "string", "description": "An email address of at most 254 characters "
                                  "(ASCII, a dot in the domain), stored trimmed and lower-cased"})]
Name = Annotated[str, AfterValidator(_name),
                 WithJsonSchema({"type": "string", "minLength": 1,
                                 "description": "1-100 characters after trimming, no control characters"})]
# In characters only what the byte rule implies: 8 bytes can be 2 characters, 72 bytes at most 72.
NewPassword = Annotated[str, AfterValidator(_new_password),
                        WithJsonSchema({"type": "string", "minLength": 2, "maxLength": 72,
                                        "description": "8-72 bytes of UTF-8 (bcrypt's limit)"})]
# Credentials presented for checking: any text. One no account can have (over 72 bytes, not UTF-8) is
# simply a wrong password (401), never a 400 that reveals the rules; the 1 MiB body limit bounds its size.
GivenPassword = str
Role = Literal["user", "admin"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterRequest(Strict):
    email: Email
    password: NewPassword
    name: Name


class LoginRequest(Strict):
    email: str  # any text: an address no account has is wrong credentials (401), whatever its form
    password: GivenPassword


class ProfileUpdate(Strict):
    name: Name | None = None
    email: Email | None = None

    @model_validator(mode="after")
    def _at_least_one(self) -> ProfileUpdate:
        if not self.model_fields_set:
            raise ValueError("give at least one of name, email")
        if any(getattr(self, field) is None for field in self.model_fields_set):
            raise ValueError("name and email cannot be null")
        return self


class PasswordChange(Strict):
    current_password: GivenPassword
    new_password: NewPassword


class RolesUpdate(Strict):
    roles: Annotated[list[Role], Field(min_length=1, max_length=10)]

    def canonical(self) -> list[str]:
        return [role for role in ROLE_ORDER if role in self.roles]
