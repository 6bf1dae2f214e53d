"""openapi.json: generated from the handlers, committed, and faithful to the template and the contract."""

import json
from typing import Any

import pytest

from local.events import PUBLIC_ROUTES
from local.gateway.template import load_app
from local.openapi import OUTPUT, build_document, render
from tests.support.api import TEMPLATE

DOCUMENT = build_document(TEMPLATE)
APP = load_app(TEMPLATE)
ADMIN_ONLY = {("GET", "/v1/users"), ("GET", "/v1/users/search"), ("GET", "/v1/users/{user_id}"),
              ("PUT", "/v1/users/{user_id}/roles"), ("DELETE", "/v1/users/{user_id}"),
              ("DELETE", "/v1/orders/{order_id}"), ("GET", "/v1/orders/stats")}


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
        # Given an operation: public ones carry no security, the rest a bearer token and a 401
        if key in PUBLIC_ROUTES:
            assert "security" not in operation and "401" not in operation["responses"], key
        else:
            assert operation["security"] == [{"bearerAuth": []}], key
            assert "401" in operation["responses"], key
        # And admin-only routes document the 403
        assert ("403" in operation["responses"]) == (key in ADMIN_ONLY), key
    assert DOCUMENT["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_validation_errors_are_400_in_the_envelope_never_422() -> None:
    text = json.dumps(DOCUMENT)
    assert '"422"' not in text and "HTTPValidationError" not in text
    register = _operations()[("POST", "/v1/users/register")]
    assert register["responses"]["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorEnvelope"}


def test_request_bodies_come_from_the_handlers_pydantic_models() -> None:
    register = _operations()[("POST", "/v1/users/register")]
    ref = register["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    model = DOCUMENT["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert {"email", "password", "name"} <= set(model["properties"])
    assert model.get("additionalProperties") is False  # extra="forbid": unknown fields are rejected


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
