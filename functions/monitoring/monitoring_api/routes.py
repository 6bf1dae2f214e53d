"""Routes of the monitoring function."""

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from monitoring_api.health import dependency_checks
from shared.jsonutil import dumps
from shared.responses import ApiResponse

router = APIGatewayRouter()


@router.get("/health")
def get_health() -> ApiResponse:
    checks = dependency_checks()
    healthy = all(check["status"] == "up" for check in checks.values())
    data = {"status": "healthy" if healthy else "degraded", "checks": checks}
    return Response(
        status_code=200 if healthy else 503,
        content_type="application/json",
        body=dumps({"success": healthy, "data": data}),
    )
