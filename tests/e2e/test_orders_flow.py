"""The README's order examples run verbatim over HTTP, and idempotent creation across worker processes."""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

README = Path(__file__).resolve().parents[2] / "README.md"
README_BASE = "http://127.0.0.1:8080"
LAPTOP = '{"items":[{"product":"Laptop","quantity":1,"price":75000.00}]}'


def readme_order_flow() -> list[str]:
    """The README's shell commands from register (for $TOKEN) through the order cancel call."""
    block = re.search(r"Try it:\s*```bash\n(.*?)```", README.read_text(), re.S)
    assert block, "README has no 'Try it' bash block"
    commands = [line for line in block[1].replace("\\\n", " ").splitlines() if line.strip()]
    start = next(i for i, line in enumerate(commands) if "/v1/users/register" in line)
    end = next(i for i, line in enumerate(commands) if "/status" in line)
    return commands[start:end + 1]


def test_readme_order_examples_verbatim(base_url: str) -> None:
    # Given the README's commands pointed at the running stack
    commands = [command.replace(README_BASE, base_url) for command in readme_order_flow()]
    assert any(LAPTOP in command for command in commands), "README lost the Laptop example"
    script = "set -eo pipefail\n" + "\n".join(f'{command}; echo "<<{i}>>"' for i, command in enumerate(commands))
    # When bash runs them
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    outputs = re.split(r"<<\d+>>\n?", result.stdout)

    def output_of(predicate: Callable[[str], bool]) -> str:
        return next(outputs[i] for i, command in enumerate(commands) if predicate(command))

    create = output_of(lambda c: "-X POST" in c and "/v1/orders" in c)
    listing = output_of(lambda c: c.startswith("curl") and "-X" not in c and re.search(r"/v1/orders\s", c) is not None)
    stats = output_of(lambda c: "/my-stats" in c)
    cancel = output_of(lambda c: "/status" in c)
    # Then the Laptop order was created with money written as 75000.00
    created = json.loads(create)["data"]["order"]
    assert created["status"] == "created"
    assert '"price":75000.00' in create and '"total_amount":75000.00' in create
    # And the listing, newest first, starts with it
    assert json.loads(listing)["data"]["orders"][0]["id"] == created["id"]
    # And my-stats counts it
    assert json.loads(stats)["data"]["by_status"]["created"] >= 1
    # And the cancel (of the first listed id, i.e. this order) succeeded
    assert json.loads(cancel)["data"]["order"] == {**created, "status": "cancelled",
                                                    "updated_at": json.loads(cancel)["data"]["order"]["updated_at"]}


def _register_and_login(base_url: str) -> str:
    email = f"e2e-{uuid.uuid4().hex[:10]}@example.com"
    credentials = {"email": email, "password": "correct horse battery"}
    assert requests.post(f"{base_url}/v1/users/register", json={**credentials, "name": "E2E"},
                         timeout=10).status_code == 201
    login = requests.post(f"{base_url}/v1/users/login", json=credentials, timeout=10)
    return str(login.json()["data"]["token"])


def test_concurrent_creates_with_one_key_across_workers(base_url: str) -> None:
    # Given a fresh user and ten concurrent POSTs with the same Idempotency-Key
    token = _register_and_login(base_url)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Idempotency-Key": "e2e-burst"}

    def post(_: int) -> requests.Response:
        return requests.post(f"{base_url}/v1/orders", data=LAPTOP, headers=headers, timeout=30)

    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(post, range(10)))
    # Then one fresh 201, the rest replays of it or 409 in progress — and one order exists
    fresh = [r for r in responses if r.status_code == 201 and "Idempotent-Replayed" not in r.headers]
    replays = [r for r in responses if r.headers.get("Idempotent-Replayed") == "true"]
    in_use = [r for r in responses if r.status_code == 409 and r.json()["error"]["code"] == "IDEMPOTENCY_KEY_IN_USE"]
    assert len(fresh) == 1, [(r.status_code, r.text) for r in responses]
    assert len(fresh) + len(replays) + len(in_use) == 10
    assert all(r.text == fresh[0].text for r in replays)
    listing = requests.get(f"{base_url}/v1/orders", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert listing.json()["data"]["pagination"]["total"] == 1
