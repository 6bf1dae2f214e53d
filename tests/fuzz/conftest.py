"""A private local stack for fuzzing, and an admin token (admin reaches every operation in the spec).

Collected only with RUN_FUZZ=1 (`make fuzz`): it takes about a minute and holds openapi.json to the
letter, so it runs as its own target rather than inside `make test`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from local.admin import upsert_admin
from local.stack import Stack
from tests.e2e.conftest import RELAXED_LIMITS, _start_stack, _stop_stack

collect_ignore_glob = [] if os.environ.get("RUN_FUZZ") == "1" else ["test_*.py"]
SPEC = Path(__file__).resolve().parents[2] / "openapi.json"


@dataclass(frozen=True)
class FuzzTarget:
    stack: Stack
    token: str


@pytest.fixture(scope="session")
def fuzz_target() -> Iterator[FuzzTarget]:
    stack, state = _start_stack(RELAXED_LIMITS)
    try:
        email, password = f"fuzz-admin-{uuid.uuid4().hex[:8]}@example.com", "fuzz-admin-password"
        upsert_admin(stack.database_url, email, password, "Fuzz Admin")
        login = requests.post(f"{stack.base_url}/v1/users/login", json={"email": email, "password": password},
                              timeout=30)
        assert login.status_code == 200, login.text
        yield FuzzTarget(stack, login.json()["data"]["token"])
    finally:
        _stop_stack(stack, state)

