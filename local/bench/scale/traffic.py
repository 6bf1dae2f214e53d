"""What the simulated clients send: the request mix, who sends it, and how many containers each function gets.

The mix is the benchmarks' (1 login : 1 create : 18 reads), the reads spread over the four read routes; half the
creates carry an Idempotency-Key. A checker polls /health once a second and a dashboard reads /metrics every 10 s.
Each request comes from one of `users` users (each with an address of their own), chosen uniformly: a human
user sends a request every few minutes, far below any budget. A flood adds one address hammering login and one
user hammering their profile.

Warm durations (ms) are what a deployed function spends per route (measured CPU, docs/benchmarks.md, plus the
round trips of the route: DynamoDB ~4 ms, each SQL statement ~1 ms through RDS Proxy); they feed the latency
histogram and split the containers between functions by Little's law (concurrency = rate x duration).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from shared.protection.rate_policy import RateLimit, RateLimits, by_source_ip


@dataclass(frozen=True)
class Route:
    function: str
    method: str
    resource: str
    weight: float  # share of the client mix (monitoring routes have their own rates)
    duration_ms: float
    status: int = 200

    @property
    def name(self) -> str:
        return f"{self.method} {self.resource}"


LOGIN = Route("users", "POST", "/v1/users/login", 1, 290)  # bcrypt cost 12 ~270 ms
CREATE = Route("orders", "POST", "/v1/orders", 1, 14, status=201)
PROFILE = Route("users", "GET", "/v1/users/profile", 6, 8)
GET_ORDER = Route("orders", "GET", "/v1/orders/{order_id}", 4, 9)
LIST_ORDERS = Route("orders", "GET", "/v1/orders", 4, 12)
MY_STATS = Route("orders", "GET", "/v1/orders/my-stats", 4, 9)
HEALTH = Route("monitoring", "GET", "/health", 0, 12)
METRICS = Route("monitoring", "GET", "/metrics", 0, 40)
MIX = (LOGIN, CREATE, PROFILE, GET_ORDER, LIST_ORDERS, MY_STATS)
HEALTH_PER_SECOND = 1.0
METRICS_EVERY_SECONDS = 10.0
KEYED_CREATE_SHARE = 0.5
FLOOD_ADDRESS = "203.0.113.7"
FLOOD_USER = "flooder"


@dataclass(frozen=True)
class Client:
    user: str
    address: str


def rate_limit_key(limit: RateLimit, client: Client) -> str:
    """What the function's policy keys this request by (by_caller: the user of a valid token)."""
    return f"ip:{client.address}" if limit.key is by_source_ip else f"user:{client.user}"


def budget(policies: dict[str, RateLimits], route: Route) -> RateLimit:
    return policies[route.function].for_event({"httpMethod": route.method, "resource": route.resource})


class Population:
    def __init__(self, users: int, rng: random.Random) -> None:
        self._users = users
        self._rng = rng

    def anyone(self) -> Client:
        n = self._rng.randrange(self._users)
        return Client(f"u{n}", f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}")


def containers_per_function(total: int) -> dict[str, int]:
    """Containers by Little's law over the mix (monitoring: 1 %, at least 2)."""
    monitoring = max(2, total // 100)
    demand = {name: sum(r.weight * r.duration_ms for r in MIX if r.function == name) for name in ("users", "orders")}
    users = round((total - monitoring) * demand["users"] / sum(demand.values()))
    return {"users": users, "orders": total - monitoring - users, "monitoring": monitoring}
