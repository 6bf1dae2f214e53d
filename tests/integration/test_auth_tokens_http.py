"""Bearer tokens through the users handler: forged, expired, malformed and revoked tokens are 401."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import jwt
import pytest

from tests.conftest import TEST_JWT_SECRET
from tests.support import users as factories
from tests.support.api import ApiClient
from tests.support.users import DEFAULT_PASSWORD, make_user


@pytest.fixture
def ann(api: ApiClient) -> factories.SeededUser:
    return make_user(api.env_overrides["DATABASE_URL"], email="ann@example.com")


@pytest.fixture
def admin(api: ApiClient) -> factories.SeededUser:
    return make_user(api.env_overrides["DATABASE_URL"], email="root@example.com", roles=("user", "admin"))


def claims(user: factories.SeededUser, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    payload = {"sub": str(user.id), "user_id": str(user.id), "email": user.email, "roles": list(user.roles),
               "ver": 0, "iat": now, "exp": now + 3600}
    payload.update(overrides)
    return {k: v for k, v in payload.items() if v is not None}


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def assert_unauthorized(api: ApiClient, token: str | None = None, headers: dict[str, str] | None = None) -> None:
    response = api.get("/v1/users/profile", token=token, headers=headers)
    assert response.status == 401, response.body
    assert response.error["code"] == "UNAUTHORIZED"


def test_valid_factory_token_is_accepted(api: ApiClient, ann: factories.SeededUser) -> None:
    assert api.get("/v1/users/profile", token=ann.token).status == 200


def test_alg_none_token_is_401(api: ApiClient, ann: factories.SeededUser) -> None:
    assert_unauthorized(api, f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims(ann))}.")


def test_tampered_signature_is_401(api: ApiClient, ann: factories.SeededUser) -> None:
    header, payload, signature = ann.token.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    assert_unauthorized(api, f"{header}.{payload}.{flipped}")


def test_forged_admin_roles_do_not_grant_admin(api: ApiClient, ann: factories.SeededUser) -> None:
    # Given a correctly signed token that claims admin for a plain user (e.g. a leaked secret in the past)
    token = jwt.encode(claims(ann, roles=["user", "admin"]), TEST_JWT_SECRET, algorithm="HS256")
    # Then roles come from the database: 403 on admin routes
    assert api.get("/v1/users", token=token).status == 403


def test_expired_token_is_401(api: ApiClient, ann: factories.SeededUser) -> None:
    now = int(time.time())
    assert_unauthorized(api, jwt.encode(claims(ann, iat=now - 90000, exp=now - 10), TEST_JWT_SECRET, algorithm="HS256"))


@pytest.mark.parametrize("missing", ["exp", "iat", "sub"])
def test_token_missing_a_required_claim_is_401(api: ApiClient, ann: factories.SeededUser, missing: str) -> None:
    assert_unauthorized(api, jwt.encode(claims(ann, **{missing: None}), TEST_JWT_SECRET, algorithm="HS256"))


def test_token_for_unknown_user_is_401(api: ApiClient, ann: factories.SeededUser) -> None:
    ghost = str(uuid.uuid4())
    assert_unauthorized(api, jwt.encode(claims(ann, sub=ghost, user_id=ghost), TEST_JWT_SECRET, algorithm="HS256"))


@pytest.mark.parametrize("authorization", ["", "Bearer", "Bearer ", "Basic abc", "Token abc", "bearer not.a.jwt",
                                           "Bearer " + "x" * 5000])
def test_malformed_authorization_headers_are_401(api: ApiClient, authorization: str) -> None:
    assert_unauthorized(api, headers={"Authorization": authorization})


def test_lower_case_authorization_header_is_accepted(api: ApiClient, ann: factories.SeededUser) -> None:
    assert api.get("/v1/users/profile", headers={"authorization": f"Bearer {ann.token}"}).status == 200


def test_password_change_revokes_earlier_tokens(api: ApiClient, ann: factories.SeededUser) -> None:
    # Given two tokens for Ann (factory + a login)
    login = api.post("/v1/users/login", json={"email": ann.email, "password": DEFAULT_PASSWORD}).data["token"]
    # When she changes her password
    changed = api.put("/v1/users/password", json={"current_password": DEFAULT_PASSWORD,
                                                   "new_password": "brand new password"}, token=login)
    assert changed.status == 200
    # Then both earlier tokens are revoked, the fresh one works
    assert_unauthorized(api, ann.token)
    assert_unauthorized(api, login)
    assert api.get("/v1/users/profile", token=changed.data["token"]).status == 200


def test_demoted_admins_old_token_is_revoked(api: ApiClient, admin: factories.SeededUser) -> None:
    # Given a second admin holding a token
    second = make_user(api.env_overrides["DATABASE_URL"], email="second@example.com", roles=("user", "admin"))
    assert api.get("/v1/users", token=second.token).status == 200
    # When the first admin demotes them
    assert api.put(f"/v1/users/{second.id}/roles", json={"roles": ["user"]}, token=admin.token).status == 200
    # Then their old token is revoked (401), not merely forbidden
    old = api.get("/v1/users", token=second.token)
    assert (old.status, old.error["code"]) == (401, "UNAUTHORIZED")
    # And after logging in again they are a plain user (403)
    fresh = api.post("/v1/users/login", json={"email": second.email, "password": DEFAULT_PASSWORD}).data["token"]
    assert api.get("/v1/users", token=fresh).status == 403


def test_promotion_also_revokes_so_roles_in_tokens_never_go_stale(api: ApiClient, admin: factories.SeededUser,
                                                                  ann: factories.SeededUser) -> None:
    assert api.put(f"/v1/users/{ann.id}/roles", json={"roles": ["user", "admin"]}, token=admin.token).status == 200
    assert_unauthorized(api, ann.token)


def test_unchanged_roles_do_not_revoke(api: ApiClient, admin: factories.SeededUser, ann: factories.SeededUser) -> None:
    assert api.put(f"/v1/users/{ann.id}/roles", json={"roles": ["user"]}, token=admin.token).status == 200
    assert api.get("/v1/users/profile", token=ann.token).status == 200


def test_deleted_users_token_is_401(api: ApiClient, admin: factories.SeededUser, ann: factories.SeededUser) -> None:
    assert api.delete(f"/v1/users/{ann.id}", token=admin.token).status == 200
    assert_unauthorized(api, ann.token)
    response = api.put("/v1/users/password", json={"current_password": DEFAULT_PASSWORD,
                                                    "new_password": "brand new password"}, token=ann.token)
    assert response.status == 401


def test_authentication_is_checked_before_validation(api: ApiClient, ann: factories.SeededUser) -> None:
    # Given requests that are both invalid and unauthenticated (or unauthorised)
    anonymous = [api.put("/v1/users/profile", json={}), api.get("/v1/users/search"),
                 api.put("/v1/users/password", json={"unknown": 1}), api.get("/v1/users", query={"limit": "abc"})]
    plain_user = [api.get("/v1/users", query={"limit": "abc"}, token=ann.token),
                  api.get("/v1/users/not-a-uuid", token=ann.token),
                  api.put(f"/v1/users/{ann.id}/roles", json={"roles": []}, token=ann.token)]
    # Then the caller learns nothing about validation: 401 without a token, 403 without the admin role
    assert [response.status for response in anonymous] == [401] * len(anonymous)
    assert [response.status for response in plain_user] == [403] * len(plain_user)
    # And an authenticated caller with an invalid body still gets the 400 with details
    invalid = api.put("/v1/users/profile", json={}, token=ann.token)
    assert invalid.status == 400 and invalid.error["details"]
