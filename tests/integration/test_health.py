"""GET /health through the monitoring handler with real Postgres and moto."""

import pytest

from tests.support.api import ApiClient


def test_health_is_healthy_when_dependencies_are_up(api: ApiClient) -> None:
    # Given Postgres and DynamoDB are reachable
    # When /health is requested
    response = api.get("/health")
    # Then it answers 200 healthy with a timed check per dependency
    assert response.status == 200, response.body
    assert response.json["success"] is True
    data = response.data
    assert data["status"] == "healthy"
    for name in ("database", "dynamodb"):
        assert data["checks"][name]["status"] == "up"
        assert data["checks"][name]["latency_ms"] >= 0
    assert response.headers["X-Request-ID"]


def test_health_is_degraded_when_database_is_unreachable(api: ApiClient) -> None:
    # Given a database URL that nothing listens on
    api.env_overrides["DATABASE_URL"] = "postgresql+pg8000://postgres@127.0.0.1:9/app"
    # When /health is requested
    response = api.get("/health")
    # Then it answers 503 degraded and names the failing dependency
    assert response.status == 503
    assert response.json["success"] is False
    assert response.data["status"] == "degraded"
    assert response.data["checks"]["database"]["status"] == "down"
    assert response.data["checks"]["dynamodb"]["status"] == "up"


def test_client_request_id_is_echoed(api: ApiClient) -> None:
    response = api.get("/health", headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"


@pytest.mark.parametrize("sent", ["abc-123\n", "abc 123", "a" * 129, "ab\u00e9", ""])
def test_an_x_request_id_outside_the_pattern_is_replaced_by_the_request_id(api: ApiClient, sent: str) -> None:
    # Given a client X-Request-ID that is not 1-128 of [A-Za-z0-9._:-] in full (a trailing newline included)
    response = api.get("/health", headers={"X-Request-ID": sent})
    # Then the response carries API Gateway's request id instead (a uuid), never the client's text
    assert response.headers["X-Request-ID"] != sent
    assert len(response.headers["X-Request-ID"]) == 36
