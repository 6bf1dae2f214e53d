"""Event shape, as received by a function behind the running gateway."""

from __future__ import annotations

import http.client
import json
import socket
import time
from typing import Any

import requests
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from infra.sam_app import ApiSpec, Route
from local.gateway.events import build_event, parse_query, request_time
from local.gateway.routing import Router
from local.gateway.server import GatewayHandle

from .conftest import FIXTURES


def echo(http: requests.Session, gw: GatewayHandle, path: str, **kw: Any) -> dict[str, Any]:
    r = http.request(kw.pop("method", "GET"), gw.url + path, **kw)
    assert r.status_code == 200, r.text
    return r.json()


def raw_request(gw: GatewayHandle, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", gw.port), timeout=10) as s:
        s.sendall(data)
        chunks = []
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def keys(obj: Any, prefix: str = "") -> set[str]:
    if not isinstance(obj, dict):
        return set()
    out = set()
    for k, v in obj.items():
        out.add(prefix + k)
        if k not in (
            "headers",
            "multiValueHeaders",
            "queryStringParameters",
            "multiValueQueryStringParameters",
            "pathParameters",
        ):
            out |= keys(v, prefix + k + ".")
    return out


def test_event_core_fields(http: requests.Session, gw: GatewayHandle) -> None:
    before = int(time.time() * 1000)
    body = echo(http, gw, "/v1/orders/42", headers={"User-Agent": "ua-test"})
    ev = body["event"]
    assert ev["resource"] == "/v1/orders/{id}"
    assert ev["path"] == "/v1/orders/42"
    assert ev["httpMethod"] == "GET"
    assert ev["pathParameters"] == {"id": "42"}
    # null where API Gateway sends null
    assert ev["queryStringParameters"] is None
    assert ev["multiValueQueryStringParameters"] is None
    assert ev["stageVariables"] is None
    assert ev["body"] is None and ev["isBase64Encoded"] is False
    rc = ev["requestContext"]
    assert rc["path"] == "/dev/v1/orders/42" and rc["stage"] == "dev"
    assert rc["resourcePath"] == "/v1/orders/{id}" and rc["httpMethod"] == "GET"
    assert rc["identity"]["sourceIp"] == "127.0.0.1"
    assert rc["identity"]["userAgent"] == "ua-test"
    assert rc["identity"]["cognitoIdentityId"] is None and rc["identity"]["userArn"] is None
    assert rc["accountId"] == "123456789012" and rc["protocol"] == "HTTP/1.1"
    assert isinstance(rc["requestTimeEpoch"], int)
    assert before <= rc["requestTimeEpoch"] <= int(time.time() * 1000)  # milliseconds
    assert rc["requestTime"] == request_time(rc["requestTimeEpoch"] / 1000)
    assert rc["domainName"] == "127.0.0.1"


def test_request_ids_unique_and_distinct_from_lambda_id(http: requests.Session, gw: GatewayHandle) -> None:
    seen = set()
    for _ in range(5):
        r = http.get(gw.url + "/echo")
        b = r.json()
        rid = b["event"]["requestContext"]["requestId"]
        assert r.headers["x-amzn-RequestId"] == rid
        assert b["context"]["aws_request_id"] != rid
        seen.add(rid)
    assert len(seen) == 5


def test_headers_case_and_multi_values(gw: GatewayHandle) -> None:
    req = (
        b"GET /echo?a=1&b=x&a=2&plus=a+b&enc=%2B%20&empty HTTP/1.1\r\n"
        b"Host: localhost\r\n"
        b"tEsT-HEADeR: aValUE\r\n"
        b"authorization: secret\r\n"
        b"X-Multi: one\r\n"
        b"X-Multi: two\r\n"
        b"Connection: close\r\n\r\n"
    )
    raw = raw_request(gw, req)
    ev = json.loads(raw.split(b"\r\n\r\n", 1)[1])["event"]
    h, mh = ev["headers"], ev["multiValueHeaders"]
    assert h["tEsT-HEADeR"] == "aValUE"  # case preserved as sent
    assert h["Authorization"] == "secret" and "authorization" not in h  # CloudFront recasing
    assert h["X-Multi"] == "two" and mh["X-Multi"] == ["one", "two"]  # last wins / all kept
    assert "Connection" not in h and "Content-Length" not in h
    assert h["X-Forwarded-For"] == "127.0.0.1"
    assert ev["queryStringParameters"] == {"a": "2", "b": "x", "plus": "a b", "enc": "+ ", "empty": ""}
    assert ev["multiValueQueryStringParameters"]["a"] == ["1", "2"]


def test_trailing_slash_keeps_raw_path(http: requests.Session, gw: GatewayHandle) -> None:
    ev = echo(http, gw, "/v1/orders/7/")["event"]
    assert ev["path"] == "/v1/orders/7/" and ev["pathParameters"] == {"id": "7"}
    ev = echo(http, gw, "/v1/orders/a%2Bb")["event"]
    assert ev["pathParameters"] == {"id": "a%2Bb"}


def raw_event(gw: GatewayHandle, path: str) -> dict[str, Any]:
    """GET a path exactly as written (no client-side normalisation) and return the echoed event."""
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
        assert resp.status == 200, body
        return json.loads(body)["event"]  # type: ignore[no-any-return]
    finally:
        conn.close()


def test_double_slash_in_a_greedy_path_stays_raw(gw: GatewayHandle) -> None:
    # AWS recorded (LocalStack snapshot `invocation-payload-with-double-slash`)
    ev = raw_event(gw, "/v1/files/a//b")
    assert ev["path"] == "/v1/files/a//b" and ev["pathParameters"] == {"proxy": "a//b"}
    assert ev["requestContext"]["path"] == "/dev/v1/files/a//b"


def test_leading_slashes_collapse_in_path_but_not_in_request_context(gw: GatewayHandle) -> None:
    # AWS recorded (`invocation-payload-with-prepended-slash`, `invocation-hardcoded`)
    ev = raw_event(gw, "//v1/orders/7")
    assert ev["path"] == "/v1/orders/7" and ev["pathParameters"] == {"id": "7"}
    assert ev["requestContext"]["path"] == "/dev//v1/orders/7"


def test_empty_segment_in_a_non_greedy_position_is_no_route(gw: GatewayHandle) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10)
    try:
        for path in ("/v1//orders/7", "/v1/orders//7"):
            conn.request("GET", path)
            resp = conn.getresponse()
            resp.read()
            assert resp.status == 404, path
    finally:
        conn.close()


def test_text_and_binary_request_bodies(http: requests.Session, gw: GatewayHandle) -> None:
    ev = echo(http, gw, "/echo", method="POST", data="héllo".encode(), headers={"Content-Type": "text/plain"})["event"]
    assert ev["body"] == "héllo" and ev["isBase64Encoded"] is False
    ev = echo(http, gw, "/echo", method="POST", data=b"\xff\xfe\x00", headers={"Content-Type": "text/plain"})["event"]
    assert ev["body"] == "//4A" and ev["isBase64Encoded"] is True  # not UTF-8
    ev = echo(http, gw, "/echo", method="POST", data=b"abc", headers={"Content-Type": "image/png"})["event"]
    assert ev["body"] == "YWJj" and ev["isBase64Encoded"] is True  # BinaryMediaTypes


def test_chunked_request_body(gw: GatewayHandle) -> None:
    req = (
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    )
    raw = raw_request(gw, req)
    head, body = raw.split(b"\r\n\r\n", 1)
    assert b"200 OK" in head
    assert json.loads(body)["event"]["body"] == "hello world"
    length = int(next(ln for ln in head.split(b"\r\n") if ln.lower().startswith(b"content-length")).split(b":")[1])
    assert length == len(body)


def test_keep_alive_and_pipelining(gw: GatewayHandle) -> None:
    one = b"GET /v1/orders/stats HTTP/1.1\r\nHost: x\r\n\r\n"
    raw = raw_request(gw, one + one + b"GET /v1/orders/stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert raw.count(b"HTTP/1.1 200 OK") == 3


def test_body_over_10mb_is_413(http: requests.Session, gw: GatewayHandle) -> None:
    r = http.post(gw.url + "/echo", data=b"x" * (10 * 1024 * 1024 + 1))
    assert r.status_code == 413
    r = http.post(gw.url + "/shapes/pid", data=b"x" * (2 * 1024 * 1024))  # below 10 MB: passes
    assert r.status_code == 200


def test_event_keys_match_aws_recorded_event(http: requests.Session, gw: GatewayHandle) -> None:
    aws = json.loads((FIXTURES / "aws_proxy_event.json").read_text())
    ours = echo(http, gw, "/v1/files/test-path?x=1", method="POST", data="{}")["event"]
    assert keys(ours) == keys(aws)


def test_powertools_accepts_built_event() -> None:
    route = Route("/pt/items/{item_id}", "POST", "F", "Api")
    match = Router([route]).match("POST", "/pt/items/9")
    assert match is not None
    event = build_event(
        method="POST",
        raw_path="/pt/items/9",
        raw_query="q=1&q=2",
        raw_headers=[("Content-Type", "application/json"), ("User-Agent", "t")],
        body=b'{"a": 1}',
        source_ip="10.0.0.1",
        server_port=8080,
        match=match,
        api=ApiSpec("Api"),
    )
    pe = APIGatewayProxyEvent(event)
    assert pe.http_method == "POST" and pe.path == "/pt/items/9"
    assert pe.path_parameters == {"item_id": "9"}
    assert pe.json_body == {"a": 1}
    assert pe.request_context.identity.source_ip == "10.0.0.1"
    assert pe.request_context.stage == "Prod"
    assert pe.multi_value_query_string_parameters == {"q": ["1", "2"]}
    assert pe.headers.get("content-type") == "application/json"

    app = APIGatewayRestResolver()

    @app.post("/pt/items/<item_id>")
    def create(item_id: str) -> dict[str, Any]:
        return {"id": item_id, "body": app.current_event.json_body}

    out = app.resolve(event, None)  # type: ignore[arg-type]
    assert out["statusCode"] == 200 and json.loads(out["body"]) == {"id": "9", "body": {"a": 1}}


def test_parse_query_edge_cases() -> None:
    assert parse_query("") == (None, None)
    assert parse_query("&&") == (None, None)
    assert parse_query("a=1&a=2") == ({"a": "2"}, {"a": ["1", "2"]})
