"""API3:2023 Broken Object Property Level Authorization — no leaked fields, no mass assignment."""

from __future__ import annotations

import json

from tests.support.api import ApiClient
from tests.support.users import SeededUser

USER_FIELDS = {"id", "email", "name", "roles", "created_at", "updated_at"}
SECRETS = ("password", "hash", "token_version", "$2b$")


def _users_in(body: object) -> list[dict[str, object]]:
    """Every JSON object that looks like a user (has an email) anywhere in a body."""
    found: list[dict[str, object]] = []
    if isinstance(body, dict):
        if "email" in body and "id" in body:
            found.append(body)
        for value in body.values():
            found += _users_in(value)
    elif isinstance(body, list):
        for value in body:
            found += _users_in(value)
    return found


def test_every_user_shaped_response_has_exactly_the_public_fields(api: ApiClient, admin: SeededUser,
                                                                   alice: SeededUser) -> None:
    # Given every route that returns users (self, admin views, register, login, password change)
    password = "a-strong-password-1"
    registered = api.post("/v1/users/register", json={"email": "carol@example.com", "password": password,
                                                      "name": "Carol"})
    login = api.post("/v1/users/login", json={"email": "carol@example.com", "password": password})
    carol_token = login.data["token"]
    responses = [
        registered, login,
        api.get("/v1/users/profile", token=alice.token),
        api.put("/v1/users/profile", json={"name": "Alice A."}, token=alice.token),
        api.put("/v1/users/password", json={"current_password": password, "new_password": "another-pass-2"},
                token=carol_token),
        api.get("/v1/users", token=admin.token),
        api.get("/v1/users/search", query={"query": "example"}, token=admin.token),
        api.get(f"/v1/users/{alice.id}", token=admin.token),
        api.put(f"/v1/users/{alice.id}/roles", json={"roles": ["user"]}, token=admin.token),
    ]
    # Then each succeeds and every user object in it has exactly the public fields, and no secret appears
    for response in responses:
        assert response.status in (200, 201), response.body
        users = _users_in(response.json)
        assert users, response.body
        assert all(set(user) == USER_FIELDS for user in users), response.body
        text = json.dumps(response.json["data"].get("user") or response.json["data"].get("users"))
        assert not any(secret in text for secret in SECRETS), text


def test_profile_update_cannot_assign_server_owned_properties(api: ApiClient, alice: SeededUser) -> None:
    # Given attempts to set roles, id, password hash or token version through the profile
    for field, value in (("roles", ["admin"]), ("id", "00000000-0000-0000-0000-000000000000"),
                         ("password_hash", "x"), ("token_version", 0), ("created_at", "2000-01-01T00:00:00Z")):
        # When sent along with a legitimate change
        response = api.put("/v1/users/profile", json={"name": "Mallory", field: value}, token=alice.token)
        # Then the whole request is refused and nothing changed
        assert (response.status, response.error["code"]) == (400, "VALIDATION_ERROR"), field
    profile = api.get("/v1/users/profile", token=alice.token).data["user"]
    assert profile["roles"] == ["user"] and profile["name"] != "Mallory"


def test_order_edit_cannot_assign_server_owned_properties(api: ApiClient, alice: SeededUser, bob: SeededUser) -> None:
    # Given one of Alice's orders
    items = [{"product": "Pen", "quantity": 1, "price": 2}]
    order = api.post("/v1/orders", json={"items": items}, token=alice.token).data["order"]
    # When she edits it adding status, total, or a new owner
    for field, value in (("status", "completed"), ("total_amount", 0), ("user_id", str(bob.id)), ("id", order["id"])):
        response = api.put(f"/v1/orders/{order['id']}", json={"items": items, field: value}, token=alice.token)
        # Then it is refused
        assert (response.status, response.error["code"]) == (400, "VALIDATION_ERROR"), field
    assert api.get(f"/v1/orders/{order['id']}", token=alice.token).data["order"] == order
