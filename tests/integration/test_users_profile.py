"""GET/PUT /v1/users/profile and PUT /v1/users/password: own data only, revocation on password change."""

from __future__ import annotations

import pytest

from tests.support import users as factories
from tests.support.api import ApiClient
from tests.support.users import DEFAULT_PASSWORD, make_user

USER_FIELDS = {"id", "email", "name", "roles", "created_at", "updated_at"}


@pytest.fixture
def ann(api: ApiClient) -> factories.SeededUser:
    return make_user(api.env_overrides["DATABASE_URL"], email="ann@example.com", name="Ann")


@pytest.fixture
def bob(api: ApiClient) -> factories.SeededUser:
    return make_user(api.env_overrides["DATABASE_URL"], email="bob@example.com", name="Bob")


def login(api: ApiClient, email: str, password: str) -> int:
    return api.post("/v1/users/login", json={"email": email, "password": password}).status


def test_profile_is_the_callers_own_user(api: ApiClient, ann: factories.SeededUser,
                                         bob: factories.SeededUser) -> None:
    # Given two users / When each reads the profile
    for user in (ann, bob):
        response = api.get("/v1/users/profile", token=user.token)
        # Then each sees only themselves, in the public shape
        assert response.status == 200
        assert set(response.data["user"]) == USER_FIELDS
        assert response.data["user"]["id"] == str(user.id)


def test_profile_without_token_is_401(api: ApiClient) -> None:
    response = api.get("/v1/users/profile")
    assert response.status == 401
    assert response.error["code"] == "UNAUTHORIZED"


def test_update_profile_name_and_email(api: ApiClient, ann: factories.SeededUser) -> None:
    # When Ann changes name and email (mixed case)
    response = api.put("/v1/users/profile", json={"name": " Ann Lee ", "email": "Ann.Lee@Example.com"}, token=ann.token)
    # Then both change, normalised, and updated_at moves
    assert response.status == 200, response.body
    user = response.data["user"]
    assert (user["name"], user["email"]) == ("Ann Lee", "ann.lee@example.com")
    assert user["updated_at"] > user["created_at"]
    # And the old token still works (an email change does not revoke) and the new email logs in
    assert api.get("/v1/users/profile", token=ann.token).data["user"]["email"] == "ann.lee@example.com"
    assert login(api, "ANN.LEE@example.com", DEFAULT_PASSWORD) == 200


def test_update_profile_to_a_taken_email_is_409(api: ApiClient, ann: factories.SeededUser,
                                                 bob: factories.SeededUser) -> None:
    # When Ann tries to take Bob's email in another case
    response = api.put("/v1/users/profile", json={"email": "BOB@example.com"}, token=ann.token)
    # Then 409 and nothing changed
    assert response.status == 409
    assert response.error["code"] == "EMAIL_ALREADY_REGISTERED"
    assert api.get("/v1/users/profile", token=ann.token).data["user"]["email"] == "ann@example.com"


def test_update_profile_to_own_email_is_fine(api: ApiClient, ann: factories.SeededUser) -> None:
    response = api.put("/v1/users/profile", json={"email": "ANN@example.com"}, token=ann.token)
    assert response.status == 200


@pytest.mark.parametrize("body", [
    {}, {"name": None}, {"name": ""}, {"email": "nope"}, {"roles": ["admin"]}, {"name": "x", "id": "other"},
    {"name": "x", "password": "newpassword"}, {"name": "x" * 101},
])
def test_update_profile_rejects_bad_bodies(api: ApiClient, ann: factories.SeededUser, body: dict[str, object]) -> None:
    # Given an empty, invalid or mass-assigning body / Then 400, and Ann is unchanged
    response = api.put("/v1/users/profile", json=body, token=ann.token)
    assert response.status == 400, response.body
    assert response.error["code"] == "VALIDATION_ERROR"
    profile = api.get("/v1/users/profile", token=ann.token).data["user"]
    assert (profile["name"], profile["roles"]) == ("Ann", ["user"])


def test_change_password_returns_a_fresh_token_and_revokes_old_ones(api: ApiClient, ann: factories.SeededUser) -> None:
    # When Ann changes her password to a 72-byte multi-byte one
    new_password = "€" * 24
    response = api.put("/v1/users/password", json={"current_password": DEFAULT_PASSWORD,
                                                    "new_password": new_password}, token=ann.token)
    # Then 200 with a new bearer token
    assert response.status == 200, response.body
    data = response.data
    assert (data["token_type"], data["expires_in"], data["user"]["id"]) == ("Bearer", 86400, str(ann.id))
    # And the old token is revoked while the new one works
    old = api.get("/v1/users/profile", token=ann.token)
    assert old.status == 401 and old.error["code"] == "UNAUTHORIZED"
    assert api.get("/v1/users/profile", token=data["token"]).status == 200
    # And only the new password logs in
    assert login(api, "ann@example.com", DEFAULT_PASSWORD) == 401
    assert login(api, "ann@example.com", new_password) == 200


def test_change_password_with_wrong_current_password_is_401(api: ApiClient, ann: factories.SeededUser) -> None:
    for current in ("wrong password", "a" * 73):
        response = api.put("/v1/users/password", json={"current_password": current,
                                                        "new_password": "another password"}, token=ann.token)
        assert response.status == 401
        assert response.error["code"] == "INVALID_CREDENTIALS"
    # And nothing was revoked
    assert api.get("/v1/users/profile", token=ann.token).status == 200


@pytest.mark.parametrize(("new_password", "status"), [("a" * 73, 400), ("€" * 24 + "a", 400), ("short", 400),
                                                      ("a" * 72, 200)])
def test_change_password_new_password_byte_limits(api: ApiClient, ann: factories.SeededUser, new_password: str,
                                                  status: int) -> None:
    response = api.put("/v1/users/password", json={"current_password": DEFAULT_PASSWORD,
                                                    "new_password": new_password}, token=ann.token)
    assert response.status == status, response.body


@pytest.mark.parametrize("body", [{"new_password": "another password"}, {"current_password": DEFAULT_PASSWORD},
                                  {"current_password": DEFAULT_PASSWORD, "new_password": "another password",
                                   "user_id": "someone-else"}])
def test_change_password_bad_bodies_are_400(api: ApiClient, ann: factories.SeededUser, body: dict[str, str]) -> None:
    assert api.put("/v1/users/password", json=body, token=ann.token).status == 400


def test_change_password_without_token_is_401(api: ApiClient) -> None:
    response = api.put("/v1/users/password", json={"current_password": DEFAULT_PASSWORD,
                                                    "new_password": "another password"})
    assert response.status == 401


def test_no_route_lets_a_user_touch_another_users_data(api: ApiClient, ann: factories.SeededUser,
                                                       bob: factories.SeededUser) -> None:
    # Given Ann, a plain user, who knows Bob's id
    attempts = [
        api.get(f"/v1/users/{bob.id}", token=ann.token),
        api.put(f"/v1/users/{bob.id}/roles", json={"roles": ["user", "admin"]}, token=ann.token),
        api.put(f"/v1/users/{ann.id}/roles", json={"roles": ["user", "admin"]}, token=ann.token),
        api.delete(f"/v1/users/{bob.id}", token=ann.token),
        api.get("/v1/users", token=ann.token),
        api.get("/v1/users/search", query={"query": "bob"}, token=ann.token),
    ]
    # Then every attempt is 403 and reveals nothing about Bob
    for response in attempts:
        assert response.status == 403, response.body
        assert response.error["code"] == "FORBIDDEN"
        assert "bob" not in response.body
    # And Bob is untouched, Ann did not promote herself
    bob_profile = api.get("/v1/users/profile", token=bob.token)
    assert bob_profile.status == 200 and bob_profile.data["user"]["name"] == "Bob"
    assert api.get("/v1/users/profile", token=ann.token).data["user"]["roles"] == ["user"]
    # And the profile routes only ever act on the token's own user
    api.put("/v1/users/profile", json={"name": "Hacked"}, token=ann.token, query={"user_id": str(bob.id)})
    assert api.get("/v1/users/profile", token=bob.token).data["user"]["name"] == "Bob"


def test_racing_password_changes_with_one_token_let_only_one_win(api: ApiClient, ann: factories.SeededUser,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # Given two password changes by the same authenticated caller (same token, same current password),
    # both past the password check before either writes: the interleaving a thief racing the owner needs.
    # Driven at the use case, as two Lambda containers would run it (a handler serves one request at a time).
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from shared.auth.principal import authenticate
    from shared.errors import Unauthorized
    from users_api import accounts
    from users_api.models import PasswordChange

    assert api.get("/v1/users/profile", token=ann.token).status == 200  # loads the function's environment
    principal = authenticate(f"Bearer {ann.token}")
    both_checked = Barrier(2, timeout=10)
    real_verify = accounts.verify_password

    def verify_then_wait(password: str, password_hash: str | None) -> bool:
        outcome = real_verify(password, password_hash)
        both_checked.wait()
        return outcome

    monkeypatch.setattr(accounts, "verify_password", verify_then_wait)

    def change(new_password: str) -> str:
        try:
            accounts.change_password(principal, PasswordChange(current_password=DEFAULT_PASSWORD,
                                                               new_password=new_password))
        except Unauthorized:
            return "401"
        return "200"

    # When both write
    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = dict(zip(("owner", "thief"), pool.map(change, ["owner-new-password", "thief-new-password"]),
                            strict=True))
    monkeypatch.undo()
    # Then exactly one wins; the other is refused as revoked and gets no token
    assert sorted(outcomes.values()) == ["200", "401"], outcomes
    winner = next(name for name, outcome in outcomes.items() if outcome == "200")
    loser = "thief" if winner == "owner" else "owner"
    # And only the winner's password works now, and the old token is revoked
    assert login(api, "ann@example.com", f"{winner}-new-password") == 200
    assert login(api, "ann@example.com", f"{loser}-new-password") == 401
    assert api.get("/v1/users/profile", token=ann.token).status == 401


def test_password_changes_have_a_per_user_budget_that_spares_others(
        api: ApiClient, ann: factories.SeededUser, bob: factories.SeededUser, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the default password-change budget (10 per minute per user) and a spy on bcrypt
    from shared.auth import passwords

    calls: list[bytes] = []
    real = passwords.bcrypt.checkpw
    monkeypatch.setattr(passwords.bcrypt, "checkpw", lambda given, stored: calls.append(given) or real(given, stored))
    wrong = {"current_password": "wrong password", "new_password": "another password"}
    # When one user sends 12 wrong-password changes
    statuses = [api.put("/v1/users/password", json=wrong, token=ann.token).status for _ in range(12)]
    # Then the first 10 are checked (401) and the rest refused before any bcrypt work (429)
    assert statuses == [401] * 10 + [429] * 2
    assert len(calls) == 10
    refused = api.put("/v1/users/password", json=wrong, token=ann.token)
    assert refused.headers["X-RateLimit-Limit"] == "10" and int(refused.headers["Retry-After"]) <= 60
    # And another user's budget is untouched
    assert api.put("/v1/users/password", json=wrong, token=bob.token).status == 401
    assert api.get("/v1/users/profile", token=bob.token).status == 200
