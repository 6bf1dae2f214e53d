"""Order use cases. Writes run in one `shared.db.write` transaction, reads in `shared.db.read`; errors are typed."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from orders_api import repository
from orders_api.domain import Order, OrderStats
from orders_api.filters import OrderFilter
from orders_api.models import OrderItemsRequest
from orders_api.status_machine import EDITABLE_STATUS, check_editable, check_transition
from shared import db
from shared.auth.principal import Principal
from shared.errors import Forbidden, InvalidStatusTransition, NotFound
from shared.paging import Page

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

ORDER_NOT_FOUND = "Order not found"


def _owner_scope(principal: Principal) -> UUID | None:
    """Admins see every order; anyone else only their own (enforced in the query)."""
    return None if principal.is_admin else principal.user_id


def create_order(user_id: UUID, request: OrderItemsRequest) -> Order:
    return db.write(lambda connection: repository.insert_order(connection, user_id, request.items, request.total))


def get_order(principal: Principal, order_id: UUID) -> Order:
    order = db.read(lambda connection: repository.find_order(connection, order_id, _owner_scope(principal)))
    if order is None:
        raise NotFound(ORDER_NOT_FOUND)
    return order


def list_scope(principal: Principal, requested_user: UUID | None) -> UUID | None:
    """Whose orders a listing covers. A non-admin may name only themself in `user_id=` (else 403)."""
    if principal.is_admin:
        return requested_user
    if requested_user is not None and requested_user != principal.user_id:
        raise Forbidden("Only an admin can list another user's orders")
    return principal.user_id


def list_orders(query: OrderFilter, *, page: int, limit: int) -> Page[Order]:
    return db.read(lambda connection: repository.list_orders(connection, query, page=page, limit=limit))


def update_items(principal: Principal, order_id: UUID, request: OrderItemsRequest) -> Order:
    owner = _owner_scope(principal)

    def replace(connection: Connection) -> tuple[Order | None, Order | None]:
        updated = repository.replace_items(connection, order_id, owner, items=request.items, total=request.total,
                                           expected_status=EDITABLE_STATUS)
        # Not updated: say why — missing/not yours, or no longer editable.
        return updated, None if updated is not None else repository.find_order(connection, order_id, owner)

    updated, current = db.write(replace)
    if updated is not None:
        return updated
    if current is None:
        raise NotFound(ORDER_NOT_FOUND)
    check_editable(current.status)
    raise InvalidStatusTransition("Order changed concurrently; reload and retry")


def change_status(principal: Principal, order_id: UUID, target: str) -> Order:
    owner = _owner_scope(principal)

    def transition(connection: Connection) -> tuple[Order, Order | None]:
        current = repository.find_order(connection, order_id, owner)
        if current is None:
            raise NotFound(ORDER_NOT_FOUND)
        check_transition(current.status, target, is_admin=principal.is_admin)
        # Compare-and-set: if another request moved the order since we read it, nothing matches.
        return current, repository.change_status(connection, order_id, owner, expected=current.status, target=target)

    current, changed = db.write(transition)
    if changed is None:
        raise InvalidStatusTransition(
            f"Order status changed from '{current.status}' by another request; reload and retry"
        )
    return changed


def delete_order(order_id: UUID) -> None:
    deleted = db.write(lambda connection: repository.delete_order(connection, order_id))
    if not deleted:
        raise NotFound(ORDER_NOT_FOUND)


def my_stats(user_id: UUID) -> OrderStats:
    return db.read(lambda connection: repository.stats(connection, user_id))


def all_stats() -> OrderStats:
    return db.read(lambda connection: repository.stats(connection, None))
