"""Order item validation and money arithmetic (pure logic, no I/O)."""

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from orders_api.models import OrderItemsRequest
from orders_api.money import parse_price
from shared.output import to_cents as as_money


def item(**overrides: Any) -> dict[str, Any]:
    return {"product": "Widget", "quantity": 1, "price": Decimal("1.00"), **overrides}


def test_total_is_exact_decimal_arithmetic() -> None:
    # Given 3 x 19.99 and 1 x 0.01 (floats would give 59.980000000000004)
    request = OrderItemsRequest(items=[item(quantity=3, price=Decimal("19.99")), item(price=Decimal("0.01"))])
    # Then the total is exactly 59.98 with two decimals
    assert request.total == Decimal("59.98")
    assert str(request.total) == "59.98"


@pytest.mark.parametrize("price", [0, Decimal("0"), Decimal("0.5"), Decimal("19.990"), 75000, Decimal("1E+2"),
                                   Decimal("99999999.99")])
def test_accepted_prices_are_quantized_to_cents(price: Any) -> None:
    # When a price with at most two significant decimals is parsed
    parsed = parse_price(price)
    # Then it comes back with exactly two decimals
    assert parsed.as_tuple().exponent == -2
    assert parsed == Decimal(price)


@pytest.mark.parametrize("price", [Decimal("19.999"), Decimal("0.001"), Decimal("-0.01"), -1, "19.99", True, None,
                                   float("nan"), float("inf"), Decimal("NaN"), Decimal("Infinity"),
                                   Decimal("100000000.00"), Decimal("1E+1000000"), [], {}])
def test_rejected_prices(price: Any) -> None:
    # Given a price that is not a non-negative JSON number with at most two decimals
    # Then the item is rejected
    with pytest.raises(ValidationError):
        OrderItemsRequest(items=[item(price=price)])


@pytest.mark.parametrize("quantity", [0, -1, 10_001, 1.5, Decimal("1.5"), Decimal("2.0"), "3", True, None])
def test_rejected_quantities(quantity: Any) -> None:
    with pytest.raises(ValidationError):
        OrderItemsRequest(items=[item(quantity=quantity)])


@pytest.mark.parametrize("quantity", [1, 10_000])
def test_quantity_bounds_are_inclusive(quantity: int) -> None:
    assert OrderItemsRequest(items=[item(quantity=quantity)]).items[0].quantity == quantity


def test_product_is_trimmed_and_bounded() -> None:
    # Given names with surrounding whitespace, exactly 200 characters, and blank
    assert OrderItemsRequest(items=[item(product="  Laptop ")]).items[0].product == "Laptop"
    assert len(OrderItemsRequest(items=[item(product="x" * 200)]).items[0].product) == 200
    # Then blank, too long and non-string names are refused
    for bad in ["", "   ", "x" * 201, 5, None]:
        with pytest.raises(ValidationError):
            OrderItemsRequest(items=[item(product=bad)])


def test_item_count_bounds() -> None:
    assert len(OrderItemsRequest(items=[item()] * 100).items) == 100
    for bad in [[], [item()] * 101]:
        with pytest.raises(ValidationError):
            OrderItemsRequest(items=bad)


@pytest.mark.parametrize("extra", [{"status": "completed"}, {"total_amount": 1}, {"user_id": "x"}])
def test_server_owned_fields_are_refused(extra: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        OrderItemsRequest.model_validate({"items": [item()], **extra})


def test_unknown_item_field_is_refused() -> None:
    with pytest.raises(ValidationError):
        OrderItemsRequest(items=[item(discount=1)])


def test_total_must_fit_numeric_10_2() -> None:
    # Given lines whose prices fit but whose total exceeds 99,999,999.99
    at_limit = [item(price=Decimal("9999999.99"), quantity=10), item(price=Decimal("0.09"))]
    over = [item(price=Decimal("9999999.99"), quantity=10), item(price=Decimal("0.10"))]
    # Then the largest total is accepted and one cent more is refused
    assert OrderItemsRequest(items=at_limit).total == Decimal("99999999.99")
    with pytest.raises(ValidationError, match="must not exceed"):
        OrderItemsRequest(items=over)


def test_canonical_body_ignores_formatting_and_number_spelling() -> None:
    # Given the same order written with 19.9 vs 19.90 and padded product names
    first = OrderItemsRequest(items=[item(product="A", price=Decimal("19.9"))])
    second = OrderItemsRequest(items=[item(product=" A ", price=Decimal("19.90"))])
    # Then their canonical forms (what idempotency hashes) are equal
    assert first.canonical() == second.canonical() == {"items": [{"product": "A", "quantity": 1, "price": "19.90"}]}


def test_negative_zero_is_written_as_zero() -> None:
    assert str(as_money(Decimal("-0"))) == "0.00"
    assert str(parse_price(Decimal("-0.00"))) == "0.00"
