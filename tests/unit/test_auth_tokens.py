"""shared.auth.tokens: HS256 only, required claims, expiry, tampering, the bearer header, SSM secret."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import jwt
import pytest

from shared.auth.tokens import bearer_token, decode_token, issue_token, signing_secret
from shared.dependencies import reset
from shared.errors import Unauthorized
from shared.settings import get_settings

SECRET = "unit-test-secret-that-is-long-enough-for-hs512-too-0123456789abcdef"
USER_ID = uuid.uuid4()


@pytest.fixture(autouse=True)
def secret_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("JWT_SECRET", SECRET)
    monkeypatch.delenv("JWT_SECRET_PARAMETER", raising=False)
    reset()
    yield
    reset()


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    payload = {"sub": str(USER_ID), "user_id": str(USER_ID), "email": "a@example.com", "roles": ["user"],
               "ver": 3, "iat": now, "exp": now + 3600}
    payload.update(overrides)
    return {k: v for k, v in payload.items() if v is not None}


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_issued_token_round_trips_with_required_claims() -> None:
    # Given a token issued for a user at token version 3
    token = issue_token(USER_ID, "a@example.com", ["user"], 3)
    # When decoded
    decoded = decode_token(token)
    payload = jwt.decode(token, SECRET, algorithms=["HS256"])
    # Then subject and version come back, with a 24 h lifetime and the spec's claims
    assert (decoded.user_id, decoded.token_version) == (USER_ID, 3)
    assert payload["exp"] - payload["iat"] == 86400
    assert payload["user_id"] == payload["sub"] == str(USER_ID)
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    assert {"email", "roles", "jti"} <= payload.keys()


def test_alg_none_is_rejected() -> None:
    # Given an unsigned token claiming alg "none"
    token = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims())}."
    # When decoded / Then it is refused
    with pytest.raises(Unauthorized):
        decode_token(token)


def test_other_hmac_algorithm_is_rejected_even_with_the_right_secret() -> None:
    token = jwt.encode(claims(), SECRET, algorithm="HS512")
    with pytest.raises(Unauthorized):
        decode_token(token)


def test_tampered_payload_fails_the_signature() -> None:
    # Given a valid token whose payload is swapped for one with admin roles
    header, _, signature = issue_token(USER_ID, "a@example.com", ["user"], 0).split(".")
    forged = f"{header}.{b64(claims(roles=['admin']))}.{signature}"
    # When decoded / Then the signature check fails
    with pytest.raises(Unauthorized, match="Invalid token"):
        decode_token(forged)


def test_token_signed_with_another_secret_is_rejected() -> None:
    token = jwt.encode(claims(), "another-secret-that-is-long-enough-0123456789", algorithm="HS256")
    with pytest.raises(Unauthorized):
        decode_token(token)


def test_expired_token_is_rejected() -> None:
    # Given a token that expired a minute ago
    token = jwt.encode(claims(iat=int(time.time()) - 7200, exp=int(time.time()) - 60), SECRET, algorithm="HS256")
    # Then it is refused as expired
    with pytest.raises(Unauthorized, match="expired"):
        decode_token(token)


def test_a_token_verified_earlier_is_refused_once_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a token accepted (and remembered) while valid
    now = time.time()
    token = jwt.encode(claims(iat=int(now), exp=int(now) + 60), SECRET, algorithm="HS256")
    assert decode_token(token).user_id == USER_ID
    # When the clock passes its exp
    monkeypatch.setattr(time, "time", lambda: now + 61)
    # Then the remembered verification does not save it
    with pytest.raises(Unauthorized, match="expired"):
        decode_token(token)


def test_a_token_verified_under_one_secret_is_refused_after_a_rotation(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a token accepted under the current secret
    token = issue_token(USER_ID, "a@example.com", ["user"], 3)
    assert decode_token(token).user_id == USER_ID
    # When the secret is rotated
    monkeypatch.setenv("JWT_SECRET", SECRET + "-rotated")
    reset()
    # Then the same token is checked against the new secret and refused
    with pytest.raises(Unauthorized, match="Invalid token"):
        decode_token(token)


@pytest.mark.parametrize("missing", ["exp", "iat", "sub"])
def test_token_missing_a_required_claim_is_rejected(missing: str) -> None:
    # Given a correctly signed token without one required claim
    token = jwt.encode(claims(**{missing: None}), SECRET, algorithm="HS256")
    # Then it is refused
    with pytest.raises(Unauthorized):
        decode_token(token)


@pytest.mark.parametrize("sub", ["not-a-uuid", "", "123"])
def test_subject_must_be_a_uuid(sub: str) -> None:
    token = jwt.encode(claims(sub=sub), SECRET, algorithm="HS256")
    with pytest.raises(Unauthorized):
        decode_token(token)


def test_token_without_version_never_matches_a_stored_version() -> None:
    # Given a signed token with no "ver" claim / Then it decodes to an impossible version
    token = jwt.encode(claims(ver=None), SECRET, algorithm="HS256")
    assert decode_token(token).token_version == -1


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "....", "eyJ.eyJ.sig"])
def test_garbage_is_unauthorized(garbage: str) -> None:
    with pytest.raises(Unauthorized):
        decode_token(garbage)


@pytest.mark.parametrize(("header", "token"), [
    ("Bearer abc.def.ghi", "abc.def.ghi"),
    ("bearer abc", "abc"),
    ("  Bearer   abc  ", "abc"),
])
def test_bearer_token_extracts_the_token(header: str, token: str) -> None:
    assert bearer_token(header) == token


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer   ", "Basic dXNlcjpwYXNz", "abc.def.ghi"])
def test_bearer_token_rejects_other_shapes(header: str | None) -> None:
    with pytest.raises(Unauthorized):
        bearer_token(header)


def test_secret_comes_from_ssm_when_only_the_parameter_is_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto import mock_aws

    with mock_aws():
        import boto3

        # Given the secret stored as an SSM SecureString and only its name in the environment
        boto3.client("ssm", region_name="us-east-1").put_parameter(
            Name="users-orders/jwt-secret", Value="ssm-secret-value-long-enough-0123456789", Type="SecureString")
        monkeypatch.setenv("JWT_SECRET", "")
        monkeypatch.setenv("JWT_SECRET_PARAMETER", "users-orders/jwt-secret")
        reset()
        # When a token is issued and decoded
        token = issue_token(USER_ID, "a@example.com", ["user"], 0)
        # Then the decrypted parameter is the signing key
        assert signing_secret() == "ssm-secret-value-long-enough-0123456789"
        assert jwt.decode(token, "ssm-secret-value-long-enough-0123456789", algorithms=["HS256"])["sub"]
        assert decode_token(token).user_id == USER_ID


def test_no_secret_configured_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_SECRET", "")
    reset()
    with pytest.raises(RuntimeError, match="JWT secret"):
        signing_secret()


def test_a_secret_shorter_than_32_bytes_is_refused_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    # Given a 31-byte secret in the environment
    monkeypatch.setenv("JWT_SECRET", "x" * 31)
    reset()
    # Then the settings (validated when the handler module is imported) refuse it
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        get_settings()


def test_the_previous_environment_secret_is_still_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a token signed with the old secret, and the new secret in place with the old one as previous
    old_token = issue_token(USER_ID, "a@example.com", ["user"], 3)
    monkeypatch.setenv("JWT_SECRET", SECRET + "-rotated")
    monkeypatch.setenv("JWT_SECRET_PREVIOUS", SECRET)
    reset()
    # Then the old token still verifies, and new tokens are signed with the new secret only
    assert decode_token(old_token).user_id == USER_ID
    assert jwt.decode(issue_token(USER_ID, "a@example.com", ["user"], 3), SECRET + "-rotated",
                      algorithms=["HS256"])["sub"] == str(USER_ID)
    # And once the previous secret is withdrawn, the old token is refused
    monkeypatch.setenv("JWT_SECRET_PREVIOUS", "")
    reset()
    with pytest.raises(Unauthorized, match="Invalid token"):
        decode_token(old_token)


def test_a_handler_refuses_to_start_with_a_short_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    from aws_lambda_powertools.event_handler.router import APIGatewayRouter
    from pydantic import ValidationError

    from monitoring_api.policy import RATE_LIMITS
    from shared.handler import create_handler

    # Given a 20-byte JWT_SECRET / When a function's handler is built (its module import, the cold start)
    monkeypatch.setenv("JWT_SECRET", "twenty-bytes-secret!")
    reset()
    # Then the cold start fails, instead of every request
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        create_handler(APIGatewayRouter(), rate_limits=RATE_LIMITS)
