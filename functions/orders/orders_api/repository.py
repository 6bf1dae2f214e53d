"""SQLAlchemy Core queries on `orders`. Every function takes the caller's open Connection
(`shared.db.write(work)` or `shared.db.read(work)`) and returns domain objects, never rows.

Ownership lives in the WHERE clause (`owner` is the caller's id for non-admins, None for admins),
so another user's order is exactly as invisible as a missing one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from orders_api.domain import Order, OrderStats
from orders_api.filters import OrderFilter
from orders_api.models import STATUSES, OrderItem
from shared.jsonutil import dumps
from shared.paging import Page
from shared.pg_schema import orders

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Row

# `orders.c["items"]`: `.c.items` is the ColumnCollection method, not the column.
# Items are read as text and parsed with Decimal floats: JSONB keeps 19.99 exact, a float would not.
_COLUMNS = (
    orders.c.id, orders.c.user_id, sa.cast(orders.c["items"], sa.Text).label("items_json"), orders.c.status,
    orders.c.total_amount, orders.c.created_at, orders.c.updated_at,
)
_SORTS = {
    "created_at": (orders.c.created_at.asc(), orders.c.id.asc()),
    "-created_at": (orders.c.created_at.desc(), orders.c.id.desc()),
    "total_amount": (orders.c.total_amount.asc(), orders.c.created_at.asc(), orders.c.id.asc()),
    "-total_amount": (orders.c.total_amount.desc(), orders.c.created_at.desc(), orders.c.id.desc()),
}


def _order(row: Row[Any]) -> Order:
    return Order(id=row.id, user_id=row.user_id, items=json.loads(row.items_json, parse_float=Decimal),
                 status=row.status, total_amount=row.total_amount, created_at=row.created_at,
                 updated_at=row.updated_at)


def _items_value(items: list[OrderItem]) -> sa.ColumnElement[Any]:
    # Serialised by us (Decimal written verbatim), so Postgres stores 19.99 as the numeric 19.99.
    return sa.cast(sa.literal(dumps([item.stored() for item in items]), sa.Text), JSONB)


def _visible(order_id: UUID, owner: UUID | None) -> sa.ColumnElement[bool]:
    clause = orders.c.id == order_id
    return clause if owner is None else sa.and_(clause, orders.c.user_id == owner)


def insert_order(connection: Connection, user_id: UUID, items: list[OrderItem], total: Decimal) -> Order:
    row = connection.execute(
        sa.insert(orders).values(user_id=user_id, items=_items_value(items), total_amount=total, status="created")
        .returning(*_COLUMNS)
    ).one()
    return _order(row)


# The hottest reads, built once so SQLAlchemy reuses their cache keys and compiled SQL.
_ORDER_BY_ID = sa.select(*_COLUMNS).where(orders.c.id == sa.bindparam("order_id"))
_OWN_ORDER_BY_ID = _ORDER_BY_ID.where(orders.c.user_id == sa.bindparam("owner"))


def find_order(connection: Connection, order_id: UUID, owner: UUID | None) -> Order | None:
    if owner is None:
        row = connection.execute(_ORDER_BY_ID, {"order_id": order_id}).one_or_none()
    else:
        row = connection.execute(_OWN_ORDER_BY_ID, {"order_id": order_id, "owner": owner}).one_or_none()
    return None if row is None else _order(row)


def replace_items(connection: Connection, order_id: UUID, owner: UUID | None, *, items: list[OrderItem],
                  total: Decimal, expected_status: str) -> Order | None:
    """Replace items only if the order is still in `expected_status`; None when it is not (or not visible)."""
    row = connection.execute(
        sa.update(orders)
        .where(_visible(order_id, owner), orders.c.status == expected_status)
        .values(items=_items_value(items), total_amount=total, updated_at=sa.func.now())
        .returning(*_COLUMNS)
    ).one_or_none()
    return None if row is None else _order(row)


def change_status(connection: Connection, order_id: UUID, owner: UUID | None, *, expected: str,
                  target: str) -> Order | None:
    """Compare-and-set on status: None when someone else changed it first (or it is not visible)."""
    row = connection.execute(
        sa.update(orders)
        .where(_visible(order_id, owner), orders.c.status == expected)
        .values(status=target, updated_at=sa.func.now())
        .returning(*_COLUMNS)
    ).one_or_none()
    return None if row is None else _order(row)


def delete_order(connection: Connection, order_id: UUID) -> bool:
    deleted = connection.execute(sa.delete(orders).where(orders.c.id == order_id).returning(orders.c.id))
    return deleted.first() is not None


# Filter name (an OrderFilter field) -> the test it puts on `orders`, against a bind parameter.
_FILTERS: dict[str, Callable[[Any], sa.ColumnElement[bool]]] = {
    "user_id": lambda value: orders.c.user_id == value,
    "status": lambda value: orders.c.status == value,
    "min_total": lambda value: orders.c.total_amount >= value,
    "max_total": lambda value: orders.c.total_amount <= value,
    "created_from": lambda value: orders.c.created_at >= value,
    "created_before": lambda value: orders.c.created_at < value,
}


def _filter_values(query: OrderFilter) -> dict[str, Any]:
    return {name: getattr(query, name) for name in _FILTERS if getattr(query, name) is not None}


@lru_cache(maxsize=64)
def _count_statement(filters: tuple[str, ...]) -> sa.Select[Any]:
    where = [_FILTERS[name](sa.bindparam(name)) for name in filters]
    return sa.select(sa.func.count()).select_from(orders).where(*where)


@lru_cache(maxsize=256)
def _page_statement(filters: tuple[str, ...], sort: str) -> sa.Select[Any]:
    """One statement per combination of filters and sort, built once: values are bound parameters,
    so SQLAlchemy reuses the cache key and compiled SQL instead of rebuilding them per request."""
    where = [_FILTERS[name](sa.bindparam(name)) for name in filters]
    total = _count_statement(filters).scalar_subquery().correlate(None).label("total_matches")
    return (sa.select(*_COLUMNS, total).where(*where).order_by(*_SORTS[sort])
            .limit(sa.bindparam("limit")).offset(sa.bindparam("offset")))


def list_orders(connection: Connection, query: OrderFilter, *, page: int, limit: int) -> Page[Order]:
    """One page and the total number of matches, both cut and counted in one SQL statement.

    The count is an uncorrelated subquery (Postgres runs it once); only a page past the last match,
    which has no row to carry it, costs a second statement.
    """
    values = _filter_values(query)
    filters = tuple(values)
    rows = connection.execute(_page_statement(filters, query.sort),
                              {**values, "limit": limit, "offset": (page - 1) * limit}).all()
    if rows:
        return Page([_order(row) for row in rows], int(rows[0].total_matches), page, limit)
    total = 0 if page == 1 else int(connection.execute(_count_statement(filters), values).scalar_one())
    return Page([], total, page, limit)


def _stats_statement(*, per_user: bool) -> sa.Select[Any]:
    """Aggregates in one statement; amounts leave cancelled orders out, counts include them."""
    billable = orders.c.status != "cancelled"
    columns: list[Any] = [
        sa.func.count().label("total_orders"),
        sa.func.coalesce(sa.func.sum(orders.c.total_amount).filter(billable), 0).label("total_amount"),
        sa.func.coalesce(sa.func.round(sa.func.avg(orders.c.total_amount).filter(billable), 2), 0).label("average"),
        *(sa.func.count().filter(orders.c.status == status).label(status) for status in STATUSES),
    ]
    if per_user:
        return sa.select(*columns).select_from(orders).where(orders.c.user_id == sa.bindparam("user_id"))
    columns.append(sa.func.count(sa.distinct(orders.c.user_id)).label("unique_customers"))
    return sa.select(*columns).select_from(orders)


_USER_STATS = _stats_statement(per_user=True)
_ALL_STATS = _stats_statement(per_user=False)


def stats(connection: Connection, user_id: UUID | None) -> OrderStats:
    """One user's figures, or everyone's (with the number of distinct customers) for `None`."""
    if user_id is None:
        row = connection.execute(_ALL_STATS).one()
    else:
        row = connection.execute(_USER_STATS, {"user_id": user_id}).one()
    return OrderStats(
        total_orders=int(row.total_orders),
        total_amount=Decimal(row.total_amount),
        average_order_amount=Decimal(row.average),
        by_status={status: int(getattr(row, status)) for status in STATUSES},
        unique_customers=int(row.unique_customers) if user_id is None else None,
    )
