"""API4:2023 Unrestricted Resource Consumption — every size the client controls is bounded, never a 500."""

from __future__ import annotations

import pytest

from tests.support.api import ApiClient
from tests.support.users import SeededUser

JSON = {"Content-Type": "application/json"}
ITEM = {"product": "x", "quantity": 1, "price": 1}


@pytest.mark.parametrize(("path", "body"), [
    ("/v1/orders", {"items": [ITEM] * 101}),
    ("/v1/orders", {"items": [{**ITEM, "product": "p" * 201}]}),
    ("/v1/orders", {"items": [{**ITEM, "quantity": 10001}]}),
])
def test_oversized_order_bodies_are_400(api: ApiClient, alice: SeededUser, path: str, body: dict[str, object]) -> None:
    # Given an order over one of its bounds (items, product length, quantity) / Then 400
    assert api.post(path, json=body, token=alice.token).status == 400


@pytest.mark.parametrize("query", [{"limit": "101"}, {"limit": "100000"}, {"page": "0"}])
def test_page_size_is_capped(api: ApiClient, alice: SeededUser, query: dict[str, str]) -> None:
    # Given a list request for more than 100 rows or a bad page / Then 400, not a huge query
    assert api.get("/v1/orders", query=query, token=alice.token).status == 400


@pytest.mark.parametrize("body", [
    "[" * 100_000 + "]" * 100_000,                       # nesting deep enough to exhaust the parser's recursion
    '{"items":' * 5_000 + "1" + "}" * 5_000,
    '{"items":[{"product":"x","quantity":1' + "0" * 5_000 + ',"price":1}]}',  # 5001-digit integer
])
def test_pathological_json_is_a_400_not_a_500(api: ApiClient, alice: SeededUser, body: str) -> None:
    # Given a body under 1 MiB that is hard to parse (deep nesting, a huge integer literal)
    for path, token in (("/v1/orders", alice.token), ("/v1/users/login", None)):
        # When posted
        response = api.request("POST", path, body=body, headers=JSON, token=token)
        # Then it is a clean validation error
        assert (response.status, response.error["code"]) == (400, "VALIDATION_ERROR"), response.body
