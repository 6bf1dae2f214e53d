"""The HS256 keys: the one that signs new tokens, and every one still accepted when verifying.

From the environment: `JWT_SECRET` signs; `JWT_SECRET_PREVIOUS`, when set, is also accepted (the
operator removes it once the grace period they want has passed).

From SSM (`JWT_SECRET_PARAMETER`, a SecureString): a rotation is a new version of the parameter. Each
container keeps what it read for at most `JWT_SECRET_CACHE_SECONDS`, so a rotated secret reaches every
warm container within that time. For `JWT_SECRET_GRACE_SECONDS` after the current version was written
(its LastModifiedDate), the previous version (`name:<version-1>`, SSM's version selector) is accepted
too, so a rotation logs no one out at once. Every container derives the same pair from SSM, so cold and
warm containers agree. A failed refresh keeps the keys already read (retried every
REFRESH_RETRY_SECONDS): SSM being unreachable must not log everyone out. https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-versions.html

Keys shorter than 32 bytes are refused (RFC 7518 section 3.2: an HS256 key must be at least as long as
the hash output): from the environment at start-up (settings), from SSM when read.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.logger import logger
from shared.settings import MIN_JWT_SECRET_BYTES, Settings

REFRESH_RETRY_SECONDS = 10.0


@dataclass(frozen=True)
class SigningKeys:
    current: str
    previous: tuple[str, ...] = ()

    @property
    def accepted(self) -> tuple[str, ...]:
        return (self.current, *self.previous)


def environment_keys(settings: Settings) -> SigningKeys:
    if not settings.jwt_secret:
        raise RuntimeError("no JWT secret configured: set JWT_SECRET or JWT_SECRET_PARAMETER")
    return SigningKeys(settings.jwt_secret, (settings.jwt_secret_previous,) if settings.jwt_secret_previous else ())


class SsmSigningKeys:
    """The keys behind one SSM parameter, re-read when older than `max_age` seconds."""

    def __init__(self, name: str, max_age: float, grace: float, *, region: str = "us-east-1", client: Any = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.name, self.max_age, self.grace, self.region = name, max_age, grace, region
        self._client = client
        self._clock = clock
        self._lock = threading.Lock()
        self._cached: tuple[float, SigningKeys] | None = None  # (when to read again, the keys)

    def get(self) -> SigningKeys:
        now = self._clock()
        with self._lock:
            if self._cached is None:
                self._cached = (now + self.max_age, self._read(now))  # nothing to fall back on: a failure fails
            elif now >= self._cached[0]:
                try:
                    self._cached = (now + self.max_age, self._read(now))
                except Exception as error:  # SSM unreachable or throttled: the keys in hand stay valid
                    logger.warning("JWT secret refresh failed, keeping the cached keys",
                                   extra={"error": type(error).__name__})
                    # Asked again in REFRESH_RETRY_SECONDS, not on every request: a slow SSM must not slow them all.
                    self._cached = (now + min(REFRESH_RETRY_SECONDS, self.max_age), self._cached[1])
            return self._cached[1]

    def _read(self, now: float) -> SigningKeys:
        current = self._parameter(self.name)
        value, version = _checked(self.name, current), int(current["Version"])
        written: datetime = current["LastModifiedDate"]
        if version > 1 and now < written.timestamp() + self.grace:
            previous = self._parameter(f"{self.name}:{version - 1}")
            return SigningKeys(value, (_checked(f"{self.name}:{version - 1}", previous),))
        return SigningKeys(value)

    def _parameter(self, selector: str) -> dict[str, Any]:
        if self._client is None:
            # Imported here: boto3 costs ~90 ms of a cold start, and only an SSM-held secret needs it.
            import boto3  # noqa: PLC0415 - cold start: ~90 ms, only an SSM-held secret
            from botocore.config import Config  # noqa: PLC0415 - as above

            # Short timeouts and two attempts: a refresh runs on a request, whose function times out at 10 s.
            config = Config(connect_timeout=2, read_timeout=2, retries={"max_attempts": 2, "mode": "standard"})
            self._client = boto3.session.Session().client("ssm", region_name=self.region, config=config)
        return dict(self._client.get_parameter(Name=selector, WithDecryption=True)["Parameter"])


def _checked(selector: str, parameter: dict[str, Any]) -> str:
    value = str(parameter["Value"])
    if len(value.encode()) < MIN_JWT_SECRET_BYTES:
        raise RuntimeError(f"the JWT secret in SSM parameter {selector} is shorter than {MIN_JWT_SECRET_BYTES} bytes")
    return value
