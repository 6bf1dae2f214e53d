"""Orders CRUD, stats, auth and BOLA through the handler (real Postgres, moto, gateway-built events)."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from tests.support.api import ApiClient
from tests.support.users import SeededUser, factory_engine

# The test client serialises bodies with json.dumps: floats like 19.99 are written exactly as typed,
# and the resolver parses them back as Decimal.

LAPTOP = {"items": [{"product": "Laptop", "quantity": 1, "price": 75000.00}]}


def create(api: ApiClient, user: SeededUser, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    response = api.post("/v1/orders", json=payload or LAPTOP, token=user.token)
    assert response.status == 201, response.body
    return response.data["order"]  # type: ignore[no-any-return]


def set_status(database_url: str, order_id: str, status: str) -> None:
    engine = factory_engine(database_url)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE orders SET status = :s WHERE id = :i"), {"s": status, "i": order_id})




def test_create_returns_201_with_server_computed_fields(api: ApiClient, alice: SeededUser) -> None:
    # When Alice orders 3 x 19.99 and 1 x 0.01
    response = api.post("/v1/orders", token=alice.token, json={"items": [
        {"product": "Book", "quantity": 3, "price": 19.99},
        {"product": "Pin", "quantity": 1, "price": 0.01},
    ]})
    # Then the order is created for her with an exact total, money written with two decimals
    assert response.status == 201, response.body
    order = response.data["order"]
    assert set(order) == {"id", "user_id", "items", "status", "total_amount", "created_at", "updated_at"}
    assert order["user_id"] == str(alice.id)
    assert order["status"] == "created"
    assert order["total_amount"] == Decimal("59.98")
    assert '"total_amount":59.98' in response.body
    assert order["created_at"].endswith("Z")


def test_money_always_has_two_decimals(api: ApiClient, alice: SeededUser) -> None:
    response = api.post("/v1/orders", token=alice.token, json={"items": [{"product": "A", "quantity": 2, "price": 0.5},
                                                                         {"product": "B", "quantity": 1, "price": 7}]})
    assert '"price":0.50' in response.body and '"price":7.00' in response.body
    assert '"total_amount":8.00' in response.body


def test_laptop_example_keeps_75000_00(api: ApiClient, alice: SeededUser) -> None:
    response = api.post("/v1/orders", token=alice.token, body='{"items":[{"product":"Laptop","quantity":1,'
                        '"price":75000.00}]}', headers={"Content-Type": "application/json"})
    assert response.status == 201
    assert '"price":75000.00' in response.body and '"total_amount":75000.00' in response.body


@pytest.mark.parametrize(("payload", "field"), [
    ({"items": [{"product": "A", "quantity": 1, "price": 19.999}]}, "items.0.price"),
    ({"items": [{"product": "A", "quantity": 1.5, "price": 1}]}, "items.0.quantity"),
    ({"items": [{"product": "A", "quantity": "3", "price": 1}]}, "items.0.quantity"),
    ({"items": [{"product": "A", "quantity": True, "price": 1}]}, "items.0.quantity"),
    ({"items": [{"product": "A", "quantity": 1, "price": "1.00"}]}, "items.0.price"),
    ({"items": [{"product": "A", "quantity": 1, "price": -1}]}, "items.0.price"),
    ({"items": [{"product": "", "quantity": 1, "price": 1}]}, "items.0.product"),
    ({"items": [{"product": "A", "quantity": 10_000, "price": 99999999.99}]}, "items"),
    ({"items": []}, "items"),
    ({"items": [{"product": "A", "quantity": 1, "price": 1}], "status": "completed"}, "status"),
    ({"items": [{"product": "A", "quantity": 1, "price": 1}], "total_amount": 0}, "total_amount"),
    ({"items": [{"product": "A", "quantity": 1, "price": 1}], "user_id": str(uuid.uuid4())}, "user_id"),
    ({}, "items"),
])
def test_invalid_create_bodies_are_400(api: ApiClient, alice: SeededUser, payload: dict[str, Any], field: str) -> None:
    response = api.post("/v1/orders", json=payload, token=alice.token)
    assert response.status == 400, response.body
    assert response.error["code"] == "VALIDATION_ERROR"
    assert any(detail["field"] == field for detail in response.error["details"]), response.error


@pytest.mark.parametrize("raw", ['{"items":[{"product":"A","quantity":1,"price":NaN}]}',
                                 '{"items":[{"product":"A","quantity":1,"price":Infinity}]}',
                                 '{"items":', '[]', 'null', '"x"'])
def test_malformed_bodies_are_400_never_500(api: ApiClient, alice: SeededUser, raw: str) -> None:
    response = api.post("/v1/orders", body=raw, headers={"Content-Type": "application/json"}, token=alice.token)
    assert response.status == 400, response.body
    assert response.error["code"] == "VALIDATION_ERROR"


@pytest.mark.parametrize("product", ["a\u0000b", "line\nbreak", "tab\there", "bell\u0007", "del\u007f",
                                     "lone \ud800 surrogate"])
def test_control_characters_in_a_product_name_are_400_and_nothing_stored(api: ApiClient, alice: SeededUser,
                                                                         product: str) -> None:
    # Given a product name with a NUL (jsonb rejects \u0000), another control character or a lone surrogate
    body = json.dumps({"items": [{"product": product, "quantity": 1, "price": 1}]})
    # When the order is created, or an existing order's items are replaced with it
    response = api.post("/v1/orders", body=body, headers={"Content-Type": "application/json"}, token=alice.token)
    order_id = create(api, alice)["id"]
    edit = api.put(f"/v1/orders/{order_id}", body=body, headers={"Content-Type": "application/json"},
                   token=alice.token)
    # Then both are a 400 naming the field, and only the valid order exists
    for answer in (response, edit):
        assert answer.status == 400, answer.body
        assert answer.error["code"] == "VALIDATION_ERROR"
        assert [detail["field"] for detail in answer.error["details"]] == ["items.0.product"]
    assert api.get("/v1/orders", token=alice.token).data["pagination"]["total"] == 1


def test_numeric_overflow_is_400_and_nothing_stored(
    api: ApiClient, alice: SeededUser, test_env: dict[str, str]
) -> None:
    # Given items whose total is one cent over NUMERIC(10,2)
    payload = {"items": [{"product": "A", "quantity": 10, "price": 9999999.99}, {"product": "B", "quantity": 1,
                                                                                "price": 0.10}]}
    # Then it is a 400, and the database holds no order
    assert api.post("/v1/orders", json=payload, token=alice.token).status == 400
    assert api.get("/v1/orders", token=alice.token).data["pagination"]["total"] == 0


def test_routes_require_a_token(api: ApiClient) -> None:
    order_path = f"/v1/orders/{uuid.uuid4()}"
    calls = [("POST", "/v1/orders", LAPTOP), ("GET", "/v1/orders", None), ("GET", order_path, None),
             ("PUT", order_path, LAPTOP), ("PUT", order_path + "/status", {"status": "cancelled"}),
             ("DELETE", order_path, None), ("GET", "/v1/orders/my-stats", None), ("GET", "/v1/orders/stats", None)]
    for method, path, payload in calls:
        response = api.request(method, path, json_body=payload)
        assert response.status == 401, (method, path, response.body)


def test_get_own_order_and_admin_can_read_any(api: ApiClient, alice: SeededUser, admin: SeededUser) -> None:
    order = create(api, alice)
    for user in (alice, admin):
        response = api.get(f"/v1/orders/{order['id']}", token=user.token)
        assert response.status == 200
        assert response.data["order"] == order


def test_static_paths_are_not_ids(api: ApiClient, alice: SeededUser) -> None:
    assert api.get("/v1/orders/my-stats", token=alice.token).status == 200
    assert api.get("/v1/orders/stats", token=alice.token).status == 403


def test_malformed_and_unknown_ids(api: ApiClient, alice: SeededUser) -> None:
    assert api.get("/v1/orders/not-a-uuid", token=alice.token).status == 400
    missing = api.get(f"/v1/orders/{uuid.uuid4()}", token=alice.token)
    assert (missing.status, missing.error["code"]) == (404, "NOT_FOUND")


def test_bola_other_users_order_is_indistinguishable_from_missing(api: ApiClient, alice: SeededUser, bob: SeededUser,
                                                                 test_env: dict[str, str]) -> None:
    # Given Alice's order
    order = create(api, alice)
    path = f"/v1/orders/{order['id']}"
    missing = f"/v1/orders/{uuid.uuid4()}"
    # When Bob reads, edits, cancels or deletes it
    attempts = {
        "get": lambda p: api.get(p, token=bob.token),
        "put": lambda p: api.put(p, json=LAPTOP, token=bob.token),
        "status": lambda p: api.put(p + "/status", json={"status": "cancelled"}, token=bob.token),
    }
    for name, attempt in attempts.items():
        theirs, nothing = attempt(path), attempt(missing)
        # Then he gets exactly what a missing order gives
        assert theirs.status == nothing.status == 404, name
        assert theirs.error == nothing.error, name
    assert api.delete(path, token=bob.token).status == 403  # delete is admin-only for everyone
    # And Alice's order is untouched
    assert api.get(path, token=alice.token).data["order"] == order


def test_owner_replaces_items_and_total_is_recomputed(api: ApiClient, alice: SeededUser) -> None:
    order = create(api, alice)
    response = api.put(f"/v1/orders/{order['id']}", token=alice.token,
                       json={"items": [{"product": "Mouse", "quantity": 2, "price": 25.5}]})
    assert response.status == 200, response.body
    updated = response.data["order"]
    assert updated["items"] == [{"product": "Mouse", "quantity": 2, "price": Decimal("51.00") / 2}]
    assert updated["total_amount"] == Decimal("51.00")
    assert updated["created_at"] == order["created_at"] and updated["updated_at"] > order["updated_at"]


def test_admin_can_edit_any_created_order(api: ApiClient, alice: SeededUser, admin: SeededUser) -> None:
    order = create(api, alice)
    response = api.put(f"/v1/orders/{order['id']}", json=LAPTOP, token=admin.token)
    assert response.status == 200
    assert response.data["order"]["user_id"] == str(alice.id)


@pytest.mark.parametrize("status", ["processing", "completed", "cancelled"])
def test_edit_is_409_once_not_created(api: ApiClient, alice: SeededUser, admin: SeededUser, test_env: dict[str, str],
                                      status: str) -> None:
    order = create(api, alice)
    set_status(test_env["DATABASE_URL"], order["id"], status)
    for user in (alice, admin):
        response = api.put(f"/v1/orders/{order['id']}", json=LAPTOP, token=user.token)
        assert (response.status, response.error["code"]) == (409, "INVALID_STATUS_TRANSITION")


def test_edit_validates_the_body(api: ApiClient, alice: SeededUser) -> None:
    order = create(api, alice)
    response = api.put(f"/v1/orders/{order['id']}", json={"items": [], "status": "completed"}, token=alice.token)
    assert response.status == 400


def test_admin_deletes_an_order(api: ApiClient, alice: SeededUser, admin: SeededUser) -> None:
    order = create(api, alice)
    response = api.delete(f"/v1/orders/{order['id']}", token=admin.token)
    assert response.status == 200
    assert response.data == {"deleted": True, "id": order["id"]}
    assert api.get(f"/v1/orders/{order['id']}", token=alice.token).status == 404
    assert api.delete(f"/v1/orders/{order['id']}", token=admin.token).status == 404


def test_owner_cannot_delete(api: ApiClient, alice: SeededUser) -> None:
    order = create(api, alice)
    response = api.delete(f"/v1/orders/{order['id']}", token=alice.token)
    assert (response.status, response.error["code"]) == (403, "FORBIDDEN")


def test_my_stats_are_zero_without_orders(api: ApiClient, alice: SeededUser) -> None:
    response = api.get("/v1/orders/my-stats", token=alice.token)
    assert response.status == 200
    assert response.data == {"total_orders": 0, "total_amount": 0, "average_order_amount": 0,
                             "by_status": {"created": 0, "processing": 0, "completed": 0, "cancelled": 0}}
    assert '"total_amount":0.00' in response.body and '"average_order_amount":0.00' in response.body


def test_stats_exclude_cancelled_amounts_and_scope_to_caller(api: ApiClient, alice: SeededUser, bob: SeededUser,
                                                           admin: SeededUser, test_env: dict[str, str]) -> None:
    # Given Alice has 10.00, 20.00 and a cancelled 1000.00; Bob has 5.55
    def order_of(user: SeededUser, price: str) -> dict[str, Any]:
        return create(api, user, {"items": [{"product": "X", "quantity": 1, "price": float(price)}]})

    order_of(alice, "10.00")
    order_of(alice, "20.00")
    cancelled = order_of(alice, "1000.00")
    cancel = api.put(f"/v1/orders/{cancelled['id']}/status", json={"status": "cancelled"}, token=alice.token)
    assert cancel.status == 200
    order_of(bob, "5.55")
    set_status(test_env["DATABASE_URL"], order_of(bob, "1.00")["id"], "completed")
    # When Alice asks for her stats
    mine = api.get("/v1/orders/my-stats", token=alice.token).data
    # Then counts include the cancelled order, amounts don't
    assert mine == {"total_orders": 3, "total_amount": Decimal("30.00"), "average_order_amount": Decimal("15.00"),
                    "by_status": {"created": 2, "processing": 0, "completed": 0, "cancelled": 1}}
    # And the admin's stats cover everyone, with the number of distinct customers
    everyone = api.get("/v1/orders/stats", token=admin.token)
    assert everyone.status == 200
    assert everyone.data == {"total_orders": 5, "total_amount": Decimal("36.55"),
                             "average_order_amount": Decimal("9.14"), "unique_customers": 2,
                             "by_status": {"created": 3, "processing": 0, "completed": 1, "cancelled": 1}}


def test_stats_require_admin(api: ApiClient, alice: SeededUser) -> None:
    response = api.get("/v1/orders/stats", token=alice.token)
    assert (response.status, response.error["code"]) == (403, "FORBIDDEN")
