"""Request models (validated by Powertools, unknown fields → 400) and the Order domain object."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, WithJsonSchema, field_validator

from orders_api.money import MAX_AMOUNT, as_money, parse_price
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

    def to_json(self) -> dict[str, Any]:
        return {"product": self.product, "quantity": self.quantity, "price": self.price}


def order_total(items: list[OrderItem]) -> Decimal:
    return as_money(sum((item.line_total for item in items), Decimal(0)))


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


@dataclass(frozen=True)
class Order:
    id: UUID
    user_id: UUID
    items: list[dict[str, Any]]
    status: str
    total_amount: Decimal
    created_at: datetime
    updated_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "user_id": str(self.user_id),
            "items": [
                {"product": i["product"], "quantity": i["quantity"], "price": as_money(i["price"])} for i in self.items
            ],
            "status": self.status,
            "total_amount": as_money(self.total_amount),
            "created_at": self.created_at.astimezone(UTC),
            "updated_at": self.updated_at.astimezone(UTC),
        }


@dataclass(frozen=True)
class OrderStats:
    total_orders: int
    total_amount: Decimal
    average_order_amount: Decimal
    by_status: dict[str, int]
    unique_customers: int | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "total_orders": self.total_orders,
            "total_amount": as_money(self.total_amount),
            "average_order_amount": as_money(self.average_order_amount),
            "by_status": {status: self.by_status.get(status, 0) for status in STATUSES},
        }
        if self.unique_customers is not None:
            data["unique_customers"] = self.unique_customers
        return data
