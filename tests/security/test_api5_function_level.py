"""API5:2023 Broken Function Level Authorization — every admin operation refuses an ordinary user."""

from __future__ import annotations

import pytest

from tests.support.api import ApiClient
from tests.support.users import SeededUser

SOME_ID = "5f0c6a4e-2d1b-4c8e-9a77-3b2f1e0d9c88"  # fixed: xdist workers must collect the same ids
ADMIN_ROUTES = [
    ("GET", "/v1/users", None),
    ("GET", "/v1/users/search?query=a", None),
    ("GET", f"/v1/users/{SOME_ID}", None),
    ("PUT", f"/v1/users/{SOME_ID}/roles", {"roles": ["user", "admin"]}),
    ("DELETE", f"/v1/users/{SOME_ID}", None),
    ("DELETE", f"/v1/orders/{SOME_ID}", None),
    ("GET", "/v1/orders/stats", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
def test_admin_operations_are_403_for_a_user(api: ApiClient, alice: SeededUser, method: str, path: str,
                                              body: object) -> None:
    # Given an ordinary user / When calling an admin operation (even on an id that does not exist)
    response = api.request(method, path, json_body=body, token=alice.token)
    # Then 403 FORBIDDEN, decided before any lookup (no 404 that would reveal existence)
    assert (response.status, response.error["code"]) == (403, "FORBIDDEN")


def test_user_cannot_promote_themselves(api: ApiClient, alice: SeededUser) -> None:
    # Given an ordinary user targeting their own id / When asking for the admin role
    response = api.put(f"/v1/users/{alice.id}/roles", json={"roles": ["user", "admin"]}, token=alice.token)
    # Then 403 and their roles are unchanged
    assert response.status == 403
    assert api.get("/v1/users/profile", token=alice.token).data["user"]["roles"] == ["user"]
