"""Rate limits, circuit breakers and /metrics through the real handlers (Postgres + moto)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.dependencies import reset
from tests.support.api import ApiClient
from tests.support.users import make_user

LOGIN = {"email": "nobody@example.com", "password": "wrong-password"}
RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


@pytest.fixture(autouse=True)
def _fresh_breakers() -> Iterator[None]:
    reset()
    yield
    reset()


def assert_rate_limited(response: object) -> None:
    assert response.status == 429, response.body  # type: ignore[attr-defined]
    error = response.error  # type: ignore[attr-defined]
    assert error["code"] == "RATE_LIMIT_EXCEEDED"
    assert error["message"] == "Too many requests. Please try again later."
    assert error["retry_after"] >= 1
    headers = response.headers  # type: ignore[attr-defined]
    assert headers["Retry-After"] == str(error["retry_after"])
    assert headers["X-RateLimit-Remaining"] == "0"


def test_eleventh_login_from_one_ip_is_rejected_with_headers(api: ApiClient) -> None:
    # Given ten failed logins from one IP, each carrying the rate-limit headers
    for attempt in range(10):
        response = api.post("/v1/users/login", json=LOGIN, source_ip="203.0.113.10")
        assert response.status == 401, response.body
        assert response.headers["X-RateLimit-Limit"] == "10"
        assert response.headers["X-RateLimit-Remaining"] == str(9 - attempt)
        assert int(response.headers["X-RateLimit-Reset"]) > 0
    # When the eleventh arrives
    response = api.post("/v1/users/login", json=LOGIN, source_ip="203.0.113.10")
    # Then it is 429 with Retry-After, error.retry_after and every X-RateLimit header
    assert_rate_limited(response)
    assert all(name in response.headers for name in RATE_HEADERS)


def test_register_and_login_share_one_budget_and_forged_xff_does_not_help(api: ApiClient) -> None:
    # Given five registrations (invalid bodies: validation failures still count) and five logins
    for index in range(5):
        response = api.post("/v1/users/register", json={"email": "x"}, source_ip="203.0.113.11",
                            headers={"X-Forwarded-For": f"10.0.0.{index}"})
        assert response.status == 400
        assert response.headers["X-RateLimit-Limit"] == "10"
    for index in range(5):
        api.post("/v1/users/login", json=LOGIN, source_ip="203.0.113.11",
                 headers={"X-Forwarded-For": f"10.0.1.{index}"})
    # When a further attempt claims yet another forwarded address
    response = api.post("/v1/users/login", json=LOGIN, source_ip="203.0.113.11",
                        headers={"X-Forwarded-For": "192.0.2.99"})
    # Then it is limited by the real source IP, while another source IP is not
    assert_rate_limited(response)
    assert api.post("/v1/users/login", json=LOGIN, source_ip="203.0.113.12").status == 401


def test_default_rule_limits_health_by_ip(api: ApiClient) -> None:
    api.env_overrides["RATE_LIMIT_DEFAULT"] = "2/60"
    assert api.get("/health", source_ip="203.0.113.20").status == 200
    assert api.get("/health", source_ip="203.0.113.20").headers["X-RateLimit-Remaining"] == "0"
    assert_rate_limited(api.get("/health", source_ip="203.0.113.20"))


def test_metrics_requires_a_token(api: ApiClient) -> None:
    response = api.get("/metrics")
    assert response.status == 401
    assert "X-RateLimit-Limit" in response.headers


@pytest.mark.parametrize("minutes", ["0", "61", "abc"])
def test_metrics_rejects_bad_ranges(api: ApiClient, clean_database: str, minutes: str) -> None:
    user = make_user(clean_database)
    response = api.get("/metrics", query={"minutes": minutes}, token=user.token)
    assert response.status == 400
    assert response.error["code"] == "VALIDATION_ERROR"


def test_metrics_counts_requests_statuses_and_rejections(api: ApiClient, clean_database: str) -> None:
    # Given a mix of traffic: two 401 logins, a 400 register, and a 429 on /health
    api.env_overrides["RATE_LIMIT_DEFAULT"] = "50/60"
    user = make_user(clean_database)
    api.post("/v1/users/login", json=LOGIN)
    api.post("/v1/users/login", json=LOGIN)
    api.post("/v1/users/register", json={})
    api.env_overrides["RATE_LIMIT_DEFAULT"] = "1/60"
    api.get("/health", source_ip="203.0.113.30")
    api.get("/health", source_ip="203.0.113.30")
    api.env_overrides["RATE_LIMIT_DEFAULT"] = "50/60"
    # When an authenticated caller reads /metrics
    response = api.get("/metrics", token=user.token)
    # Then counts are aggregated by route and status, with percentiles and rejections
    assert response.status == 200, response.body
    data = response.data
    login = data["routes"]["POST /v1/users/login"]
    assert login["total"] == 2 and login["by_status"] == {"401": 2}
    assert data["routes"]["POST /v1/users/register"]["by_status"] == {"400": 1}
    health = data["routes"]["GET /health"]
    assert health["by_status"] == {"200": 1, "429": 1}
    assert health["rate_limited"] == 1
    assert data["rate_limit"] == {"rejected": 1, "fail_open": 0}
    assert data["requests"]["total"] == 5
    assert set(data["requests"]["latency_ms"]) >= {"p50", "p95", "p99"}
    assert data["requests"]["latency_ms"]["p50"] is not None
    assert data["window"]["minutes"] == 15
    assert data["circuit_breakers"]["users"]["state"] == "closed"


def test_breaker_opens_after_threshold_and_health_reports_it(api: ApiClient, clean_database: str) -> None:
    # Given a database that refuses connections and a threshold of 2

    user = make_user(clean_database)
    api.env_overrides.update({"DATABASE_URL": "postgresql+pg8000://postgres@127.0.0.1:9/app",
                              "CIRCUIT_BREAKER_FAILURE_THRESHOLD": "2", "CIRCUIT_BREAKER_RESET_TIMEOUT": "30"})
    # When authenticated requests need the database
    statuses = [api.get("/metrics", token=user.token) for _ in range(3)]
    # Then each is a 503 with Retry-After (never a 500), and the breaker is open after two failures
    for response in statuses:
        assert response.status == 503, response.body
        assert response.error["code"] == "SERVICE_UNAVAILABLE"
        assert int(response.headers["Retry-After"]) == response.error["retry_after"]
    assert statuses[-1].error["retry_after"] > 1
    health = api.get("/health")
    assert health.status == 503
    assert health.data["status"] == "degraded"
    breaker = health.data["circuit_breakers"]["users"]
    assert breaker["state"] == "open" and breaker["failures"] == 2
    assert health.data["circuit_breakers"]["orders"]["state"] == "closed"


def test_breaker_closes_after_reset_timeout_when_database_is_back(api: ApiClient, clean_database: str) -> None:
    # Given the users breaker opened by an outage, with a 1 s reset timeout
    import time


    user = make_user(clean_database)
    api.env_overrides.update({"DATABASE_URL": "postgresql+pg8000://postgres@127.0.0.1:9/app",
                              "CIRCUIT_BREAKER_FAILURE_THRESHOLD": "1", "CIRCUIT_BREAKER_RESET_TIMEOUT": "1"})
    assert api.get("/metrics", token=user.token).status == 503
    # When the database returns and the timeout passes
    api.env_overrides["DATABASE_URL"] = clean_database
    time.sleep(1.2)
    # Then the next request is the probe, succeeds, and closes the breaker
    assert api.get("/metrics", token=user.token).status == 200
    breakers = api.get("/health").data["circuit_breakers"]
    assert breakers["users"]["state"] == "closed"
    assert breakers["users"]["transitions"] == {"closed_to_open": 1, "open_to_half_open": 1, "half_open_to_closed": 1}


def test_fails_open_when_dynamodb_is_unreachable(api: ApiClient) -> None:
    # Given DynamoDB on a closed port
    from local.postgres import free_port

    api.env_overrides["DYNAMODB_ENDPOINT_URL"] = f"http://127.0.0.1:{free_port()}"
    # When a request arrives, then it is served (not limited) with the limit headers
    response = api.post("/v1/users/login", json=LOGIN)
    assert response.status == 401
    assert response.headers["X-RateLimit-Limit"] == "10"


def test_order_creation_is_limited_per_user(api: ApiClient, clean_database: str) -> None:
    # Given a user with an order-create budget of 2
    api.env_overrides["RATE_LIMIT_ORDER_CREATE"] = "2/60"
    user, other = make_user(clean_database), make_user(clean_database)
    order = {"items": [{"product": "Pen", "quantity": 1, "price": 1.5}]}
    # When the user creates three orders from different IPs
    statuses = [api.post("/v1/orders", json=order, token=user.token, source_ip=f"203.0.113.{40 + i}").status
                for i in range(3)]
    # Then the third is limited (keyed by user, not IP), and another user still has budget
    assert statuses[:2] == [201, 201]
    assert statuses[2] == 429
    assert api.post("/v1/orders", json=order, token=user.token).headers["X-RateLimit-Limit"] == "2"
    assert api.post("/v1/orders", json=order, token=other.token).status == 201
