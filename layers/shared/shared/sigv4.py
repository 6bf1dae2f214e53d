"""AWS Signature Version 4 for one POST of a JSON body to a service endpoint's root path.

Only what the DynamoDB JSON protocol needs: no query string, a fixed set of headers. The signing
key is derived once per (secret, day, region, service) instead of on every request.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from functools import lru_cache

ALGORITHM = "AWS4-HMAC-SHA256"


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret_key: str
    session_token: str | None = None


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


@lru_cache(maxsize=8)
def signing_key(secret_key: str, day: str, region: str, service: str) -> bytes:
    key = _hmac(f"AWS4{secret_key}".encode(), day)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    return key


def sign_post(credentials: Credentials, *, region: str, service: str, host: str, amz_date: str,
              headers: dict[str, str], body: bytes) -> dict[str, str]:
    """`headers` plus Host, X-Amz-Date, the session token if any, and Authorization.

    `amz_date` is the request time as `YYYYMMDDTHHMMSSZ`; every header given is signed.
    """
    signed = {name.lower(): " ".join(value.split()) for name, value in headers.items()}  # SigV4's trimming
    signed.update({"host": host, "x-amz-date": amz_date})
    if credentials.session_token:
        signed["x-amz-security-token"] = credentials.session_token
    names = sorted(signed)
    signed_headers = ";".join(names)
    canonical_request = "\n".join([
        "POST", "/", "",
        "".join(f"{name}:{signed[name]}\n" for name in names),
        signed_headers,
        hashlib.sha256(body).hexdigest(),
    ])
    day = amz_date[:8]
    scope = f"{day}/{region}/{service}/aws4_request"
    string_to_sign = "\n".join([ALGORITHM, amz_date, scope, hashlib.sha256(canonical_request.encode()).hexdigest()])
    signature = hmac.new(signing_key(credentials.secret_key, day, region, service), string_to_sign.encode(),
                         hashlib.sha256).hexdigest()
    authorization = (f"{ALGORITHM} Credential={credentials.access_key}/{scope}, "
                     f"SignedHeaders={signed_headers}, Signature={signature}")
    result = {**headers, "Host": host, "X-Amz-Date": amz_date, "Authorization": authorization}
    if credentials.session_token:
        result["X-Amz-Security-Token"] = credentials.session_token
    return result
