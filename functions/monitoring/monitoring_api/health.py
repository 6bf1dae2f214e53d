"""Dependency checks for GET /health: real round trips, timed; and every breaker's state."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from shared import db
from shared.dependencies import dependencies
from shared.logger import logger


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
    container = dependencies()
    container.dynamodb.get_item(TableName=container.settings.circuit_breaker_table, Key={"pk": {"S": "health-probe"}})


def breaker_states() -> dict[str, dict[str, Any]]:
    """Every reported breaker as stored in the shared table (or this container's fallback when it is down)."""
    container = dependencies()
    names = dict.fromkeys((*container.settings.circuit_breakers, container.settings.breaker_name))
    states = {}
    for name in sorted(names):
        breaker = container.breaker(name)
        states[name] = breaker.state(fresh=True).public(breaker.reset_timeout, time.time())
    return states


def dependency_checks() -> dict[str, dict[str, Any]]:
    return {"database": _timed(db.ping), "dynamodb": _timed(_ping_dynamodb)}
