"""Routes of the monitoring function."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from monitoring_api import output as docs
from monitoring_api.health import breaker_states, dependency_checks
from monitoring_api.output import HealthData, MetricsData
from shared.auth.principal import AUTHENTICATED, BEARER
from shared.dependencies import dependencies
from shared.envelope import ApiResponse, status_report, success
from shared.errors import ServiceUnavailable
from shared.protection.backoff import DYNAMODB_ERRORS
from shared.protection.metrics_summary import DEFAULT_MINUTES, MAX_MINUTES, summarize

router = APIGatewayRouter()


@router.get("/health", responses=docs.HEALTH)
def get_health() -> ApiResponse:
    checks = dependency_checks()
    breakers = breaker_states()
    healthy = all(check["status"] == "up" for check in checks.values()) and not any(
        breaker["state"] == "open" for breaker in breakers.values()
    )
    data = {"status": "healthy" if healthy else "degraded", "checks": checks, "circuit_breakers": breakers}
    return status_report(HealthData.model_validate(data), healthy=healthy)


@router.get("/metrics", middlewares=AUTHENTICATED, security=BEARER, responses=docs.METRICS)
def get_metrics(minutes: Annotated[int, Query(ge=1, le=MAX_MINUTES)] = DEFAULT_MINUTES) -> ApiResponse:
    """Counters of every function instance over the last `minutes` minutes (default 15)."""
    container = dependencies()
    try:
        data = summarize(container.dynamodb, container.settings.metrics_table, minutes)
    except DYNAMODB_ERRORS as error:
        raise ServiceUnavailable("Metrics storage is unavailable", retry_after=5) from error
    return success(MetricsData.model_validate({**data, "circuit_breakers": breaker_states()}))
