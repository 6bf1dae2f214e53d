"""End-to-end fixtures: the real local stack (Postgres, moto server, gateway) over HTTP.

`stack` is shared by the session, with generous rate limits so flows don't trip each other.
`make_stack(**env)` starts a private stack for tests that need default limits or break things
(stopping Postgres or DynamoDB); it is stopped at the end of the test.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from local.postgres import free_port
from local.stack import Stack, StackConfig

pytestmark = pytest.mark.e2e

RELAXED_LIMITS = {"RATE_LIMIT_AUTH": "10000/60", "RATE_LIMIT_ORDER_CREATE": "10000/60",
                  "RATE_LIMIT_DEFAULT": "100000/60"}


def _start_stack(extra_env: dict[str, str]) -> tuple[Stack, Path]:
    state = Path(tempfile.mkdtemp(prefix="uoapi-e2e-", dir="/tmp"))
    state.chmod(0o755)
    log = (state / "stack.log").open("w")
    config = StackConfig(state_dir=state, port=0, pg_port=free_port(), dynamodb_port=free_port(),
                         extra_env={"BCRYPT_ROUNDS": "4", "POWERTOOLS_METRICS_DISABLED": "true",
                                    "METRICS_FLUSH_SECONDS": "0", **extra_env},
                         log=log)
    stack = Stack(config)
    stack.start()
    return stack, state


def _stop_stack(stack: Stack, state: Path) -> None:
    stack.stop()
    shutil.rmtree(state, ignore_errors=True)


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    started, state = _start_stack(RELAXED_LIMITS)
    yield started
    _stop_stack(started, state)


@pytest.fixture
def base_url(stack: Stack) -> str:
    return stack.base_url


@pytest.fixture
def make_stack() -> Iterator[Callable[..., Stack]]:
    started: list[tuple[Stack, Path]] = []

    def factory(**extra_env: str) -> Stack:
        pair = _start_stack(extra_env)
        started.append(pair)
        return pair[0]

    yield factory
    for pair in started:
        _stop_stack(*pair)
