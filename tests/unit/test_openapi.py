"""openapi.json: generated from the handlers, committed, and faithful to the template and the contract."""

import json
from typing import Any

import pytest

from infra.sam_app import load_app
from local.openapi import OUTPUT, build_document, render
from local.sample_events import PUBLIC_ROUTES
from tests.support.api import TEMPLATE

DOCUMENT = build_document(TEMPLATE)
APP = load_app(TEMPLATE)
ADMIN_ONLY = {("GET", "/v1/users"), ("GET", "/v1/users/search"), ("GET", "/v1/users/{user_id}"),
              ("PUT", "/v1/users/{user_id}/roles"), ("DELETE", "/v1/users/{user_id}"),
              ("DELETE", "/v1/orders/{order_id}"), ("GET", "/v1/orders/stats")}
# Routes open to users that still answer 403 for some requests (another user's orders; admin-only statuses).
PARTLY_FORBIDDEN = {("GET", "/v1/orders"), ("PUT", "/v1/orders/{order_id}/status")}


def _operations() -> dict[tuple[str, str], dict[str, Any]]:
    return {(method.upper(), path): op for path, item in DOCUMENT["paths"].items() for method, op in item.items()}


def test_committed_openapi_json_is_up_to_date() -> None:
    # Given the document generated from the handlers right now
    # When it is compared with the committed openapi.json
    # Then they are identical (fix: `make openapi`)
    assert OUTPUT.read_text(encoding="utf-8") == render(DOCUMENT)


def test_generation_is_deterministic() -> None:
    assert render(build_document(TEMPLATE)) == render(DOCUMENT)


def test_document_has_exactly_the_template_routes() -> None:
    assert set(_operations()) == {(route.method, route.path) for route in APP.routes}


def test_security_follows_the_route_middlewares() -> None:
    for key, operation in _operations().items():
        # Given an operation: public ones carry no security (login's 401 is INVALID_CREDENTIALS),
        # the rest a bearer token and a 401
        if key in PUBLIC_ROUTES:
            assert "security" not in operation, key
            assert ("401" in operation["responses"]) == (key == ("POST", "/v1/users/login")), key
        else:
            assert operation["security"] == [{"bearerAuth": []}], key
            assert "401" in operation["responses"], key
        # And admin-only routes (and the two partly forbidden ones) document the 403
        assert ("403" in operation["responses"]) == (key in ADMIN_ONLY | PARTLY_FORBIDDEN), key
    assert DOCUMENT["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_validation_errors_are_400_in_the_envelope_never_422() -> None:
    # (the one 422 is POST /v1/orders' IDEMPOTENCY_KEY_MISMATCH, in the envelope)
    assert "HTTPValidationError" not in json.dumps(DOCUMENT)
    assert [key for key, op in _operations().items() if "422" in op["responses"]] == [("POST", "/v1/orders")]
    assert _operations()[("POST", "/v1/orders")]["responses"]["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorEnvelope"}
    register = _operations()[("POST", "/v1/users/register")]
    assert register["responses"]["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorEnvelope"}


def test_request_bodies_come_from_the_handlers_pydantic_models() -> None:
    register = _operations()[("POST", "/v1/users/register")]
    ref = register["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    model = DOCUMENT["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert {"email", "password", "name"} <= set(model["properties"])
    assert model.get("additionalProperties") is False  # extra="forbid": unknown fields are rejected


def _schema(response: dict[str, Any]) -> dict[str, Any]:
    ref = response["content"]["application/json"]["schema"]["$ref"]
    return DOCUMENT["components"]["schemas"][ref.rsplit("/", 1)[1]]


def test_success_bodies_are_described_per_route() -> None:
    operations = _operations()
    # Given the order routes: create answers 201 with the order envelope, money documented as a number
    create = operations[("POST", "/v1/orders")]["responses"]
    assert "200" not in create and _schema(create["201"])["title"] == "OrderEnvelope"
    order = DOCUMENT["components"]["schemas"]["OrderOut"]
    assert order["properties"]["total_amount"]["type"] == "number"
    assert set(order["required"]) == {"id", "user_id", "items", "status", "total_amount", "created_at",
                                      "updated_at"}
    # And login its token, lists their pagination
    assert _schema(operations[("POST", "/v1/users/login")]["responses"]["200"])["title"] == "TokenEnvelope"
    assert set(DOCUMENT["components"]["schemas"]["Pagination"]["required"]) == {"page", "limit", "total", "pages"}
    # Then no operation falls back to the generic envelope
    assert "SuccessEnvelope" not in json.dumps(DOCUMENT["paths"])


def test_every_route_documents_429_and_id_routes_404() -> None:
    for (method, path), operation in _operations().items():
        assert "429" in operation["responses"], (method, path)
        if "{" in path:
            assert "404" in operation["responses"], (method, path)


@pytest.mark.parametrize("key", ["info", "servers", "paths", "components"])
def test_top_level_sections_are_present(key: str) -> None:
    assert DOCUMENT[key]
    assert DOCUMENT["openapi"].startswith("3.1")


def test_every_reference_resolves() -> None:
    def refs(node: Any) -> list[str]:
        if isinstance(node, dict):
            return ([node["$ref"]] if "$ref" in node else []) + [r for v in node.values() for r in refs(v)]
        if isinstance(node, list):
            return [r for v in node for r in refs(v)]
        return []

    schemas = DOCUMENT["components"]["schemas"]
    for ref in refs(DOCUMENT):
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in schemas, ref
