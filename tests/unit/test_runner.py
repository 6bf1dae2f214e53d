"""`make run` fails fast with a clear message (exit 2) when something cannot start, never hangs."""

import os
import socket
import subprocess
import sys
from pathlib import Path

from local.postgres import free_port
from local.stack import REPO


def _run(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "STATE_DIR": str(tmp_path / "state"), "PORT": str(free_port()),
                "PG_PORT": str(free_port()), "DYNAMODB_PORT": str(free_port()), **env}
    return subprocess.run([sys.executable, "-m", "local.runner"], cwd=REPO, env=full_env, capture_output=True,
                          text=True, timeout=60, check=False)


def test_taken_port_is_reported(tmp_path: Path) -> None:
    # Given something already listens on the gateway port
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        # When the runner starts on that port
        result = _run(tmp_path, PORT=str(port))
    # Then it exits 2 and says which port is in use
    assert result.returncode == 2
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr


def test_missing_postgres_binaries_are_reported(tmp_path: Path) -> None:
    # Given a PATH without the PostgreSQL server binaries and no DATABASE_URL
    # When the runner starts
    result = _run(tmp_path, PATH="/usr/bin:/bin:/usr/sbin:/sbin", DATABASE_URL="")
    # Then it exits 2 and explains what to install or set
    assert result.returncode == 2
    assert "PostgreSQL server binaries not found" in result.stderr
    assert "DATABASE_URL" in result.stderr


def test_unreachable_external_dynamodb_is_reported(tmp_path: Path) -> None:
    # Given DATABASE_URL and DYNAMODB_ENDPOINT_URL point at nothing (Postgres is skipped, tables fail)
    dead = f"http://127.0.0.1:{free_port()}"
    result = _run(tmp_path, DATABASE_URL="postgresql://nobody@127.0.0.1:9/none", DYNAMODB_ENDPOINT_URL=dead)
    # Then it exits 2 naming the endpoint it could not use
    assert result.returncode == 2
    assert f"cannot create DynamoDB tables at {dead}" in result.stderr


def test_function_settings_in_the_environment_reach_every_function(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from local.stack import Stack, StackConfig

    # Given `make run`'s environment with the documented settings (and some the stack owns)
    documented = {"RATE_LIMIT_DEFAULT": "1000/60", "RATE_LIMIT_AUTH": "50/60", "RATE_LIMIT_ORDER_CREATE": "70/60",
                  "RATE_LIMIT_PASSWORD": "5/60", "CIRCUIT_BREAKER_FAILURE_THRESHOLD": "9",
                  "CIRCUIT_BREAKER_RESET_TIMEOUT": "12", "BCRYPT_ROUNDS": "13", "JWT_LIFETIME_SECONDS": "3600",
                  "DB_STATEMENT_TIMEOUT_SECONDS": "4", "METRICS_FLUSH_SECONDS": "2", "LOG_LEVEL": "DEBUG"}
    for name, value in {**documented, "RATE_LIMIT_TABLE": "elsewhere", "JWT_SECRET_PARAMETER": "ssm-name"}.items():
        monkeypatch.setenv(name, value)
    # When the stack builds the functions' environment
    env = Stack(StackConfig.from_env()).function_env()
    # Then every documented setting is there (the log level as Powertools reads it)...
    expected = {**documented, "POWERTOOLS_LOG_LEVEL": "DEBUG"}
    del expected["LOG_LEVEL"]
    assert {name: env.get(name) for name in expected} == expected
    # ...and what the stack decides itself is not overridden
    assert "RATE_LIMIT_TABLE" not in env and "JWT_SECRET_PARAMETER" not in env


def test_a_short_jwt_secret_is_refused_before_anything_starts(tmp_path: Path) -> None:
    # Given a JWT_SECRET of 31 bytes / When the runner starts
    result = _run(tmp_path, JWT_SECRET="x" * 31)
    # Then it exits 2 and says why
    assert result.returncode == 2
    assert "JWT_SECRET must be at least 32 bytes" in result.stderr


def test_secret_and_env_files_are_private_from_the_first_byte(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import os
    import stat

    from local import stack as stack_module

    # Given a spy on every file creation mode
    modes: list[int] = []
    real_open = os.open

    def spy(path, flags, mode=0o777, *args, **kwargs):  # type: ignore[no-untyped-def]
        if flags & os.O_CREAT:
            modes.append(mode)
        return real_open(path, flags, mode, *args, **kwargs)

    monkeypatch.setattr(stack_module.os, "open", spy)
    old = tmp_path / "env.json"
    old.write_text("{}")
    old.chmod(0o644)
    # When the secret is generated and the env file (re)written
    stack = stack_module.Stack(stack_module.StackConfig(state_dir=tmp_path))
    stack.jwt_secret()
    stack_module.write_private(old, "{}")
    # Then both were created 0600 (not written, then chmod'ed), and an older file was tightened too
    assert modes == [0o600, 0o600]
    for path in (tmp_path / "jwt_secret", old):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
