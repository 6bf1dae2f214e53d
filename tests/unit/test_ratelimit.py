"""The DynamoDB rate limiter: exact limit, sliding expiry, headers within the window, fail-open (emulated DynamoDB,
fake clock)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from shared.dependencies import reset
from shared.dynamodb import DynamoDBClient
from shared.protection.ratelimit import RateLimiter
from shared.protection.sliding_window import Bucket, Window
from shared.settings import RateRule, Settings
from tests.support.dynamodb import hash_key_table, hot_path_client, throwaway_table, unreachable_client

TABLE = "RateLimitTable"


class FakeClock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def table(engine_endpoint: str) -> Iterator[str]:
    """A fresh, empty rate-limit table of its own (the emulation lives for the whole session)."""
    with throwaway_table(engine_endpoint, hash_key_table(TABLE)) as name:
        yield name


@pytest.fixture
def client(engine_endpoint: str) -> Iterator[DynamoDBClient]:
    """The functions' own DynamoDB client; `client.calls` counts what reaches DynamoDB."""
    subject = hot_path_client(engine_endpoint)
    yield subject
    subject.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def limiter(client: DynamoDBClient, table: str, clock: FakeClock) -> RateLimiter:
    return RateLimiter(table, lambda: client, clock=clock)


RULE = RateRule(limit=3, window_seconds=60)
TEN_PER_MINUTE = RateRule(limit=10, window_seconds=60)
BUCKET_START = 1_700_000_004.0  # a multiple of 6 s: bucket boundaries of 60 s windows fall on whole seconds


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
    # And the three leave the window exactly 60 s after they came: that is the wait and the reset
    rejected = decisions[-1]
    assert (rejected.retry_after, rejected.reset_after) == (60, 60)
    assert rejected.headers()["X-RateLimit-Reset"] == "60"


def test_headers_never_exceed_the_window(client: DynamoDBClient, table: str) -> None:
    # Given a 10/60 rule and a client sending every 1.3 s for two and a half minutes
    clock = FakeClock(1_700_000_000.0)
    subject = limiter(client, table, clock)
    decisions = []
    for _ in range(120):
        decisions.append(subject.hit("auth", TEN_PER_MINUTE, "k"))
        clock.now += 1.3
    # Then some are rejected, and no response asks to wait or promises a reset beyond 60 s
    assert not all(d.allowed for d in decisions)
    assert max(d.retry_after for d in decisions) <= 60
    assert max(d.reset_after for d in decisions) <= 60
    # And Reset is never below the wait of a rejected request
    assert all(d.reset_after >= d.retry_after for d in decisions)


def test_a_client_waiting_exactly_retry_after_is_admitted(client: DynamoDBClient, table: str) -> None:
    # Given ten admissions within the first second of a bucket, the last at +0.9 s
    clock = FakeClock(BUCKET_START)
    subject = limiter(client, table, clock)
    for _ in range(10):
        assert subject.hit("auth", TEN_PER_MINUTE, "k").allowed
        clock.now += 0.1
    # When the eleventh comes 0.1 s after the last one
    rejected = subject.hit("auth", TEN_PER_MINUTE, "k")
    # Then it must wait until the whole bucket has left: 60 s after +0.9 s, i.e. 59.9 s, rounded up
    assert not rejected.allowed
    assert (rejected.retry_after, rejected.reset_after, rejected.remaining) == (60, 60, 0)
    # And a client that sleeps exactly that long gets in
    clock.now += rejected.retry_after
    admitted = subject.hit("auth", TEN_PER_MINUTE, "k")
    assert admitted.allowed
    assert (admitted.remaining, admitted.reset_after) == (9, 60)


def test_one_millisecond_before_the_retry_after_instant_is_refused(client: DynamoDBClient, table: str) -> None:
    # Given ten admissions at one instant, and a rejection 20.25 s later
    start = BUCKET_START
    clock = FakeClock(start)
    subject = limiter(client, table, clock)
    for _ in range(10):
        assert subject.hit("auth", TEN_PER_MINUTE, "k").allowed
    clock.now = start + 20.25
    rejected = subject.hit("auth", TEN_PER_MINUTE, "k")
    # Then the wait is the 39.75 s until they leave, rounded up to whole seconds
    assert rejected.retry_after == rejected.reset_after == 40
    # When a request comes 1 ms before they leave, it is refused, told to wait one more second
    clock.now = start + 59.999
    early = subject.hit("auth", TEN_PER_MINUTE, "k")
    assert not early.allowed
    assert early.retry_after == 1
    # And at the instant they leave (60 s after they came) it is admitted
    clock.now = start + 60.0
    assert subject.hit("auth", TEN_PER_MINUTE, "k").allowed


def test_retry_after_counts_only_the_buckets_that_must_leave(client: DynamoDBClient, table: str) -> None:
    # Given five admissions at +0 s and five at +12.5 s (two buckets)
    start = BUCKET_START
    clock = FakeClock(start)
    subject = limiter(client, table, clock)
    for offset in (0.0, 12.5):
        clock.now = start + offset
        for _ in range(5):
            assert subject.hit("auth", TEN_PER_MINUTE, "k").allowed
    # When a request comes at +30 s
    clock.now = start + 30
    rejected = subject.hit("auth", TEN_PER_MINUTE, "k")
    # Then it waits for the first five only (30 s); Reset waits for the last five (42.5 s, rounded up)
    assert (rejected.allowed, rejected.retry_after, rejected.reset_after) == (False, 30, 43)
    # And after 30 s exactly five are admitted again
    clock.now += rejected.retry_after
    assert [subject.hit("auth", TEN_PER_MINUTE, "k").allowed for _ in range(6)] == [True] * 5 + [False]


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
    client.calls.clear()
    decision = a.hit("auth", RULE, "k")
    # Then the conditional write catches it (one failed write, no read) and A rejects
    assert not decision.allowed
    assert decision.remaining == 0
    assert client.calls == Counter({("UpdateItem", table): 1})


def test_a_bucket_the_cache_believes_gone_is_still_checked(client: DynamoDBClient, table: str) -> None:
    # Given container A admitted one request at +0 s, then B nine more at +5 s in the same bucket
    start = BUCKET_START
    clock = FakeClock(start)
    a, b = limiter(client, table, clock), limiter(client, table, clock)
    assert a.hit("auth", TEN_PER_MINUTE, "k").allowed
    clock.now = start + 5
    assert all(b.hit("auth", TEN_PER_MINUTE, "k").allowed for _ in range(9))
    # When A comes back at +61 s: by its cache the bucket's latest admission (+0 s) has left
    clock.now = start + 61
    decision = a.hit("auth", TEN_PER_MINUTE, "k")
    # Then the write still checks that bucket, learns its latest admission was at +5 s, and rejects
    assert not decision.allowed
    assert (decision.retry_after, decision.reset_after) == (4, 4)


def test_a_stalled_request_does_not_move_a_bucket_back_in_time(client: DynamoDBClient, table: str) -> None:
    # Given a 2/60 rule and B admitting one request at +11.9 s (bucket [+6 s, +12 s))
    start = BUCKET_START
    rule = RateRule(limit=2, window_seconds=60)
    b_clock, stalled_clock = FakeClock(start + 11.9), FakeClock(start + 5)
    assert limiter(client, table, b_clock).hit("auth", rule, "k").allowed
    # When a request that read its clock at +5 s reaches DynamoDB only now (its write lands after B's)
    stalled = limiter(client, table, stalled_clock).hit("auth", rule, "k")
    # Then it is admitted as of B's admission, not earlier: the bucket's latest admission stays +11.9 s
    assert stalled.allowed
    assert stalled.reset_after == 60
    # And at +66.5 s the bucket still counts (B's admission is inside (+6.5 s, +66.5 s]): no third admission
    late = limiter(client, table, FakeClock(start + 66.5)).hit("auth", rule, "k")
    assert not late.allowed
    assert late.retry_after == 6


def test_rejection_from_cache_makes_no_call(client: DynamoDBClient, table: str, clock: FakeClock) -> None:
    # Given a container that knows the key is full
    subject = limiter(client, table, clock)
    for _ in range(3):
        subject.hit("auth", RULE, "k")
    client.calls.clear()
    # When more requests arrive in the same window
    decisions = [subject.hit("auth", RULE, "k") for _ in range(5)]
    # Then none of them reaches DynamoDB, and they still carry the exact wait
    assert not any(d.allowed for d in decisions)
    assert {d.retry_after for d in decisions} == {60}
    assert client.calls == Counter()


def test_steady_state_is_one_update_and_no_read(client: DynamoDBClient, table: str, clock: FakeClock) -> None:
    subject = limiter(client, table, clock)
    rule = RateRule(limit=1000, window_seconds=60)
    for _ in range(30):
        subject.hit("default", rule, "k")
        clock.now += 0.5
    assert client.calls == Counter({("UpdateItem", table): 30})


def test_item_keeps_count_and_latest_admission_per_bucket(client: DynamoDBClient, table: str) -> None:
    # Given two admissions 1.5 s apart in one bucket
    clock = FakeClock(BUCKET_START + 1)
    subject = limiter(client, table, clock)
    subject.hit("auth", RULE, "k")
    clock.now += 1.5
    subject.hit("auth", RULE, "k")
    # Then the bucket holds the count and the epoch milliseconds of the latest; TTL only for clean-up
    item = client.get_item(TableName=table, Key={"pk": {"S": "auth/60#k"}})["Item"]
    bucket = int(BUCKET_START) // 6
    assert item[f"c{bucket}"] == {"N": "2"}
    assert item[f"t{bucket}"] == {"N": str(int((BUCKET_START + 2.5) * 1000))}
    assert item["b"] == {"N": str(bucket)}
    assert int(item["expires_at"]["N"]) > clock.now + 60


def test_old_buckets_are_removed_from_the_item(client: DynamoDBClient, table: str, clock: FakeClock) -> None:
    subject = limiter(client, table, clock)
    subject.hit("auth", RULE, "k")
    clock.now += 200
    subject.hit("auth", RULE, "k")
    clock.now += 1
    subject.hit("auth", RULE, "k")
    item = client.get_item(TableName=table, Key={"pk": {"S": "auth/60#k"}})["Item"]
    assert len([name for name in item if name.startswith("c")]) == 1
    assert len([name for name in item if name.startswith("t")]) == 1


def test_an_item_of_the_previous_version_counts_its_buckets_to_their_end(client: DynamoDBClient,
                                                                          table: str) -> None:
    # Given an item written before buckets recorded their latest admission: 3 in the bucket [+0 s, +6 s)
    bucket = int(BUCKET_START) // 6
    client.update_item(TableName=table, Key={"pk": {"S": "auth/60#k"}},
                       UpdateExpression="SET b = :b, #c = :n", ExpressionAttributeNames={"#c": f"c{bucket}"},
                       ExpressionAttributeValues={":b": {"N": str(bucket)}, ":n": {"N": "3"}})
    clock = FakeClock(BUCKET_START + 10)
    subject = limiter(client, table, clock)
    # When a request comes 10 s later
    rejected = subject.hit("auth", RULE, "k")
    # Then the three count as admitted at the bucket's last millisecond: never under-counted, never > 60 s
    assert not rejected.allowed
    assert rejected.retry_after == 56
    clock.now += rejected.retry_after
    assert subject.hit("auth", RULE, "k").allowed


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
    # Bucket width 6 s: bucket 100 is [600 s, 606 s). One admission at 545 s (bucket 90), one at 600 s.
    state = {90: Bucket(1, 545_000), 100: Bucket(1, 600_000)}
    full = window.decide(state, 100, 601_000, allowed=False)
    # The first leaves at exactly 605 s (4 s away), the second at 660 s (59 s away)
    assert (full.remaining, full.retry_after, full.reset_after) == (0, 4, 59)
    # At 605 s the first is out (the window (now - 60 s, now] is open on the left)
    assert window.used(state, 100, 604_999) == 2
    assert window.used(state, 100, 605_000) == 1
    # Waits are rounded up to whole seconds and never exceed the window, even for a skewed future admission
    assert window.decide({100: Bucket(2, 600_001)}, 100, 601_000, allowed=False).retry_after == 60
    assert window.decide({100: Bucket(2, 603_000)}, 100, 601_000, allowed=False).reset_after == 60
    # A container whose clock lags may see more than the limit live: it waits until enough has left
    lagging = {90: Bucket(2, 545_000), 95: Bucket(1, 570_000), 100: Bucket(1, 600_000)}
    assert window.decide(lagging, 100, 601_000, allowed=False).retry_after == 29
    # Buckets more than B behind the current one never count
    assert window.used({89: Bucket(5, 580_000)}, 100, 600_000) == 0


def _event(method: str, resource: str, ip: str = "203.0.113.9", token: str | None = None,
           xff: str | None = None) -> dict[str, Any]:
    headers = {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if xff:
        headers["X-Forwarded-For"] = xff
    return {"httpMethod": method, "resource": resource, "headers": headers,
            "requestContext": {"identity": {"sourceIp": ip}}}


def select_rule(event: dict[str, Any], settings: Settings) -> tuple[str, RateRule, str]:
    """(rule name, rule, key) that the function serving this route applies (its policy.py)."""
    from monitoring_api.policy import RATE_LIMITS as MONITORING
    from orders_api.policy import RATE_LIMITS as ORDERS
    from users_api.policy import RATE_LIMITS as USERS

    resource = event["resource"]
    policy = USERS if resource.startswith("/v1/users") else ORDERS if resource.startswith("/v1/orders") else MONITORING
    limit = policy.for_event(event)
    return limit.name, limit.rule(settings), limit.key(event)


def test_rule_selection_by_method_and_resource(monkeypatch: pytest.MonkeyPatch) -> None:
    from uuid import uuid4

    from shared.auth.tokens import issue_token
    from shared.settings import get_settings

    monkeypatch.setenv("JWT_SECRET", "unit-secret-that-is-long-enough-for-hs256-000000")
    reset()
    settings = get_settings()
    user = uuid4()
    token = issue_token(user, "a@example.com", ["user"], 0)
    assert select_rule(_event("POST", "/v1/users/login", xff="1.1.1.1"), settings)[::2] == ("auth", "ip:203.0.113.9")
    assert select_rule(_event("POST", "/v1/users/register"), settings)[0] == "auth"
    assert select_rule(_event("POST", "/v1/orders", token=token), settings)[::2] == ("order_create", f"user:{user}")
    assert select_rule(_event("GET", "/v1/orders", token=token), settings)[::2] == ("default", f"user:{user}")
    assert select_rule(_event("GET", "/v1/orders", token="forged.token.x"), settings)[2] == "ip:203.0.113.9"
    assert select_rule(_event("GET", "/health"), settings)[::2] == ("default", "ip:203.0.113.9")
    assert select_rule(_event("POST", "/v1/orders"), Settings())[1] == RateRule(limit=20, window_seconds=60)
    reset()
