"""The local stack answers over HTTP the way the README says."""

import json
import urllib.request

import requests

from local.stack import Stack


def test_health_is_healthy_through_the_gateway(base_url: str) -> None:
    # Given the local stack is running / When /health is fetched over HTTP
    response = requests.get(f"{base_url}/health", timeout=10)
    # Then it is healthy, compact JSON, with a request id
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.text.startswith('{"success":true,"data":{')
    assert response.json()["data"]["status"] == "healthy"
    assert response.headers["X-Request-ID"]


def test_unknown_route_is_the_404_envelope(base_url: str) -> None:
    # Given a path and a method the template does not declare
    for method, path in (("GET", "/nope"), ("DELETE", "/health"), ("PATCH", "/v1/orders")):
        # When requested
        request = urllib.request.Request(f"{base_url}{path}", method=method)
        try:
            urllib.request.urlopen(request, timeout=10)
            raise AssertionError(f"{method} {path} should have failed")
        except urllib.error.HTTPError as exc:
            # Then the template's gateway response answers 404 in the envelope
            assert exc.code == 404
            body = json.loads(exc.read())
            assert body == {"success": False, "error": {"code": "NOT_FOUND", "message": "Route not found"}}


def test_data_and_secret_survive_a_restart(stack: Stack) -> None:
    # Given the JWT secret the stack generated
    first = stack.jwt_secret()
    # When it is read again (as the next `make run` would)
    # Then it is the same secret, kept in the state folder with private permissions
    assert stack.jwt_secret() == first
    assert (stack.config.state_dir / "jwt_secret").stat().st_mode & 0o077 == 0
