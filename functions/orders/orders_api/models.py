"""Request models of the orders routes (validated by Powertools, unknown fields → 400) and their rules."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, WithJsonSchema, field_validator

from orders_api.money import MAX_AMOUNT, parse_price
from shared.output import to_cents
from shared.text import printable_text

OrderStatus = Literal["created", "processing", "completed", "cancelled"]
STATUSES: tuple[str, ...] = ("created", "processing", "completed", "cancelled")

MAX_ITEMS = 100


class OrderItem(BaseModel):
    """One line: product name (surrounding whitespace dropped), whole quantity, unit price."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    product: Annotated[StrictStr, Field(min_length=1, max_length=200)]
    quantity: Annotated[StrictInt, Field(ge=1, le=10_000)]
    # A JSON number, never a string (parse_price); the document says so instead of Decimal's number-or-string.
    price: Annotated[Decimal, WithJsonSchema({"type": "number", "minimum": 0, "maximum": float(MAX_AMOUNT),
                                              "multipleOf": 0.01})]

    @field_validator("product", mode="before")
    @classmethod
    def _strip_product(cls, value: object) -> object:
        # "  Laptop " and "Laptop" are the same product; a blank name is not a name.
        return value.strip() if isinstance(value, str) else value

    @field_validator("product")
    @classmethod
    def _storable_product(cls, value: str) -> str:
        return printable_text(value)

    @field_validator("price", mode="before")
    @classmethod
    def _check_price(cls, value: object) -> Decimal:
        return parse_price(value)

    @property
    def line_total(self) -> Decimal:
        return self.price * self.quantity

    def stored(self) -> dict[str, Any]:
        """The item as the `items` jsonb column keeps it."""
        return {"product": self.product, "quantity": self.quantity, "price": self.price}


def order_total(items: list[OrderItem]) -> Decimal:
    return to_cents(sum((item.line_total for item in items), Decimal(0)))


class OrderItemsRequest(BaseModel):
    """Body of POST /v1/orders and PUT /v1/orders/{id}: only `items`; the server owns the rest."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    items: Annotated[list[OrderItem], Field(min_length=1, max_length=MAX_ITEMS)]

    @field_validator("items")
    @classmethod
    def _total_fits(cls, items: list[OrderItem]) -> list[OrderItem]:
        if order_total(items) > MAX_AMOUNT:
            raise ValueError(f"order total must not exceed {MAX_AMOUNT}")
        return items

    @property
    def total(self) -> Decimal:
        return order_total(self.items)

    def canonical(self) -> dict[str, Any]:
        """JSON-safe and normalised (prices as two-decimal strings): what idempotency hashes."""
        return {"items": [{"product": i.product, "quantity": i.quantity, "price": str(i.price)} for i in self.items]}


class StatusChangeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    status: OrderStatus
