"""Config plumbing: env-var defaults, env-file precedence, DEFAULT_4XX/5XX gateway responses."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import requests

from local.gateway.server import GatewayConfig, overrides_for

from .conftest import FIXTURES, start


def test_config_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_MAX_WORKERS", "7")
    monkeypatch.setenv("GATEWAY_INTEGRATION_TIMEOUT", "1.5")
    monkeypatch.setenv("GATEWAY_EAGER", "1")
    cfg = GatewayConfig.from_env("t.yaml")
    assert (cfg.max_workers, cfg.integration_timeout, cfg.eager) == (7, 1.5, True)
    assert GatewayConfig.from_env("t.yaml", max_workers=2).max_workers == 2


def test_connection_limits_from_env_and_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_HEADER_TIMEOUT", "2.5")
    monkeypatch.setenv("GATEWAY_IDLE_TIMEOUT", "7")
    monkeypatch.setenv("GATEWAY_MAX_CONNECTIONS", "33")
    monkeypatch.setenv("GATEWAY_MAX_PIPELINED", "4")
    limits = GatewayConfig.from_env("t.yaml", max_pipelined=9).limits()
    assert (limits.header_timeout, limits.idle_timeout, limits.max_connections, limits.max_pipelined) == (2.5, 7, 33, 9)
    # API Gateway's quotas are not configurable
    assert (limits.max_url, limits.max_head, limits.max_body) == (10240, 10240, 10 * 1024 * 1024)


def test_env_file_precedence() -> None:
    data = {"Parameters": {"A": "p", "B": "p", "N": None}, "Fn": {"A": "id"}, "fn-name": {"B": "name"}}
    assert overrides_for(data, "Fn", "fn-name") == {"A": "id", "B": "name", "N": ""}
    assert overrides_for(data, "Other", "Other") == {"A": "p", "B": "p", "N": ""}


def test_default_4xx_and_5xx_gateway_responses(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "functions", tmp_path / "functions")
    shutil.copytree(FIXTURES / "layer", tmp_path / "layer")
    (tmp_path / "t.yaml").write_text(
        "Resources:\n"
        "  Api:\n"
        "    Type: AWS::Serverless::Api\n"
        "    Properties:\n"
        "      StageName: v1\n"
        "      GatewayResponses:\n"
        "        DEFAULT_4XX:\n"
        "          ResponseTemplates: {application/json: '{\"err\":$context.error.messageString}'}\n"
        "        DEFAULT_5XX:\n"
        "          ResponseParameters: {Headers: {X-Custom: \"'yes'\"}}\n"
        '          ResponseTemplates: {application/json: \'{"fault":"$context.error.message"}\'}\n'
        "  Layer: {Type: AWS::Serverless::LayerVersion, Properties: {ContentUri: layer}}\n"
        "  Fn:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties:\n"
        "      CodeUri: functions\n      Handler: shapes.handler\n      Layers: [!Ref Layer]\n"
        "      Events: {A: {Type: Api, Properties: {RestApiId: !Ref Api, Path: '/s/{kind}', Method: get}}}\n"
    )
    gw = start(tmp_path / "t.yaml")
    try:
        r = requests.get(gw.url + "/missing", timeout=30)
        assert r.status_code == 403 and r.json() == {"err": "Missing Authentication Token"}
        r = requests.get(gw.url + "/s/exception", timeout=30)
        assert r.status_code == 502 and r.json() == {"fault": "Internal server error"}
        assert r.headers["X-Custom"] == "yes"
        # HEAD is not mapped to GET by API Gateway: no such method -> 4XX, and no body on HEAD
        r = requests.head(gw.url + "/s/pid", timeout=30)
        assert r.status_code == 403 and r.content == b"" and int(r.headers["Content-Length"]) > 0
    finally:
        gw.stop()
