"""The DynamoDB rate limiter: exact limit, sliding expiry, headers, fail-open (emulated DynamoDB, fake clock)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from shared.dynamodb import DynamoDBClient
from shared.protection.ratelimit import RateLimiter, Window, select_rule
from shared.settings import RateRule, Settings
from tests.support.dynamodb import hash_key_table, hot_path_client, throwaway_table, unreachable_client

TABLE = "RateLimitTable"


class FakeClock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def table(dynamodb_endpoint: str) -> Iterator[str]:
    """A fresh, empty rate-limit table of its own (the emulation lives for the whole session)."""
    with throwaway_table(dynamodb_endpoint, hash_key_table(TABLE)) as name:
        yield name


@pytest.fixture
def client(dynamodb_endpoint: str) -> Iterator[DynamoDBClient]:
    """The functions' own DynamoDB client; `client.calls` counts what reaches DynamoDB."""
    subject = hot_path_client(dynamodb_endpoint)
    yield subject
    subject.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def limiter(client: DynamoDBClient, table: str, clock: FakeClock) -> RateLimiter:
    return RateLimiter(table, lambda: client, clock=clock)


RULE = RateRule(limit=3, window_seconds=60)


def test_admits_exactly_the_limit_then_rejects_with_retry_after(client: DynamoDBClient, table: str,
                                                              clock: FakeClock) -> None:
    # Given a 3/60 rule
    subject = limiter(client, table, clock)
    # When four requests arrive at once
    decisions = [subject.hit("auth", RULE, "ip:1.2.3.4") for _ in range(4)]
    # Then three are admitted with a falling Remaining, the fourth is rejected
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    assert all(d.limit == 3 for d in decisions)
    rejected = decisions[-1]
    assert 1 <= rejected.retry_after <= 66
    assert rejected.headers()["X-RateLimit-Reset"] == str(rejected.reset_after)


def test_window_slides_budget_returns_after_the_window(client: DynamoDBClient, table: str, clock: FakeClock) -> None:
    # Given a key that used its whole budget
    subject = limiter(client, table, clock)
    for _ in range(3):
        assert subject.hit("auth", RULE, "k").allowed
    rejected = subject.hit("auth", RULE, "k")
    # When the retry-after time passes
    clock.now += rejected.retry_after
    # Then a request is admitted again
    assert subject.hit("auth", RULE, "k").allowed


def test_no_admission_inside_the_window_even_half_way(client: DynamoDBClient, table: str, clock: FakeClock) -> None:
    # Given three admissions spread over the first 30 seconds
    subject = limiter(client, table, clock)
    for _ in range(3):
        assert subject.hit("auth", RULE, "k").allowed
        clock.now += 15
    # When the fourth arrives 45 s after the first (inside the 60 s window)
    # Then it is rejected: an approximate weighted counter would have admitted it
    assert not subject.hit("auth", RULE, "k").allowed


def test_keys_and_rules_are_independent(client: DynamoDBClient, table: str, clock: FakeClock) -> None:
    subject = limiter(client, table, clock)
    for _ in range(3):
        subject.hit("auth", RULE, "ip:a")
    assert subject.hit("auth", RULE, "ip:b").allowed
    assert subject.hit("default", RULE, "ip:a").allowed


def test_two_containers_share_one_budget(client: DynamoDBClient, table: str, clock: FakeClock) -> None:
    # Given two limiters (two containers) with their own caches over one table
    first, second = limiter(client, table, clock), limiter(client, table, clock)
    # When they alternate, crossing bucket boundaries
    admitted = 0
    for step in range(12):
        admitted += (first if step % 2 else second).hit("auth", RULE, "k").allowed
        clock.now += 2
    # Then together they admit exactly the limit within the window
    assert admitted == 3


def test_a_stale_cache_is_corrected_by_one_retry(client: DynamoDBClient, table: str, clock: FakeClock) -> None:
    # Given container A saw the key with one request, then B spent the rest in the same bucket
    a, b = limiter(client, table, clock), limiter(client, table, clock)
    assert a.hit("auth", RULE, "k").allowed
    assert b.hit("auth", RULE, "k").allowed
    assert b.hit("auth", RULE, "k").allowed
    # When A, in a later bucket of the same window, tries with its stale belief
    clock.now += 7
    decision = a.hit("auth", RULE, "k")
    # Then the conditional write catches it and A rejects
    assert not decision.allowed
    assert decision.remaining == 0


def test_rejection_from_cache_makes_no_call(client: DynamoDBClient, table: str, clock: FakeClock) -> None:
    # Given a container that knows the key is full
    subject = limiter(client, table, clock)
    for _ in range(3):
        subject.hit("auth", RULE, "k")
    client.calls.clear()
    # When more requests arrive in the same window
    for _ in range(5):
        assert not subject.hit("auth", RULE, "k").allowed
    # Then none of them reaches DynamoDB
    assert client.calls == Counter()


def test_steady_state_is_one_update_and_no_read(client: DynamoDBClient, table: str, clock: FakeClock) -> None:
    subject = limiter(client, table, clock)
    rule = RateRule(limit=1000, window_seconds=60)
    for _ in range(30):
        subject.hit("default", rule, "k")
        clock.now += 0.5
    assert client.calls == Counter({("UpdateItem", table): 30})


def test_ttl_attribute_is_set_but_expiry_uses_buckets(client: DynamoDBClient, table: str, clock: FakeClock) -> None:
    subject = limiter(client, table, clock)
    subject.hit("auth", RULE, "k")
    item = client.get_item(TableName=table, Key={"pk": {"S": "auth/60#k"}})["Item"]
    assert int(item["expires_at"]["N"]) > clock.now + 60


def test_old_buckets_are_removed_from_the_item(client: DynamoDBClient, table: str, clock: FakeClock) -> None:
    subject = limiter(client, table, clock)
    subject.hit("auth", RULE, "k")
    clock.now += 200
    subject.hit("auth", RULE, "k")
    clock.now += 1
    subject.hit("auth", RULE, "k")
    item = client.get_item(TableName=table, Key={"pk": {"S": "auth/60#k"}})["Item"]
    buckets = [name for name in item if name.startswith("c")]
    assert len(buckets) == 1


def test_fails_open_when_dynamodb_is_unreachable_and_backs_off(clock: FakeClock) -> None:
    # Given a client pointed at a closed port
    dead = unreachable_client()
    subject = RateLimiter(TABLE, lambda: dead, clock=clock, backoff_seconds=2)
    # When requests arrive
    first = subject.hit("auth", RULE, "k")
    second = subject.hit("auth", RULE, "k")
    # Then they are admitted, flagged as failed open, and only the first tried DynamoDB
    assert first.allowed and first.failed_open
    assert second.allowed and second.failed_open
    assert dead.calls == Counter({("UpdateItem", TABLE): 1})
    assert first.headers()["X-RateLimit-Limit"] == "3"
    # And after the back-off it tries again
    clock.now += 2.5
    subject.hit("auth", RULE, "k")
    assert dead.calls == Counter({("UpdateItem", TABLE): 2})


def test_window_arithmetic_reset_and_retry_after() -> None:
    window = Window(RateRule(limit=2, window_seconds=60))
    # Bucket width 6 s; two requests in bucket 100 at t=600.0
    counts = {100: 2}
    decision = window.decide(counts, 100, 600.0, allowed=False)
    # Capacity returns when bucket 100 leaves the span: bucket 111 starts at 666 s
    assert decision.retry_after == 66
    assert decision.reset_after == 66
    assert decision.remaining == 0


def _event(method: str, resource: str, ip: str = "203.0.113.9", token: str | None = None,
           xff: str | None = None) -> dict[str, Any]:
    headers = {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if xff:
        headers["X-Forwarded-For"] = xff
    return {"httpMethod": method, "resource": resource, "headers": headers,
            "requestContext": {"identity": {"sourceIp": ip}}}


def test_rule_selection_by_method_and_resource(monkeypatch: pytest.MonkeyPatch) -> None:
    from uuid import uuid4

    from shared.auth.tokens import issue_token
    from shared.settings import get_settings

    monkeypatch.setenv("JWT_SECRET", "unit-secret-that-is-long-enough-for-hs256-000000")
    get_settings.cache_clear()
    settings = get_settings()
    user = uuid4()
    token = issue_token(user, "a@example.com", ["user"], 0)
    assert select_rule(_event("POST", "/v1/users/login", xff="1.1.1.1"), settings)[::2] == ("auth", "ip:203.0.113.9")
    assert select_rule(_event("POST", "/v1/users/register"), settings)[0] == "auth"
    assert select_rule(_event("POST", "/v1/orders", token=token), settings)[::2] == ("order_create", f"user:{user}")
    assert select_rule(_event("GET", "/v1/orders", token=token), settings)[::2] == ("default", f"user:{user}")
    assert select_rule(_event("GET", "/v1/orders", token="forged.token.x"), settings)[2] == "ip:203.0.113.9"
    assert select_rule(_event("GET", "/health"), settings)[::2] == ("default", "ip:203.0.113.9")
    assert select_rule(_event("POST", "/v1/orders"), Settings())[1] == Settings().rate_limit_order_create
    get_settings.cache_clear()
