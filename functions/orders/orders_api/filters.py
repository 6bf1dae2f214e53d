"""GET /v1/orders query: ISO 8601 date bounds and the cross-field checks Pydantic can't see."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Literal
from uuid import UUID

from shared.errors import ValidationFailed

SortKey = Literal["created_at", "-created_at", "total_amount", "-total_amount"]
DEFAULT_SORT: SortKey = "-created_at"
DEFAULT_LIMIT, MAX_LIMIT = 20, 100


@dataclass(frozen=True)
class OrderFilter:
    """Everything that narrows and orders a listing. Bounds are inclusive: [created_from, created_before)."""

    user_id: UUID | None = None
    status: str | None = None
    min_total: Decimal | None = None
    max_total: Decimal | None = None
    created_from: datetime | None = None
    created_before: datetime | None = None  # exclusive upper bound (inclusive `created_to` + epsilon)
    sort: SortKey = DEFAULT_SORT


def _problem(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"Invalid query parameter '{field}'",
                            details=[{"field": field, "message": message, "type": "value_error"}])


# A "+02:00" offset left unencoded in a query string arrives as " 02:00"; read it as meant.
_SPACED_OFFSET = re.compile(r"(?<=\d) (\d{2}(:?\d{2})?)$")


def parse_instant(field: str, text: str, *, upper: bool) -> datetime:
    """An ISO 8601 date or date-time, as a bound. Naive times are UTC.

    A bare date is a whole day: as an upper bound `created_to=2024-05-31` includes all of May 31st.
    Returns the inclusive lower bound, or the exclusive upper bound.
    """
    value = text.strip()
    if "T" in value.upper():
        value = _SPACED_OFFSET.sub(r"+\1", value)
    try:
        instant = datetime.fromisoformat(value)
        if "T" not in value.upper() and " " not in value:  # a date: the whole day
            start = instant.replace(tzinfo=UTC)
            return start + timedelta(days=1) if upper else start
        instant = instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)
        # Postgres keeps microseconds; the smallest step above an inclusive bound keeps it inclusive.
        return instant + timedelta(microseconds=1) if upper else instant
    except (ValueError, OverflowError) as exc:
        raise _problem(field, "must be an ISO 8601 date or date-time, e.g. 2024-05-31T12:00:00Z") from exc


def build_filter(*, user_id: UUID | None, status: str | None, min_total: Decimal | None,
                 max_total: Decimal | None, created_from: str | None, created_to: str | None,
                 sort: SortKey) -> OrderFilter:
    lower = parse_instant("created_from", created_from, upper=False) if created_from is not None else None
    upper = parse_instant("created_to", created_to, upper=True) if created_to is not None else None
    if min_total is not None and max_total is not None and min_total > max_total:
        raise _problem("min_total", "must not be greater than max_total")
    if lower is not None and upper is not None and lower >= upper:
        raise _problem("created_from", "must not be later than created_to")
    return OrderFilter(user_id=user_id, status=status, min_total=min_total, max_total=max_total,
                       created_from=lower, created_before=upper, sort=sort)
