"""Compact JSON: `{"a":1}`, UTC timestamps, Decimals written as plain numbers (`75000.00`)."""

import time
from decimal import Decimal
from typing import Any

import orjson


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        # A raw fragment keeps the exact digits (two decimals for money) instead of a float.
        return orjson.Fragment(str(value))
    if hasattr(value, "model_dump"):  # an output model: python mode keeps Decimals (and UUIDs, datetimes) as such
        return value.model_dump(by_alias=True)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(value: Any) -> str:
    return orjson.dumps(value, default=_default, option=orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC).decode()


def loads(text: str | bytes) -> Any:
    return orjson.loads(text)


def utc_timestamp(epoch: float) -> str:
    """An epoch time as the API writes it: `2026-11-29T23:59:59Z` (whole seconds)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
