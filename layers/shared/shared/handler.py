"""`create_handler`: a function's resolver with its routers, and its Lambda entry point.

The entry point is a decorator stack around `app.resolve`: X-Ray tracing where Lambda traces the
function, Powertools' log context (correlation id from API Gateway), EMF metrics, then the request
guard with the function's own rate limits. The function declares its policy; this module holds the
mechanism, the same for every function. Building it also registers the SnapStart runtime hooks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.guard import request_guard
from shared.logger import logger
from shared.protection.metrics import emf
from shared.protection.rate_policy import RateLimits
from shared.resolver import create_resolver
from shared.settings import get_settings
from shared.snapstart import register_hooks
from shared.tracing import traced

LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def create_handler(*routers: Router, rate_limits: RateLimits) -> tuple[APIGatewayRestResolver, LambdaHandler]:
    get_settings()  # a misconfigured environment (e.g. a short JWT secret) fails the cold start, not each request
    register_hooks()
    app = create_resolver()
    for router in routers:
        app.include_router(router)

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
    @emf.log_metrics
    @request_guard(rate_limits)
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return app.resolve(event, context)

    return app, traced(lambda_handler)
