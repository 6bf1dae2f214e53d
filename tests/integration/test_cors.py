"""CORS on the actual responses, through the real handlers: every route, successes and errors alike, and the
answers the request guard gives before any route runs (429, 413, 400) or the breaker gives (503)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from shared.dependencies import reset
from tests.support.api import ApiClient, ApiResponse
from tests.support.users import make_user

SHOP, LOCAL, EVIL = "https://shop.example", "http://localhost:5500", "https://evil.example"
ORIGINS = f"{SHOP},{LOCAL}"
REGISTER = {"email": "cors@example.com", "password": "correct-horse-battery", "name": "Cors"}


@pytest.fixture
def cors_api(test_env: dict[str, str], dynamodb: object) -> Iterator[ApiClient]:
    """The handlers with CORS_ALLOW_ORIGINS set (the template parameter's value reaches them as that variable)."""
    import os

    saved = dict(os.environ)
    reset()
    yield ApiClient(env_overrides={**test_env, "CORS_ALLOW_ORIGINS": ORIGINS})
    os.environ.clear()
    os.environ.update(saved)
    reset()


def assert_readable_by(response: ApiResponse, origin: str) -> None:
    assert response.headers.get("Access-Control-Allow-Origin") == origin, (response.status, response.headers)
    assert response.headers["Vary"] == "Origin"
    assert {"X-Request-ID", "Retry-After", "X-RateLimit-Remaining"} <= set(
        response.headers["Access-Control-Expose-Headers"].split(","))


def template_routes(client: ApiClient) -> list[tuple[str, str]]:
    """Every (METHOD, path) of the template, path parameters filled in."""
    return sorted({(route.method, re.sub(r"\{[^}]+\}", "7", route.path)) for route in client.app.routes})


def test_every_route_answers_a_listed_origin(cors_api: ApiClient) -> None:
    # Given each route of every function, called anonymously from a listed page (most answer 401 or 400)
    routes = template_routes(cors_api)
    assert len(routes) == 20
    for method, path in routes:
        response = cors_api.request(method, path, headers={"Origin": LOCAL})
        # Then whatever the status, the page may read the answer
        assert_readable_by(response, LOCAL)
    # And a route that succeeds says the same
    assert_readable_by(cors_api.get("/health", headers={"Origin": SHOP}), SHOP)


def test_success_and_errors_of_the_resolver_carry_cors(cors_api: ApiClient) -> None:
    origin = {"Origin": SHOP}
    created = cors_api.post("/v1/users/register", json=REGISTER, headers=origin)
    assert created.status == 201
    assert_readable_by(created, SHOP)
    for response in (cors_api.post("/v1/users/register", json=REGISTER, headers=origin),  # 409
                     cors_api.post("/v1/users/login", json={**REGISTER, "password": "wrong-password"},
                                   headers=origin),  # 401
                     cors_api.post("/v1/users/register", json={"email": "x"}, headers=origin),  # 400 validation
                     cors_api.get("/v1/users/profile?unknown=1", headers=origin)):  # 401 before the 400
        assert response.status in (400, 401, 409), response.body
        assert_readable_by(response, SHOP)


def test_answers_the_guard_gives_before_any_route_carry_cors(cors_api: ApiClient) -> None:
    # Given one login per minute per address, and bodies over 512 bytes refused
    origin = {"Origin": SHOP}
    cors_api.env_overrides.update({"RATE_LIMIT_AUTH": "1/60", "MAX_BODY_BYTES": "512"})
    too_large = cors_api.post("/v1/users/login", json={"email": "a@example.com", "password": "x" * 600},
                              headers=origin, source_ip="203.0.113.1")
    not_json = cors_api.request("POST", "/v1/users/login", body="a=b", source_ip="203.0.113.2", headers={
        **origin, "Content-Type": "application/x-www-form-urlencoded"})
    cors_api.post("/v1/users/login", json=REGISTER, headers=origin, source_ip="203.0.113.3")
    limited = cors_api.post("/v1/users/login", json=REGISTER, headers=origin, source_ip="203.0.113.3")
    # Then the guard's own refusals are as readable as any route's answer
    assert [too_large.status, not_json.status, limited.status] == [413, 400, 429]
    for response in (too_large, not_json, limited):
        assert_readable_by(response, SHOP)
    assert limited.headers["Retry-After"]


def test_the_breakers_503_carries_cors(cors_api: ApiClient, clean_database: str) -> None:
    user = make_user(clean_database)
    cors_api.env_overrides.update({"DATABASE_URL": "postgresql+pg8000://postgres@127.0.0.1:9/app",
                                   "CIRCUIT_BREAKER_FAILURE_THRESHOLD": "1"})
    responses = [cors_api.get("/v1/orders", token=user.token, headers={"Origin": LOCAL}) for _ in range(2)]
    assert [response.status for response in responses] == [503, 503]
    for response in responses:
        assert_readable_by(response, LOCAL)


def test_an_unlisted_or_missing_origin_gets_no_allow_origin(cors_api: ApiClient) -> None:
    for headers in ({"Origin": EVIL}, {"Origin": "null"}, {}):
        response = cors_api.get("/health", headers=headers)
        assert response.status == 200
        assert not [name for name in response.headers if name.startswith("Access-Control-")], response.headers
        assert response.headers["Vary"] == "Origin"


def test_the_wildcard_lets_every_page_read(cors_api: ApiClient) -> None:
    cors_api.env_overrides["CORS_ALLOW_ORIGINS"] = "*"
    response = cors_api.get("/v1/users/profile", headers={"Origin": EVIL})
    assert response.status == 401
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Vary" not in response.headers


def test_without_cors_there_are_no_cors_headers(api: ApiClient) -> None:
    for response in (api.get("/health", headers={"Origin": SHOP}),
                     api.post("/v1/users/login", json={}, headers={"Origin": SHOP})):
        assert not [name for name in response.headers if name.startswith("Access-Control-") or name == "Vary"]
