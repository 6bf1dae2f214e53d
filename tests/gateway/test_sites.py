"""Static sites under a reserved prefix (`--site /_name=DIR`, local/gateway/sites.py): the dashboard's way in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from infra.sam_app import Route
from local.gateway.__main__ import parse_args
from local.gateway.server import GatewayHandle
from local.gateway.sites import SiteError, StaticSite, parse_site

from .conftest import start


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("site")
    (root / "index.html").write_text("<!DOCTYPE html><title>site</title>")
    (root / "app.js").write_text("export const answer = 42;")
    (root / "vendor").mkdir()
    (root / "vendor" / "lib.css").write_text("body{}")
    (root / ".secret").write_text("hidden")
    return root


@pytest.fixture(scope="module")
def site_gw(folder: Path) -> Iterator[GatewayHandle]:
    handle = start(sites={"/_site": folder})
    yield handle
    handle.stop()


def test_the_prefix_redirects_to_the_folder_keeping_the_query(site_gw: GatewayHandle,
                                                               http: requests.Session) -> None:
    r = http.get(site_gw.url + "/_site?refresh=2", allow_redirects=False)
    assert r.status_code == 301
    assert r.headers["Location"] == "/_site/?refresh=2"


@pytest.mark.parametrize("path, content_type, body", [
    ("/_site/", "text/html; charset=utf-8", "<!DOCTYPE html><title>site</title>"),
    ("/_site/index.html", "text/html; charset=utf-8", "<!DOCTYPE html><title>site</title>"),
    ("/_site/app.js", "text/javascript; charset=utf-8", "export const answer = 42;"),
    ("/_site/vendor/lib.css", "text/css; charset=utf-8", "body{}"),
])
def test_files_of_the_folder_are_served_with_their_type(site_gw: GatewayHandle, http: requests.Session,
                                                        path: str, content_type: str, body: str) -> None:
    r = http.get(site_gw.url + path)
    assert r.status_code == 200
    # JavaScript modules need a JavaScript type; both spellings are standard.
    assert r.headers["Content-Type"] in (content_type, content_type.replace("text/javascript",
                                                                            "application/javascript"))
    assert r.text == body
    # Same origin as the API: only the site's own files run, it is never framed, types are not sniffed
    assert r.headers["Content-Security-Policy"].startswith("default-src 'self';")
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert http.head(site_gw.url + path).status_code == 200


def test_a_file_added_while_the_gateway_runs_is_served(site_gw: GatewayHandle, http: requests.Session,
                                                       folder: Path) -> None:
    # Given a file vendored after the gateway started (`make dashboard-deps` while `make run` runs)
    assert http.get(site_gw.url + "/_site/vendor/late.js").status_code == 404
    (folder / "vendor" / "late.js").write_text("late()")
    # When it is requested / Then it is there
    assert http.get(site_gw.url + "/_site/vendor/late.js").text == "late()"


@pytest.mark.parametrize("method, path", [
    ("GET", "/_site/.secret"),
    ("GET", "/_site/../../etc/passwd"),
    ("GET", "/_site/%2e%2e/pyproject.toml"),
    ("GET", "/_site/vendor/../../index.html"),
    ("GET", "/_site/nope.js"),
    ("POST", "/_site/"),
    ("DELETE", "/_site/app.js"),
])
def test_anything_else_under_the_prefix_is_a_gateway_404(site_gw: GatewayHandle, http: requests.Session,
                                                         method: str, path: str) -> None:
    r = http.request(method, site_gw.url + path, allow_redirects=False)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "NOT_FOUND"


def test_template_routes_still_work_beside_a_site(site_gw: GatewayHandle, http: requests.Session) -> None:
    assert http.get(site_gw.url + "/echo").status_code == 200


def test_a_site_is_refused_where_a_template_route_lives(folder: Path) -> None:
    with pytest.raises(SiteError, match="reserved prefix /_site"):
        StaticSite("/_site", folder, [Route("/_site/{proxy+}", "ANY", "Fn", "Api")])


@pytest.mark.parametrize("prefix", ["/site", "/_", "/_a/b", "_site", "/_si te"])
def test_a_prefix_must_be_one_reserved_segment(folder: Path, prefix: str) -> None:
    with pytest.raises(SiteError, match="prefix"):
        StaticSite(prefix, folder, [])


def test_a_folder_without_an_index_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SiteError, match=r"no index\.html"):
        StaticSite("/_site", tmp_path, [])


def test_the_docs_prefix_cannot_be_taken_by_a_site(folder: Path, tmp_path: Path) -> None:
    spec = tmp_path / "openapi.json"
    spec.write_text('{"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {}}')
    with pytest.raises(SiteError, match="/_docs"):
        start(openapi=str(spec), sites={"/_docs": folder}).stop()


def test_command_line_option() -> None:
    assert parse_args([]).site == []
    args = parse_args(["--site", "/_a=one", "--site", "/_b=two/dir"])
    assert [parse_site(option) for option in args.site] == [("/_a", Path("one")), ("/_b", Path("two/dir"))]
    with pytest.raises(SiteError, match="PREFIX=DIR"):
        parse_site("/_a")


def test_the_gateway_prints_where_each_site_is(site_gw: GatewayHandle, folder: Path) -> None:
    lines = site_gw.out.lines()  # type: ignore[attr-defined]
    assert f"Site {folder} at {site_gw.url}/_site/" in lines
