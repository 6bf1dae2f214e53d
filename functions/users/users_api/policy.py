"""The users function's protection policy: its rate limits (its database breaker is its service name).

register and login share one budget per source address (nobody is authenticated yet); a password
change runs bcrypt twice, so it gets a per-user budget as tight as login's: one caller cannot keep
every container busy with bcrypt while others wait.
"""

from shared.protection.rate_policy import EVERYTHING_ELSE, RateLimit, RateLimits, by_caller, by_source_ip
from shared.settings import RateRule

RATE_LIMITS = RateLimits(
    RateLimit("auth", RateRule(limit=10, window_seconds=60), by_source_ip,
              routes={("POST", "/v1/users/register"), ("POST", "/v1/users/login")}),
    RateLimit("password", RateRule(limit=10, window_seconds=60), by_caller, routes={("PUT", "/v1/users/password")}),
    fallback=EVERYTHING_ELSE,
)
