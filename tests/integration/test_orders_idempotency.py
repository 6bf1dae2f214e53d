"""Idempotency-Key on POST /v1/orders: through the handler, and ten concurrent creates with one key."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from orders_api import idempotency, logic
from orders_api.models import OrderItemsRequest
from shared.errors import ApiError, IdempotencyKeyInUse, ServiceUnavailable
from tests.support.api import ApiClient
from tests.support.users import SeededUser, factory_engine, make_user

BODY = '{"items":[{"product":"Laptop","quantity":1,"price":75000.00}]}'


def post(api: ApiClient, user: SeededUser, body: str, key: str | None) -> Any:
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return api.post("/v1/orders", body=body, headers=headers, token=user.token)


def order_count(database_url: str) -> int:
    engine = factory_engine(database_url)
    with engine.connect() as connection:
        count = int(connection.execute(sa.text("SELECT count(*) FROM orders")).scalar_one())
    return count




def test_repeat_with_same_key_replays_first_response(api: ApiClient, alice: SeededUser,
                                                     test_env: dict[str, str]) -> None:
    # Given an order created with a key
    first = post(api, alice, BODY, "order-1")
    assert first.status == 201 and "Idempotent-Replayed" not in first.headers
    # When the same body is sent again, differently formatted
    again = post(api, alice, '{ "items" : [ {"price": 75000.0, "quantity": 1, "product": "Laptop"} ] }', "order-1")
    # Then the first status and body come back, flagged as replayed, and only one order exists
    assert again.status == 201
    assert again.body == first.body
    assert again.headers["Idempotent-Replayed"] == "true"
    assert order_count(test_env["DATABASE_URL"]) == 1


def test_without_key_every_post_creates(api: ApiClient, alice: SeededUser, test_env: dict[str, str]) -> None:
    assert post(api, alice, BODY, None).status == 201
    assert post(api, alice, BODY, None).status == 201
    assert order_count(test_env["DATABASE_URL"]) == 2


def test_same_key_other_body_is_422(api: ApiClient, alice: SeededUser, test_env: dict[str, str]) -> None:
    post(api, alice, BODY, "order-2")
    response = post(api, alice, BODY.replace("75000.00", "75000.01"), "order-2")
    assert (response.status, response.error["code"]) == (422, "IDEMPOTENCY_KEY_MISMATCH")
    assert order_count(test_env["DATABASE_URL"]) == 1


def test_same_key_different_user_is_independent(api: ApiClient, alice: SeededUser, test_env: dict[str, str]) -> None:
    bob = make_user(test_env["DATABASE_URL"])
    assert post(api, alice, BODY, "shared").status == 201
    theirs = post(api, bob, BODY, "shared")
    assert theirs.status == 201 and "Idempotent-Replayed" not in theirs.headers
    assert theirs.data["order"]["user_id"] == str(bob.id)


@pytest.mark.parametrize("key", ["", "k" * 256])
def test_key_length_outside_1_to_255_is_400(api: ApiClient, alice: SeededUser, key: str,
                                            test_env: dict[str, str]) -> None:
    response = post(api, alice, BODY, key)
    assert (response.status, response.error["code"]) == (400, "VALIDATION_ERROR")
    assert order_count(test_env["DATABASE_URL"]) == 0


def test_255_character_key_is_accepted(api: ApiClient, alice: SeededUser) -> None:
    assert post(api, alice, BODY, "k" * 255).status == 201


def test_invalid_body_is_not_cached(api: ApiClient, alice: SeededUser) -> None:
    # Given a first attempt with an invalid body under a key
    assert post(api, alice, BODY.replace("75000.00", "75000.001"), "order-3").status == 400
    # When the corrected body is sent with the same key
    response = post(api, alice, BODY, "order-3")
    # Then it is created (not a mismatch, not a replay of the 400)
    assert response.status == 201 and "Idempotent-Replayed" not in response.headers


def test_failed_create_is_not_cached(api: ApiClient, alice: SeededUser, monkeypatch: pytest.MonkeyPatch,
                                     test_env: dict[str, str]) -> None:
    # Given the database fails once during the create
    real_create = logic.create_order
    calls = {"n": 0}

    def flaky(*args: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ServiceUnavailable(retry_after=1)
        return real_create(*args)

    monkeypatch.setattr(logic, "create_order", flaky)
    failed = post(api, alice, BODY, "order-4")
    assert failed.status == 503
    # When the client retries with the same key
    retry = post(api, alice, BODY, "order-4")
    # Then the create really runs this time
    assert retry.status == 201 and "Idempotent-Replayed" not in retry.headers
    assert order_count(test_env["DATABASE_URL"]) == 1


def test_unreachable_idempotency_table_is_503_not_500(api: ApiClient, alice: SeededUser,
                                                      test_env: dict[str, str]) -> None:
    api.env_overrides["IDEMPOTENCY_TABLE"] = "MissingTable"
    response = post(api, alice, BODY, "order-5")
    assert (response.status, response.error["code"]) == (503, "SERVICE_UNAVAILABLE")
    assert response.headers["Retry-After"] == "1"
    assert order_count(test_env["DATABASE_URL"]) == 0


def test_ten_concurrent_creates_with_one_key_make_one_order(api: ApiClient, alice: SeededUser,
                                                             test_env: dict[str, str]) -> None:
    # Given the handler environment is loaded (one ordinary request) against the DynamoDB server
    # (a server makes conditional writes atomic across threads, as DynamoDB does)
    assert api.get("/v1/orders", token=alice.token).status == 200
    body = OrderItemsRequest.model_validate({"items": [{"product": "Laptop", "quantity": 1,
                                                        "price": Decimal("75000.00")}]})
    start = threading.Barrier(10, timeout=10)
    outcomes: list[Any] = [None] * 10

    def create(index: int) -> None:
        start.wait()
        try:
            outcomes[index] = idempotency.create_once(alice.id, "burst", body)
        except ApiError as error:
            outcomes[index] = error

    # When ten threads (separate DB connections) create with the same key at once
    threads = [threading.Thread(target=create, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    # Then exactly one order row exists; one fresh 201, the rest replays of it or 409 in-progress
    assert order_count(test_env["DATABASE_URL"]) == 1
    fresh = [o for o in outcomes if isinstance(o, idempotency.CreatedOrder) and not o.replayed]
    replays = [o for o in outcomes if isinstance(o, idempotency.CreatedOrder) and o.replayed]
    in_use = [o for o in outcomes if isinstance(o, IdempotencyKeyInUse)]
    assert len(fresh) == 1, outcomes
    assert len(fresh) + len(replays) + len(in_use) == 10, outcomes
    assert all(replay.order == fresh[0].order for replay in replays)
