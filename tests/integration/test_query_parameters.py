"""Query parameters a route does not declare are a 400, like unknown body fields (found by fuzzing:
`GET /metrics?junk=1` answered 200 while the document declares no parameters)."""

from tests.support.api import ApiClient
from tests.support.users import SeededUser


def test_a_misspelt_filter_is_400_not_an_unfiltered_list(api: ApiClient, alice: SeededUser) -> None:
    # Given a listing with a typo in a filter name / When requested
    response = api.get("/v1/orders", query={"stauts": "created"}, token=alice.token)
    # Then it is refused and the parameter named, instead of returning every order
    assert response.status == 400
    assert response.error["code"] == "VALIDATION_ERROR"
    assert response.error["message"] == "Unknown query parameter 'stauts'"
    assert response.error["details"] == [{"field": "stauts", "message": "not a parameter of this route",
                                          "type": "extra_forbidden"}]


def test_routes_without_parameters_refuse_any(api: ApiClient, admin: SeededUser) -> None:
    assert api.get("/metrics", query={"junk": "1"}, token=admin.token).status == 400
    assert api.get("/health", query={"junk": "1"}).status == 400


def test_authentication_is_checked_before_parameters(api: ApiClient) -> None:
    # Given no token / Then a protected route answers 401, revealing nothing about its parameters
    response = api.get("/v1/orders", query={"stauts": "created"})
    assert response.status == 401


def test_declared_parameters_still_pass(api: ApiClient, alice: SeededUser) -> None:
    response = api.get("/v1/orders", query={"status": "created", "page": "1", "limit": "5"}, token=alice.token)
    assert response.status == 200
