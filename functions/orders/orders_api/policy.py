"""The orders function's protection policy: its rate limits (its database breaker is its service name)."""

from shared.protection.rate_policy import EVERYTHING_ELSE, RateLimit, RateLimits, by_caller
from shared.settings import RateRule

RATE_LIMITS = RateLimits(
    RateLimit("order_create", RateRule(limit=20, window_seconds=60), by_caller, routes={("POST", "/v1/orders")}),
    fallback=EVERYTHING_ELSE,
)
