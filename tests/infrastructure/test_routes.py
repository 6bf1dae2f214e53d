"""Every route a handler serves is an API Gateway method with a Lambda proxy integration to that function.

SAM does not emit AWS::ApiGateway::Method resources for an AWS::Serverless::Api: it writes the methods into
the RestApi's OpenAPI body (x-amazon-apigateway-integration), which API Gateway imports as methods. That
body is what is asserted here, in the transformed template.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.infrastructure.conftest import SCENARIOS, Stack
from tests.support.routes import handler_routes

API_FUNCTIONS = {"UsersFunction": "users_api.handler.lambda_handler",
                 "OrdersFunction": "orders_api.handler.lambda_handler",
                 "MonitoringFunction": "monitoring_api.handler.lambda_handler"}
_TARGET = re.compile(r"functions/\$\{(\w+?)(?:Alias\w+)?(?:\.Arn)?\}/invocations$")


def integrations(stack: Stack) -> dict[tuple[str, str], dict[str, Any]]:
    """(METHOD, path) -> the integration of every operation in the REST API's OpenAPI body (intrinsics kept),
    but the CORS preflight mocks API Gateway answers itself (tests/infrastructure/test_cors.py)."""
    (api_id,) = stack.resources("AWS::ApiGateway::RestApi")
    found = {}
    for path, operations in stack.raw(api_id)["Properties"]["Body"]["paths"].items():
        for method, operation in operations.items():
            integration = operation["x-amazon-apigateway-integration"]
            if integration["type"] != "mock":
                found[(method.upper(), path)] = integration
    return found


def target_function(integration: dict[str, Any]) -> str:
    """The logical id of the function an integration invokes (directly or through its alias)."""
    match = _TARGET.search(integration["uri"]["Fn::Sub"])
    assert match, integration["uri"]
    return match.group(1)


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_handler_route_is_a_proxy_method_to_its_own_function(stacks: dict[str, Stack], scenario: str) -> None:
    # Given the transformed template of a scenario and the routes each handler's resolver serves
    stack = stacks[scenario]
    methods = integrations(stack)
    served = {route: function for function, handler in API_FUNCTIONS.items() for route in handler_routes(handler)}
    # Then each served route is a method, integrated as AWS_PROXY with the function that serves it
    assert served, "no handler routes were collected"
    for route, function in served.items():
        integration = methods.get(route)
        assert integration is not None, f"{route} is served by {function} but has no API Gateway method"
        assert integration["type"] == "aws_proxy" and integration["httpMethod"] == "POST", route
        assert target_function(integration) == function, route
    # And the API exposes nothing the handlers do not serve
    assert set(methods) == set(served), set(methods) ^ set(served)


def test_api_gateway_calls_the_published_alias_and_may_invoke_it(default: Stack) -> None:
    # The integrations name the alias `live` (SnapStart applies to published versions only)
    for integration in integrations(default).values():
        assert "Aliaslive}" in integration["uri"]["Fn::Sub"]
    # And each function grants API Gateway invoke on that alias, scoped to this API's stage
    permissions = default.resources("AWS::Lambda::Permission")
    assert len(permissions) == len(integrations(default))
    for logical_id, props in permissions.items():
        raw = default.raw(logical_id)["Properties"]
        assert props["Action"] == "lambda:InvokeFunction"
        assert props["Principal"] == "apigateway.amazonaws.com"
        assert raw["FunctionName"]["Ref"] in {f"{function}Aliaslive" for function in API_FUNCTIONS}
        assert raw["SourceArn"]["Fn::Sub"][1]["__ApiId__"] == {"Ref": "Api"}


def test_the_rest_api_is_named_after_the_stack_as_the_alarms_expect(default: Stack) -> None:
    # The alarms use ApiName = stack name; SAM takes the REST API's name from its OpenAPI info.title
    raw = default.raw("Api")["Properties"]
    assert raw["Body"]["info"]["title"] == {"Ref": "AWS::StackName"}
    assert "Name" not in raw
