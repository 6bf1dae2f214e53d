"""Gateway responses: ResponseParameters header mappings and templates, unit and over HTTP."""

from __future__ import annotations

import http.client
import json
from pathlib import Path

import pytest
import requests

from infra.sam_app import load_app
from local.gateway.events import resource_id
from local.gateway.gateway_responses import GatewayContext, RequestFacts, mapped_value, render_template
from local.gateway.server import GatewayHandle

from .conftest import start

ROOT = Path(__file__).resolve().parents[2]

FACTS = RequestFacts(
    request_id="rid-1",
    method="GET",
    path="/files/a",
    query="q=1&q=2&plus=a+b",
    headers=[("Host", "api.local:8080"), ("X-Echo", "a"), ("x-echo", "b"), ("User-Agent", "ua")],
    source_ip="10.0.0.1",
    stage="dev",
    epoch=1_700_000_000.0,
    path_parameters={"proxy": "a"},
    resource_path="/files/{proxy+}",
)
CONTEXT = GatewayContext(FACTS, "INTEGRATION_FAILURE", "Internal server error")


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("'static'", "static"),
        ("'method.request.header.X-Echo'", "method.request.header.X-Echo"),  # quoted: a literal
        ("method.request.header.X-Echo", "b"),  # header names are case-insensitive, last value
        ("method.request.header.x-ECHO", "b"),
        ("method.request.multivalueheader.X-Echo", "a,b"),
        ("method.request.querystring.q", "2"),
        ("method.request.multivaluequerystring.q", "1,2"),
        ("method.request.querystring.plus", "a b"),
        ("method.request.path.proxy", "a"),
        ("context.requestId", "rid-1"),
        ("context.identity.sourceIp", "10.0.0.1"),
        ("context.resourcePath", "/files/{proxy+}"),
        ("context.stage", "dev"),
        ("context.path", "/dev/files/a"),
        ("context.domainName", "api.local"),
        ("context.error.responseType", "INTEGRATION_FAILURE"),
        ("context.identity.userAgent", "ua"),
        ("context.resourceId", resource_id("/files/{proxy+}")),
        # absent sources map nothing, so the header is not sent
        ("method.request.header.X-Missing", None),
        ("method.request.querystring.missing", None),
        ("method.request.path.missing", None),
        ("context.nope", None),
        ("stageVariables.anything", None),  # stage variables are not emulated
        ("method.request.body", None),
        ("unquoted-nonsense", None),
    ],
)
def test_mapping_sources(expression: str, value: str | None) -> None:
    assert mapped_value(expression, CONTEXT) == value


def test_template_substitutes_context_variables_only() -> None:
    template = (
        '{"m":$context.error.messageString,"raw":"$context.error.message","t":"$context.error.responseType",'
        '"id":"${context.requestId}.","sv":"$stageVariables.x","unknown":"$context.nope","vtl":"#if(1)x#end"}'
    )
    assert json.loads(render_template(template, CONTEXT)) == {
        "m": "Internal server error",
        "raw": "Internal server error",
        "t": "INTEGRATION_FAILURE",
        "id": "rid-1.",
        "sv": "",
        "unknown": "$context.nope",
        "vtl": "#if(1)x#end",  # not VTL: directives stay as written
    }


def test_unknown_route_maps_headers_from_the_request(gw: GatewayHandle) -> None:
    # Given a MISSING_AUTHENTICATION_TOKEN response mapping several sources (fixtures/template.yaml)
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10)
    conn.putrequest("GET", "/nope?q=42")
    for value in ("one", "two"):
        conn.putheader("X-Echo", value)
    conn.putheader("X-Request-ID", "client-chosen")
    conn.endheaders()
    resp = conn.getresponse()
    resp.read()
    conn.close()
    # Then each header carries what its source gives
    assert resp.status == 404
    assert resp.getheader("X-Request-ID") == resp.getheader("x-amzn-RequestId")  # context.requestId
    assert resp.getheader("X-Echo") == "two"
    assert resp.getheader("X-Echo-All") == "one,two"
    assert resp.getheader("X-Query") == "42"
    assert resp.getheader("X-Looks-Dynamic") == "method.request.header.X-Echo"
    assert resp.getheader("Access-Control-Allow-Origin") == "*"
    # and a source the request does not have sets no header at all
    for absent in ("X-Resource", "X-Stage-Var"):
        assert resp.getheader(absent) is None


def test_absent_request_header_sets_no_header(http: requests.Session, gw: GatewayHandle) -> None:
    r = http.get(gw.url + "/nope")
    assert r.status_code == 404
    assert "X-Echo" not in r.headers and "X-Query" not in r.headers
    assert r.headers["X-Request-ID"] == r.headers["x-amzn-RequestId"]


def test_502_and_413_carry_the_request_id(http: requests.Session, gw: GatewayHandle) -> None:
    r = http.get(gw.url + "/shapes/exception")
    assert r.status_code == 502 and r.json() == {"message": "Internal server error"}  # default body kept
    assert r.headers["X-Request-ID"] == r.headers["x-amzn-RequestId"]
    assert r.headers["X-Resource"] == "/shapes/{kind}"  # matched before the integration failed
    r = http.post(gw.url + "/echo", data=b"x" * (10 * 1024 * 1024 + 1))
    assert r.status_code == 413  # REQUEST_TOO_LARGE falls back to DEFAULT_4XX
    assert r.headers["X-Request-ID"] == r.headers["x-amzn-RequestId"]


def test_504_carries_the_request_id() -> None:
    gw = start(integration_timeout=0.5)
    try:
        r = requests.get(gw.url + "/shapes/sleep?s=2", timeout=30)
        assert r.status_code == 504  # INTEGRATION_TIMEOUT falls back to DEFAULT_5XX
        assert r.headers["X-Request-ID"] == r.headers["x-amzn-RequestId"]
    finally:
        gw.stop()


def test_project_template_maps_the_request_id_on_every_gateway_response() -> None:
    api = load_app(ROOT / "template.yaml").apis["Api"]
    assert {"DEFAULT_4XX", "DEFAULT_5XX"} <= set(api.gateway_responses)
    for kind, response in api.gateway_responses.items():
        assert response["headers"]["X-Request-ID"] == "context.requestId", kind


def test_project_template_gateway_responses_over_http() -> None:
    gw = start(ROOT / "template.yaml")
    try:
        r = requests.get(gw.url + "/nope", headers={"X-Request-ID": "client-id"}, timeout=30)
        assert r.status_code == 404
        assert r.json() == {"success": False, "error": {"code": "NOT_FOUND", "message": "Route not found"}}
        # the documented deviation: API Gateway's request id, not the client's
        assert r.headers["X-Request-ID"] == r.headers["x-amzn-RequestId"] != "client-id"
        r = requests.post(gw.url + "/v1/orders", data=b"x" * (10 * 1024 * 1024 + 1), timeout=60)
        assert r.status_code == 413 and r.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
        assert r.headers["X-Request-ID"] == r.headers["x-amzn-RequestId"]
    finally:
        gw.stop()
