"""Everything a warm container builds once, in one place: clients, the database, the limiter, the breakers,
the metrics recorder and the JWT keys (the handler cookbook's cached `get_dal_handler`, for all of them).

Nothing is built at import: each piece is made on first use from the settings, then kept for the life of
the container. `reset()` forgets all of it at once, for tests (a new environment, a fresh emulator) and
for a SnapStart restore (no connection, cached credential or secret may outlive the snapshot).
"""

from __future__ import annotations

import threading
from functools import cached_property, lru_cache
from typing import Any

from shared.auth.signing_keys import SigningKeys, SsmSigningKeys, environment_keys
from shared.database import Database
from shared.dynamodb import DynamoDBClient
from shared.protection.circuit_breaker import CircuitBreaker, DynamoStore
from shared.protection.metrics import MetricsRecorder
from shared.protection.ratelimit import RateLimiter
from shared.settings import Settings, get_settings


class Dependencies:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._breakers: dict[str, CircuitBreaker] = {}
        self._lock = threading.Lock()

    @cached_property
    def dynamodb(self) -> DynamoDBClient:
        """The light client of the hot path (rate limits, breakers, metrics, health): one attempt, short timeout."""
        settings = self.settings
        return DynamoDBClient(region=settings.aws_region, endpoint_url=settings.dynamodb_endpoint_url,
                              timeout=settings.dynamodb_timeout_seconds)

    @cached_property
    def dynamodb_sdk(self) -> Any:
        """botocore's client, for what needs an SDK client (Powertools idempotency); same timeouts, one attempt."""
        # Imported here: botocore costs ~12 ms of a cold start, and only keyed creates need it.
        # botocore directly: `import boto3` also imports s3transfer (~90 ms) for nothing.
        import botocore.session  # noqa: PLC0415 - cold start: ~12 ms, only keyed creates use it
        from botocore.config import Config  # noqa: PLC0415 - cold start, as above

        settings = self.settings
        config = Config(connect_timeout=settings.dynamodb_timeout_seconds,
                        read_timeout=settings.dynamodb_timeout_seconds,
                        retries={"max_attempts": 1, "mode": "standard"}, max_pool_connections=4, tcp_keepalive=True)
        return botocore.session.get_session().create_client(
            "dynamodb", region_name=settings.aws_region, endpoint_url=settings.dynamodb_endpoint_url or None,
            config=config)

    @cached_property
    def database(self) -> Database:
        return Database(self.settings, self.breaker(self.settings.breaker_name), self.read_secret)

    @cached_property
    def limiter(self) -> RateLimiter:
        return RateLimiter(self.settings.rate_limit_table, lambda: self.dynamodb)

    @cached_property
    def metrics(self) -> MetricsRecorder:
        return MetricsRecorder(self.settings.metrics_table, lambda: self.dynamodb,
                               flush_interval=self.settings.metrics_flush_seconds, source=self.settings.service_name)

    def breaker(self, name: str) -> CircuitBreaker:
        with self._lock:
            if name not in self._breakers:
                settings = self.settings
                self._breakers[name] = CircuitBreaker(
                    name, DynamoStore(settings.circuit_breaker_table, lambda: self.dynamodb),
                    threshold=settings.circuit_breaker_failure_threshold,
                    reset_timeout=settings.circuit_breaker_reset_timeout,
                    on_transition=self.metrics.record_transition)
            return self._breakers[name]

    def signing_keys(self) -> SigningKeys:
        """The JWT keys: from the environment, or from SSM (re-read after JWT_SECRET_CACHE_SECONDS)."""
        if self.settings.jwt_secret or not self.settings.jwt_secret_parameter:
            return environment_keys(self.settings)
        return self._ssm_keys.get()

    @cached_property
    def _ssm_keys(self) -> SsmSigningKeys:
        settings = self.settings
        return SsmSigningKeys(settings.jwt_secret_parameter, settings.jwt_secret_cache_seconds,
                              settings.jwt_secret_grace_seconds, region=settings.aws_region)

    def read_secret(self, arn: str) -> str:
        """A Secrets Manager secret's string (the database URL or RDS's JSON)."""
        # Imported here: boto3 costs ~90 ms of a cold start, and only a secret-configured database needs it.
        import boto3  # noqa: PLC0415 - cold start: ~90 ms, only a Secrets Manager database

        client = boto3.session.Session().client("secretsmanager", region_name=self.settings.aws_region)
        return str(client.get_secret_value(SecretId=arn)["SecretString"])

    def close(self) -> None:
        """Close connections and sockets (what a SnapStart snapshot or a test must not carry over)."""
        if "database" in self.__dict__:
            self.database.dispose()
        if "dynamodb" in self.__dict__:
            self.dynamodb.close()


@lru_cache(maxsize=1)
def dependencies() -> Dependencies:
    """This container's dependencies, built from its settings on first use."""
    return Dependencies(get_settings())


def reset() -> None:
    """Forget the settings and everything built from them; the next use builds them again."""
    if dependencies.cache_info().currsize:
        dependencies().close()
    dependencies.cache_clear()
    get_settings.cache_clear()
