"""Dependency checks for GET /health: real round trips, timed."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from shared.observability import logger


def _timed(check: Callable[[], None]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        check()
    except Exception as exc:  # any failure means the dependency is down; the type says why
        logger.warning("health check failed", extra={"error": type(exc).__name__})
        status: dict[str, Any] = {"status": "down", "error": type(exc).__name__}
    else:
        status = {"status": "up"}
    status["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return status


def _ping_dynamodb() -> None:
    from shared.aws import dynamodb_client
    from shared.settings import get_settings

    dynamodb_client().get_item(
        TableName=get_settings().circuit_breaker_table, Key={"pk": {"S": "health-probe"}}
    )


def breaker_states() -> dict[str, dict[str, Any]]:
    """Every breaker as stored in the shared table (or this container's fallback when it is down)."""
    from shared.protection.circuit_breaker import SERVICES, get_breaker

    states = {}
    for name in SERVICES:
        breaker = get_breaker(name)
        states[name] = breaker.state(fresh=True).public(breaker.reset_timeout, time.time())
    return states


def dependency_checks() -> dict[str, dict[str, Any]]:
    from shared.db import ping

    return {"database": _timed(ping), "dynamodb": _timed(_ping_dynamodb)}
