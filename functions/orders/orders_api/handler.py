"""Lambda entry point of the orders function: its routes and its policy (the stack is shared.handler's)."""

from orders_api.policy import RATE_LIMITS
from orders_api.routes import router
from shared.handler import create_handler

app, lambda_handler = create_handler(router, rate_limits=RATE_LIMITS)
