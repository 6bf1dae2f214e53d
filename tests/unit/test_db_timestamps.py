"""shared.db.timestamptz_in: Postgres' timestamptz text read as pg8000 reads it, only faster."""

from datetime import UTC, datetime, timedelta

import pytest
from pg8000.converters import timestamptz_in as pg8000_timestamptz_in

from shared.pg8000_speedups import timestamptz_in


@pytest.mark.parametrize("text", [
    "2026-11-26 23:29:15.329747+00",
    "2026-11-26 23:29:15.32+00",
    "2026-11-26 23:29:15+00",
    "2026-11-26 23:29:15.5+05:30",
    "0099-01-01 00:00:00+00",
])
def test_iso_output_reads_the_same_as_pg8000(text: str) -> None:
    # Given what Postgres sends for a timestamptz / Then the value equals pg8000's own reading, offset included
    value = timestamptz_in(text)
    assert value == pg8000_timestamptz_in(text)
    assert isinstance(value, datetime) and value.utcoffset() == pg8000_timestamptz_in(text).utcoffset()


def test_utc_values_are_aware_utc() -> None:
    assert timestamptz_in("2026-01-01 10:00:00+00") == datetime(2026, 1, 1, 10, tzinfo=UTC)
    assert timestamptz_in("2026-01-01 10:00:00-02").utcoffset() == timedelta(hours=-2)


@pytest.mark.parametrize("text", ["infinity", "-infinity", "0010-01-01 00:00:00+00 BC"])
def test_what_datetime_cannot_hold_goes_to_pg8000(text: str) -> None:
    assert timestamptz_in(text) == pg8000_timestamptz_in(text)
