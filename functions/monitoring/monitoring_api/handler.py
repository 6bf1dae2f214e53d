"""Lambda entry point of the monitoring function: its routes and its policy (the stack is shared.handler's)."""

from monitoring_api.policy import RATE_LIMITS
from monitoring_api.routes import router
from shared.handler import create_handler

app, lambda_handler = create_handler(router, rate_limits=RATE_LIMITS)
