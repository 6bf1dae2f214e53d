"""HS256 JWTs: issued for 24 h, verified against a fixed algorithm list with required claims.

Revocation: each token carries the user's `ver` (token_version). A password or role change
bumps the stored version, deletion removes the user; `shared.auth.principal` compares them.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from uuid import UUID

import jwt

from shared.dependencies import dependencies
from shared.errors import Unauthorized
from shared.settings import get_settings

ALGORITHMS = ["HS256"]
_REQUIRED = ["exp", "iat", "sub"]


@dataclass(frozen=True)
class TokenClaims:
    user_id: UUID
    token_version: int


class BadSignature(Unauthorized):
    """Signed with another key: a previous key may still accept it."""


def signing_secret() -> str:
    return dependencies().signing_keys().current


def issue_token(user_id: UUID, email: str, roles: list[str], token_version: int) -> str:
    now = int(time.time())
    payload: dict[str, Any] = {
        "sub": str(user_id),
        "user_id": str(user_id),
        "email": email,
        "roles": roles,
        "ver": token_version,
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + get_settings().jwt_lifetime_seconds,
    }
    return jwt.encode(payload, signing_secret(), algorithm=ALGORITHMS[0])


def decode_token(token: str) -> TokenClaims:
    """Verified claims, or Unauthorized with a message that reveals nothing about the secret.

    A request decodes its token twice (rate-limit key, then authentication) and a client sends the
    same token for hours, so verified tokens are remembered per (secret, token). Only `exp` can
    change a verified token's outcome later, and it is checked again on every hit.
    """
    claims, expires_at = _verify_with_any(token, dependencies().signing_keys().accepted)
    if time.time() >= expires_at:  # PyJWT's own rule (no leeway), for tokens verified earlier
        raise Unauthorized("Token has expired")
    return claims


def _verify_with_any(token: str, secrets: tuple[str, ...]) -> tuple[TokenClaims, float]:
    """The current secret first; a previous one (during a rotation's grace period) only if the signature
    does not match the current one."""
    for secret in secrets[:-1]:
        try:
            return _verify(token, secret)
        except BadSignature:
            continue
    return _verify(token, secrets[-1])


@lru_cache(maxsize=1024)  # failures raise, so only verified tokens are remembered
def _verify(token: str, secret: str) -> tuple[TokenClaims, float]:
    try:
        payload = jwt.decode(token, secret, algorithms=ALGORITHMS, options={"require": _REQUIRED})
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("Token has expired") from exc
    except jwt.InvalidSignatureError as exc:
        raise BadSignature("Invalid token") from exc
    except jwt.InvalidTokenError as exc:
        raise Unauthorized("Invalid token") from exc
    try:
        claims = TokenClaims(user_id=UUID(str(payload["sub"])), token_version=int(payload.get("ver", -1)))
        return claims, float(payload["exp"])
    except (ValueError, TypeError) as exc:
        raise Unauthorized("Invalid token") from exc


def forget_verified_tokens() -> None:
    """Drop the cache of verified tokens (a SnapStart restore; a key rotation takes care of itself)."""
    _verify.cache_clear()


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise Unauthorized("Missing Authorization header")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authorization header must be 'Bearer <token>'")
    return token.strip()
