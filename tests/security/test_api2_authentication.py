"""API2:2023 Broken Authentication — only tokens this server signed, with the fixed algorithm, are accepted."""

from __future__ import annotations

import time

import jwt

from tests.support.api import ApiClient
from tests.support.users import SeededUser


def _claims(user: SeededUser) -> dict[str, object]:
    now = int(time.time())
    return {"sub": str(user.id), "user_id": str(user.id), "email": user.email, "roles": list(user.roles),
            "ver": 0, "iat": now, "exp": now + 3600}


def test_right_secret_but_another_hmac_algorithm_is_401(api: ApiClient, alice: SeededUser,
                                                         test_env: dict[str, str]) -> None:
    # Given a token signed with the real secret but HS512 (the server accepts HS256 only)
    token = jwt.encode(_claims(alice), test_env["JWT_SECRET"], algorithm="HS512")
    # When it is used / Then it is rejected like any bad token
    response = api.get("/v1/users/profile", token=token)
    assert (response.status, response.error["code"]) == (401, "UNAUTHORIZED")


def test_token_in_the_query_string_is_not_a_credential(api: ApiClient, alice: SeededUser) -> None:
    # Given a valid token passed as a query parameter instead of the Authorization header
    response = api.get("/v1/users/profile", query={"token": alice.token, "access_token": alice.token})
    # Then the request is unauthenticated
    assert (response.status, response.error["code"]) == (401, "UNAUTHORIZED")


def test_basic_and_other_schemes_are_401(api: ApiClient, alice: SeededUser) -> None:
    # Given the token under another auth scheme / When used / Then 401
    for value in (f"Basic {alice.token}", f"Token {alice.token}", alice.token):
        response = api.get("/v1/users/profile", headers={"Authorization": value})
        assert response.status == 401, value
