"""Query parsing for GET /v1/orders: ISO 8601 bounds and cross-field checks."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from orders_api.filters import build_filter, parse_instant
from shared.errors import ValidationFailed


@pytest.mark.parametrize(("text", "upper", "expected"), [
    ("2024-05-31", False, datetime(2024, 5, 31, tzinfo=UTC)),
    ("2024-05-31", True, datetime(2024, 6, 1, tzinfo=UTC)),  # a bare date includes the whole day
    ("2024-05-31T12:00:00Z", False, datetime(2024, 5, 31, 12, tzinfo=UTC)),
    ("2024-05-31T12:00:00Z", True, datetime(2024, 5, 31, 12, tzinfo=UTC) + timedelta(microseconds=1)),
    ("2024-05-31T14:00:00+02:00", False, datetime(2024, 5, 31, 12, tzinfo=UTC)),
    ("2024-05-31T14:00:00 02:00", False, datetime(2024, 5, 31, 12, tzinfo=UTC)),  # unencoded '+'
    ("2024-05-31T12:00:00", False, datetime(2024, 5, 31, 12, tzinfo=UTC)),  # naive means UTC
])
def test_iso_bounds(text: str, upper: bool, expected: datetime) -> None:
    assert parse_instant("created_from", text, upper=upper) == expected


@pytest.mark.parametrize("text", ["", "yesterday", "2024-13-01", "2024-02-30", "31/05/2024", "1717156800",
                                  "9999-12-31"])
def test_bad_dates_are_validation_errors(text: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_instant("created_to", text, upper=True)
    assert caught.value.details and caught.value.details[0]["field"] == "created_to"


def _filter(**overrides: object) -> object:
    arguments: dict[str, object] = {"user_id": None, "status": None, "min_total": None, "max_total": None,
                                    "created_from": None, "created_to": None, "sort": "-created_at"}
    return build_filter(**{**arguments, **overrides})  # type: ignore[arg-type]


def test_min_above_max_is_refused() -> None:
    with pytest.raises(ValidationFailed):
        _filter(min_total=Decimal("10"), max_total=Decimal("9.99"))
    _filter(min_total=Decimal("10"), max_total=Decimal("10"))  # equal bounds are a valid, inclusive range


def test_from_after_to_is_refused() -> None:
    with pytest.raises(ValidationFailed):
        _filter(created_from="2024-06-02", created_to="2024-06-01")
    # the same day on both sides is that whole day
    query = _filter(created_from="2024-06-01", created_to="2024-06-01")
    assert query.created_before - query.created_from == timedelta(days=1)  # type: ignore[attr-defined]
