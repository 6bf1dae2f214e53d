"""Environment variables as validated Pydantic models, read once per container."""

import os
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.cors import parse_allowed_origins

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
    db_host: str = ""  # replaces the URL's or secret's host, e.g. with an RDS Proxy endpoint
    db_name: str = ""  # replaces the URL's or secret's database
    # How session settings (statement timeout, read-only) reach Postgres: in the startup packet, or set on
    # the database role by the migrations (RDS Proxy does not take startup parameters: docs/deploying.md).
    db_session_settings: Literal["startup", "role"] = "startup"
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
    # RATE_LIMIT_<NAME>=COUNT/SECONDS for every rule a function declares (its own default otherwise).
    rate_limits: dict[str, RateRule] = Field(default_factory=dict)
    # The breaker guarding this function's database (default: its service name), and the breakers
    # /health reports besides its own (CIRCUIT_BREAKERS=users,orders).
    database_breaker: str = ""
    circuit_breakers: tuple[str, ...] = ()
    circuit_breaker_failure_threshold: Annotated[int, Field(ge=1)] = 5
    circuit_breaker_reset_timeout: Annotated[float, Field(gt=0)] = 30.0
    max_body_bytes: Annotated[int, Field(ge=1)] = 1024 * 1024
    # Browser origins whose pages may read the responses (CORS_ALLOW_ORIGINS: "", one, a comma-separated list, or *).
    cors_allow_origins: tuple[str, ...] = ()
    metrics_flush_seconds: Annotated[float, Field(ge=0)] = 1.0

    @field_validator("rate_limits", mode="before")
    @classmethod
    def _parse_rates(cls, value: object) -> object:
        if isinstance(value, dict):
            return {name: RateRule.parse(rule) if isinstance(rule, str) else rule for name, rule in value.items()}
        return value

    @field_validator("circuit_breakers", mode="before")
    @classmethod
    def _split_names(cls, value: object) -> object:
        return tuple(name.strip() for name in value.split(",") if name.strip()) if isinstance(value, str) else value

    @field_validator("cors_allow_origins", mode="before")
    @classmethod
    def _parse_origins(cls, value: object) -> object:
        return parse_allowed_origins(value) if isinstance(value, str) else value

    @property
    def breaker_name(self) -> str:
        return self.database_breaker or self.service_name

    def rate_rule(self, name: str, default: RateRule) -> RateRule:
        return self.rate_limits.get(name, default)

    @model_validator(mode="after")
    def _ca_bundle_present(self) -> "Settings":
        # Checked with the rest of the environment, at cold start: a bundle missing from the layer (the
        # build step was skipped) is one clear error at init, not a failure of every database request.
        if self.db_ssl_mode == "verify-full" and self.db_ssl_root_cert and not os.path.isfile(self.db_ssl_root_cert):
            raise ValueError(f"DB_SSL_ROOT_CERT {self.db_ssl_root_cert!r} does not exist: ship the CA bundle "
                             "in the layer (docs/deploying.md) or leave it empty for the system trust store")
        return self

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
RATE_LIMIT_PREFIX = "RATE_LIMIT_"
_NOT_RATE_LIMITS = frozenset({"RATE_LIMIT_TABLE"})


def env_name(field: str) -> str:
    """The environment variable that sets a Settings field."""
    return _ENV_NAMES.get(field, field.upper())


def rate_limit_env(environ: Mapping[str, str]) -> dict[str, str]:
    """Every RATE_LIMIT_<NAME> variable that is set: the rule values of the functions' rate limits."""
    return {name: value for name, value in environ.items()
            if name.startswith(RATE_LIMIT_PREFIX) and name not in _NOT_RATE_LIMITS and value}


def settings_from_env(environ: Mapping[str, str] | None = None) -> Settings:
    """Build settings from environment variables named like the fields, upper-cased.

    Empty strings count as unset so the template's empty parameter defaults fall back here.
    """
    env = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for field in Settings.model_fields:
        raw = env.get(env_name(field), "")
        if raw != "":
            values[field] = raw
    values["rate_limits"] = {name.removeprefix(RATE_LIMIT_PREFIX).lower(): rule
                             for name, rule in rate_limit_env(env).items()}
    return Settings.model_validate(values)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The container's settings, read once (`shared.dependencies.reset()` forgets them)."""
    return settings_from_env()
