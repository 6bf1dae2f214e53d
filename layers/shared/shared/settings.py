"""Environment variables as validated Pydantic models, read once per container."""

import os
import re
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
MIN_JWT_SECRET_BYTES = 32  # HS256 keys shorter than the hash output weaken it (RFC 7518, section 3.2)


class RateRule(BaseModel):
    """A limit of `limit` requests per `window_seconds` sliding window."""

    model_config = ConfigDict(frozen=True)

    limit: Annotated[int, Field(ge=1)]
    window_seconds: Annotated[int, Field(ge=1)]

    @classmethod
    def parse(cls, text: str) -> "RateRule":
        match = _RATE.match(text)
        if not match:
            raise ValueError(f"rate limit must look like COUNT/SECONDS, got {text!r}")
        return cls(limit=int(match[1]), window_seconds=int(match[2]))


class Settings(BaseModel):
    """Everything the functions read from their environment (see template.yaml Globals)."""

    model_config = ConfigDict(frozen=True)

    service_name: str = "service"
    database_url: str = ""
    database_secret_arn: str = ""
    db_connect_timeout_seconds: Annotated[float, Field(gt=0)] = 3.0
    db_connect_retry_seconds: Annotated[float, Field(ge=0)] = 1.0
    # Below the functions' 10 s Timeout, so Postgres cancels a slow statement before Lambda kills us.
    db_statement_timeout_seconds: Annotated[float, Field(gt=0)] = 5.0
    db_ssl_mode: Literal["disable", "require", "verify-full"] = "disable"
    db_ssl_root_cert: str = ""
    jwt_secret: str = ""
    jwt_secret_previous: str = ""
    jwt_secret_parameter: str = ""
    jwt_secret_cache_seconds: Annotated[float, Field(ge=0)] = 300.0
    jwt_secret_grace_seconds: Annotated[float, Field(ge=0)] = 3600.0
    jwt_lifetime_seconds: Annotated[int, Field(ge=60)] = 86400
    bcrypt_rounds: Annotated[int, Field(ge=4, le=16)] = 12
    dynamodb_endpoint_url: str = ""
    dynamodb_timeout_seconds: Annotated[float, Field(gt=0)] = 0.5
    aws_region: str = "us-east-1"
    rate_limit_table: str = "RateLimitTable"
    circuit_breaker_table: str = "CircuitBreakerTable"
    idempotency_table: str = "IdempotencyTable"
    metrics_table: str = "MetricsTable"
    rate_limit_auth: RateRule = RateRule(limit=10, window_seconds=60)
    rate_limit_order_create: RateRule = RateRule(limit=20, window_seconds=60)
    rate_limit_default: RateRule = RateRule(limit=100, window_seconds=60)
    rate_limit_password: RateRule = RateRule(limit=10, window_seconds=60)
    circuit_breaker_failure_threshold: Annotated[int, Field(ge=1)] = 5
    circuit_breaker_reset_timeout: Annotated[float, Field(gt=0)] = 30.0
    max_body_bytes: Annotated[int, Field(ge=1)] = 1024 * 1024
    metrics_flush_seconds: Annotated[float, Field(ge=0)] = 1.0

    @field_validator("rate_limit_auth", "rate_limit_order_create", "rate_limit_default", "rate_limit_password",
                     mode="before")
    @classmethod
    def _parse_rate(cls, value: object) -> object:
        return RateRule.parse(value) if isinstance(value, str) else value

    @field_validator("jwt_secret", "jwt_secret_previous")
    @classmethod
    def _long_enough(cls, value: str) -> str:
        if value and len(value.encode()) < MIN_JWT_SECRET_BYTES:
            raise ValueError(f"must be at least {MIN_JWT_SECRET_BYTES} bytes")
        return value


_ENV_NAMES = {
    "service_name": "POWERTOOLS_SERVICE_NAME",
    "aws_region": "AWS_REGION",
}


def env_name(field: str) -> str:
    """The environment variable that sets a Settings field."""
    return _ENV_NAMES.get(field, field.upper())


def settings_from_env(environ: dict[str, str] | None = None) -> Settings:
    """Build settings from environment variables named like the fields, upper-cased.

    Empty strings count as unset so the template's empty parameter defaults fall back here.
    """
    env = os.environ if environ is None else environ
    values = {}
    for field in Settings.model_fields:
        raw = env.get(env_name(field), "")
        if raw != "":
            values[field] = raw
    return Settings.model_validate(values)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The container's settings; tests call `get_settings.cache_clear()` after changing env."""
    return settings_from_env()
