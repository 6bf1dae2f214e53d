"""What the users routes return: one model per shape, used to write the body and to document it.

A user leaves the service only as `UserOut`: no password hash, no token version.
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from shared.output import DeletedData, Output, Paged, Pagination, UtcDatetime, documented, error_statuses
from users_api.domain import IssuedToken

CONFLICT_EMAIL = {409: "EMAIL_ALREADY_REGISTERED: the email is taken (case-insensitive)"}
CONFLICT_LAST_ADMIN = {409: "CONFLICT: the last admin cannot be demoted or deleted"}
BAD_CREDENTIALS = {401: "INVALID_CREDENTIALS: wrong email or password"}
BAD_TOKEN_OR_PASSWORD = {401: "UNAUTHORIZED (bad token) or INVALID_CREDENTIALS (wrong current password)"}


class UserOut(Output):
    id: UUID
    email: str
    name: str
    roles: list[Literal["user", "admin"]]
    created_at: UtcDatetime
    updated_at: UtcDatetime


class UserData(Output):
    user: UserOut


class TokenData(Output):
    token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    user: UserOut

    @classmethod
    def issued(cls, token: IssuedToken) -> TokenData:
        return cls.of(token=token.token, expires_in=token.expires_in, user=token.user)


class UserPage(Paged):
    items_field = "users"
    users: list[UserOut]
    pagination: Pagination


REGISTER = documented(201, "The new user", UserData, *error_statuses(body=True, database=True), 409,
                      overrides=CONFLICT_EMAIL)
LOGIN = documented(200, "A token and the user", TokenData, *error_statuses(body=True, database=True), 401,
                   overrides=BAD_CREDENTIALS)
GET_PROFILE = documented(200, "The caller", UserData, *error_statuses(auth=True, database=True), 404)
UPDATE_PROFILE = documented(200, "The updated caller", UserData,
                            *error_statuses(body=True, auth=True, database=True), 404, 409, overrides=CONFLICT_EMAIL)
CHANGE_PASSWORD = documented(200, "A fresh token; older tokens stop working", TokenData,
                             *error_statuses(body=True, auth=True, database=True), 404,
                             overrides=BAD_TOKEN_OR_PASSWORD)
LIST_USERS = documented(200, "One page of users", UserPage, *error_statuses(params=True, admin=True,
                                                                                    database=True))
SEARCH_USERS = LIST_USERS
GET_USER = documented(200, "The user", UserData, *error_statuses(params=True, admin=True, database=True), 404)
SET_ROLES = documented(200, "The user with new roles", UserData,
                       *error_statuses(body=True, params=True, admin=True, database=True), 404, 409,
                       overrides=CONFLICT_LAST_ADMIN)
DELETE_USER = documented(200, "The user and their orders are deleted", DeletedData,
                         *error_statuses(params=True, admin=True, database=True), 404, 409,
                         overrides=CONFLICT_LAST_ADMIN)
