"""Many simulated Lambda containers, each with the real limiter, breaker and metrics code, against one local engine.

Time is simulated: one clock drives every container's protection code and the engine's per-second metering, so a
thousand containers at 10 requests/s each are measured second by second however long the host takes. Requests
arrive as a Poisson stream and go to a random warm container of their function; a container serves one request
at a time, and its work outside DynamoDB (SQL, bcrypt) only shows in the latency it records.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.dynamodb_tables import table_definitions
from local.bench.scale import traffic
from local.bench.scale.traffic import Client, Route
from local.bench.scale.transport import StoreClient
from local.dynamodb.heat import HeatMap
from local.dynamodb.store import Store
from shared.errors import ServiceUnavailable
from shared.protection.circuit_breaker import CircuitBreaker, DynamoStore
from shared.protection.metrics import MetricsRecorder, emf
from shared.protection.metrics_summary import summarize
from shared.protection.rate_policy import RateLimits
from shared.protection.ratelimit import RateLimiter

RATE_LIMIT_TABLE, BREAKER_TABLE = "RateLimitTable", "CircuitBreakerTable"
IDEMPOTENCY_TABLE, METRICS_TABLE = "IdempotencyTable", "MetricsTable"
TEMPLATE = Path(__file__).resolve().parents[3] / "template.yaml"
START = 1_800_000_000.0  # a whole minute (and 6 s buckets) of epoch time
DATABASE_BREAKER = {"users": "users", "orders": "orders", "monitoring": "users"}  # as the template sets them


class SimClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass(frozen=True)
class Config:
    containers: int = 1000
    rps: float = 10_000.0
    seconds: float = 20.0
    users: int = 100_000
    flood_rps: float = 0.0  # each: one address on login, one user on their profile
    enforce_aws_limits: bool = False
    seed: int = 1


class Container:
    """One warm container of a function: its own DynamoDB client, limiter, breakers and metrics recorder."""

    def __init__(self, function: str, store: Store, clock: SimClock) -> None:
        self.function = function
        self.client = StoreClient(store)
        self.limiter = RateLimiter(RATE_LIMIT_TABLE, self._client, clock=clock)
        self.metrics = MetricsRecorder(METRICS_TABLE, self._client, clock=clock, flush_interval=1.0, source=function)
        self._clock = clock
        self._breakers: dict[str, CircuitBreaker] = {}

    def _client(self) -> StoreClient:
        return self.client

    def breaker(self, name: str) -> CircuitBreaker:
        if name not in self._breakers:
            self._breakers[name] = CircuitBreaker(name, DynamoStore(BREAKER_TABLE, self._client), threshold=5,
                                                  reset_timeout=30, clock=self._clock,
                                                  on_transition=self.metrics.record_transition)
        return self._breakers[name]


@dataclass
class Outcome:
    requests: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    failed_open: int = 0
    dynamodb_calls: int = 0
    calls: Counter[str] = field(default_factory=Counter)  # "<operation> <table>": before the final flush
    counted_by_metrics: int = 0
    cpu_seconds: float = 0.0
    containers: dict[str, int] = field(default_factory=dict)
    hot_keys: dict[str, Any] = field(default_factory=dict)


class Simulation:
    def __init__(self, config: Config, policies: dict[str, RateLimits]) -> None:
        self.config = config
        self.policies = policies
        self.rng = random.Random(config.seed)
        self.clock = SimClock(START)
        self.heat = HeatMap(self.clock, enforce_aws_limits=config.enforce_aws_limits)
        self.store = Store(heat=self.heat)
        for definition in table_definitions(TEMPLATE, "us-east-1"):
            definition.pop("TimeToLive", None)
            self.store.handle("CreateTable", definition)
        counts = traffic.containers_per_function(config.containers)
        self.containers = {name: [Container(name, self.store, self.clock) for _ in range(n)]
                           for name, n in counts.items()}
        self.population = traffic.Population(config.users, self.rng)
        self.outcome = Outcome(containers=counts)
        self._keyed = 0

    def run(self) -> Outcome:
        config, started = self.config, time.process_time()
        weights = sum(route.weight for route in traffic.MIX)
        streams: list[tuple[Route, float, Client | None]] = [(route, config.rps * route.weight / weights, None)
                                                             for route in traffic.MIX]
        if config.flood_rps:
            streams += [(traffic.LOGIN, config.flood_rps, Client("attacker", traffic.FLOOD_ADDRESS)),
                        (traffic.PROFILE, config.flood_rps, Client(traffic.FLOOD_USER, "198.51.100.9"))]
        total = sum(rate for _, rate, _ in streams)
        end, now = START + config.seconds, START
        next_health, next_metrics = START, START + traffic.METRICS_EVERY_SECONDS
        while (now := now + self.rng.expovariate(total)) < end:
            while next_health <= now:
                self._serve(traffic.HEALTH, self.population.anyone(), next_health)
                next_health += 1 / traffic.HEALTH_PER_SECOND
            while next_metrics <= now:
                self._serve(traffic.METRICS, self.population.anyone(), next_metrics)
                next_metrics += traffic.METRICS_EVERY_SECONDS
            route, _, sender = self.rng.choices(streams, weights=[rate for _, rate, _ in streams])[0]
            self._serve(route, sender or self.population.anyone(), now)
        self.outcome.cpu_seconds = time.process_time() - started
        self._drain(end)
        self.outcome.hot_keys = self.heat.report(top=12)
        return self.outcome

    def _serve(self, route: Route, client: Client, now: float) -> None:
        self.clock.now = now
        container = self.rng.choice(self.containers[route.function])
        limit = traffic.budget(self.policies, route)
        decision = container.limiter.hit(limit.name, limit.default, traffic.rate_limit_key(limit, client))
        status = 429
        if decision.allowed:
            breaker = container.breaker(DATABASE_BREAKER[route.function])
            try:
                ticket = breaker.before_call()
                self._work(container, route, client)
                breaker.record_success(ticket)
                status = route.status
            except ServiceUnavailable:
                status = 503
        latency = route.duration_ms * self.rng.uniform(0.7, 1.6)
        container.metrics.record_request(route.name, status, latency, rate_limited=not decision.allowed,
                                         failed_open=decision.failed_open)
        emf.clear_metrics()  # what each invocation's @emf.log_metrics flush does
        self.outcome.requests += 1
        self.outcome.statuses[f"{route.name} {status}"] += 1
        self.outcome.failed_open += decision.failed_open

    def _work(self, container: Container, route: Route, client: Client) -> None:
        """The route's own DynamoDB calls (its SQL is only time)."""
        if route is traffic.CREATE and self.rng.random() < traffic.KEYED_CREATE_SHARE:
            self._keyed += 1
            key = {"id": {"S": f"orders-create#{client.user}:{self._keyed}"}}
            expires = {"N": str(int(self.clock.now) + 86_400)}
            container.client.put_item(TableName=IDEMPOTENCY_TABLE, Item={**key, "status": {"S": "INPROGRESS"},
                                                                         "expiration": expires},
                                      ConditionExpression="attribute_not_exists(id) OR expiration < :now",
                                      ExpressionAttributeValues={":now": {"N": str(int(self.clock.now))}})
            container.client.update_item(TableName=IDEMPOTENCY_TABLE, Key=key, UpdateExpression="SET #s = :done",
                                         ExpressionAttributeNames={"#s": "status"},
                                         ExpressionAttributeValues={":done": {"S": "COMPLETED"}})
        elif route is traffic.HEALTH:
            container.client.get_item(TableName=BREAKER_TABLE, Key={"pk": {"S": "health-probe"}})
            for name in ("orders", "users"):
                container.breaker(name).state(fresh=True)
        elif route is traffic.METRICS:
            summarize(container.client, METRICS_TABLE, 15, now=self.clock.now)

    def _drain(self, end: float) -> None:
        """Every container's last counters, then /metrics over the run: it must count every request."""
        self.clock.now = end
        for containers in self.containers.values():
            for container in containers:
                self.outcome.dynamodb_calls += sum(container.client.calls.values())
                self.outcome.calls.update({f"{op} {table}": n for (op, table), n in container.client.calls.items()})
                container.metrics.flush(force=True)
        reader = StoreClient(self.store)
        minutes = int((end - START) // 60) + 1
        self.outcome.counted_by_metrics = summarize(reader, METRICS_TABLE, minutes, now=end)["requests"]["total"]
