"""Lambda entry point of the monitoring function: a decorator stack around `app.resolve`."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from monitoring_api.routes import router
from shared.api import create_resolver
from shared.observability import logger, request_guard
from shared.protection.metrics import emf

app = create_resolver()
app.include_router(router)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@emf.log_metrics
@request_guard
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
