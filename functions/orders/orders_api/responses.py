"""What the orders routes return, for openapi.json (documentation only; see shared.openapi_models)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel

from orders_api.models import OrderStatus
from shared.openapi_models import DeletedEnvelope, Money, Pagination, documented, error_statuses

TRANSITION = {409: "INVALID_STATUS_TRANSITION: not allowed from the order's current status"}
CREATE_CONFLICT = {409: "IDEMPOTENCY_KEY_IN_USE: the first request with this Idempotency-Key is still running"}
STATUS_FORBIDDEN = {403: "FORBIDDEN: only an admin may move an order to processing or completed"}
LIST_FORBIDDEN = {403: "FORBIDDEN: only an admin may list another user's orders (user_id)"}


class OrderItemView(BaseModel):
    product: str
    quantity: int
    price: Money


class OrderView(BaseModel):
    id: UUID
    user_id: UUID
    items: list[OrderItemView]
    status: OrderStatus
    total_amount: Money
    created_at: datetime
    updated_at: datetime


class OrderData(BaseModel):
    order: OrderView


class OrderEnvelope(BaseModel):
    success: Literal[True]
    data: OrderData


class OrderPage(BaseModel):
    orders: list[OrderView]
    pagination: Pagination


class OrderPageEnvelope(BaseModel):
    success: Literal[True]
    data: OrderPage


class StatusCounts(BaseModel):
    created: int
    processing: int
    completed: int
    cancelled: int


class OrderStatsView(BaseModel):
    total_orders: int
    total_amount: Money
    average_order_amount: Money
    by_status: StatusCounts


class AllOrderStatsView(OrderStatsView):
    unique_customers: int


class OrderStatsEnvelope(BaseModel):
    success: Literal[True]
    data: OrderStatsView


class AllOrderStatsEnvelope(BaseModel):
    success: Literal[True]
    data: AllOrderStatsView


CREATE_ORDER = documented(
    201, "The new order (a repeated Idempotency-Key replays the first response, with Idempotent-Replayed: true)",
    OrderEnvelope, *error_statuses(body=True, auth=True, database=True), 409, 422, overrides=CREATE_CONFLICT)
LIST_ORDERS = documented(200, "One page of orders (own orders; an admin sees all)", OrderPageEnvelope,
                         *error_statuses(params=True, auth=True, database=True), 403, overrides=LIST_FORBIDDEN)
MY_STATS = documented(200, "The caller's order statistics (cancelled orders excluded from amounts)",
                      OrderStatsEnvelope, *error_statuses(auth=True, database=True))
ALL_STATS = documented(200, "Statistics over all orders", AllOrderStatsEnvelope,
                       *error_statuses(admin=True, database=True))
GET_ORDER = documented(200, "The order (owner or admin)", OrderEnvelope,
                       *error_statuses(params=True, auth=True, database=True), 404)
UPDATE_ORDER = documented(200, "The order with its new items and total", OrderEnvelope,
                          *error_statuses(body=True, params=True, auth=True, database=True), 404, 409,
                          overrides=TRANSITION)
CHANGE_STATUS = documented(200, "The order in its new status", OrderEnvelope,
                           *error_statuses(body=True, params=True, auth=True, database=True), 403, 404, 409,
                           overrides={**TRANSITION, **STATUS_FORBIDDEN})
DELETE_ORDER = documented(200, "The order is deleted", DeletedEnvelope,
                          *error_statuses(params=True, admin=True, database=True), 404)
