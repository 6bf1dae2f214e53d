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
