"""Idempotent create on the DynamoDB emulation, with the order insert replaced by a fake (no Postgres)."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from orders_api import idempotency, logic
from orders_api.domain import Order
from orders_api.models import OrderItemsRequest
from orders_api.output import OrderData
from shared.dependencies import reset
from shared.errors import IdempotencyKeyInUse, IdempotencyKeyMismatch, ServiceUnavailable, ValidationFailed
from shared.jsonutil import dumps

USER = uuid.uuid4()


class FakeOrders:
    """Stands in for `logic.create_order`: counts inserts, can fail or block on demand."""

    def __init__(self) -> None:
        self.created: list[Order] = []
        self.fail_next = False
        self.entered = threading.Event()
        self.release = threading.Event()
        self.release.set()

    def __call__(self, user_id: uuid.UUID, request: OrderItemsRequest) -> Order:
        self.entered.set()
        self.release.wait(5)
        if self.fail_next:
            self.fail_next = False
            raise ServiceUnavailable(retry_after=1)
        now = datetime.now(UTC)
        order = Order(id=uuid.uuid4(), user_id=user_id, items=[i.stored() for i in request.items], status="created",
                      total_amount=request.total, created_at=now, updated_at=now)
        self.created.append(order)
        return order


@pytest.fixture
def fake_orders(dynamodb: object, dynamodb_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOrders]:
    monkeypatch.setenv("DYNAMODB_ENDPOINT_URL", dynamodb_endpoint)
    reset()
    fake = FakeOrders()
    monkeypatch.setattr(logic, "create_order", fake)
    yield fake
    reset()


@dataclass(frozen=True)
class Outcome:
    """What the client gets for a keyed create (the route always answers 201 with the order's envelope)."""

    status: int
    body: str
    replayed: bool


def create_once(user_id: uuid.UUID, key: str, request: OrderItemsRequest) -> Outcome:
    created = idempotency.create_once(user_id, key, request)
    return Outcome(201, dumps({"success": True, "data": OrderData(order=created.order)}), created.replayed)


def body(price: str = "19.99", product: str = "Book") -> OrderItemsRequest:
    return OrderItemsRequest(items=[{"product": product, "quantity": 3, "price": Decimal(price)}])  # type: ignore[list-item]


def test_first_call_creates_and_repeat_replays_same_body(fake_orders: FakeOrders) -> None:
    # Given an order created with a key
    first = create_once(USER, "key-1", body())
    # When the same user repeats it with an equivalent body (19.990 is 19.99, padded name)
    again = create_once(USER, "key-1", body("19.990", " Book "))
    # Then one order exists and the repeat is the first response, marked replayed
    assert len(fake_orders.created) == 1
    assert (first.status, first.replayed) == (201, False)
    assert (again.status, again.body, again.replayed) == (201, first.body, True)
    assert json.loads(first.body)["data"]["order"]["total_amount"] == 59.97


def test_key_is_scoped_to_the_user(fake_orders: FakeOrders) -> None:
    create_once(USER, "shared-key", body())
    other = create_once(uuid.uuid4(), "shared-key", body())
    assert not other.replayed
    assert len(fake_orders.created) == 2


def test_same_key_different_body_is_a_mismatch(fake_orders: FakeOrders) -> None:
    create_once(USER, "key-2", body())
    with pytest.raises(IdempotencyKeyMismatch):
        create_once(USER, "key-2", body("20.00"))
    assert len(fake_orders.created) == 1


def test_failed_request_is_not_cached(fake_orders: FakeOrders) -> None:
    # Given a first attempt that fails inside the create
    fake_orders.fail_next = True
    with pytest.raises(ServiceUnavailable):
        create_once(USER, "key-3", body())
    # When it is retried with the same key
    retry = create_once(USER, "key-3", body())
    # Then the retry really runs (not a replayed failure)
    assert (retry.status, retry.replayed) == (201, False)
    assert len(fake_orders.created) == 1


def test_in_progress_key_is_409(fake_orders: FakeOrders) -> None:
    # Given a first request blocked inside the create
    fake_orders.release.clear()
    worker = threading.Thread(target=idempotency.create_once, args=(USER, "key-4", body()))
    worker.start()
    assert fake_orders.entered.wait(5)
    try:
        # When the same key arrives meanwhile
        with pytest.raises(IdempotencyKeyInUse):
            create_once(USER, "key-4", body())
    finally:
        fake_orders.release.set()
        worker.join(5)
    # Then only the first created an order
    assert len(fake_orders.created) == 1


def test_unreachable_table_is_503_and_creates_nothing(fake_orders: FakeOrders,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an idempotency table name that does not exist
    monkeypatch.setenv("IDEMPOTENCY_TABLE", "NoSuchTable")
    reset()
    # Then the request fails with 503 rather than creating an unguarded order
    with pytest.raises(ServiceUnavailable):
        create_once(USER, "key-5", body())
    assert fake_orders.created == []


def test_failure_to_record_after_commit_still_returns_the_order(fake_orders: FakeOrders,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the store accepts the in-progress record but fails to save the result
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    def broken_update(self: Any, data_record: Any) -> None:
        raise RuntimeError("dynamodb went away")

    monkeypatch.setattr(DynamoDBPersistenceLayer, "_update_record", broken_update)
    # When an order is created
    outcome = create_once(USER, "key-6", body())
    # Then the client gets the real 201, not a 503 for an order that exists
    assert outcome.status == 201
    assert len(fake_orders.created) == 1


@pytest.mark.parametrize("key", ["", "x" * 256])
def test_key_length_is_validated(key: str) -> None:
    with pytest.raises(ValidationFailed):
        idempotency.validate_key(key)


@pytest.mark.parametrize("key", ["a", "x" * 255, None])
def test_valid_keys(key: str | None) -> None:
    assert idempotency.validate_key(key) == key
