"""The monitoring function's protection policy: one budget for everything.

Its database calls (the caller's account, for /metrics) belong to the users service, so the template
sets DATABASE_BREAKER=users for it, and CIRCUIT_BREAKERS lists the breakers /health reports.
"""

from shared.protection.rate_policy import EVERYTHING_ELSE, RateLimits

RATE_LIMITS = RateLimits(fallback=EVERYTHING_ELSE)
