"""One OpenAPI 3.1 document for the whole API: Powertools' OpenAPIMerge over every function's resolver.

Each route documents itself: its responses from the output models that also write the bodies
(`responses=`, shared.output) and its bearer security (`security=`). What OpenAPIMerge does not do is
done here, and only that:
- a tag per function (its service name);
- the 422 "HTTPValidationError" Powertools adds to every validated route is dropped (this API answers
  invalid input with 400 in its envelope, which the routes document), and its component schemas when
  nothing refers to them (a route may document a 422 of its own: Idempotency-Key reused with another body);
- two functions defining one component schema differently is an error (OpenAPIMerge keeps the last).

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

from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, Server

from infra.sam_app import load_app
from shared.auth.principal import BEARER_SCHEME

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "template.yaml"
OUTPUT = REPO / "openapi.json"
TITLE = "Users and Orders API"
DESCRIPTION = (
    "Users, JWT authentication and orders behind API Gateway (REST v1, Lambda proxy). Every body is "
    'JSON in an envelope: `{"success":true,"data":{...}}` or `{"success":false,"error":{"code","message"}}`.'
)
# Routes that authenticate declare `security=BEARER`; the scheme that names is defined once, here.
SECURITY_SCHEMES = {BEARER_SCHEME: HTTPBearer(bearerFormat="JWT")}
SERVERS: list[dict[str, Any]] = [
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
_POWERTOOLS_422 = "#/components/schemas/HTTPValidationError"
_POWERTOOLS_ONLY = ("HTTPValidationError", "ValidationError", "ResponseValidationError")


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


def function_schema(tag: str, resolver: Any) -> dict[str, Any]:
    """One function's schema, tagged, without Powertools' FastAPI-style 422."""
    generated = resolver.get_openapi_schema(title=TITLE, version=project_version(),
                                            security_schemes=SECURITY_SCHEMES)
    schema: dict[str, Any] = generated.model_dump(mode="json", by_alias=True, exclude_none=True)
    for item in (schema.get("paths") or {}).values():
        for operation in item.values():
            operation.setdefault("tags", [tag])
            responses = operation.get("responses", {})
            if _POWERTOOLS_422 in json.dumps(responses.get("422", {})):
                del responses["422"]
            operation["responses"] = dict(sorted(responses.items()))
    paths = json.dumps(schema.get("paths"))
    for name in _POWERTOOLS_ONLY:
        if f"#/components/schemas/{name}" not in paths:
            schema.get("components", {}).get("schemas", {}).pop(name, None)
    return schema


def check_components(schemas: list[tuple[str, dict[str, Any]]]) -> None:
    """Two functions may share a component schema only if they define it identically."""
    seen: dict[str, tuple[str, Any]] = {}
    for tag, schema in schemas:
        for name, definition in (schema.get("components") or {}).get("schemas", {}).items():
            if name in seen and seen[name][1] != definition:
                raise ValueError(f"component schema {name!r} differs between {seen[name][0]} and {tag}")
            seen[name] = (tag, definition)


def project_version() -> str:
    with (REPO / "pyproject.toml").open("rb") as fh:
        return str(tomllib.load(fh)["project"]["version"])


def build_document(template: Path = TEMPLATE) -> dict[str, Any]:
    schemas = [(tag, function_schema(tag, resolver)) for tag, resolver in function_apps(template)]
    check_components(schemas)
    merge = OpenAPIMerge(title=TITLE, version=project_version(), description=DESCRIPTION,
                         servers=[Server.model_validate(server) for server in SERVERS],
                         on_conflict="error")
    for _tag, schema in schemas:
        merge.add_schema(schema)
    document: dict[str, Any] = json.loads(json.dumps(merge.get_openapi_schema(), default=_plain))
    components = document.get("components", {})
    components["schemas"] = dict(sorted(components.get("schemas", {}).items()))
    return document


def _plain(value: Any) -> Any:
    """Configuration objects OpenAPIMerge keeps as models (security schemes) written as JSON."""
    return value.model_dump(mode="json", by_alias=True, exclude_none=True)


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
