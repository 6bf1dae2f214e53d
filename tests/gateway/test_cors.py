"""SAM's `Cors` as API Gateway serves it after the transform: an OPTIONS mock on every path, no function invoked;
gateway responses carry the template's CORS headers; template parameters given as a deploy gives them."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from infra.cfn import TemplateError
from infra.sam_app import load_app
from local.gateway.__main__ import parameter_overrides
from local.gateway.cors import allowed_methods

from .conftest import FIXTURES, start

ROOT = Path(__file__).resolve().parents[2]
ORIGIN = "https://shop.example"

# A path with ANY (echo), one with two methods, one with its own OPTIONS, one whose function cannot even start:
# if the gateway invoked anything for a preflight, the answer would be an echo, or a 502.
TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Globals:
  Function: {{Runtime: python3.12, CodeUri: {functions}, Layers: [!Ref Layer]}}
{globals_api}
Resources:
  Layer:
    Type: AWS::Serverless::LayerVersion
    Properties: {{ContentUri: {layer}}}
{api}
  EchoFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: echo.handler
      Events:
        Any: {{Type: Api, Properties: {{{api_ref}Path: /echo, Method: ANY}}}}
        Get: {{Type: Api, Properties: {{{api_ref}Path: "/items/{{id}}", Method: get}}}}
        Put: {{Type: Api, Properties: {{{api_ref}Path: "/items/{{id}}", Method: put}}}}
        Own: {{Type: Api, Properties: {{{api_ref}Path: /own, Method: options}}}}
  BrokenFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: broken.handler
      Events:
        Post: {{Type: Api, Properties: {{{api_ref}Path: /broken/, Method: post}}}}
"""
EXPLICIT_API = """\
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: dev
      Cors: {cors}
"""


def write(tmp_path: Path, cors: str, *, in_globals: bool = False) -> Path:
    text = TEMPLATE.format(
        functions=FIXTURES / "functions", layer=FIXTURES / "layer",
        globals_api=f"  Api:\n    Cors: {cors}" if in_globals else "",
        api="" if in_globals else EXPLICIT_API.format(cors=cors),
        api_ref="" if in_globals else "RestApiId: !Ref Api, ")
    path = tmp_path / "template.yaml"
    path.write_text(text)
    return path


def preflight(url: str, path: str) -> requests.Response:
    return requests.options(url + path, headers={"Origin": ORIGIN, "Access-Control-Request-Method": "PUT",
                                                 "Access-Control-Request-Headers": "authorization"}, timeout=10)


@pytest.mark.parametrize("in_globals", [False, True], ids=["api", "globals"])
def test_every_path_answers_the_preflight_itself_with_the_cors_headers(tmp_path: Path, in_globals: bool) -> None:
    # Given Cors with every option, on the Api or in Globals.Api (which SAM's implicit API takes too)
    cors = ("{AllowOrigin: \"'https://shop.example'\", AllowHeaders: \"'Authorization,Content-Type'\", "
            "MaxAge: \"'600'\", AllowCredentials: true}")
    with start(write(tmp_path, cors, in_globals=in_globals)) as gw:
        # When a browser preflights a path with two methods
        response = preflight(gw.url, "/items/7")
        # Then API Gateway's mock answers: 200, SAM's `{}` body, the path's own methods plus OPTIONS, sorted
        assert response.status_code == 200
        assert response.text == "{}\n" and response.headers["Content-Type"] == "application/json"
        assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
        assert response.headers["Access-Control-Allow-Methods"] == "GET,OPTIONS,PUT"
        assert response.headers["Access-Control-Allow-Headers"] == "Authorization,Content-Type"
        assert response.headers["Access-Control-Max-Age"] == "600"
        assert response.headers["Access-Control-Allow-Credentials"] == "true"
        # And an ANY path gets every method, and its function is not invoked (it would echo the event)
        any_path = preflight(gw.url, "/echo")
        assert any_path.headers["Access-Control-Allow-Methods"] == "DELETE,GET,HEAD,OPTIONS,PATCH,POST,PUT"
        assert any_path.text == "{}\n"
        # And a path whose function cannot even start is answered too (a trailing slash is the same resource)
        broken = preflight(gw.url, "/broken")
        assert (broken.status_code, broken.headers["Access-Control-Allow-Methods"]) == (200, "OPTIONS,POST")
        # And the actual requests still reach the functions
        assert requests.put(gw.url + "/items/7", timeout=10).json()["event"]["httpMethod"] == "PUT"


def test_the_mock_answers_whatever_the_origin_and_a_path_with_its_own_options_keeps_it(tmp_path: Path) -> None:
    # Given the shortest form, Cors: "'*'" (a string is AllowOrigin; no Allow-Headers or Max-Age then)
    with start(write(tmp_path, "\"'*'\"")) as gw:
        response = requests.options(gw.url + "/items/7", headers={"Origin": "https://anyone.example"}, timeout=10)
        assert response.status_code == 200
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert "Access-Control-Allow-Headers" not in response.headers
        assert "Access-Control-Max-Age" not in response.headers
        assert "Access-Control-Allow-Credentials" not in response.headers
        # And a path that declares its own OPTIONS is left to its function (SAM skips it)
        own = requests.options(gw.url + "/own", timeout=10)
        assert own.json()["event"]["httpMethod"] == "OPTIONS"
        # And an OPTIONS to a path the API does not have is the missing-route gateway response
        missing = requests.options(gw.url + "/nowhere", headers={"Origin": ORIGIN}, timeout=10)
        assert missing.status_code == 403 and missing.json() == {"message": "Missing Authentication Token"}


def test_without_cors_options_is_a_missing_route(tmp_path: Path) -> None:
    with start(write(tmp_path, "\"\"")) as gw:
        response = preflight(gw.url, "/items/7")
        assert response.status_code == 403
        assert not any(name.lower().startswith("access-control-") for name in response.headers)


@pytest.mark.parametrize("cors", ["{AllowCredentials: true}", "{AllowOrigins: \"'*'\"}"])
def test_cors_sam_refuses_is_refused(tmp_path: Path, cors: str) -> None:
    # AllowCredentials with the default '*' origin, and an unknown key, fail SAM's transform
    with pytest.raises(TemplateError):
        load_app(write(tmp_path, cors))


def test_allowed_methods_as_sam_computes_them() -> None:
    assert allowed_methods(["post", "GET"]) == "GET,OPTIONS,POST"
    assert allowed_methods(["ANY", "GET"]) == "DELETE,GET,HEAD,OPTIONS,PATCH,POST,PUT"


# The project's template, with the parameter values a deploy (or `make run`) gives.

@pytest.mark.parametrize(("origins", "allow_origin"), [
    ("https://shop.example", "https://shop.example"),
    ("*", "*"),
    ("https://shop.example,http://localhost:5500", "*"),  # a list: SAM's static mock can only say *
])
def test_the_templates_preflight_follows_cors_allow_origins(origins: str, allow_origin: str) -> None:
    with start(ROOT / "template.yaml", parameters={"CorsAllowOrigins": origins}) as gw:
        response = preflight(gw.url, "/v1/orders/42")
        assert response.status_code == 200
        assert response.headers["Access-Control-Allow-Origin"] == allow_origin
        assert response.headers["Access-Control-Allow-Methods"] == "DELETE,GET,OPTIONS,PUT"
        assert response.headers["Access-Control-Allow-Headers"] == (
            "Authorization,Content-Type,Idempotency-Key,X-Request-ID")
        assert response.headers["Access-Control-Max-Age"] == "600"
        assert gw.gateway.preflights.routes  # type: ignore[attr-defined]
        assert len({r.path for r in gw.gateway.preflights.routes}) == len({r.path for r in gw.gateway.app.routes})


@pytest.mark.parametrize(("origins", "request_origin", "allow_origin", "vary"), [
    ("https://shop.example", ORIGIN, ORIGIN, None),
    ("https://shop.example", None, ORIGIN, None),  # a static value does not look at the request
    ("*", ORIGIN, "*", None),
    ("https://shop.example,http://localhost:5500", "http://localhost:5500", "http://localhost:5500", "Origin"),
    ("https://shop.example,http://localhost:5500", None, None, "Origin"),  # nothing to echo: no header
])
def test_the_templates_gateway_responses_carry_cors_headers(
        origins: str, request_origin: str | None, allow_origin: str | None, vary: str | None) -> None:
    # Given CORS on: a missing route, a preflight to it, and a body over the quota are answered by API Gateway
    headers = {"Origin": request_origin} if request_origin else {}
    with start(ROOT / "template.yaml", parameters={"CorsAllowOrigins": origins}) as gw:
        for response in (requests.get(gw.url + "/v1/nowhere", headers=headers, timeout=10),
                         requests.options(gw.url + "/v1/nowhere", headers=headers, timeout=10),
                         requests.post(gw.url + "/v1/orders", data=b"x" * (10 * 1024 * 1024 + 1),
                                       headers=headers, timeout=30)):
            # Then each carries the CORS headers the template maps, with X-Request-ID readable
            assert response.status_code in (404, 413), response.status_code
            assert response.headers.get("Access-Control-Allow-Origin") == allow_origin
            assert response.headers.get("Vary") == vary
            exposed = response.headers["Access-Control-Expose-Headers"].split(",")
            assert {"X-Request-ID", "X-RateLimit-Remaining", "Retry-After"} <= set(exposed)


def test_the_templates_default_has_no_cors_anywhere() -> None:
    with start(ROOT / "template.yaml") as gw:
        for response in (preflight(gw.url, "/v1/orders"), requests.get(gw.url + "/v1/nowhere", timeout=10)):
            assert response.status_code == 404
            assert not any(name.lower().startswith("access-control-") for name in response.headers)
            assert "Vary" not in response.headers


def test_parameter_overrides_as_the_cli_takes_them() -> None:
    assert parameter_overrides(["CorsAllowOrigins=https://a.example,https://b.example", "X=a=b"]) == {
        "CorsAllowOrigins": "https://a.example,https://b.example", "X": "a=b"}
    with pytest.raises(SystemExit):
        parameter_overrides(["CorsAllowOrigins"])


def test_an_unknown_parameter_is_refused() -> None:
    with pytest.raises(TemplateError, match="no parameter 'CorsOrigins'"):
        load_app(ROOT / "template.yaml", parameters={"CorsOrigins": "*"})
