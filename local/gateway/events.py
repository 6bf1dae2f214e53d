"""REST API (v1) Lambda proxy event construction.

Shape and null conventions follow events recorded from AWS (LocalStack's AWS-validated
snapshots of `test_lambda_aws_proxy_integration`), see README "Facts relied on".
"""

from __future__ import annotations

import base64
import hashlib
import os
import time
import uuid
from typing import Any
from urllib.parse import unquote_plus

from infra.cfn import ACCOUNT_ID
from infra.sam_app import ApiSpec

from .routing import Match

API_ID = "local0api1"  # fixed fake rest-api id (10 chars like AWS)
DEPLOYMENT_ID = "local1"
# API Gateway sits behind CloudFront, which rewrites these header names' case.
_RECASED = {"authorization": "Authorization", "user-agent": "User-Agent"}
# Hop-by-hop / framing headers that never reach the Lambda event.
_DROPPED = frozenset({"content-length", "connection", "transfer-encoding", "keep-alive"})
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def request_time(epoch: float) -> str:
    """AWS `requestTime` format: 09/Apr/2015:12:34:56 +0000."""
    t = time.gmtime(epoch)
    return f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"


def resource_id(resource: str) -> str:
    return hashlib.sha1(resource.encode()).hexdigest()[:6]


def parse_query(raw: str) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    """Single map keeps the last value, multi map keeps all; `+` is a space (AWS recorded)."""
    if not raw:
        return None, None
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for part in raw.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        key, value = unquote_plus(key), unquote_plus(value)
        single[key] = value
        multi.setdefault(key, []).append(value)
    if not single:
        return None, None
    return single, multi


def media_type_matches(mime: str | None, binary_types: list[str]) -> bool:
    """Match a Content-Type/Accept value against BinaryMediaTypes (wildcards allowed)."""
    if not mime or not binary_types:
        return False
    mtype = mime.split(",", 1)[0].split(";", 1)[0].strip().lower()
    main, _, sub = mtype.partition("/")
    for candidate in binary_types:
        c = candidate.lower()
        if c in ("*/*", mtype):
            return True
        cmain, _, csub = c.partition("/")
        if csub == "*" and cmain == main:
            return True
        if cmain == "*" and csub == sub:
            return True
    return False


def encode_body(body: bytes, content_type: str | None, api: ApiSpec) -> tuple[str | None, bool]:
    if not body:
        return None, False
    if media_type_matches(content_type, api.binary_media_types):
        return base64.b64encode(body).decode("ascii"), True
    try:
        return body.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(body).decode("ascii"), True


def build_event(
    *,
    method: str,
    raw_path: str,
    raw_query: str,
    raw_headers: list[tuple[str, str]],
    body: bytes,
    source_ip: str,
    server_port: int,
    match: Match,
    api: ApiSpec,
    request_id: str | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    now = time.time() if now is None else now
    headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    content_type = user_agent = host = None
    for raw_name, value in raw_headers:
        lname = raw_name.lower()
        if lname in _DROPPED:
            continue
        name = _RECASED.get(lname, raw_name)
        if lname == "content-type":
            content_type = value
        elif lname == "user-agent":
            user_agent = value
        elif lname == "host":
            host = value
        headers[name] = value
        multi_headers.setdefault(name, []).append(value)
    # What CloudFront/API Gateway add in front of the integration.
    for name, value in (
        ("X-Forwarded-For", source_ip),
        ("X-Forwarded-Port", str(server_port)),
        ("X-Forwarded-Proto", "http"),
    ):
        if name not in headers:
            headers[name] = value
            multi_headers[name] = [value]
    query, multi_query = parse_query(raw_query)
    body_text, is_b64 = encode_body(body, content_type, api)
    route = match.route
    domain = (host or "localhost").split(":", 1)[0] if host else "localhost"
    rid = request_id or str(uuid.uuid4())
    return {
        "resource": route.path,
        # AWS recorded: `path` collapses leading slashes, `requestContext.path` keeps them raw.
        "path": "/" + raw_path.lstrip("/"),
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": match.path_parameters,
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": API_ID,
            "deploymentId": DEPLOYMENT_ID,
            "domainName": domain,
            "domainPrefix": domain.split(".", 1)[0],
            "extendedRequestId": base64.b32encode(os.urandom(10)).decode()[:16],
            "httpMethod": method,
            "identity": {
                "accessKey": None,
                "accountId": None,
                "caller": None,
                "cognitoAuthenticationProvider": None,
                "cognitoAuthenticationType": None,
                "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None,
                "principalOrgId": None,
                "sourceIp": source_ip,
                "user": None,
                "userAgent": user_agent,
                "userArn": None,
            },
            "path": f"/{api.stage}{raw_path}",
            "protocol": "HTTP/1.1",
            "requestId": rid,
            "requestTime": request_time(now),
            "requestTimeEpoch": int(now * 1000),
            "resourceId": resource_id(route.path),
            "resourcePath": route.path,
            "stage": api.stage,
        },
        "body": body_text,
        "isBase64Encoded": is_b64,
    }
