"""Lambda entry point of the users function: its routes and its policy (the stack is shared.handler's)."""

from shared.handler import create_handler
from users_api.policy import RATE_LIMITS
from users_api.routes import router

app, lambda_handler = create_handler(router, rate_limits=RATE_LIMITS)
