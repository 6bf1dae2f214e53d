"""API8:2023 Security Misconfiguration — unexpected errors leak nothing; responses are typed JSON."""

from __future__ import annotations

import pytest

from tests.support.api import ApiClient
from tests.support.users import SeededUser


def test_unexpected_error_is_a_bare_500_envelope(api: ApiClient, alice: SeededUser,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a bug deep in the orders logic that raises with internal details in its message
    from orders_api import logic

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("connection string postgresql://admin:hunter2@db/internal")

    monkeypatch.setattr(logic, "my_stats", broken)
    # When the route is called
    response = api.get("/v1/orders/my-stats", token=alice.token)
    # Then the client sees only the generic envelope: no message, no type, no trace, no path
    assert response.status == 500
    assert response.json == {"success": False, "error": {"code": "INTERNAL_ERROR", "message": "Internal server error"}}
    for leak in ("hunter2", "RuntimeError", "Traceback", ".py"):
        assert leak not in response.body


def test_validation_errors_do_not_echo_submitted_secrets(api: ApiClient) -> None:
    # Given a register body with a bad field next to a password
    password = "Sup3r-Secret-Value"
    response = api.post("/v1/users/register", json={"email": "not-an-email", "password": password, "name": 7})
    # Then the 400 names the fields but never repeats the submitted values
    assert response.status == 400
    assert password not in response.body and "not-an-email" not in response.body


def test_every_response_is_json_and_names_its_request(api: ApiClient, alice: SeededUser) -> None:
    # Given success, client errors and auth errors / Then each is application/json with an X-Request-ID
    for response in (api.get("/v1/users/profile", token=alice.token), api.get("/v1/users/profile"),
                     api.get("/v1/orders/not-a-uuid", token=alice.token)):
        assert response.headers["Content-Type"].startswith("application/json")
        assert response.headers["X-Request-ID"]
