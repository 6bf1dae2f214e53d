"""One OpenAPI 3.1 document for the whole API, from the handlers' own Powertools resolvers.

Each function's `app.get_openapi_schema()` (its Pydantic models, query/path parameters) is merged
in template order, then made to tell the truth about this API: the envelope, 400 (not FastAPI's
422) for validation errors, 401/403 where the route's middlewares authenticate or require admin,
429/503 from the protection layer, and a bearer security scheme. Usage:

    python -m local.openapi                     # write openapi.json
    python -m local.openapi --check             # exit 1 when openapi.json is stale
    python -m local.openapi --out /tmp/x.json
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import json
import sys
import tomllib
from pathlib import Path
from typing import Any

from local.gateway.template import load_app

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "template.yaml"
OUTPUT = REPO / "openapi.json"
TITLE = "Users and Orders API"
DESCRIPTION = (
    "Users, JWT authentication and orders behind API Gateway (REST v1, Lambda proxy). Every body is "
    'JSON in an envelope: `{"success":true,"data":{...}}` or `{"success":false,"error":{"code","message"}}`.'
)
SERVERS = [
    {"url": "http://127.0.0.1:8080", "description": "Local gateway (`make run`)"},
    {"url": "http://127.0.0.1:3000", "description": "`sam local start-api`"},
    {
        "url": "https://{apiId}.execute-api.{region}.amazonaws.com/{stage}",
        "description": "Deployed stage (stack output ApiUrl)",
        "variables": {
            "apiId": {"default": "abcdef1234"},
            "region": {"default": "us-east-1"},
            "stage": {"default": "prod"},
        },
    },
]
BEARER = {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
_FASTAPI_ONLY = ("HTTPValidationError", "ValidationError", "ResponseValidationError")
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")

_ERROR_SCHEMA = {
    "type": "object",
    "required": ["success", "error"],
    "properties": {
        "success": {"const": False},
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "examples": ["VALIDATION_ERROR"]},
                "message": {"type": "string"},
                "details": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"field": {"type": "string"}, "message": {"type": "string"},
                                       "type": {"type": "string"}},
                    },
                },
                "retry_after": {"type": "integer", "description": "seconds (429 and 503)"},
            },
        },
    },
}
_SUCCESS_SCHEMA = {
    "type": "object",
    "required": ["success", "data"],
    "properties": {"success": {"const": True}, "data": {"type": "object"}},
}
_ERRORS = {
    "400": "VALIDATION_ERROR: malformed JSON, wrong types, unknown fields, bad parameters",
    "401": "UNAUTHORIZED: missing, malformed, badly signed, expired or revoked token",
    "403": "FORBIDDEN: authenticated but not an admin",
    "429": "RATE_LIMIT_EXCEEDED (with Retry-After)",
    "503": "SERVICE_UNAVAILABLE: circuit breaker open or a dependency down (with Retry-After)",
}


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}}


def function_apps(template: Path) -> list[tuple[str, Any]]:
    """(service name, Powertools resolver) of every function that serves routes, in template order."""
    app = load_app(template, region="us-east-1")
    served = {route.function for route in app.routes}
    resolvers = []
    for logical_id, spec in app.functions.items():
        if logical_id not in served:
            continue
        for folder in [spec.code_dir, *spec.layer_dirs]:
            if str(folder) not in sys.path:
                sys.path.insert(0, str(folder))
        module = importlib.import_module(spec.handler.rsplit(".", 1)[0])
        resolvers.append((spec.environment.get("POWERTOOLS_SERVICE_NAME", logical_id), module.app))
    return resolvers


def route_access(resolver: Any) -> dict[tuple[str, str], set[str]]:
    """(method, OpenAPI path) -> names of the route's middlewares (authenticated, admin_only...)."""
    routes = list(getattr(resolver, "_static_routes", [])) + list(getattr(resolver, "_dynamic_routes", []))
    return {
        (route.method.lower(), route.openapi_path): {getattr(m, "__name__", "") for m in route.middlewares}
        for route in routes
    }


def refine_operation(operation: dict[str, Any], tag: str, middlewares: set[str]) -> None:
    operation.setdefault("tags", [tag])
    responses = operation.setdefault("responses", {})
    # Routes document their own responses (`responses=`); these are fallbacks for what they leave out.
    if "HTTPValidationError" in json.dumps(responses.get("422", {})):  # FastAPI's, not this API's
        del responses["422"]
    if operation.get("parameters") or operation.get("requestBody"):
        responses.setdefault("400", _error_response(_ERRORS["400"]))
    for response in responses.values():
        schema = (response.get("content") or {}).get("application/json", {}).get("schema")
        if schema == {"type": "string", "title": "Return"}:  # `-> ApiResponse` (a pre-serialised body)
            response["content"]["application/json"]["schema"] = {"$ref": "#/components/schemas/SuccessEnvelope"}
    if "authenticated" in middlewares:
        operation["security"] = [{"bearerAuth": []}]
        responses.setdefault("401", _error_response(_ERRORS["401"]))
    if "admin_only" in middlewares:
        responses.setdefault("403", _error_response(_ERRORS["403"]))
    responses.setdefault("429", _error_response(_ERRORS["429"]))
    responses.setdefault("503", _error_response(_ERRORS["503"]))
    operation["responses"] = dict(sorted(responses.items()))


def merge_schemas(target: dict[str, Any], source: dict[str, Any], tag: str) -> None:
    for name, schema in source.items():
        if name in target and target[name] != schema:
            raise ValueError(f"{tag}: component schema {name!r} differs from another function's")
        target[name] = schema


def project_version() -> str:
    with (REPO / "pyproject.toml").open("rb") as fh:
        return str(tomllib.load(fh)["project"]["version"])


def build_document(template: Path = TEMPLATE) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for tag, resolver in function_apps(template):
        part = resolver.get_openapi_schema(title=TITLE, version=project_version())
        part_doc = part.model_dump(mode="json", by_alias=True, exclude_none=True)
        access = route_access(resolver)
        for path, item in (part_doc.get("paths") or {}).items():
            for method in _METHODS:
                if method in item:
                    if method in paths.get(path, {}):
                        raise ValueError(f"{method.upper()} {path} is served by two functions")
                    refine_operation(item[method], tag, access.get((method, path), set()))
            paths.setdefault(path, {}).update(item)
        merge_schemas(schemas, (part_doc.get("components") or {}).get("schemas") or {}, tag)
    text = json.dumps(paths)
    for name in _FASTAPI_ONLY:
        if f"#/components/schemas/{name}" not in text:
            schemas.pop(name, None)
    schemas.setdefault("ErrorEnvelope", _ERROR_SCHEMA)
    if "#/components/schemas/SuccessEnvelope" in text:
        schemas["SuccessEnvelope"] = _SUCCESS_SCHEMA
    return {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": project_version(), "description": DESCRIPTION},
        "servers": SERVERS,
        "paths": paths,
        "components": {"schemas": dict(sorted(schemas.items())), "securitySchemes": BEARER},
    }


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.openapi", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--template", type=Path, default=TEMPLATE)
    parser.add_argument("--out", type=Path, default=OUTPUT)
    parser.add_argument("--check", action="store_true", help="compare with --out instead of writing it")
    args = parser.parse_args(argv)
    text = render(build_document(args.template))
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.is_file() else ""
        if current == text:
            return 0
        sys.stderr.writelines(difflib.unified_diff(current.splitlines(True), text.splitlines(True),
                                                   str(args.out), "generated", n=2))
        print(f"\n{args.out} is stale: run `make openapi`", file=sys.stderr)
        return 1
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out} ({len(json.loads(text)['paths'])} paths)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
