"""Routes of the orders function: parse → one logic call → envelope. Static paths before `{order_id}`."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from orders_api import idempotency, logic
from orders_api import output as docs
from orders_api.filters import DEFAULT_LIMIT, DEFAULT_SORT, MAX_LIMIT, SortKey, build_filter
from orders_api.models import OrderItemsRequest, OrderStatus, StatusChangeRequest
from orders_api.money import MAX_AMOUNT
from orders_api.output import AllStatsData, OrderData, OrderPage, StatsData
from shared.auth.principal import ADMIN_ONLY, AUTHENTICATED, BEARER, current_principal
from shared.envelope import ApiResponse, success
from shared.output import DeletedData

router = APIGatewayRouter()

REPLAYED_HEADER = "Idempotent-Replayed"
AmountBound = Annotated[Decimal, Query(ge=0, le=MAX_AMOUNT, allow_inf_nan=False)]


@router.post("/v1/orders", middlewares=AUTHENTICATED, security=BEARER, responses=docs.CREATE_ORDER)
def create_order(body: OrderItemsRequest) -> ApiResponse:
    principal = current_principal(router)
    key = idempotency.validate_key(router.current_event.headers.get(idempotency.HEADER))
    if key is None:
        return success(OrderData.of(order=logic.create_order(principal.user_id, body)), status=201)
    created = idempotency.create_once(principal.user_id, key, body, router.lambda_context)
    return success(OrderData(order=created.order), status=201,
                   headers={REPLAYED_HEADER: "true"} if created.replayed else None)


@router.get("/v1/orders", middlewares=AUTHENTICATED, security=BEARER, responses=docs.LIST_ORDERS)
def list_orders(
    *,
    status: Annotated[OrderStatus | None, Query()] = None,
    min_total: AmountBound | None = None,
    max_total: AmountBound | None = None,
    created_from: Annotated[str | None, Query(max_length=64)] = None,
    created_to: Annotated[str | None, Query(max_length=64)] = None,
    sort: Annotated[SortKey, Query()] = DEFAULT_SORT,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    user_id: Annotated[UUID | None, Query()] = None,
) -> ApiResponse:
    principal = current_principal(router)
    query = build_filter(user_id=logic.list_scope(principal, user_id), status=status, min_total=min_total,
                         max_total=max_total, created_from=created_from, created_to=created_to, sort=sort)
    return success(OrderPage.of_page(logic.list_orders(query, page=page, limit=limit)))


@router.get("/v1/orders/my-stats", middlewares=AUTHENTICATED, security=BEARER, responses=docs.MY_STATS)
def my_stats() -> ApiResponse:
    principal = current_principal(router)
    return success(StatsData.from_stats(logic.my_stats(principal.user_id)))


@router.get("/v1/orders/stats", middlewares=ADMIN_ONLY, security=BEARER, responses=docs.ALL_STATS)
def all_stats() -> ApiResponse:
    return success(AllStatsData.from_stats(logic.all_stats()))


@router.get("/v1/orders/<order_id>", middlewares=AUTHENTICATED, security=BEARER, responses=docs.GET_ORDER)
def get_order(order_id: UUID) -> ApiResponse:
    principal = current_principal(router)
    return success(OrderData.of(order=logic.get_order(principal, order_id)))


@router.put("/v1/orders/<order_id>", middlewares=AUTHENTICATED, security=BEARER, responses=docs.UPDATE_ORDER)
def update_order(order_id: UUID, body: OrderItemsRequest) -> ApiResponse:
    principal = current_principal(router)
    return success(OrderData.of(order=logic.update_items(principal, order_id, body)))


@router.put("/v1/orders/<order_id>/status", middlewares=AUTHENTICATED, security=BEARER, responses=docs.CHANGE_STATUS)
def change_status(order_id: UUID, body: StatusChangeRequest) -> ApiResponse:
    principal = current_principal(router)
    return success(OrderData.of(order=logic.change_status(principal, order_id, body.status)))


@router.delete("/v1/orders/<order_id>", middlewares=ADMIN_ONLY, security=BEARER, responses=docs.DELETE_ORDER)
def delete_order(order_id: UUID) -> ApiResponse:
    logic.delete_order(order_id)
    return success(DeletedData(id=str(order_id)))
