"""Swagger UI and the OpenAPI document under /_docs, only when the gateway is given --openapi."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from infra.sam_app import Route
from local.gateway.__main__ import parse_args
from local.gateway.docs import DocsError, DocsSite
from local.gateway.server import GatewayConfig, GatewayHandle

from .conftest import start

DOCUMENT = {"openapi": "3.1.0", "info": {"title": "Fixture <API>", "version": "1"},
            "servers": [{"url": "https://example.invalid/prod"}], "paths": {}}


@pytest.fixture(scope="module")
def spec_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("docs") / "openapi.json"
    path.write_text(json.dumps(DOCUMENT))
    return path


@pytest.fixture(scope="module")
def docs_gw(spec_file: Path) -> Iterator[GatewayHandle]:
    handle = start(openapi=str(spec_file))
    yield handle
    handle.stop()


def test_without_openapi_option_docs_paths_are_plain_404s(gw: GatewayHandle, http: requests.Session) -> None:
    # Given the gateway started without --openapi
    # When the docs path is requested
    r = http.get(gw.url + "/_docs")
    # Then it is just an unknown route
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "NOT_FOUND"


def test_swagger_ui_page_and_every_asset_it_references_are_served_locally(docs_gw: GatewayHandle,
                                                                        http: requests.Session) -> None:
    # Given a gateway serving docs
    for path in ("/_docs", "/_docs/"):
        # When the UI page is requested
        page = http.get(docs_gw.url + path)
        # Then it is HTML that loads only same-origin assets (works offline, no CDN)
        assert page.status_code == 200
        assert page.headers["Content-Type"].startswith("text/html")
        assert "http://" not in page.text and "https://" not in page.text
        assert "Fixture &lt;API&gt;" in page.text
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert {"/_docs/swagger-ui-bundle.js", "/_docs/swagger-ui.css"} <= set(assets)
    for asset in assets:
        r = http.get(docs_gw.url + asset)
        assert r.status_code == 200, asset
        assert len(r.content) > 100, asset
    assert http.get(docs_gw.url + "/_docs/swagger-ui-bundle.js").headers["Content-Type"] in (
        "application/javascript", "text/javascript")
    assert 'url: "/_docs/openapi.json"' in page.text


def test_document_is_served_with_this_gateway_as_first_server(docs_gw: GatewayHandle,
                                                              http: requests.Session) -> None:
    r = http.get(docs_gw.url + "/_docs/openapi.json")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    document = r.json()
    assert document["servers"][0]["url"] == docs_gw.url
    assert document["servers"][1:] == DOCUMENT["servers"]
    assert document["info"] == DOCUMENT["info"]


@pytest.mark.parametrize("method, path", [
    ("GET", "/_docs/index.html"),
    ("GET", "/_docs/../../etc/passwd"),
    ("GET", "/_docs/%2e%2e/pyproject.toml"),
    ("GET", "/_docs/nope.js"),
    ("POST", "/_docs/openapi.json"),
])
def test_anything_else_under_the_prefix_is_a_gateway_404(docs_gw: GatewayHandle, http: requests.Session,
                                                         method: str, path: str) -> None:
    r = http.request(method, docs_gw.url + path)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "NOT_FOUND"


def test_template_routes_still_work_with_docs_on(docs_gw: GatewayHandle, http: requests.Session) -> None:
    r = http.get(docs_gw.url + "/echo")
    assert r.status_code == 200


def test_docs_are_refused_when_a_template_route_lives_under_the_prefix(spec_file: Path) -> None:
    routes = [Route("/_docs/{proxy+}", "ANY", "Fn", "Api")]
    with pytest.raises(DocsError, match="reserved"):
        DocsSite(spec_file, routes)


def test_missing_openapi_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DocsError, match="not found"):
        DocsSite(tmp_path / "missing.json", [])


def test_cli_option_and_environment_enable_docs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GATEWAY_OPENAPI", raising=False)
    assert GatewayConfig.from_env("t.yaml").openapi is None
    assert parse_args(["--openapi", "openapi.json"]).openapi == "openapi.json"
    monkeypatch.setenv("GATEWAY_OPENAPI", "from-env.json")
    assert parse_args([]).openapi is None  # not given: the config reads the environment
    assert GatewayConfig.from_env("t.yaml").openapi == "from-env.json"


def test_a_document_broken_while_served_is_a_logged_500(tmp_path: Path, http: requests.Session) -> None:
    # Given the docs on, over a document that is then overwritten with half a file (`make openapi` mid-write)
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(DOCUMENT))
    handle = start(openapi=str(spec))
    try:
        spec.write_text('{"openapi": "3.1')
        # When the document is requested, then the client gets an answer, and the gateway keeps serving
        assert http.get(handle.url + "/_docs/openapi.json").status_code == 500
        assert http.get(handle.url + "/no-such-route").status_code == 404
        # And the failure is in the gateway's error log, with the path
        assert any("static page error on /_docs/openapi.json" in line for line in handle.err.lines())  # type: ignore[attr-defined]
    finally:
        handle.stop()
