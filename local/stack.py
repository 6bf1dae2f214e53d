"""The whole local stack as one object: Postgres, the DynamoDB emulation, tables, migrations, gateway.

Used by `make run` (local.runner) and by the end-to-end tests, so both start exactly the same
thing. Every step has a deadline and raises `StackError` with a message meant for a person.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import boto3

from infra.dynamodb_tables import create_tables
from local.postgres import PostgresCluster, PostgresError, accessible_by_postgres, port_is_free, require_binaries
from local.processes import REPO, ChildProcess, StackError, wait_http
from shared.cors import parse_allowed_origins
from shared.settings import MIN_JWT_SECRET_BYTES, Settings, env_name, rate_limit_env

TEMPLATE = REPO / "template.yaml"
# The pages `make run` serves beside the API (issue 15): Swagger UI over openapi.json, and the dashboard.
OPENAPI = REPO / "openapi.json"
DOCS_PREFIX = "/_docs"  # fixed by local/gateway/docs.py
DASHBOARD_PREFIX, DASHBOARD_SITE = "/_dashboard", REPO / "local" / "dashboard" / "site"
_READY = re.compile(r"Gateway listening on (http://\S+)")
FAKE_AWS_ENV = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_REGION": "us-east-1",
                "AWS_DEFAULT_REGION": "us-east-1"}
# Settings the stack decides itself (where the database, DynamoDB and the tables are, the secret it
# generated), and those that only mean something on AWS (SSM, Secrets Manager).
STACK_OWNED_SETTINGS = frozenset({
    "service_name", "aws_region", "database_url", "database_secret_arn", "dynamodb_endpoint_url", "jwt_secret",
    "jwt_secret_parameter", "jwt_secret_cache_seconds", "jwt_secret_grace_seconds", "rate_limit_table",
    "circuit_breaker_table", "idempotency_table", "metrics_table", "rate_limits", "database_breaker",
    "circuit_breakers",
})


def function_settings(environ: Mapping[str, str]) -> dict[str, str]:
    """The function settings (README, Configuration) set in `make run`'s environment, to pass on to every
    function: rate limits, breaker tuning, bcrypt cost, token lifetime, timeouts, log level…"""
    names = [env_name(field) for field in Settings.model_fields if field not in STACK_OWNED_SETTINGS]
    chosen = {name: environ[name] for name in names if environ.get(name)}
    chosen.update(rate_limit_env(environ))
    level = environ.get("POWERTOOLS_LOG_LEVEL") or environ.get("LOG_LEVEL")
    if level:
        chosen["POWERTOOLS_LOG_LEVEL"] = level
    return chosen


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read, with no moment where it is readable by others."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # an older file keeps its mode through O_CREAT: tighten it before writing
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)


@dataclass
class StackConfig:
    state_dir: Path
    host: str = "127.0.0.1"
    port: int = 8080
    database_url: str | None = None
    dynamodb_endpoint_url: str | None = None
    pg_port: int = 15442
    dynamodb_port: int = 14566
    jwt_secret: str | None = None
    # Warm workers per function (docs/benchmarks.md has the measurement behind 2 on two cores);
    # concurrent requests beyond that queue in the gateway.
    max_workers: int = 2
    function_settings: dict[str, str] = field(default_factory=dict)  # from the environment, for every function
    extra_env: dict[str, str] = field(default_factory=dict)
    template: Path = TEMPLATE
    openapi: Path | None = OPENAPI  # Swagger UI at /_docs; None = off
    dashboard: Path | None = DASHBOARD_SITE  # the dashboard's folder, served at /_dashboard/; None = off
    log: IO[str] | None = None  # where child output goes; None = our stdout

    @classmethod
    def from_env(cls) -> StackConfig:
        env = os.environ
        return cls(
            state_dir=Path(env.get("STATE_DIR", REPO / ".state")).resolve(),
            host=env.get("HOST", "127.0.0.1"),
            port=int(env.get("PORT", "8080")),
            database_url=env.get("DATABASE_URL") or None,
            dynamodb_endpoint_url=env.get("DYNAMODB_ENDPOINT_URL") or None,
            pg_port=int(env.get("PG_PORT", "15442")),
            dynamodb_port=int(env.get("DYNAMODB_PORT", "14566")),
            jwt_secret=env.get("JWT_SECRET") or None,
            max_workers=int(env.get("GATEWAY_MAX_WORKERS", "2")),
            function_settings=function_settings(env),
            openapi=Path(env["GATEWAY_OPENAPI"]).resolve() if env.get("GATEWAY_OPENAPI") else OPENAPI,
        )


def postgres_data_dir(state_dir: Path) -> Path:
    """The cluster lives in the state folder unless the postgres user cannot reach it."""
    if accessible_by_postgres(state_dir):
        return state_dir / "postgres"
    digest = hashlib.sha256(str(state_dir).encode()).hexdigest()[:10]
    return Path("/var/tmp") / f"users-orders-api-{digest}" / "postgres"


class Stack:
    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.postgres: PostgresCluster | None = None
        self.database_url = config.database_url or ""
        self.dynamodb_url = config.dynamodb_endpoint_url or ""
        self.base_url = ""
        self._dynamodb: ChildProcess | None = None
        self._gateway: ChildProcess | None = None
        self._started_postgres = False

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        cfg = self.config
        cfg.state_dir.mkdir(parents=True, exist_ok=True)
        if cfg.port and not port_is_free(cfg.host, cfg.port):
            raise StackError(f"port {cfg.port} on {cfg.host} is already in use; stop what uses it or set PORT")
        self.jwt_secret()  # a short JWT_SECRET is refused before anything starts
        self.cors_allow_origins()  # so is a malformed CORS_ALLOW_ORIGINS
        try:
            self._start_postgres()
            self._start_dynamodb()
            self._create_tables()
            self._migrate()
            self._start_gateway()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for child in (self._gateway, self._dynamodb):
            if child is not None:
                child.stop()
        if self.postgres is not None and self._started_postgres:
            self.postgres.stop()

    def failed_child(self) -> str | None:
        """Name of a child that died on its own, if any."""
        for child in (self._gateway, self._dynamodb):
            if child is not None and not child.alive():
                return child.name
        return None

    # -- pieces ----------------------------------------------------------------------------
    def _start_postgres(self) -> None:
        if self.database_url:
            return
        try:
            require_binaries()
        except PostgresError as exc:
            raise StackError(str(exc)) from exc
        self.postgres = PostgresCluster(data_dir=postgres_data_dir(self.config.state_dir), port=self.config.pg_port)
        try:
            if self.postgres.initialised() and self.postgres.running():
                self.postgres.ensure_database()  # left running by an earlier run: reuse it, don't stop it
            else:
                self.postgres.start()
                self._started_postgres = True
        except PostgresError as exc:
            raise StackError(str(exc)) from exc
        self.database_url = self.postgres.url

    def stop_postgres(self) -> None:
        """Fault injection: stop the private cluster (only one this stack started)."""
        if self.postgres is None:
            raise StackError("Postgres is external (DATABASE_URL); cannot stop it")
        self.postgres.stop(mode="immediate")

    def start_postgres(self) -> None:
        if self.postgres is None:
            raise StackError("Postgres is external (DATABASE_URL); cannot start it")
        self.postgres.start()
        self._started_postgres = True

    def restart_postgres(self) -> None:
        """Fault injection: `pg_ctl restart -m fast` (every client connection is dropped); returns once
        the server accepts connections again."""
        if self.postgres is None:
            raise StackError("Postgres is external (DATABASE_URL); cannot restart it")
        self.postgres.stop(mode="fast")
        self.postgres.start()

    def start_dynamodb_server(self) -> None:
        # Loopback whatever HOST the gateway binds: the emulation is unauthenticated, and only the
        # gateway's function workers (on this machine) talk to it.
        host, port = "127.0.0.1", self.config.dynamodb_port
        if not port_is_free(host, port):
            raise StackError(f"port {port} for the DynamoDB emulation is in use; set DYNAMODB_PORT or "
                             "DYNAMODB_ENDPOINT_URL")
        command = [sys.executable, "-m", "local.dynamodb", "--host", host, "--port", str(port)]
        self._dynamodb = ChildProcess("dynamodb", command, self._child_env(), self.config.log)
        self.dynamodb_url = f"http://{host}:{port}"
        wait_http(self.dynamodb_url, 30)

    def stop_dynamodb_server(self) -> None:
        if self._dynamodb is not None:
            self._dynamodb.stop()
            self._dynamodb = None

    def _start_dynamodb(self) -> None:
        if not self.dynamodb_url:
            self.start_dynamodb_server()

    def _create_tables(self) -> None:
        client = boto3.client("dynamodb", endpoint_url=self.dynamodb_url, region_name="us-east-1",
                              aws_access_key_id="local", aws_secret_access_key="local")
        try:
            create_tables(client, self.config.template)
        except Exception as exc:  # botocore raises many types; the message is what matters here
            raise StackError(f"cannot create DynamoDB tables at {self.dynamodb_url}: {exc}") from exc

    def _migrate(self) -> None:
        command = [sys.executable, "-m", "alembic", "-c", str(REPO / "infra" / "alembic.ini"), "upgrade", "head"]
        result = subprocess.run(command, env={**self._child_env(), "DATABASE_URL": self.database_url},
                                capture_output=True, text=True, timeout=120, check=False)
        if result.returncode != 0:
            raise StackError(f"database migrations failed:\n{result.stderr.strip()[-2000:]}")

    def jwt_secret(self) -> str:
        if self.config.jwt_secret:
            if len(self.config.jwt_secret.encode()) < MIN_JWT_SECRET_BYTES:
                raise StackError(f"JWT_SECRET must be at least {MIN_JWT_SECRET_BYTES} bytes (HS256); "
                                 "unset it to have one generated")
            return self.config.jwt_secret
        path = self.config.state_dir / "jwt_secret"
        if not path.exists():  # generated once and kept, so tokens survive restarts
            write_private(path, secrets.token_urlsafe(48))
        return path.read_text().strip()

    def cors_allow_origins(self) -> str:
        """CORS_ALLOW_ORIGINS (make run's environment, or a test's extra_env), checked, in the canonical form the
        template parameter CorsAllowOrigins takes ("" = CORS off)."""
        given = {**self.config.function_settings, **self.config.extra_env}.get("CORS_ALLOW_ORIGINS", "")
        try:
            return ",".join(parse_allowed_origins(given))
        except ValueError as exc:
            raise StackError(f"CORS_ALLOW_ORIGINS: {exc}") from exc

    def template_parameters(self) -> dict[str, str]:
        """Parameter values for the gateway, as a deploy would give them: the origins for the preflight mocks and
        the gateway responses (the functions get the same value from the template and from their environment)."""
        origins = self.cors_allow_origins()
        return {"CorsAllowOrigins": origins} if origins else {}

    def function_env(self) -> dict[str, str]:
        return {
            # The template's default is verify-full (RDS requires TLS); the local cluster has none. DB_SSL_MODE
            # in `make run`'s environment (an external DATABASE_URL with TLS) overrides it via function_settings.
            "DB_SSL_MODE": "disable",
            "DATABASE_URL": self.database_url,
            "DYNAMODB_ENDPOINT_URL": self.dynamodb_url,
            "JWT_SECRET": self.jwt_secret(),
            **FAKE_AWS_ENV,
            **self.config.function_settings,
            **self.config.extra_env,
            "CORS_ALLOW_ORIGINS": self.cors_allow_origins(),
        }

    def _start_gateway(self) -> None:
        env_file = self.config.state_dir / "env.json"
        write_private(env_file, json.dumps({"Parameters": self.function_env()}, indent=2))
        command = [sys.executable, "-m", "local.gateway", "--template", str(self.config.template),
                   "--host", self.config.host, "--port", str(self.config.port), "--env-file", str(env_file),
                   "--max-workers", str(self.config.max_workers)]
        if self.config.openapi is not None:
            command += ["--openapi", str(self.config.openapi)]
        if self.config.dashboard is not None:
            command += ["--site", f"{DASHBOARD_PREFIX}={self.config.dashboard}"]
        parameters = [f"{name}={value}" for name, value in self.template_parameters().items()]
        if parameters:
            command += ["--parameter-overrides", *parameters]
        self._gateway = ChildProcess("gateway", command, self._child_env(), self.config.log, ready=_READY)
        self.base_url = self._gateway.wait_ready(60).group(1)

    def page_urls(self) -> dict[str, str]:
        """The pages served beside the API, by name (for the banner)."""
        pages = {}
        if self.config.openapi is not None:
            pages["API docs (Swagger UI)"] = f"{self.base_url}{DOCS_PREFIX}"
        if self.config.dashboard is not None:
            pages["Dashboard"] = f"{self.base_url}{DASHBOARD_PREFIX}/"
        return pages

    def _child_env(self) -> dict[str, str]:
        path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH", "")]))
        return {**os.environ, **FAKE_AWS_ENV, "PYTHONPATH": path, "PYTHONUNBUFFERED": "1"}
