"""template.yaml and the handlers declare exactly the same routes, in both directions."""

import re

import pytest

from infra.sam_app import load_app
from tests.support.api import TEMPLATE
from tests.support.routes import handler_routes

APP = load_app(TEMPLATE)


def _template_routes(function_id: str) -> set[tuple[str, str]]:
    return {(route.method, route.path) for route in APP.routes if route.function == function_id}




@pytest.mark.parametrize("function_id", sorted(APP.functions))
def test_template_routes_match_handler_routes(function_id: str) -> None:
    # Given a function of the template
    spec = APP.functions[function_id]
    # When its Api events and its resolver's routes are listed
    declared = _template_routes(function_id)
    served = handler_routes(spec.handler)
    # Then they are the same set: nothing declared but unserved, nothing served but unreachable
    assert declared, f"{function_id} has no Api events"
    assert declared == served, f"template only: {declared - served}; handler only: {served - declared}"


def test_every_function_has_its_own_service_name_and_the_shared_layer() -> None:
    names = set()
    for spec in APP.functions.values():
        names.add(spec.environment["POWERTOOLS_SERVICE_NAME"])
        assert any(layer.name == "shared" for layer in spec.layer_dirs), spec.logical_id
    assert names == {"users", "orders", "monitoring"}


def test_static_routes_are_never_taken_as_ids() -> None:
    from local.gateway.routing import Router

    router = Router(APP.routes)
    for path in ("/v1/users/profile", "/v1/users/search", "/v1/users/password", "/v1/orders/my-stats",
                 "/v1/orders/stats"):
        methods = [route.method for route in APP.routes if route.path == path]
        match = router.match(methods[0], path)
        assert match is not None and match.route.path == path and not re.search(r"\{", match.route.path)
