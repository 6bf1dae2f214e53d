"""Tracing, JSON access logs, stage throttling, the alarms and the dashboard."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.infrastructure.conftest import Stack

SERVICES = ("users", "orders", "monitoring")
FUNCTIONS = ("UsersFunction", "OrdersFunction", "MonitoringFunction")
TOPIC = "arn:aws:sns:us-east-1:123456789012:alerts"


def stage(stack: Stack) -> dict[str, Any]:
    (props,) = stack.resources("AWS::ApiGateway::Stage").values()
    return props


def test_stage_is_traced_and_writes_json_access_logs_to_a_retained_group(default: Stack) -> None:
    props = stage(default)
    assert props["TracingEnabled"] is True
    setting = props["AccessLogSetting"]
    assert setting["DestinationArn"] == "ApiAccessLogGroup.Arn"
    assert default.properties("ApiAccessLogGroup")["RetentionInDays"] == 14
    # One JSON object per request once API Gateway fills in the $context variables
    line = json.loads(re.sub(r"\$context\.[\w.]+", "x", setting["Format"]))
    variables = dict(re.findall(r'"(\w+)":"(\$context\.[\w.]+)"', setting["Format"]))
    assert set(line) == set(variables)
    for needed in ("$context.requestId", "$context.identity.sourceIp", "$context.httpMethod",
                   "$context.resourcePath", "$context.status", "$context.responseLatency",
                   "$context.integrationLatency"):
        assert needed in variables.values(), needed


def test_stage_throttling_comes_from_the_parameters(stacks: dict[str, Stack]) -> None:
    for scenario, (rate, burst) in {"default": (100, 200), "observed": (50, 75)}.items():
        (settings,) = stage(stacks[scenario])["MethodSettings"]
        assert (settings["ResourcePath"], settings["HttpMethod"]) == ("/*", "*")
        assert (int(settings["ThrottlingRateLimit"]), int(settings["ThrottlingBurstLimit"])) == (rate, burst)
        assert settings["LoggingLevel"] == "OFF" and settings["MetricsEnabled"] is False


def test_the_account_logging_role_is_managed_only_when_asked(stacks: dict[str, Stack]) -> None:
    assert stacks["default"].resources("AWS::ApiGateway::Account") == {}
    assert stage(stacks["default"])["Variables"] == {"loggingRole": "preexisting"}
    (account,) = stacks["observed"].resources("AWS::ApiGateway::Account").values()
    assert account["CloudWatchRoleArn"] == "ApiGatewayCloudWatchRole.Arn"
    role = stacks["observed"].properties("ApiGatewayCloudWatchRole")
    assert role["ManagedPolicyArns"] == [
        "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"]
    # The stage references the account setting, so CloudFormation creates it after the role is in place
    # (AWS::LanguageExtensions has already chosen the Fn::If branch: the reference itself is left)
    (stage_id,) = (lid for lid, res in stacks["observed"].template["Resources"].items()
                   if res["Type"] == "AWS::ApiGateway::Stage")
    assert stacks["observed"].raw(stage_id)["Properties"]["Variables"]["loggingRole"] == {"Ref": "ApiGatewayAccount"}


def alarms(stack: Stack) -> dict[tuple[str, str, str], dict[str, Any]]:
    """(namespace, metric, dimension value) -> alarm properties."""
    found = {}
    for props in stack.resources("AWS::CloudWatch::Alarm").values():
        dimension = next(d["Value"] for d in props["Dimensions"] if d["Name"] in ("ApiName", "FunctionName", "service"))
        found[(props["Namespace"], props["MetricName"], dimension)] = props
    return found


def test_alarms_cover_the_api_each_function_and_the_protection_signals(default: Stack) -> None:
    found = alarms(default)
    expected = {("AWS/ApiGateway", "5XXError", "local"), ("AWS/ApiGateway", "Latency", "local")}
    expected |= {("AWS/Lambda", metric, function) for function in FUNCTIONS for metric in ("Errors", "Throttles")}
    expected |= {("UsersOrdersApi", metric, service) for service in SERVICES
                 for metric in ("CircuitBreaker_open", "RateLimiterFailOpen")}
    assert set(found) == expected
    rate = found[("AWS/ApiGateway", "5XXError", "local")]
    assert (rate["Statistic"], float(rate["Threshold"])) == ("Average", 0.05)
    assert {d["Name"]: d["Value"] for d in rate["Dimensions"]} == {"ApiName": "local", "Stage": "prod"}
    assert found[("AWS/ApiGateway", "Latency", "local")]["ExtendedStatistic"] == "p99"
    for props in found.values():
        assert "AlarmActions" not in props and "OKActions" not in props  # no topic given: nobody is paged


def test_alarms_notify_the_topic_when_one_is_given(stacks: dict[str, Stack]) -> None:
    for props in alarms(stacks["observed"]).values():
        assert props["AlarmActions"] == [TOPIC] and props["OKActions"] == [TOPIC]


def dashboard(stack: Stack) -> dict[str, Any]:
    (props,) = stack.resources("AWS::CloudWatch::Dashboard").values()
    return dict(json.loads(props["DashboardBody"]))


def test_the_dashboard_shows_the_alarms_and_the_same_signals(default: Stack, create_db: Stack) -> None:
    body = dashboard(default)
    (alarm_widget,) = [w for w in body["widgets"] if w["type"] == "alarm"]
    assert len(alarm_widget["properties"]["alarms"]) == len(alarms(default))
    metrics = [tuple(m) for w in body["widgets"] if w["type"] == "metric" for m in w["properties"]["metrics"]]
    names = {m[1] for m in metrics}
    assert {"Count", "5XXError", "Latency", "IntegrationLatency", "Errors", "Throttles", "Requests", "ServerErrors",
            "RateLimited", "CircuitBreaker_open", "RateLimiterFailOpen"} <= names
    for service in SERVICES:
        assert ("UsersOrdersApi", "CircuitBreaker_open", "service", service) in metrics
    assert "ClientConnections" not in names
    # With the stack's own database, a row for the proxy's connections and pinning
    proxy_metrics = {m[1] for w in dashboard(create_db)["widgets"] if w["type"] == "metric"
                     for m in w["properties"]["metrics"]}
    assert {"ClientConnections", "DatabaseConnections", "DatabaseConnectionsCurrentlySessionPinned"} <= proxy_metrics
