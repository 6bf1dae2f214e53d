"""Proxy response validation (unit) and the gateway's answers over HTTP."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import requests

from infra.sam_app import ApiSpec
from local.gateway.responses import MalformedResponse, proxy_to_http
from local.gateway.server import GatewayHandle

from .conftest import FIXTURES, start

BIN_API = ApiSpec("Api", binary_media_types=["image/png"])


@pytest.mark.parametrize(
    "result",
    [
        None,
        [],
        "str",
        1,
        {"statusCode": 200, "extra": 1},
        {"statusCode": "abc"},
        {"statusCode": True},
        {"statusCode": 42},
        {"body": {"a": 1}},
        {"body": 5},
        {"headers": ["a"]},
        {"headers": {"a": 1}},
        {"headers": {"a": None}},
        {"multiValueHeaders": {"a": "notalist"}},
        {"multiValueHeaders": {"a": [1]}},
        {"isBase64Encoded": "yes"},
    ],
)
def test_malformed(result: Any) -> None:
    with pytest.raises(MalformedResponse):
        proxy_to_http(result, BIN_API, None)


def test_accepted_shapes() -> None:
    r = proxy_to_http({"statusCode": "201", "body": "x"}, BIN_API, None)
    assert r.status == 201 and r.body == b"x"
    r = proxy_to_http({}, BIN_API, None)
    assert r.status == 200 and r.body == b"" and ("Content-Type", "application/json") in r.headers
    r = proxy_to_http({"headers": {"X-B": True, "Content-Type": "text/plain"}}, BIN_API, None)
    assert ("X-B", "true") in r.headers and ("Content-Type", "application/json") not in r.headers
    r = proxy_to_http(
        {"headers": {"A": "h", "B": "b"}, "multiValueHeaders": {"A": ["m1", "m2"], "C": ["c"]}}, BIN_API, None
    )
    assert [h for h in r.headers if h[0] in "ABC"] == [("A", "m1"), ("A", "m2"), ("A", "h"), ("C", "c"), ("B", "b")]


def test_headers_and_multi_value_headers_are_merged_as_api_gateway_does() -> None:
    # Given a name in both maps (different case), one repeated value, and names in one map only
    r = proxy_to_http(
        {
            "headers": {"x-test": "solo", "X-Same": "same", "X-Only-Single": "one"},
            "multiValueHeaders": {"X-Test": ["multi"], "X-Same": ["same", "other"], "X-Only-Multi": ["a", "b"]},
        },
        BIN_API,
        None,
    )
    # Then multi values come first, spelled as in multiValueHeaders, the single value after them
    # unless it is already there (AWS docs: the same key-value pair appears once)
    assert [h for h in r.headers if h[0].lower() != "content-type"] == [
        ("X-Test", "multi"),
        ("X-Test", "solo"),
        ("X-Same", "same"),
        ("X-Same", "other"),
        ("X-Only-Multi", "a"),
        ("X-Only-Multi", "b"),
        ("X-Only-Single", "one"),
    ]


@pytest.mark.parametrize(
    ("accept", "decoded"),
    [
        ("image/png", True),  # first Accept type is a binary media type
        ("image/png;q=0.9, text/html", True),  # parameters do not matter
        ("application/json", False),
        ("image/webp,image/png,*/*", False),  # only the FIRST Accept type counts
        ("*/*", False),  # a wildcard Accept matches no declared type
        (None, False),  # no Accept: nothing to match
    ],
)
def test_base64_body_decoded_only_when_first_accept_type_is_binary(accept: str | None, decoded: bool) -> None:
    b64 = base64.b64encode(b"\x00\x01").decode()
    # The response's own Content-Type plays no part (it is a binary type here on purpose)
    resp = {"body": b64, "isBase64Encoded": True, "headers": {"Content-Type": "image/png"}}
    assert proxy_to_http(resp, BIN_API, accept).body == (b"\x00\x01" if decoded else b64.encode())


def test_base64_decoding_needs_binary_media_types() -> None:
    b64 = base64.b64encode(b"\x00\x01").decode()
    resp = {"body": b64, "isBase64Encoded": True}
    assert proxy_to_http(resp, ApiSpec("Api"), "image/png").body == b64.encode()  # none declared: text
    assert proxy_to_http(resp, ApiSpec("A", binary_media_types=["*/*"]), "text/html").body == b"\x00\x01"
    assert proxy_to_http(resp, ApiSpec("A", binary_media_types=["image/*"]), "image/webp").body == b"\x00\x01"
    assert proxy_to_http({"body": b64}, BIN_API, "image/png").body == b64.encode()  # not flagged base64


BAD_KINDS = [
    "exception",
    "not-dict",
    "string",
    "extra-key",
    "bad-status",
    "bad-body",
    "bad-headers",
    "headers-list",
    "not-serializable",
]


@pytest.mark.parametrize("kind", BAD_KINDS)
def test_502_over_http(http: requests.Session, gw: GatewayHandle, kind: str) -> None:
    r = http.get(f"{gw.url}/shapes/{kind}")
    assert r.status_code == 502
    assert r.json() == {"message": "Internal server error"}
    assert r.headers["x-amzn-ErrorType"] == "InternalServerErrorException"


@pytest.mark.parametrize(
    ("kind", "status", "body"),
    [
        ("str-status", 201, b"created"),
        ("no-status", 200, b"implicit 200"),
        ("no-body", 204, b""),
        ("empty", 200, b""),
        ("decimal", 200, b"dec"),
    ],
)
def test_accepted_over_http(http: requests.Session, gw: GatewayHandle, kind: str, status: int, body: bytes) -> None:
    r = http.get(f"{gw.url}/shapes/{kind}")
    assert (r.status_code, r.content) == (status, body)


def test_multi_value_and_bool_headers_over_http(gw: GatewayHandle) -> None:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10)
    conn.request("GET", "/shapes/multi")
    resp = conn.getresponse()
    assert resp.read() == b"multi"
    assert resp.msg.get_all("Set-Cookie") == ["a=1", "b=2"]
    assert resp.msg.get_all("X-Both") == ["m1", "m2", "from-headers"]
    assert resp.getheader("X-Single") == "s"
    conn.request("GET", "/shapes/merged-headers")
    resp = conn.getresponse()
    assert resp.read() == b"merged"
    assert resp.getheader("X-Test") == "multi, solo"  # as a client folds it
    assert [name for name, _ in resp.getheaders() if name.lower() == "x-test"] == ["X-Test", "X-Test"]
    assert resp.msg.get_all("X-Same") == ["same", "other"]
    conn.request("GET", "/shapes/bool-header")
    resp = conn.getresponse()
    resp.read()
    assert resp.getheader("X-Flag") == "true"
    conn.close()


def test_binary_response_over_http(http: requests.Session, gw: GatewayHandle) -> None:
    from .fixtures.functions.shapes import PNG

    r = http.get(gw.url + "/shapes/binary", headers={"Accept": "image/png"})  # image/png is a BinaryMediaType
    assert r.content == PNG and r.headers["Content-Type"] == "image/png"
    for accept in ("*/*", "application/json", "image/webp,image/png,*/*"):
        r = http.get(gw.url + "/shapes/binary", headers={"Accept": accept})
        assert r.content == base64.b64encode(PNG), accept  # the base64 text passes through
    r = http.get(gw.url + "/shapes/binary?ct=text/plain", headers={"Accept": "application/octet-stream"})
    assert r.content == PNG  # the response Content-Type does not matter, the first Accept type does


def test_unknown_route_uses_template_gateway_response(http: requests.Session, gw: GatewayHandle) -> None:
    for method, path in [("GET", "/nope"), ("DELETE", "/v1/orders/stats"), ("POST", "/pt/hello")]:
        r = http.request(method, gw.url + path)
        assert r.status_code == 404
        assert r.json() == {"success": False, "error": {"code": "NOT_FOUND", "message": "Missing Authentication Token"}}
        assert r.headers["Access-Control-Allow-Origin"] == "*"


def test_unknown_route_default_403() -> None:
    gw = start(FIXTURES / "template_plain.yaml")
    try:
        r = requests.get(gw.url + "/nope", timeout=10)
        assert r.status_code == 403
        assert r.json() == {"message": "Missing Authentication Token"}
        assert r.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
        r = requests.get(gw.url + "/hello", timeout=10)
        assert r.json()["event"]["requestContext"]["stage"] == "Prod"
    finally:
        gw.stop()


def test_precedence_over_http(http: requests.Session, gw: GatewayHandle) -> None:
    assert http.get(gw.url + "/v1/orders/stats").json() == {"handler": "stats", "resource": "/v1/orders/stats"}
    assert http.get(gw.url + "/v1/files/static").json()["handler"] == "stats"
    ev = http.post(gw.url + "/v1/files/static").json()["event"]  # POST falls through to proxy+
    assert ev["resource"] == "/v1/files/{proxy+}" and ev["pathParameters"] == {"proxy": "static"}
    assert http.get(gw.url + "/").json()["event"]["resource"] == "/"


def test_init_error_is_502(http: requests.Session, gw: GatewayHandle) -> None:
    r = http.get(gw.url + "/broken")
    assert r.status_code == 502 and r.json() == {"message": "Internal server error"}
