"""The emulation has no authentication, so it listens on loopback only: the CLI refuses anything else unless
--allow-remote is given, and the local stack runs it on 127.0.0.1 whatever HOST the gateway binds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from local.dynamodb import __main__ as cli
from local.postgres import free_port
from local.stack import Stack, StackConfig


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a TCP listener on `port`, from /proc/net/tcp{,6} (hex, as the kernel writes them)."""
    addresses = set()
    for table in (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
        for line in table.read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port_hex = local.split(":")
            if state == "0A" and int(port_hex, 16) == port:  # 0A: LISTEN
                addresses.add(address)
    return addresses


LOOPBACK_V4 = "0100007F"  # 127.0.0.1, little-endian hex


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.com"])
def test_cli_refuses_a_non_loopback_host_without_allow_remote(host: str) -> None:
    # Given the CLI asked to listen beyond this machine
    result = subprocess.run([sys.executable, "-m", "local.dynamodb", "--host", host, "--port", str(free_port())],
                            capture_output=True, text=True, timeout=30, check=False)
    # Then it exits with a usage error that says why, and never listens
    assert result.returncode == 2
    assert "not a loopback address" in result.stderr and "--allow-remote" in result.stderr


@pytest.mark.parametrize(("host", "loopback"), [("127.0.0.1", True), ("127.8.9.10", True), ("::1", True),
                                                ("[::1]", True), ("localhost", True), ("0.0.0.0", False),
                                                ("::", False), ("10.0.0.1", False), ("my-host", False)])
def test_is_loopback(host: str, loopback: bool) -> None:
    assert cli.is_loopback(host) is loopback


def test_allow_remote_lets_the_cli_bind_the_host_it_was_given(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given --allow-remote with a non-loopback host (the server start itself is replaced: no public listener here)
    asked: list[Any] = []

    def start(host: str, port: int, engine: str, heat: Any = None) -> Any:
        asked.append((host, port, engine))
        raise SystemExit(0)
    monkeypatch.setattr(cli, "start_dynamodb", start)
    with pytest.raises(SystemExit):
        cli.main(["--host", "0.0.0.0", "--port", "9", "--engine", "fast", "--allow-remote"])
    # Then the start is attempted on that host
    assert asked == [("0.0.0.0", 9, "fast")]


def test_the_stack_runs_the_emulation_on_loopback_even_when_host_is_all_interfaces(tmp_path: Path) -> None:
    # Given a stack whose gateway HOST is 0.0.0.0
    port = free_port()
    stack = Stack(StackConfig(state_dir=tmp_path, host="0.0.0.0", dynamodb_port=port))
    try:
        # When it starts its DynamoDB emulation
        stack.start_dynamodb_server()
        # Then the only listener on that port is 127.0.0.1, and the functions are pointed there
        assert listening_addresses(port) == {LOOPBACK_V4}
        assert stack.dynamodb_url == f"http://127.0.0.1:{port}"
    finally:
        stack.stop_dynamodb_server()
