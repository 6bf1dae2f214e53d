"""What the orders routes return: one model per shape, used to write the body and to document it.

Money is `shared.output.Money`: exact Decimals written with two decimals (`75000.00`), never floats.
"""

from __future__ import annotations

from uuid import UUID

from orders_api.domain import OrderStats
from orders_api.models import OrderStatus
from shared.output import DeletedData, Money, Output, Paged, Pagination, UtcDatetime, documented, error_statuses

TRANSITION = {409: "INVALID_STATUS_TRANSITION: not allowed from the order's current status"}
CREATE_CONFLICT = {409: "IDEMPOTENCY_KEY_IN_USE: the first request with this Idempotency-Key is still running"}
STATUS_FORBIDDEN = {403: "FORBIDDEN: only an admin may move an order to processing or completed"}
LIST_FORBIDDEN = {403: "FORBIDDEN: only an admin may list another user's orders (user_id)"}


class ItemOut(Output):
    product: str
    quantity: int
    price: Money


class OrderOut(Output):
    id: UUID
    user_id: UUID
    items: list[ItemOut]
    status: OrderStatus
    total_amount: Money
    created_at: UtcDatetime
    updated_at: UtcDatetime


class OrderData(Output):
    order: OrderOut


class OrderPage(Paged):
    items_field = "orders"
    orders: list[OrderOut]
    pagination: Pagination


class StatusCounts(Output):
    created: int = 0
    processing: int = 0
    completed: int = 0
    cancelled: int = 0


class StatsData(Output):
    total_orders: int
    total_amount: Money
    average_order_amount: Money
    by_status: StatusCounts

    @classmethod
    def from_stats(cls, stats: OrderStats) -> StatsData:
        return cls(total_orders=stats.total_orders, total_amount=stats.total_amount,
                   average_order_amount=stats.average_order_amount, by_status=StatusCounts(**stats.by_status))


class AllStatsData(StatsData):
    unique_customers: int

    @classmethod
    def from_stats(cls, stats: OrderStats) -> AllStatsData:
        return cls(**StatsData.from_stats(stats).model_dump(), unique_customers=stats.unique_customers or 0)


CREATE_ORDER = documented(
    201, "The new order (a repeated Idempotency-Key replays the first response, with Idempotent-Replayed: true)",
    OrderData, *error_statuses(body=True, auth=True, database=True), 409, 422, overrides=CREATE_CONFLICT)
LIST_ORDERS = documented(200, "One page of orders (own orders; an admin sees all)", OrderPage,
                         *error_statuses(params=True, auth=True, database=True), 403, overrides=LIST_FORBIDDEN)
MY_STATS = documented(200, "The caller's order statistics (cancelled orders excluded from amounts)",
                      StatsData, *error_statuses(auth=True, database=True))
ALL_STATS = documented(200, "Statistics over all orders", AllStatsData,
                       *error_statuses(admin=True, database=True))
GET_ORDER = documented(200, "The order (owner or admin)", OrderData,
                       *error_statuses(params=True, auth=True, database=True), 404)
UPDATE_ORDER = documented(200, "The order with its new items and total", OrderData,
                          *error_statuses(body=True, params=True, auth=True, database=True), 404, 409,
                          overrides=TRANSITION)
CHANGE_STATUS = documented(200, "The order in its new status", OrderData,
                           *error_statuses(body=True, params=True, auth=True, database=True), 403, 404, 409,
                           overrides={**TRANSITION, **STATUS_FORBIDDEN})
DELETE_ORDER = documented(200, "The order is deleted", DeletedData,
                          *error_statuses(params=True, admin=True, database=True), 404)
