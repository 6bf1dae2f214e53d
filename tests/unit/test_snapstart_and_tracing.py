"""SnapStart's runtime hooks rebuild what a restore must not share; tracing is off unless Lambda traces."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
import snapshot_restore_py
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from monitoring_api.policy import RATE_LIMITS
from shared.auth import tokens
from shared.dependencies import dependencies, reset
from shared.handler import create_handler
from shared.snapstart import after_restore, before_snapshot, register_hooks
from shared.tracing import traced, tracing_active


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, dynamodb_endpoint: str) -> Iterator[None]:
    monkeypatch.setenv("DATABASE_URL", "postgresql+pg8000://nobody@127.0.0.1:9/none")  # never connected here
    monkeypatch.setenv("DYNAMODB_ENDPOINT_URL", dynamodb_endpoint)
    reset()
    yield
    reset()


@pytest.mark.usefixtures("environment")
def test_a_restore_rebuilds_engines_clients_caches_and_the_random_seed() -> None:
    # Given a container initialised before its snapshot: engines, clients, limiter, breakers, a verified token
    before = dependencies()
    engine, read_engine, client = before.database.engine, before.database.read_engine, before.dynamodb
    limiter, breaker, metrics = before.limiter, before.breaker("users"), before.metrics
    tokens.decode_token(tokens.issue_token(__import__("uuid").uuid4(), "a@example.com", ["user"], 0))
    assert tokens._verify.cache_info().currsize >= 1
    random.seed(1234)
    drawn_before_snapshot = random.random()
    # When the runtime takes the snapshot and later restores it (the registered hooks, in the runtime's order)
    assert register_hooks()
    assert before_snapshot in [entry[0] for entry in snapshot_restore_py._before_snapshot_registry]
    assert after_restore in [entry[0] for entry in snapshot_restore_py._after_restore_registry]
    before_snapshot()
    random.seed(1234)  # every restored environment starts from the snapshot's random state
    after_restore()
    # Then nothing built before the snapshot is used after it
    after = dependencies()
    assert after is not before
    assert after.database.engine is not engine and after.database.read_engine is not read_engine
    assert after.dynamodb is not client and after.limiter is not limiter and after.metrics is not metrics
    assert after.breaker("users") is not breaker
    assert tokens._verify.cache_info().currsize == 0
    assert random.random() != drawn_before_snapshot


@pytest.mark.usefixtures("environment")
def test_before_the_snapshot_pooled_connections_and_sockets_are_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    closed: list[str] = []
    container = dependencies()
    monkeypatch.setattr(container.database, "dispose", lambda: closed.append("database"))
    monkeypatch.setattr(container.dynamodb, "close", lambda: closed.append("dynamodb"))
    before_snapshot()
    assert closed == ["database", "dynamodb"]


def test_building_a_handler_registers_the_hooks_once() -> None:
    create_handler(APIGatewayRouter(), rate_limits=RATE_LIMITS)
    create_handler(APIGatewayRouter(), rate_limits=RATE_LIMITS)
    assert [entry[0] for entry in snapshot_restore_py._after_restore_registry].count(after_restore) == 1


@pytest.mark.parametrize(("environ", "active"), [
    ({}, False),  # make run, the tests: no X-Ray daemon
    ({"AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000"}, True),  # Lambda with Tracing: Active
    ({"AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000", "POWERTOOLS_TRACE_DISABLED": "true"}, False),
])
def test_tracing_follows_lambdas_active_tracing(environ: dict[str, str], active: bool) -> None:
    assert tracing_active(environ) is active


def test_untraced_handlers_are_left_as_they_are() -> None:
    def handler(event: dict[str, object], context: object) -> dict[str, object]:
        return {"statusCode": 200}

    assert traced(handler, {}) is handler


def test_a_traced_handler_runs_inside_a_powertools_subsegment(monkeypatch: pytest.MonkeyPatch) -> None:
    import aws_xray_sdk
    from aws_lambda_powertools import Tracer
    from aws_xray_sdk.core import xray_recorder

    # Given Lambda's environment with active tracing (the invocation's trace header included)
    lambda_env = {"LAMBDA_TASK_ROOT": "/var/task", "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
                  "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"}
    for name, value in lambda_env.items():
        monkeypatch.setenv(name, value)
    sent: list[str] = []
    monkeypatch.setattr(xray_recorder.emitter, "send_entity", lambda entity: sent.append(entity.name))
    Tracer._reset_config()
    aws_xray_sdk.global_sdk_config.set_sdk_enabled(True)
    try:
        def handler(event: dict[str, object], context: object) -> dict[str, object]:
            return {"statusCode": 200}

        # When the handler is built and invoked (inside the function's segment, which Lambda opens)
        wrapped = traced(handler, lambda_env)
        xray_recorder.begin_segment("UsersFunction")
        try:
            assert wrapped({}, None) == {"statusCode": 200}
        finally:
            xray_recorder.end_segment()
    finally:
        Tracer._reset_config()
        aws_xray_sdk.global_sdk_config.set_sdk_enabled(False)
    # Then Powertools sent the handler's subsegment to the X-Ray daemon
    assert "## handler" in sent
