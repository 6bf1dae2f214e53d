"""What the request guard does when something under it fails in a way nothing else handled.

A Lambda proxy function that raises gives the client API Gateway's bare 502: no envelope, no X-Request-ID,
no CORS header, nothing in the metrics. The guard turns such failures into answers the contract knows.
"""

from __future__ import annotations

from typing import Any, NoReturn

import pytest

from shared.protection.ratelimit import RateLimiter
from tests.support.api import ApiClient
from tests.support.users import SeededUser


def _boom(*_args: Any, **_kwargs: Any) -> NoReturn:
    raise RuntimeError("broken beyond what the code expects")


def test_a_broken_limiter_fails_open_and_the_request_is_served(api: ApiClient, alice: SeededUser,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a limiter that raises something other than a DynamoDB error (a misconfiguration)
    monkeypatch.setattr(RateLimiter, "hit", _boom)
    # When a request arrives
    response = api.get("/v1/users/profile", token=alice.token, headers={"X-Request-ID": "limiter-broken"})
    # Then it is served, as when the table is unreachable, with the limit headers and its request id
    assert response.status == 200, response.body
    assert response.headers["X-RateLimit-Limit"] == "100"
    assert response.headers["X-Request-ID"] == "limiter-broken"


def test_an_error_inside_an_error_handler_is_a_500_in_the_envelope(api: ApiClient, alice: SeededUser,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the validation error handler failing (it authenticates the caller first, which reads Postgres)
    monkeypatch.setattr("shared.resolver.access_error", _boom)
    # When a request fails validation
    response = api.post("/v1/orders", json={"items": []}, token=alice.token, headers={"X-Request-ID": "handler-broken"})
    # Then the client gets the contract's 500, with its request id and the rate-limit headers
    assert response.status == 500, response.body
    assert response.json == {"success": False, "error": {"code": "INTERNAL_ERROR", "message": "Internal server error"}}
    assert response.headers["X-Request-ID"] == "handler-broken"
    assert "X-RateLimit-Limit" in response.headers
