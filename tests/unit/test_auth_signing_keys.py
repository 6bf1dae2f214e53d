"""JWT secrets from SSM: a bounded cache, the previous version accepted during a grace period, length rule."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from shared.auth.signing_keys import REFRESH_RETRY_SECONDS, SigningKeys, SsmSigningKeys

NAME = "users-orders/jwt-secret"
V1 = "first-secret-value-long-enough-0123456789"
V2 = "second-secret-value-long-enough-0123456789"


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ssm() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("ssm", region_name="us-east-1")
        client.put_parameter(Name=NAME, Value=V1, Type="SecureString")
        yield client


def rotate(ssm: Any, value: str) -> float:
    """Store a new version; returns when SSM says it was written."""
    ssm.put_parameter(Name=NAME, Value=value, Type="SecureString", Overwrite=True)
    written: datetime = ssm.get_parameter(Name=NAME)["Parameter"]["LastModifiedDate"]
    return written.timestamp()


def test_a_rotation_reaches_a_warm_container_within_the_cache_lifetime(ssm: Any) -> None:
    # Given a container that read version 1 and caches it for 300 s
    clock = Clock(datetime.now(UTC).timestamp())
    keys = SsmSigningKeys(NAME, max_age=300, grace=3600, client=ssm, clock=clock)
    assert keys.get().current == V1
    # When the secret is rotated
    rotate(ssm, V2)
    # Then the container keeps signing with version 1 until its cache expires, then with version 2
    clock.now += 299
    assert keys.get().current == V1
    clock.now += 1
    assert keys.get().current == V2


def test_the_previous_version_is_accepted_only_during_the_grace_period(ssm: Any) -> None:
    # Given a rotation to version 2
    written = rotate(ssm, V2)
    clock = Clock(written + 10)
    # When a container (cold: it never saw version 1) reads the keys inside the grace period
    keys = SsmSigningKeys(NAME, max_age=0, grace=3600, client=ssm, clock=clock)
    # Then version 2 signs and version 1 still verifies
    assert keys.get() == SigningKeys(V2, (V1,))
    # And after the grace period only version 2 is accepted
    clock.now = written + 3600
    assert keys.get() == SigningKeys(V2)


def test_a_first_version_has_no_previous(ssm: Any) -> None:
    keys = SsmSigningKeys(NAME, max_age=0, grace=3600, client=ssm)
    assert keys.get() == SigningKeys(V1)


def test_a_short_secret_in_ssm_is_refused(ssm: Any) -> None:
    ssm.put_parameter(Name="short", Value="x" * 31, Type="SecureString")
    with pytest.raises(RuntimeError, match="shorter than 32 bytes"):
        SsmSigningKeys("short", max_age=0, grace=0, client=ssm).get()


class Flaky:
    """An SSM client that fails while `down` is set."""

    def __init__(self, client: Any) -> None:
        self.client, self.down, self.calls = client, False, 0

    def get_parameter(self, **kwargs: Any) -> Any:
        self.calls += 1
        if self.down:
            raise ConnectionError("SSM unreachable")
        return self.client.get_parameter(**kwargs)


def test_a_failed_refresh_keeps_the_keys_in_hand_and_asks_again_later(ssm: Any) -> None:
    # Given a warm container holding version 1, and SSM unreachable when its cache expires
    clock = Clock(datetime.now(UTC).timestamp())
    flaky = Flaky(ssm)
    keys = SsmSigningKeys(NAME, max_age=300, grace=3600, client=flaky, clock=clock)
    assert keys.get().current == V1
    flaky.down = True
    clock.now += 300
    # When requests keep coming, then they are served with the keys in hand and SSM is not asked on each one
    assert keys.get().current == V1
    calls = flaky.calls
    clock.now += REFRESH_RETRY_SECONDS - 1
    assert keys.get().current == V1 and flaky.calls == calls
    # And once SSM answers again, the next attempt picks up a rotation
    rotate(ssm, V2)
    flaky.down = False
    clock.now += 1
    assert keys.get().current == V2


def test_without_keys_in_hand_an_unreachable_ssm_fails_the_request(ssm: Any) -> None:
    flaky = Flaky(ssm)
    flaky.down = True
    with pytest.raises(ConnectionError):
        SsmSigningKeys(NAME, max_age=300, grace=3600, client=flaky).get()
