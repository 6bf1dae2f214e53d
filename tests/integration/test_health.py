"""GET /health through the monitoring handler with real Postgres and moto."""

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
    from shared.db import reset_engine

    reset_engine()
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
