"""Invoke the template's handlers in-process with events the local gateway builds.

Routing, path parameters and the event shape come from `local.gateway` reading template.yaml,
so an integration test exercises exactly what API Gateway would hand the function.
"""

from __future__ import annotations

import importlib
import json
import os
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from infra.sam_app import load_app
from local.gateway.events import build_event
from local.gateway.routing import Router
from shared.dependencies import reset

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "template.yaml"
DEFAULT_IP = "198.51.100.7"
_template_app = cache(load_app)  # parsed once per session: every test's client reads the same template


@dataclass
class LambdaContext:
    function_name: str
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    body: str

    @property
    def json(self) -> Any:
        return json.loads(self.body, parse_float=Decimal)

    @property
    def data(self) -> Any:
        return self.json["data"]

    @property
    def error(self) -> dict[str, Any]:
        error: dict[str, Any] = self.json["error"]
        return error


class ApiClient:
    """`client.post("/v1/users/login", json={...})` → ApiResponse, as through the gateway."""

    def __init__(self, env_overrides: dict[str, str], template: Path = TEMPLATE) -> None:
        self.app = _template_app(template)
        self.router = Router(self.app.routes)
        self.env_overrides = env_overrides
        self.source_ip = DEFAULT_IP
        self._environment: dict[str, str] = {}

    def request(self, method: str, path: str, *, json_body: Any = None, body: str | bytes | None = None,
                query: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
                token: str | None = None, source_ip: str | None = None) -> ApiResponse:
        raw_path, _, raw_query = path.partition("?")
        if query:
            raw_query = urlencode(query, doseq=True)
        raw_headers = list((headers or {}).items())
        if token:
            raw_headers.append(("Authorization", f"Bearer {token}"))
        if json_body is not None:
            body = json.dumps(json_body, default=str)
            raw_headers.append(("Content-Type", "application/json"))
        payload = body.encode() if isinstance(body, str) else (body or b"")
        match = self.router.match(method.upper(), raw_path)
        if match is None:
            raise AssertionError(f"template has no route for {method} {raw_path}")
        api = self.app.apis[match.route.api]
        event = build_event(method=method.upper(), raw_path=raw_path, raw_query=raw_query, raw_headers=raw_headers,
                            body=payload, source_ip=source_ip or self.source_ip, server_port=443, match=match,
                            api=api)
        return self.invoke(match.route.function, event)

    def invoke(self, function_id: str, event: dict[str, Any]) -> ApiResponse:
        spec = self.app.functions[function_id]
        environment = {**spec.environment, **self.env_overrides}
        if environment != self._environment:
            # Another function, or a changed environment, is another warm container: build its dependencies anew.
            for name in self._environment.keys() - environment.keys():
                os.environ.pop(name, None)
            os.environ.update(environment)
            reset()
            self._environment = environment
        module_name, handler_name = spec.handler.rsplit(".", 1)
        handler = getattr(importlib.import_module(module_name), handler_name)
        result = handler(event, LambdaContext(function_name=spec.name))
        headers = {k: v for k, v in (result.get("headers") or {}).items()}
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers[name] = values[-1]
        return ApiResponse(status=int(result["statusCode"]), headers=headers, body=result.get("body") or "")

    def get(self, path: str, **kwargs: Any) -> ApiResponse:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> ApiResponse:
        return self.request("POST", path, json_body=json, **kwargs)

    def put(self, path: str, json: Any = None, **kwargs: Any) -> ApiResponse:
        return self.request("PUT", path, json_body=json, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> ApiResponse:
        return self.request("DELETE", path, **kwargs)
