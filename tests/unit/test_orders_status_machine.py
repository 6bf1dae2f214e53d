"""The status machine table: every (role, current, target) combination."""

import itertools

import pytest

from orders_api.models import STATUSES
from orders_api.status_machine import check_editable, check_transition
from shared.errors import Forbidden, InvalidStatusTransition

ALLOWED = {
    "user": {("created", "cancelled")},
    "admin": {("created", "cancelled"), ("created", "processing"), ("processing", "completed"),
              ("processing", "cancelled")},
}
CASES = [(role, current, target) for role in ("user", "admin")
         for current, target in itertools.product(STATUSES, STATUSES)]


def expected_outcome(role: str, current: str, target: str) -> type[Exception] | None:
    if role == "user" and target in ("processing", "completed"):
        return Forbidden
    return None if (current, target) in ALLOWED[role] else InvalidStatusTransition


@pytest.mark.parametrize(("role", "current", "target"), CASES)
def test_transition_table(role: str, current: str, target: str) -> None:
    # Given a caller with `role` and an order in `current`
    expected = expected_outcome(role, current, target)
    # When they ask for `target`
    # Then exactly the SPEC's transitions pass, admin-only targets are 403 for users, the rest 409
    if expected is None:
        check_transition(current, target, is_admin=role == "admin")
    else:
        with pytest.raises(expected):
            check_transition(current, target, is_admin=role == "admin")


def test_table_has_exactly_the_spec_transitions() -> None:
    allowed = {(r, c, t) for r, c, t in CASES if expected_outcome(r, c, t) is None}
    assert len(allowed) == 5


@pytest.mark.parametrize("status", STATUSES)
def test_only_created_orders_are_editable(status: str) -> None:
    if status == "created":
        check_editable(status)
    else:
        with pytest.raises(InvalidStatusTransition):
            check_editable(status)
