"""shared.sigv4 signs a DynamoDB POST exactly as botocore's own SigV4Auth does."""

from __future__ import annotations

import datetime

import botocore.auth
import pytest
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotocoreCredentials

from shared.sigv4 import Credentials, sign_post

REGION = "us-east-1"
SERVICE = "dynamodb"
AMZ_DATE = "20250102T030405Z"
HEADERS = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.GetItem"}
BODY = b'{"TableName":"RateLimitTable","Key":{"pk":{"S":"ip:1.2.3.4"}}}'


def botocore_headers(monkeypatch: pytest.MonkeyPatch, credentials: Credentials, *, host: str, amz_date: str,
                     body: bytes, region: str = REGION) -> dict[str, str]:
    """The headers botocore's signer puts on the same request at the same instant."""
    instant = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ")
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *args, **kwargs: instant)
    request = AWSRequest(method="POST", url=f"http://{host}/", data=body, headers=dict(HEADERS))
    signer = botocore.auth.SigV4Auth(
        BotocoreCredentials(credentials.access_key, credentials.secret_key, credentials.session_token),
        SERVICE, region)
    signer.add_auth(request)
    return dict(request.headers.items())


def ours(credentials: Credentials, *, host: str, amz_date: str, body: bytes,
         region: str = REGION) -> dict[str, str]:
    return sign_post(credentials, region=region, service=SERVICE, host=host, amz_date=amz_date,
                     headers=dict(HEADERS), body=body)


def test_signature_matches_botocore_without_session_token(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given long-term credentials and a GetItem body
    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    # When both signers sign the same POST at the same instant
    expected = botocore_headers(monkeypatch, credentials, host="dynamodb.us-east-1.amazonaws.com",
                                amz_date=AMZ_DATE, body=BODY)
    signed = ours(credentials, host="dynamodb.us-east-1.amazonaws.com", amz_date=AMZ_DATE, body=BODY)
    # Then the Authorization header is identical and no token header is sent
    assert signed["Authorization"] == expected["Authorization"]
    assert signed["Authorization"].startswith(f"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250102/{REGION}/dynamodb/")
    assert signed["X-Amz-Date"] == expected["X-Amz-Date"] == AMZ_DATE
    assert "X-Amz-Security-Token" not in signed
    assert signed["Content-Type"] == HEADERS["Content-Type"]


def test_signature_matches_botocore_with_session_token(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given temporary credentials (as Lambda's role gives)
    credentials = Credentials("ASIAEXAMPLE", "secret/with+chars", "FwoGZXIvYXdzEXAMPLE//token==")
    # When both signers sign the same POST
    expected = botocore_headers(monkeypatch, credentials, host="dynamodb.us-east-1.amazonaws.com",
                                amz_date=AMZ_DATE, body=BODY)
    signed = ours(credentials, host="dynamodb.us-east-1.amazonaws.com", amz_date=AMZ_DATE, body=BODY)
    # Then the token is sent and signed the same way
    assert signed["X-Amz-Security-Token"] == expected["X-Amz-Security-Token"] == "FwoGZXIvYXdzEXAMPLE//token=="
    assert "x-amz-security-token" in signed["Authorization"]
    assert signed["Authorization"] == expected["Authorization"]


def test_host_with_a_port_is_signed_as_botocore_signs_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a local endpoint on a non-default port
    credentials = Credentials("testing", "testing")
    # When both sign a request to it
    expected = botocore_headers(monkeypatch, credentials, host="127.0.0.1:8000", amz_date=AMZ_DATE, body=BODY)
    signed = ours(credentials, host="127.0.0.1:8000", amz_date=AMZ_DATE, body=BODY)
    # Then the Host header keeps the port and the signatures agree
    assert signed["Host"] == "127.0.0.1:8000"
    assert signed["Authorization"] == expected["Authorization"]


def test_non_ascii_body_bytes_are_hashed_as_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a UTF-8 JSON body with non-ASCII characters
    body = '{"TableName":"MetricsTable","Item":{"pk":{"S":"Zürich ✓ 東京"}}}'.encode()
    credentials = Credentials("testing", "testing")
    # When both sign it
    expected = botocore_headers(monkeypatch, credentials, host="127.0.0.1:8000", amz_date=AMZ_DATE, body=body)
    signed = ours(credentials, host="127.0.0.1:8000", amz_date=AMZ_DATE, body=body)
    # Then the signatures agree, and differ from the signature of another body
    assert signed["Authorization"] == expected["Authorization"]
    other = ours(credentials, host="127.0.0.1:8000", amz_date=AMZ_DATE, body=BODY)
    assert other["Authorization"] != signed["Authorization"]


@pytest.mark.parametrize("amz_date", ["20250102T235959Z", "20250103T000000Z", "20241231T120000Z"])
def test_cached_signing_key_follows_the_day_and_region(monkeypatch: pytest.MonkeyPatch, amz_date: str) -> None:
    # Given one secret signing on several days, in two regions (the signing key is cached per day and region)
    credentials = Credentials("testing", "same-secret")
    for region in ("us-east-1", "eu-west-1"):
        # When both sign
        expected = botocore_headers(monkeypatch, credentials, host="127.0.0.1:8000", amz_date=amz_date,
                                    body=BODY, region=region)
        signed = ours(credentials, host="127.0.0.1:8000", amz_date=amz_date, body=BODY, region=region)
        # Then each day's and region's signature is botocore's
        assert signed["Authorization"] == expected["Authorization"]
        assert f"/{amz_date[:8]}/{region}/dynamodb/aws4_request" in signed["Authorization"]
