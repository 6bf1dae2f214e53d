"""Money as Decimal with two decimals, and the bound NUMERIC(10,2) puts on every amount."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# NUMERIC(10,2): eight digits before the point, two after.
MAX_AMOUNT = Decimal("99999999.99")


def as_money(value: Decimal | int) -> Decimal:
    """Quantize to cents; a negative zero becomes 0.00 so it is never written as -0.00."""
    amount = Decimal(value).quantize(CENT)
    return ZERO if amount == 0 else amount


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
    return as_money(amount)
