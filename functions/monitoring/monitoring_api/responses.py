"""What the monitoring routes return, for openapi.json (documentation only; see shared.openapi_models)."""

from __future__ import annotations

from typing import Literal

from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel, Field

from shared.openapi_models import documented, error_statuses, json_response


class DependencyCheck(BaseModel):
    status: Literal["up", "down"]
    latency_ms: float
    error: str | None = None


class HealthChecks(BaseModel):
    database: DependencyCheck
    dynamodb: DependencyCheck


class BreakerView(BaseModel):
    state: Literal["closed", "open", "half_open"]
    failures: int
    opened_at: str | None
    transitions: dict[str, int]
    retry_after: int | None = None


class HealthData(BaseModel):
    status: Literal["healthy", "degraded"]
    checks: HealthChecks
    circuit_breakers: dict[str, BreakerView]


class HealthEnvelope(BaseModel):
    """`success` is true only when healthy (then 200); degraded is a 503 with the same shape."""

    success: bool
    data: HealthData


class Window(BaseModel):
    minutes: int
    from_: str = Field(alias="from")
    to: str


class LatencyView(BaseModel):
    """Bucket upper bounds in ms (None before any request)."""

    p50: int | None
    p95: int | None
    p99: int | None
    mean: float | None


class RouteTotals(BaseModel):
    total: int
    by_status: dict[str, int]
    latency_ms: LatencyView
    rate_limited: int


class RequestTotals(BaseModel):
    total: int
    by_status: dict[str, int]
    latency_ms: LatencyView


class RateLimitTotals(BaseModel):
    rejected: int
    fail_open: int


class MetricsData(BaseModel):
    window: Window
    requests: RequestTotals
    routes: dict[str, RouteTotals]
    rate_limit: RateLimitTotals
    breaker_transitions: dict[str, dict[str, int]]
    circuit_breakers: dict[str, BreakerView]


class MetricsEnvelope(BaseModel):
    success: Literal[True]
    data: MetricsData


HEALTH: dict[int, OpenAPIResponse] = {
    **documented(200, "Every dependency up and no breaker open", HealthEnvelope),
    503: json_response("Degraded: a dependency is down or a breaker is open (success false, same data)",
                       HealthEnvelope),
}
METRICS = documented(200, "Counters of every function instance over the window", MetricsEnvelope,
                     *error_statuses(params=True, auth=True, database=True))
