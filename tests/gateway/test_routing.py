import pytest

from infra.sam_app import Route
from local.gateway.routing import Router


def router(*specs: tuple[str, str]) -> Router:
    return Router([Route(p, m, f"{m} {p}", "Api") for p, m in specs])


# Declared in the "wrong" order on purpose: precedence must not depend on it.
R = router(
    ("/{proxy+}", "ANY"),
    ("/v1/orders/{id}", "GET"),
    ("/v1/orders/stats", "GET"),
    ("/v1/orders/{id}/items", "POST"),
    ("/v1/files/{proxy+}", "ANY"),
    ("/v1/files/static", "GET"),
    ("/", "GET"),
)


@pytest.mark.parametrize(
    ("method", "path", "resource", "params"),
    [
        ("GET", "/v1/orders/stats", "/v1/orders/stats", None),
        ("GET", "/v1/orders/42", "/v1/orders/{id}", {"id": "42"}),
        ("POST", "/v1/orders/42/items", "/v1/orders/{id}/items", {"id": "42"}),
        # method missing on the static route falls through to the greedy sibling
        ("POST", "/v1/files/static", "/v1/files/{proxy+}", {"proxy": "static"}),
        ("GET", "/v1/files/static", "/v1/files/static", None),
        ("GET", "/v1/files/a/b/c", "/v1/files/{proxy+}", {"proxy": "a/b/c"}),
        # no POST on /v1/orders/stats nor /v1/orders/{id}: falls to the root proxy
        ("POST", "/v1/orders/stats", "/{proxy+}", {"proxy": "v1/orders/stats"}),
        ("DELETE", "/anything/else", "/{proxy+}", {"proxy": "anything/else"}),
        ("GET", "/", "/", None),
        # trailing slash: same resource, parameter without the slash (AWS recorded)
        ("GET", "/v1/orders/42/", "/v1/orders/{id}", {"id": "42"}),
        # no percent-decoding of path parameters (AWS recorded)
        ("GET", "/v1/orders/a%2Bb%20c", "/v1/orders/{id}", {"id": "a%2Bb%20c"}),
        # a greedy parameter keeps inner double slashes (AWS recorded `proxy-value//double-slash`)
        ("GET", "/v1/files/a//b", "/v1/files/{proxy+}", {"proxy": "a//b"}),
        ("GET", "/v1/files/a//b//", "/v1/files/{proxy+}", {"proxy": "a//b"}),
        # leading slashes collapse (AWS recorded `/stage//proxy-value` -> `proxy-value`)
        ("GET", "//v1/orders/42", "/v1/orders/{id}", {"id": "42"}),
        ("GET", "//", "/", None),
    ],
)
def test_precedence(method: str, path: str, resource: str, params: dict[str, str] | None) -> None:
    m = R.match(method, path)
    assert m is not None
    assert m.route.path == resource
    assert m.path_parameters == params


def test_no_match_without_proxy() -> None:
    r = router(("/a", "GET"), ("/a/{id}", "GET"))
    assert r.match("POST", "/a") is None  # method missing
    assert r.match("GET", "/b") is None  # unknown path
    assert r.match("GET", "/") is None
    assert r.match("GET", "/a/1/2") is None  # {param} is one segment only
    # an empty segment inside the path is neither a static segment nor a {param} value
    assert r.match("GET", "//a//1") is None
    assert r.match("GET", "/a//") is not None  # trailing slashes are ignored
    assert router(("/a/b", "GET")).match("GET", "/a//b") is None


def test_greedy_needs_at_least_one_segment() -> None:
    r = router(("/files/{proxy+}", "GET"))
    assert r.match("GET", "/files") is None
    assert r.match("GET", "/files/x") is not None


def test_any_and_specific_method_on_same_resource() -> None:
    r = router(("/x", "ANY"), ("/x", "GET"))
    assert r.match("GET", "/x").route.method == "GET"  # type: ignore[union-attr]
    assert r.match("PATCH", "/x").route.method == "ANY"  # type: ignore[union-attr]


def test_existing_static_resource_is_never_taken_as_a_param() -> None:
    # Given a static resource and a {param} sibling with other methods (SPEC: never taken as ids)
    r = router(("/v1/users/profile", "GET"), ("/v1/users/{id}", "DELETE"), ("/v1/users/{id}", "GET"))
    # When the static path is asked for a method only the {param} resource has
    # Then nothing matches (the gateway answers its missing-route response)
    assert r.match("DELETE", "/v1/users/profile") is None
    assert r.match("GET", "/v1/users/profile").route.path == "/v1/users/profile"  # type: ignore[union-attr]
    assert r.match("DELETE", "/v1/users/42").route.path == "/v1/users/{id}"  # type: ignore[union-attr]
