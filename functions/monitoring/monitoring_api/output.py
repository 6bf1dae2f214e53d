"""What the monitoring routes return: one model per shape, used to write the body and to document it."""

from __future__ import annotations

from typing import Literal

from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import ConfigDict, Field

from shared.output import Output, absent, documented, error_statuses, json_response


class DependencyCheck(Output):
    status: Literal["up", "down"]
    latency_ms: float
    error: str | None = Field(default=None, exclude_if=absent)  # only when down


class HealthChecks(Output):
    database: DependencyCheck
    dynamodb: DependencyCheck


class BreakerView(Output):
    state: Literal["closed", "open", "half_open"]
    failures: int
    opened_at: str | None
    transitions: dict[str, int]
    retry_after: int | None = Field(default=None, exclude_if=absent)  # only when open


class HealthData(Output):
    status: Literal["healthy", "degraded"]
    checks: HealthChecks
    circuit_breakers: dict[str, BreakerView]


class MetricsWindow(Output):
    model_config = ConfigDict(populate_by_name=True)

    minutes: int
    from_: str = Field(alias="from")
    to: str


class LatencyView(Output):
    """Bucket upper bounds in ms (None before any request)."""

    p50: int | None
    p95: int | None
    p99: int | None
    mean: float | None


class RouteTotals(Output):
    total: int
    by_status: dict[str, int]
    latency_ms: LatencyView
    rate_limited: int


class RequestTotals(Output):
    total: int
    by_status: dict[str, int]
    latency_ms: LatencyView


class RateLimitTotals(Output):
    rejected: int
    fail_open: int


class MetricsData(Output):
    window: MetricsWindow
    requests: RequestTotals
    routes: dict[str, RouteTotals]
    rate_limit: RateLimitTotals
    breaker_transitions: dict[str, dict[str, int]]
    circuit_breakers: dict[str, BreakerView]


class HealthEnvelope(Output):
    """`success` is true only when healthy (then 200); degraded is a 503 with the same shape."""

    success: bool
    data: HealthData


HEALTH: dict[int, OpenAPIResponse] = {
    **documented(200, "Every dependency up and no breaker open", HealthData, envelope=HealthEnvelope),
    503: json_response("Degraded: a dependency is down or a breaker is open (success false, same data)",
                       HealthEnvelope),
}
METRICS = documented(200, "Counters of every function instance over the window", MetricsData,
                     *error_statuses(params=True, auth=True, database=True))
