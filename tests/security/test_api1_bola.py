"""API1:2023 Broken Object Level Authorization — another user's objects are unreachable by id."""

from __future__ import annotations

import sqlalchemy as sa

from tests.support.api import ApiClient
from tests.support.users import SeededUser, factory_engine

ORDER = {"items": [{"product": "Secret thing", "quantity": 1, "price": 10}]}


def test_every_order_route_hides_another_users_order(api: ApiClient, alice: SeededUser, bob: SeededUser,
                                                      test_env: dict[str, str]) -> None:
    # Given an order of Alice's
    order = api.post("/v1/orders", json=ORDER, token=alice.token).data["order"]
    path = f"/v1/orders/{order['id']}"
    # When Bob reads, edits, cancels or deletes it by id
    answers = [api.get(path, token=bob.token), api.put(path, json=ORDER, token=bob.token),
               api.put(f"{path}/status", json={"status": "cancelled"}, token=bob.token)]
    # Then each is the same 404 as for an id that does not exist (existence is not revealed)
    assert [(r.status, r.error["code"]) for r in answers] == [(404, "NOT_FOUND")] * 3
    assert api.delete(path, token=bob.token).status == 403  # delete is admin-only before any lookup
    # And the order is untouched in Postgres
    engine = factory_engine(test_env["DATABASE_URL"])
    with engine.connect() as connection:
        row = connection.execute(sa.text("SELECT status, items FROM orders WHERE id = :i"), {"i": order["id"]}).one()
    assert row.status == "created" and row.items[0]["product"] == "Secret thing"


def test_listing_with_another_users_id_never_returns_their_orders(api: ApiClient, alice: SeededUser,
                                                                   bob: SeededUser) -> None:
    # Given an order of Alice's
    api.post("/v1/orders", json=ORDER, token=alice.token)
    # When Bob lists orders asking for Alice's user_id
    response = api.get("/v1/orders", query={"user_id": str(alice.id)}, token=bob.token)
    # Then he is refused or sees only his own (none), never Alice's
    assert response.status in (200, 403, 404), response.body
    if response.status == 200:
        assert response.data["orders"] == [] and response.data["pagination"]["total"] == 0

