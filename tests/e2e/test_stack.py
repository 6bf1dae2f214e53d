"""The local stack answers over HTTP the way the README says."""

import json
import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from local.postgres import free_port
from local.stack import REPO, Stack

READY = "READY users-orders-api listening on "


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


@contextmanager
def make_run(state: Path, **settings: str) -> Iterator[tuple[str, list[str]]]:
    """`make run` (the runner) on free ports with `settings` in its environment: (base URL, banner lines)."""
    env = {**os.environ, "STATE_DIR": str(state), "PORT": str(free_port()), "PG_PORT": str(free_port()),
           "DYNAMODB_PORT": str(free_port()), **settings}
    env.pop("GATEWAY_OPENAPI", None)
    state.mkdir()
    state.chmod(0o755)
    runner = subprocess.Popen([sys.executable, "-m", "local.runner"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        assert runner.stdout is not None
        banner = []
        for line in runner.stdout:
            banner.append(line.strip())
            if line.startswith(READY):
                break
        else:
            raise AssertionError("the runner never became ready:\n" + "\n".join(banner[-20:]))
        yield banner[-1][len(READY):].split()[0], banner
    finally:
        runner.send_signal(signal.SIGINT)
        runner.wait(30)


def test_make_runs_environment_reaches_the_functions(tmp_path: Path) -> None:
    # Given `make run` (the runner) started with a documented setting in its environment
    with make_run(tmp_path / "state", RATE_LIMIT_DEFAULT="7/60", LOG_LEVEL="WARNING") as (base, _banner):
        # When a function answers
        response = requests.get(f"{base}/health", timeout=15)
        # Then it applied that limit, not the template's default
        assert response.headers["X-RateLimit-Limit"] == "7"


def test_make_run_serves_the_api_docs_and_the_dashboard_and_prints_where(tmp_path: Path) -> None:
    # Given `make run` (the runner) with nothing set about docs or dashboard
    with make_run(tmp_path / "state") as (base, banner):
        # Then the banner says where the docs page and the dashboard are, before the ready line
        assert f"API docs (Swagger UI): {base}/_docs" in banner
        assert f"Dashboard: {base}/_dashboard/" in banner
        # And Swagger UI is there, over the project's openapi.json with this gateway as its first server
        page = requests.get(f"{base}/_docs", timeout=10)
        assert page.status_code == 200 and "swagger-ui-bundle.js" in page.text
        document = requests.get(f"{base}/_docs/openapi.json", timeout=10).json()
        assert document["servers"][0]["url"] == base
        assert "/v1/orders" in document["paths"]
        # And so is the dashboard with its scripts
        dashboard = requests.get(f"{base}/_dashboard/", timeout=10)
        assert dashboard.status_code == 200 and 'src="dashboard.js"' in dashboard.text
        for script in ("dashboard.js", "rates.js", "views.js"):
            assert requests.get(f"{base}/_dashboard/{script}", timeout=10).status_code == 200, script
