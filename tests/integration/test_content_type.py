"""Every request body must be JSON; anything else is a clear 400, never a 500 or an echo."""

import pytest

from tests.support.api import ApiClient

LOGIN = '{"email":"a@example.com","password":"hunter2-secret"}'


@pytest.mark.parametrize("content_type", [
    "multipart/form-data",  # no boundary: Powertools' multipart parser would raise
    "multipart/form-data; boundary=xyz",
    "application/x-www-form-urlencoded",
    "text/plain",
    "application/xml",
    "application/vnd.api+json",  # Powertools parses only application/json
    "Application/JSON",  # Powertools compares case-sensitively: refused the same way, not a 500
])
def test_non_json_bodies_are_400(api: ApiClient, content_type: str) -> None:
    # Given a body sent with a non-JSON Content-Type / When posted to a public route
    response = api.request("POST", "/v1/users/login", body=LOGIN, headers={"Content-Type": content_type})
    # Then a 400 in the envelope names the rule, and the body is not echoed back
    assert response.status == 400
    assert response.error == {"code": "VALIDATION_ERROR", "message": "Content-Type must be application/json"}
    assert "hunter2" not in response.body


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8",
                                          None])
def test_json_media_types_are_accepted(api: ApiClient, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = api.request("POST", "/v1/users/login", body=LOGIN, headers=headers)
    assert response.status == 401  # parsed and checked: unknown user
    assert response.error["code"] == "INVALID_CREDENTIALS"


@pytest.mark.parametrize("body", [b"\xff\x02", b'{"email": "\xe9"}', b"\x00\x01\x02"])
def test_bodies_that_are_not_utf8_are_400(api: ApiClient, body: bytes) -> None:
    # Given a JSON Content-Type over bytes that are not UTF-8 (the gateway base64-encodes them)
    response = api.request("POST", "/v1/users/login", body=body, headers={"Content-Type": "application/json"})
    # Then it is a 400 saying the body is not valid JSON (found by fuzzing: was a 500)
    assert response.status == 400, response.body
    assert response.error["code"] == "VALIDATION_ERROR"
    assert response.error["message"] == "Request body is not valid JSON"
