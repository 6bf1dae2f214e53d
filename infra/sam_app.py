"""A SAM application as the local tools need it: its functions, APIs and routes, from template.yaml.

Functions merge `Globals.Function`; routes come from each function's `Api` events; an API (explicit, or SAM's
implicit ServerlessRestApi) merges `Globals.Api` and keeps its stage, binary media types, gateway responses and
`Cors`. Intrinsics are resolved by infra.cfn, with the template's parameter defaults or the values given.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.cfn import Resolver, TemplateError, load_yaml

DEFAULT_STAGE = "Prod"  # stage of SAM's implicit ServerlessRestApi
IMPLICIT_API = "ServerlessRestApi"
AWS_PROXY, MOCK = "AWS_PROXY", "MOCK"
_CORS_KEYS = frozenset({"AllowOrigin", "AllowMethods", "AllowHeaders", "MaxAge", "AllowCredentials"})


@dataclass(frozen=True)
class CorsSpec:
    """SAM's `Cors` of an API: each value a mapping expression as SAM copies it into the OPTIONS mock's
    integration response (`"'https://a.example'"`); AllowMethods None = each path's own methods."""

    allow_origin: str = "'*'"  # SAM's default when Cors names no AllowOrigin
    allow_methods: str | None = None
    allow_headers: str | None = None
    max_age: str | None = None
    allow_credentials: bool = False


@dataclass
class ApiSpec:
    logical_id: str
    stage: str = DEFAULT_STAGE
    binary_media_types: list[str] = field(default_factory=list)
    gateway_responses: dict[str, dict[str, Any]] = field(default_factory=dict)
    cors: CorsSpec | None = None


@dataclass
class Route:
    path: str  # resource path, e.g. /v1/orders/{id}
    method: str  # upper case, ANY allowed
    function: str  # logical id ("" for a MOCK integration)
    api: str  # logical id of the AWS::Serverless::Api (or ServerlessRestApi)
    integration: str = AWS_PROXY  # MOCK: answered by API Gateway itself (the OPTIONS of SAM's Cors)


@dataclass
class FunctionSpec:
    logical_id: str
    name: str
    handler: str
    code_dir: Path
    layer_dirs: list[Path]
    timeout: int
    memory: int
    environment: dict[str, str]
    runtime: str


@dataclass
class App:
    template_path: Path
    functions: dict[str, FunctionSpec]
    apis: dict[str, ApiSpec]
    routes: list[Route]

    def default_api(self) -> ApiSpec:
        """API whose gateway responses answer requests matching no route."""
        used = [r.api for r in self.routes]
        if used:
            return self.apis[max(set(used), key=used.count)]
        return next(iter(self.apis.values()), ApiSpec(IMPLICIT_API))


def _merge_globals(glob: dict[str, Any], props: dict[str, Any]) -> dict[str, Any]:
    merged = dict(glob)
    for k, v in props.items():
        if isinstance(v, dict) and isinstance(merged.get(k), dict):
            merged[k] = _merge_globals(merged[k], v)
        else:
            merged[k] = v
    return merged


def _unescape_media_type(value: str) -> str:
    return value.replace("~1", "/")  # OpenAPI/SAM escaping of "/" in BinaryMediaTypes


def _header_value(value: Any) -> str:
    # Kept as written: an AWS mapping expression, a 'quoted' literal or a source such as
    # context.requestId, evaluated per request by gateway_responses.mapped_value.
    return str(value)


def _cors_spec(api_id: str, value: Any) -> CorsSpec | None:
    """SAM's reading of `Cors`: a string is AllowOrigin, a map names the rest (samtranslator's
    api_generator._add_cors); AllowCredentials with the '*' origin is refused there too."""
    if not value:
        return None
    if isinstance(value, str):
        return CorsSpec(allow_origin=value)
    if not isinstance(value, dict) or set(value) - _CORS_KEYS:
        raise TemplateError(f"{api_id}: invalid Cors {value!r} (keys: {', '.join(sorted(_CORS_KEYS))})")
    optional = {key: None if value.get(key) is None else str(value[key])
                for key in ("AllowMethods", "AllowHeaders", "MaxAge")}
    spec = CorsSpec(allow_origin=str(value.get("AllowOrigin") or "'*'"), allow_methods=optional["AllowMethods"],
                    allow_headers=optional["AllowHeaders"], max_age=optional["MaxAge"],
                    allow_credentials=value.get("AllowCredentials") is True)
    if spec.allow_credentials and spec.allow_origin == "'*'":
        raise TemplateError(f"{api_id}: Cors AllowCredentials cannot be true with AllowOrigin '*'")
    return spec


def _api_spec(api_id: str, props: dict[str, Any]) -> ApiSpec:
    responses = {}
    for rtype, spec in (props.get("GatewayResponses") or {}).items():
        headers = ((spec or {}).get("ResponseParameters") or {}).get("Headers") or {}
        responses[rtype] = {
            "status": int(spec["StatusCode"]) if spec.get("StatusCode") else None,
            "templates": dict(spec.get("ResponseTemplates") or {}),
            "headers": {k: _header_value(v) for k, v in headers.items()},
        }
    return ApiSpec(
        logical_id=api_id,
        stage=str(props.get("StageName") or DEFAULT_STAGE),
        binary_media_types=[_unescape_media_type(t) for t in props.get("BinaryMediaTypes") or []],
        gateway_responses=responses,
        cors=_cors_spec(api_id, props.get("Cors")),
    )


def _load_apis(r: Resolver, glob_api: dict[str, Any]) -> dict[str, ApiSpec]:
    return {lid: _api_spec(lid, _merge_globals(glob_api, r.resolve(res.get("Properties") or {})))
            for lid, res in r.resources.items() if res.get("Type") == "AWS::Serverless::Api"}


def _function_spec(lid: str, props: dict[str, Any], base_dir: Path) -> FunctionSpec:
    code_uri = props.get("CodeUri") or "."
    if not isinstance(code_uri, str):
        raise TemplateError(f"{lid}: CodeUri must be a local folder")
    # Layers resolve to folders (see Resolver.ref); ARNs of remote layers are skipped.
    layers = [Path(str(layer)) for layer in props.get("Layers") or [] if Path(str(layer)).is_dir()]
    env = (props.get("Environment") or {}).get("Variables") or {}
    return FunctionSpec(
        logical_id=lid,
        name=str(props.get("FunctionName") or lid),
        handler=str(props.get("Handler") or ""),
        code_dir=(base_dir / code_uri).resolve(),
        layer_dirs=layers,
        timeout=int(props.get("Timeout") or 3),
        memory=int(props.get("MemorySize") or 128),
        environment={k: _env_str(v) for k, v in env.items()},
        runtime=str(props.get("Runtime") or "python3.12"),
    )


def load_app(template_path: str | os.PathLike[str], region: str | None = None,
             parameters: Mapping[str, str] | None = None) -> App:
    """The application; `parameters` override the template's parameter defaults (as a deploy's values)."""
    path = Path(template_path).resolve()
    raw = load_yaml(path)
    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    r = Resolver(raw, path.parent, region, parameters)
    glob = r.resolve((raw.get("Globals") or {}).get("Function") or {})
    glob_api = r.resolve((raw.get("Globals") or {}).get("Api") or {})
    apis = _load_apis(r, glob_api)
    functions: dict[str, FunctionSpec] = {}
    routes: list[Route] = []
    for lid, res in r.resources.items():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        if "Condition" in res and not r.condition(res["Condition"]):
            continue
        props = _merge_globals(glob, r.resolve(res.get("Properties") or {}))
        functions[lid] = _function_spec(lid, props, path.parent)
        for event in (props.get("Events") or {}).values():
            if (event or {}).get("Type") != "Api":
                continue
            ep = event.get("Properties") or {}
            api_id = str(ep.get("RestApiId") or IMPLICIT_API)
            if api_id not in apis:  # SAM's implicit API: Globals.Api applies to it too
                implicit = {**glob_api, "StageName": DEFAULT_STAGE}  # SAM's plugin names the stage; Globals don't
                apis[api_id] = _api_spec(api_id, implicit) if api_id == IMPLICIT_API else ApiSpec(api_id)
            routes.append(Route(str(ep["Path"]), str(ep["Method"]).upper(), lid, api_id))
    return App(path, functions, apis, routes)


def _env_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)
