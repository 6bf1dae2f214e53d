"""The command line: mount lines, ready line, env-file, clean shutdown."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from pathlib import Path

import requests

from .conftest import TEMPLATE

ROOT = Path(__file__).resolve().parents[2]


def test_cli_prints_routes_and_ready_line(tmp_path: Path) -> None:
    env_file = tmp_path / "env.json"
    env_file.write_text(json.dumps({"Parameters": {"EXTRA_VAR": "cli"}}))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "local.gateway",
            "--template",
            str(TEMPLATE),
            "--port",
            "0",
            "--env-file",
            str(env_file),
            "--no-reload",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("Gateway listening on"):
                break
        ready = lines[-1]
        m = re.fullmatch(r"Gateway listening on http://127\.0\.0\.1:(\d+)", ready)
        assert m and int(m.group(1)) > 0
        assert sum(ln.startswith("Gateway listening") for ln in lines) == 1
        assert f"Mounting StatsFunction at http://127.0.0.1:{m.group(1)}/v1/orders/stats [GET]" in lines
        assert any(re.fullmatch(r"Mounting EchoFunction at \S+/echo \[ANY\]", ln) for ln in lines)
        r = requests.get(f"http://127.0.0.1:{m.group(1)}/echo", timeout=30)
        assert r.json()["env"]["EXTRA_VAR"] == "cli"
        access = json.loads(proc.stdout.readline())
        assert access["path"] == "/echo" and access["status"] == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
    assert proc.returncode == 0


def test_options_not_given_come_from_the_environment_as_the_config_reads_it(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import local.gateway.__main__ as cli

    seen = {}

    async def capture(config) -> None:  # type: ignore[no-untyped-def]
        seen["config"] = config

    monkeypatch.setattr(cli, "serve", capture)
    # Given GATEWAY_EAGER=false and a worker count in the environment, and a timeout on the command line
    monkeypatch.setenv("GATEWAY_EAGER", "false")
    monkeypatch.setenv("GATEWAY_MAX_WORKERS", "3")
    cli.main(["--template", str(TEMPLATE), "--integration-timeout", "5"])
    # Then "false" means off (as GatewayConfig.from_env reads it), and the command line wins where given
    config = seen["config"]
    assert (config.eager, config.max_workers, config.integration_timeout) == (False, 3, 5.0)
