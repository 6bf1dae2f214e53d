"""Prices as clients send them: JSON numbers with at most two decimals, within NUMERIC(10,2)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from shared.output import CENT, to_cents

# NUMERIC(10,2): eight digits before the point, two after.
MAX_AMOUNT = Decimal("99999999.99")


def parse_price(value: object) -> Decimal:
    """A JSON number ≥ 0 with at most two decimals. Strings, booleans, NaN and Infinity are refused.

    The resolver parses JSON floats as Decimal, so a float only arrives here from `NaN`/`Infinity`
    literals (which Python's json accepts) or from code building the model directly.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError("price must be a number")
    try:
        amount = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation as exc:
        raise ValueError("price must be a number") from exc
    if not amount.is_finite():
        raise ValueError("price must be a finite number")
    if amount < 0:
        raise ValueError("price must be greater than or equal to 0")
    if amount > MAX_AMOUNT:
        raise ValueError(f"price must be at most {MAX_AMOUNT}")
    if amount != amount.quantize(CENT):
        raise ValueError("price must have at most 2 decimal places")
    return to_cents(amount)
