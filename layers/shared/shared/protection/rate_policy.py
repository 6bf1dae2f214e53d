"""How a function declares its rate limits: named budgets, the routes that spend them, what they are keyed by.

The layer holds the mechanism; each function holds its policy (its `policy.py`), e.g.

    RATE_LIMITS = RateLimits(
        RateLimit("auth", RateRule(limit=10, window_seconds=60), by_source_ip,
                  routes={("POST", "/v1/users/register"), ("POST", "/v1/users/login")}),
        fallback=EVERYTHING_ELSE,
    )

A budget's rule is `RATE_LIMIT_<NAME>` from the environment (COUNT/SECONDS) when set, else its default.
Routes are matched on the raw event's (httpMethod, resource), before any validation: a malformed
request spends budget too, so a flood of garbage is limited like any other.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from shared.auth.tokens import bearer_token, decode_token
from shared.errors import Unauthorized
from shared.raw_event import header, source_ip
from shared.settings import RateRule, Settings

Event = dict[str, Any]
KeyOf = Callable[[Event], str]
Route = tuple[str, str]  # (METHOD, resource), e.g. ("POST", "/v1/orders")


def by_source_ip(event: Event) -> str:
    """The caller's address as API Gateway saw it: for routes used before anyone is authenticated."""
    return f"ip:{source_ip(event)}"


def by_caller(event: Event) -> str:
    """The user of a validly signed bearer token (no database lookup: keying only), else the address."""
    try:
        return f"user:{decode_token(bearer_token(header(event, 'Authorization'))).user_id}"
    except (Unauthorized, RuntimeError):
        return by_source_ip(event)


@dataclass(frozen=True)
class RateLimit:
    """A named budget: `default` unless RATE_LIMIT_<NAME> says otherwise, per key, spent by `routes`."""

    name: str
    default: RateRule
    key: KeyOf
    routes: Collection[Route] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        object.__setattr__(self, "routes", frozenset((method.upper(), path) for method, path in self.routes))

    def rule(self, settings: Settings) -> RateRule:
        return settings.rate_rule(self.name, self.default)


# The contract's budget for "everything else": 100 per 60 s per user when authenticated, else per address.
EVERYTHING_ELSE = RateLimit("default", RateRule(limit=100, window_seconds=60), by_caller)


class RateLimits:
    """A function's budgets; a request spends the one its route belongs to, else the fallback."""

    def __init__(self, *limits: RateLimit, fallback: RateLimit) -> None:
        self.fallback = fallback
        self._by_route: dict[Route, RateLimit] = {}
        for limit in limits:
            for route in limit.routes:
                if route in self._by_route:
                    raise ValueError(f"{route} is in two rate limits: {self._by_route[route].name}, {limit.name}")
                self._by_route[route] = limit

    def for_event(self, event: Event) -> RateLimit:
        route = (str(event.get("httpMethod") or "").upper(), str(event.get("resource") or ""))
        return self._by_route.get(route, self.fallback)
