"""What the users routes return, for openapi.json (documentation only; see shared.openapi_models)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel

from shared.openapi_models import DeletedEnvelope, Pagination, documented, error_statuses

CONFLICT_EMAIL = {409: "EMAIL_ALREADY_REGISTERED: the email is taken (case-insensitive)"}
CONFLICT_LAST_ADMIN = {409: "CONFLICT: the last admin cannot be demoted or deleted"}
BAD_CREDENTIALS = {401: "INVALID_CREDENTIALS: wrong email or password"}
BAD_TOKEN_OR_PASSWORD = {401: "UNAUTHORIZED (bad token) or INVALID_CREDENTIALS (wrong current password)"}


class UserView(BaseModel):
    id: UUID
    email: str
    name: str
    roles: list[Literal["user", "admin"]]
    created_at: datetime
    updated_at: datetime


class UserData(BaseModel):
    user: UserView


class UserEnvelope(BaseModel):
    success: Literal[True]
    data: UserData


class TokenData(BaseModel):
    token: str
    token_type: Literal["Bearer"]
    expires_in: int
    user: UserView


class TokenEnvelope(BaseModel):
    success: Literal[True]
    data: TokenData


class UserPage(BaseModel):
    users: list[UserView]
    pagination: Pagination


class UserPageEnvelope(BaseModel):
    success: Literal[True]
    data: UserPage


REGISTER = documented(201, "The new user", UserEnvelope, *error_statuses(body=True, database=True), 409,
                      overrides=CONFLICT_EMAIL)
LOGIN = documented(200, "A token and the user", TokenEnvelope, *error_statuses(body=True, database=True), 401,
                   overrides=BAD_CREDENTIALS)
GET_PROFILE = documented(200, "The caller", UserEnvelope, *error_statuses(auth=True, database=True), 404)
UPDATE_PROFILE = documented(200, "The updated caller", UserEnvelope,
                            *error_statuses(body=True, auth=True, database=True), 404, 409, overrides=CONFLICT_EMAIL)
CHANGE_PASSWORD = documented(200, "A fresh token; older tokens stop working", TokenEnvelope,
                             *error_statuses(body=True, auth=True, database=True), 404,
                             overrides=BAD_TOKEN_OR_PASSWORD)
LIST_USERS = documented(200, "One page of users", UserPageEnvelope, *error_statuses(params=True, admin=True,
                                                                                    database=True))
SEARCH_USERS = LIST_USERS
GET_USER = documented(200, "The user", UserEnvelope, *error_statuses(params=True, admin=True, database=True), 404)
SET_ROLES = documented(200, "The user with new roles", UserEnvelope,
                       *error_statuses(body=True, params=True, admin=True, database=True), 404, 409,
                       overrides=CONFLICT_LAST_ADMIN)
DELETE_USER = documented(200, "The user and their orders are deleted", DeletedEnvelope,
                         *error_statuses(params=True, admin=True, database=True), 404, 409,
                         overrides=CONFLICT_LAST_ADMIN)
