"""A DynamoDB emulation per engine that can throttle (local.dynamodb.heat), for the protection code's tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from local.dynamodb import start_dynamodb
from local.dynamodb.heat import HeatMap


@dataclass(frozen=True)
class ThrottlingEngine:
    """An engine served over HTTP whose `heat` rules throttle what the tests say (cleared after each test)."""

    kind: str
    url: str
    heat: HeatMap


@pytest.fixture(scope="session", params=["fast", "moto"])
def throttling_engine(request: pytest.FixtureRequest) -> Iterator[ThrottlingEngine]:
    heat = HeatMap()
    server = start_dynamodb(engine=request.param, heat=heat)
    yield ThrottlingEngine(request.param, server.url, heat)
    server.stop()


@pytest.fixture
def throttle(throttling_engine: ThrottlingEngine) -> Iterator[ThrottlingEngine]:
    yield throttling_engine
    throttling_engine.heat.clear()
