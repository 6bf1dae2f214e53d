"""PUT /v1/orders/{id}/status: the transition table per role through the handler, and races."""

from __future__ import annotations

import itertools
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from orders_api import logic, repository
from orders_api.models import STATUSES
from shared.auth.principal import Principal
from shared.errors import ApiError
from tests.support.api import ApiClient
from tests.support.users import SeededUser, factory_engine, make_user

LAPTOP = {"items": [{"product": "Laptop", "quantity": 1, "price": 75000.00}]}
ALLOWED = {
    "owner": {("created", "cancelled")},
    "admin": {("created", "cancelled"), ("created", "processing"), ("processing", "completed"),
              ("processing", "cancelled")},
}


def expected(role: str, current: str, target: str) -> tuple[int, str | None]:
    if (current, target) in ALLOWED[role]:
        return 200, None
    if role == "owner" and target in ("processing", "completed"):
        return 403, "FORBIDDEN"
    return 409, "INVALID_STATUS_TRANSITION"


def new_order(api: ApiClient, owner: SeededUser, database_url: str, status: str = "created") -> str:
    response = api.post("/v1/orders", json=LAPTOP, token=owner.token)
    assert response.status == 201, response.body
    order_id: str = response.data["order"]["id"]
    engine = factory_engine(database_url)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE orders SET status = :s WHERE id = :i"), {"s": status, "i": order_id})
    return order_id


@pytest.mark.parametrize(("role", "current", "target"),
                         [(r, c, t) for r in ("owner", "admin") for c, t in itertools.product(STATUSES, STATUSES)])
def test_transition_table_per_role(api: ApiClient, test_env: dict[str, str], role: str, current: str,
                                   target: str) -> None:
    # Given an order in `current` and a caller who is its owner, or an admin who is not
    url = test_env["DATABASE_URL"]
    owner = make_user(url)
    caller = owner if role == "owner" else make_user(url, roles=("user", "admin"))
    order_id = new_order(api, owner, url, current)
    # When the caller asks for `target`
    response = api.put(f"/v1/orders/{order_id}/status", json={"status": target}, token=caller.token)
    # Then the SPEC's table decides, and a refused change leaves the order as it was
    status, code = expected(role, current, target)
    assert response.status == status, response.body
    after = api.get(f"/v1/orders/{order_id}", token=owner.token).data["order"]
    if code is None:
        assert response.data["order"]["status"] == target == after["status"]
    else:
        assert response.error["code"] == code
        assert after["status"] == current


@pytest.mark.parametrize("value", ["CANCELLED", "Cancelled", " cancelled", "shipped", "", None, 1])
def test_unknown_status_value_is_400(api: ApiClient, test_env: dict[str, str], value: Any) -> None:
    owner = make_user(test_env["DATABASE_URL"])
    order_id = new_order(api, owner, test_env["DATABASE_URL"])
    response = api.put(f"/v1/orders/{order_id}/status", json={"status": value}, token=owner.token)
    assert (response.status, response.error["code"]) == (400, "VALIDATION_ERROR")


def test_status_body_rejects_extra_fields(api: ApiClient, test_env: dict[str, str]) -> None:
    owner = make_user(test_env["DATABASE_URL"])
    order_id = new_order(api, owner, test_env["DATABASE_URL"])
    response = api.put(f"/v1/orders/{order_id}/status", json={"status": "cancelled", "total_amount": 0},
                       token=owner.token)
    assert response.status == 400


def test_status_change_on_missing_order_is_404(api: ApiClient, test_env: dict[str, str]) -> None:
    admin = make_user(test_env["DATABASE_URL"], roles=("user", "admin"))
    response = api.put(f"/v1/orders/{uuid.uuid4()}/status", json={"status": "processing"}, token=admin.token)
    assert response.status == 404


def _race(principals: list[Principal], order_id: uuid.UUID, targets: list[str],
          monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Run the change for each principal in its own thread, all reading the order before any writes."""
    barrier = threading.Barrier(len(principals), timeout=10)
    real_find = repository.find_order

    def find_then_wait(*args: Any, **kwargs: Any) -> Any:
        found = real_find(*args, **kwargs)
        barrier.wait()  # both have seen the same current status before either updates
        return found

    results: list[Any] = [None] * len(principals)

    def run(index: int) -> None:
        try:
            results[index] = logic.change_status(principals[index], order_id, targets[index])
        except ApiError as error:
            results[index] = error

    with monkeypatch.context() as patch:
        patch.setattr(repository, "find_order", find_then_wait)
        threads = [threading.Thread(target=run, args=(i,)) for i in range(len(principals))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(20)
    return results


def caller(user: SeededUser) -> Principal:
    now = datetime.now(UTC)
    return Principal(user.id, user.email, user.roles, name="Test User", created_at=now, updated_at=now, token_version=0)


@pytest.mark.parametrize("targets", [["processing", "cancelled"], ["processing", "processing"],
                                     ["cancelled", "cancelled"]])
def test_two_concurrent_transitions_exactly_one_wins(api: ApiClient, test_env: dict[str, str],
                                                     monkeypatch: pytest.MonkeyPatch, targets: list[str]) -> None:
    # Given a created order, and its owner and an admin (separate DB connections, one per thread)
    url = test_env["DATABASE_URL"]
    owner, admin = make_user(url), make_user(url, roles=("user", "admin"))
    order_id = uuid.UUID(new_order(api, owner, url))
    callers = [caller(admin), caller(owner) if targets[1] == "cancelled" else caller(admin)]
    # When both change its status at the same moment from the same observed state
    results = _race(callers, order_id, targets, monkeypatch)
    # Then exactly one succeeds and the other gets 409; the stored status is the winner's
    winners = [r for r in results if not isinstance(r, ApiError)]
    losers = [r for r in results if isinstance(r, ApiError)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert (losers[0].status, losers[0].code) == (409, "INVALID_STATUS_TRANSITION")
    stored = api.get(f"/v1/orders/{order_id}", token=owner.token).data["order"]["status"]
    assert stored == winners[0].status
