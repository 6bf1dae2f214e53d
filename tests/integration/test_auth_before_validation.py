"""Authentication and authorisation are decided before request validation."""

import uuid

from tests.support.api import ApiClient
from tests.support.users import make_user


def test_anonymous_invalid_body_gets_401_not_400(api: ApiClient) -> None:
    # Given no token and a body that fails validation
    # When a protected route is called
    response = api.post("/v1/orders", json={"items": "not a list", "status": "completed"})
    # Then the answer is 401: anonymous callers learn nothing about validation rules
    assert response.status == 401
    assert response.error["code"] == "UNAUTHORIZED"


def test_non_admin_invalid_body_on_admin_route_gets_403(api: ApiClient, clean_database: str) -> None:
    # Given a plain user and an invalid roles body
    user = make_user(clean_database)
    # When the admin-only route is called
    response = api.put(f"/v1/users/{uuid.uuid4()}/roles", json={"roles": 42}, token=user.token)
    # Then it is forbidden before the body is looked at
    assert response.status == 403
    assert response.error["code"] == "FORBIDDEN"


def test_admin_invalid_body_gets_400_with_details(api: ApiClient, clean_database: str) -> None:
    # Given an admin and an invalid roles body
    admin = make_user(clean_database, roles=("user", "admin"))
    # When the admin-only route is called
    response = api.put(f"/v1/users/{admin.id}/roles", json={"roles": 42}, token=admin.token)
    # Then validation answers with field details
    assert response.status == 400
    assert response.error["code"] == "VALIDATION_ERROR"
    assert response.error["details"][0]["field"] == "roles"


def test_public_route_validation_is_unaffected(api: ApiClient) -> None:
    response = api.post("/v1/users/login", json={"email": "x@example.com"})
    assert response.status == 400
    assert response.error["code"] == "VALIDATION_ERROR"


def test_form_encoded_body_is_rejected_without_echoing_it(api: ApiClient) -> None:
    # Given a JSON body sent as a form (what `curl -d` does without a Content-Type)
    body = '{"email":"a@example.com","password":"hunter2-secret","name":"A"}'
    # When registering
    response = api.request("POST", "/v1/users/register", body=body,
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    # Then a clear 400 names the content type, and the password is not echoed back
    assert response.status == 400
    assert response.error["message"] == "Content-Type must be application/json"
    assert "hunter2" not in response.body
