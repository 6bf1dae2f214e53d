"""The orders function's domain objects, as use cases return them (never rows, never response bodies)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID


@dataclass(frozen=True)
class Order:
    id: UUID
    user_id: UUID
    items: list[dict[str, Any]]  # {"product", "quantity", "price"} as stored, prices exact Decimals
    status: str
    total_amount: Decimal
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class OrderStats:
    total_orders: int
    total_amount: Decimal
    average_order_amount: Decimal
    by_status: dict[str, int]
    unique_customers: int | None = None  # over all orders only
