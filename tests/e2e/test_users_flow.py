"""The README's curl flow (register, login with grep-extracted token, profile), run verbatim over HTTP."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import requests

README = Path(__file__).resolve().parents[2] / "README.md"
README_BASE = "http://127.0.0.1:8080"


def readme_user_flow() -> list[str]:
    """The README's shell commands from the register call through the profile call, joined."""
    block = re.search(r"Try it:\s*```bash\n(.*?)```", README.read_text(), re.S)
    assert block, "README has no 'Try it' bash block"
    commands = block[1].replace("\\\n", " ").splitlines()
    start = next(i for i, line in enumerate(commands) if "/v1/users/register" in line)
    end = next(i for i, line in enumerate(commands) if "/v1/users/profile" in line)
    return commands[start:end + 1]


def test_readme_flow_register_login_profile(base_url: str) -> None:
    # Given the README's commands pointed at the running stack
    commands = [command.replace(README_BASE, base_url) for command in readme_user_flow()]
    assert any("grep -o '\"token\":\"[^\"]*\"'" in command for command in commands)
    script = "set -eo pipefail\n" + "\n".join(
        f'{command}; echo "<<{index}>>"' for index, command in enumerate(commands))
    # When bash runs them
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    outputs = re.split(r"<<\d+>>\n?", result.stdout)
    register, profile = outputs[0], outputs[-2]
    # Then registration answered in the envelope (201, or 409 if an earlier test in the session made Ada)
    assert '"email":"ada@example.com"' in register or "EMAIL_ALREADY_REGISTERED" in register, register
    # And the token grep worked, so the profile call returns Ada in compact JSON
    body = json.loads(profile)
    assert body["success"] is True, profile
    assert body["data"]["user"]["email"] == "ada@example.com"
    assert profile.startswith('{"success":true,"data":{"user":{')


@pytest.mark.parametrize("path", ["/v1/users", "/v1/users/search?query=a", "/v1/users/profile"])
def test_protected_routes_need_a_token_over_http(base_url: str, path: str) -> None:
    response = requests.get(f"{base_url}{path}", timeout=10)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED"
    assert response.headers["X-Request-ID"]
