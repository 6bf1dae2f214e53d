"""Who may move an order from which status to which: the one table, and the decision made from it.

The check here decides the error a caller sees; the database update then re-checks the expected
current status (`WHERE status = :expected`) so two concurrent changes cannot both win.
"""

from __future__ import annotations

from shared.errors import Forbidden, InvalidStatusTransition

USER, ADMIN = "user", "admin"

OWNER_TRANSITIONS: frozenset[tuple[str, str]] = frozenset({("created", "cancelled")})
ADMIN_TRANSITIONS: frozenset[tuple[str, str]] = OWNER_TRANSITIONS | {
    ("created", "processing"),
    ("processing", "completed"),
    ("processing", "cancelled"),
}
ALLOWED: dict[str, frozenset[tuple[str, str]]] = {USER: OWNER_TRANSITIONS, ADMIN: ADMIN_TRANSITIONS}

# Statuses only staff may set; asking for them without the role is a permission problem (403),
# whatever the order's current status.
ADMIN_ONLY_TARGETS = frozenset({"processing", "completed"})

# Items can only be replaced before anyone starts working on the order.
EDITABLE_STATUS = "created"


def role_of(is_admin: bool) -> str:
    return ADMIN if is_admin else USER


def check_transition(current: str, target: str, *, is_admin: bool) -> None:
    """Raise 403 for a status the role may never set, 409 for a move the table does not allow."""
    role = role_of(is_admin)
    if target in ADMIN_ONLY_TARGETS and role != ADMIN:
        raise Forbidden(f"Only an admin can set status '{target}'")
    if (current, target) not in ALLOWED[role]:
        raise InvalidStatusTransition(f"Cannot change status from '{current}' to '{target}'")


def check_editable(current: str) -> None:
    if current != EDITABLE_STATUS:
        raise InvalidStatusTransition(
            f"Items can only be changed while the order is '{EDITABLE_STATUS}', not '{current}'"
        )
