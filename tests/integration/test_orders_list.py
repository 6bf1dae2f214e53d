"""GET /v1/orders: scope, filters, sorting and pagination through the handler."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from tests.support.api import ApiClient
from tests.support.users import SeededUser, factory_engine, make_user

BASE = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def seed(
    api: ApiClient, database_url: str, user: SeededUser, *, price: float, day: int, status: str = "created"
) -> str:
    """An order of `price` created `day` days after BASE (timestamps set directly for determinism)."""
    response = api.post("/v1/orders", json={"items": [{"product": "X", "quantity": 1, "price": price}]},
                        token=user.token)
    assert response.status == 201, response.body
    order_id: str = response.data["order"]["id"]
    engine = factory_engine(database_url)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE orders SET created_at = :t, status = :s WHERE id = :i"),
                           {"t": BASE + timedelta(days=day), "s": status, "i": order_id})
    return order_id


@pytest.fixture
def world(api: ApiClient, test_env: dict[str, str]) -> dict[str, Any]:
    """Alice: 5 orders (10, 20, 30, 40, 50 on days 0..4; 30 cancelled, 40 completed). Bob: one 99.99."""
    url = test_env["DATABASE_URL"]
    alice, bob = make_user(url), make_user(url)
    admin = make_user(url, roles=("user", "admin"))
    statuses = ["created", "created", "cancelled", "completed", "created"]
    ids = [seed(api, url, alice, price=10.0 * (n + 1), day=n, status=statuses[n]) for n in range(5)]
    bob_id = seed(api, url, bob, price=99.99, day=10)
    return {"alice": alice, "bob": bob, "admin": admin, "alice_ids": ids, "bob_id": bob_id}


def totals(response: Any) -> list[Decimal]:
    assert response.status == 200, response.body
    return [order["total_amount"] for order in response.data["orders"]]


def test_user_sees_only_own_orders_newest_first(api: ApiClient, world: dict[str, Any]) -> None:
    response = api.get("/v1/orders", token=world["alice"].token)
    assert totals(response) == [50, 40, 30, 20, 10]
    assert response.data["pagination"] == {"page": 1, "limit": 20, "total": 5, "pages": 1}
    assert {o["user_id"] for o in response.data["orders"]} == {str(world["alice"].id)}


def test_admin_sees_all_and_can_filter_by_user(api: ApiClient, world: dict[str, Any]) -> None:
    admin = world["admin"].token
    assert api.get("/v1/orders", token=admin).data["pagination"]["total"] == 6
    only_bob = api.get("/v1/orders", token=admin, query={"user_id": str(world["bob"].id)})
    assert totals(only_bob) == [Decimal("99.99")]


def test_non_admin_user_id_filter(api: ApiClient, world: dict[str, Any]) -> None:
    alice = world["alice"]
    # Naming someone else is refused; naming yourself is the same as not naming anyone
    other = api.get("/v1/orders", token=alice.token, query={"user_id": str(world["bob"].id)})
    assert (other.status, other.error["code"]) == (403, "FORBIDDEN")
    assert api.get("/v1/orders", token=alice.token, query={"user_id": str(alice.id)}).data["pagination"]["total"] == 5


@pytest.mark.parametrize(("query", "expected"), [
    ({"status": "created"}, [50, 20, 10]),
    ({"status": "cancelled"}, [30]),
    ({"min_total": "20", "max_total": "40"}, [40, 30, 20]),  # inclusive
    ({"min_total": "40.00"}, [50, 40]),
    ({"max_total": "10"}, [10]),
    ({"created_from": "2024-05-02", "created_to": "2024-05-03"}, [30, 20]),  # whole days, inclusive
    ({"created_from": "2024-05-02T12:00:00Z", "created_to": "2024-05-03T12:00:00Z"}, [30, 20]),  # exact instants
    ({"created_from": "2024-05-02T12:00:00.000001Z"}, [50, 40, 30]),
    ({"created_to": "2024-05-02T11:59:59Z"}, [10]),
    ({"created_from": "2024-05-02T14:00:00+02:00", "created_to": "2024-05-02"}, [20]),
    ({"sort": "created_at"}, [10, 20, 30, 40, 50]),
    ({"sort": "total_amount"}, [10, 20, 30, 40, 50]),
    ({"sort": "-total_amount", "status": "created"}, [50, 20, 10]),
    ({"status": "processing"}, []),
])
def test_filters_and_sorting(api: ApiClient, world: dict[str, Any], query: dict[str, str],
                             expected: list[int]) -> None:
    response = api.get("/v1/orders", token=world["alice"].token, query=query)
    assert totals(response) == expected
    assert response.data["pagination"]["total"] == len(expected)


def test_pagination_edges(api: ApiClient, world: dict[str, Any]) -> None:
    token = world["alice"].token

    def page(number: int, limit: int) -> Any:
        return api.get("/v1/orders", token=token, query={"page": number, "limit": limit, "sort": "total_amount"})

    # Pages partition the list in order, the last one partial
    assert totals(page(1, 2)) == [10, 20]
    assert totals(page(2, 2)) == [30, 40]
    last = page(3, 2)
    assert totals(last) == [50]
    assert last.data["pagination"] == {"page": 3, "limit": 2, "total": 5, "pages": 3}
    # Past the end: empty page, same totals
    beyond = page(4, 2)
    assert totals(beyond) == []
    assert beyond.data["pagination"] == {"page": 4, "limit": 2, "total": 5, "pages": 3}
    # Limits at the bounds
    assert len(page(1, 1).data["orders"]) == 1
    assert page(1, 100).data["pagination"]["pages"] == 1
    assert page(1, 5).data["pagination"]["pages"] == 1


def test_empty_list_has_zero_pages(api: ApiClient, test_env: dict[str, str]) -> None:
    user = make_user(test_env["DATABASE_URL"])
    response = api.get("/v1/orders", token=user.token)
    assert response.data == {"orders": [], "pagination": {"page": 1, "limit": 20, "total": 0, "pages": 0}}


@pytest.mark.parametrize("query", [
    {"page": "0"}, {"page": "-1"}, {"page": "abc"}, {"page": "1.5"},
    {"limit": "0"}, {"limit": "101"}, {"limit": "x"},
    {"sort": "name"}, {"sort": "created"}, {"sort": "+total_amount"},
    {"status": "CREATED"}, {"status": "shipped"},
    {"min_total": "abc"}, {"min_total": "-1"}, {"max_total": "NaN"}, {"max_total": "Infinity"},
    {"min_total": "50", "max_total": "10"},
    {"created_from": "yesterday"}, {"created_to": "2024-02-30"}, {"created_from": "1717156800"},
    {"created_from": "2024-06-02", "created_to": "2024-06-01"},
    {"user_id": "not-a-uuid"},
])
def test_invalid_query_values_are_400(api: ApiClient, world: dict[str, Any], query: dict[str, str]) -> None:
    response = api.get("/v1/orders", token=world["admin"].token, query=query)
    assert (response.status, response.error["code"]) == (400, "VALIDATION_ERROR"), response.body
