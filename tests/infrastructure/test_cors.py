"""CORS in the deployed template: with CorsAllowOrigins set, every path has an OPTIONS method with a MOCK integration
(API Gateway answers the preflight, no function runs), every gateway response carries the CORS headers, and the
functions get the origins; with the default there is no CORS at all.

The transform runs AWS::LanguageExtensions first (the Api's `Cors: !If [...]`), as CloudFormation does.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.infrastructure.conftest import SCENARIOS, Stack

API_FUNCTIONS = ("UsersFunction", "OrdersFunction", "MonitoringFunction")
ALLOWED_HEADERS = "'Authorization,Content-Type,Idempotency-Key,X-Request-ID'"
EXPOSED = {"X-Request-ID", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After",
           "Idempotent-Replayed"}
GATEWAY_RESPONSES = ("MISSING_AUTHENTICATION_TOKEN", "REQUEST_TOO_LARGE", "THROTTLED", "INTEGRATION_TIMEOUT",
                     "DEFAULT_4XX", "DEFAULT_5XX")
CORS_SCENARIOS = sorted(name for name, values in SCENARIOS.items() if values.get("CorsAllowOrigins"))
NO_CORS_SCENARIOS = sorted(set(SCENARIOS) - set(CORS_SCENARIOS))
PREFLIGHT_ORIGIN = {"cors_origin": "'https://shop.example'", "cors_any": "'*'", "cors_list": "'*'"}
RESPONSE_ORIGIN = {"cors_origin": "'https://shop.example'", "cors_any": "'*'",
                   "cors_list": "method.request.header.Origin"}


def body(stack: Stack) -> dict[str, Any]:
    """The REST API's OpenAPI body, intrinsics evaluated with the scenario's parameters."""
    (api,) = stack.resources("AWS::ApiGateway::RestApi").values()
    return dict(api["Body"])


def response_headers(stack: Stack, response_type: str) -> dict[str, str]:
    parameters = body(stack)["x-amazon-apigateway-gateway-responses"][response_type]["responseParameters"]
    return {key.removeprefix("gatewayresponse.header."): value for key, value in parameters.items()}


@pytest.mark.parametrize("scenario", CORS_SCENARIOS)
def test_every_path_has_an_options_mock_answering_the_preflight(stacks: dict[str, Stack], scenario: str) -> None:
    paths = body(stacks[scenario])["paths"]
    assert len(paths) >= 15
    for path, operations in paths.items():
        # Then each path has OPTIONS, integrated as MOCK (no Lambda, no URI), answering 200 with the CORS headers
        options = operations["options"]
        integration = options["x-amazon-apigateway-integration"]
        assert integration["type"] == "mock" and "uri" not in integration, path
        assert integration["requestTemplates"]["application/json"].replace(" ", "").strip() == '{\n"statusCode":200\n}'
        default = integration["responses"]["default"]
        assert default["statusCode"] == "200"
        headers = {key.removeprefix("method.response.header."): value
                   for key, value in default["responseParameters"].items()}
        methods = sorted({method.upper() for method in operations} | {"OPTIONS"})
        assert headers == {"Access-Control-Allow-Origin": PREFLIGHT_ORIGIN[scenario],
                           "Access-Control-Allow-Methods": f"'{','.join(methods)}'",
                           "Access-Control-Allow-Headers": ALLOWED_HEADERS,
                           "Access-Control-Max-Age": "'600'"}, path
        # And the method response declares them (API Gateway only sends declared headers)
        assert set(options["responses"]["200"]["headers"]) == set(headers)


@pytest.mark.parametrize("scenario", CORS_SCENARIOS)
def test_every_gateway_response_lets_the_allowed_pages_read_it(stacks: dict[str, Stack], scenario: str) -> None:
    for response_type in GATEWAY_RESPONSES:
        headers = response_headers(stacks[scenario], response_type)
        assert headers["Access-Control-Allow-Origin"] == RESPONSE_ORIGIN[scenario], response_type
        assert set(headers["Access-Control-Expose-Headers"].strip("'").split(",")) == EXPOSED
        # A value taken from the request's Origin varies with it; a static one does not
        assert headers.get("Vary") == ("'Origin'" if scenario == "cors_list" else None), response_type
        assert headers["X-Request-ID"] == "context.requestId"


@pytest.mark.parametrize("scenario", CORS_SCENARIOS)
def test_each_function_gets_the_origins_and_a_new_version_with_them(stacks: dict[str, Stack], scenario: str) -> None:
    for function in API_FUNCTIONS:
        assert stacks[scenario].environment(function)["CORS_ALLOW_ORIGINS"] == SCENARIOS[scenario]["CorsAllowOrigins"]
    # The version (and so the alias API Gateway calls) changes with the origins: the actual responses follow
    versions = {name: {lid for lid, res in stacks[name].template["Resources"].items()
                       if res["Type"] == "AWS::Lambda::Version"} for name in ("default", scenario)}
    assert versions["default"].isdisjoint(versions[scenario])


@pytest.mark.parametrize("scenario", NO_CORS_SCENARIOS)
def test_by_default_there_is_no_cors_at_all(stacks: dict[str, Stack], scenario: str) -> None:
    api = body(stacks[scenario])
    assert all("options" not in operations for operations in api["paths"].values())
    for response_type in GATEWAY_RESPONSES:
        headers = response_headers(stacks[scenario], response_type)
        assert not [name for name in headers if name.startswith("Access-Control-") or name == "Vary"], response_type
    for function in API_FUNCTIONS:
        assert stacks[scenario].environment(function)["CORS_ALLOW_ORIGINS"] == ""
