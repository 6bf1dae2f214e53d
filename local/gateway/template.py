"""SAM template loading: short-form tags, intrinsic functions, functions/APIs/routes.

Everything is resolved to local values: there is no CloudFormation here, so a `!Ref`
to a resource yields something useful on a laptop (a table name, a layer folder).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ACCOUNT_ID = "123456789012"
STACK_NAME = "local"
DEFAULT_STAGE = "Prod"  # stage of SAM's implicit ServerlessRestApi
_NO_VALUE = object()

_SHORT_TAGS = {
    "Ref": "Ref",
    "Condition": "Condition",
    "GetAtt": "Fn::GetAtt",
}


class TemplateError(ValueError):
    """The template cannot be understood locally."""


class _Loader(yaml.SafeLoader):
    """SafeLoader that maps CloudFormation short forms (`!Ref x`) to long forms."""


def _construct_tag(loader: _Loader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    key = _SHORT_TAGS.get(tag_suffix, f"Fn::{tag_suffix}")
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if key == "Fn::GetAtt" and isinstance(value, str):
            value = value.split(".", 1)  # `!GetAtt Res.Attr` short form
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {key: value}


_Loader.add_multi_constructor("!", _construct_tag)


def load_yaml(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        data = yaml.load(fh, Loader=_Loader)
    if not isinstance(data, dict):
        raise TemplateError(f"{path}: not a mapping")
    return data


@dataclass
class ApiSpec:
    logical_id: str
    stage: str = DEFAULT_STAGE
    binary_media_types: list[str] = field(default_factory=list)
    gateway_responses: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class Route:
    path: str  # resource path, e.g. /v1/orders/{id}
    method: str  # upper case, ANY allowed
    function: str  # logical id
    api: str  # logical id of the AWS::Serverless::Api (or ServerlessRestApi)


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
        return next(iter(self.apis.values()), ApiSpec("ServerlessRestApi"))


class Resolver:
    """Evaluates intrinsic functions against template parameters and local resource values."""

    def __init__(self, template: dict[str, Any], base_dir: Path, region: str) -> None:
        self.template = template
        self.base_dir = base_dir
        self.resources: dict[str, Any] = template.get("Resources") or {}
        self.params: dict[str, Any] = {
            "AWS::Region": region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::StackName": STACK_NAME,
            "AWS::StackId": f"arn:aws:cloudformation:{region}:{ACCOUNT_ID}:stack/{STACK_NAME}/local",
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": _NO_VALUE,
        }
        for name, spec in (template.get("Parameters") or {}).items():
            self.params[name] = (spec or {}).get("Default", "")
        self.conditions: dict[str, Any] = template.get("Conditions") or {}
        self._cond_cache: dict[str, bool] = {}

    # -- references -----------------------------------------------------
    def ref(self, name: str) -> Any:
        if name in self.params:
            return self.params[name]
        res = self.resources.get(name)
        if res is None:
            return name
        rtype = res.get("Type", "")
        props = res.get("Properties") or {}
        value: Any = None
        if rtype in ("AWS::DynamoDB::Table", "AWS::Serverless::SimpleTable"):
            value = self.resolve(props.get("TableName"))
        elif rtype in ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion"):
            uri = props.get("ContentUri") or props.get("Content")
            value = str((self.base_dir / uri).resolve()) if isinstance(uri, str) else None
        elif rtype == "AWS::Serverless::Function":
            value = self.resolve(props.get("FunctionName"))
        else:
            key = next((k for k in ("QueueName", "TopicName", "BucketName", "Name") if k in props), None)
            value = self.resolve(props[key]) if key else None
        return value or name

    def get_att(self, name: str, attr: str) -> Any:
        res = self.resources.get(name) or {}
        rtype = res.get("Type", "")
        region = self.params["AWS::Region"]
        if rtype in ("AWS::DynamoDB::Table", "AWS::Serverless::SimpleTable"):
            table = self.ref(name)
            arn = f"arn:aws:dynamodb:{region}:{ACCOUNT_ID}:table/{table}"
            return f"{arn}/stream/local" if attr == "StreamArn" else arn
        if rtype == "AWS::Serverless::Function" and attr == "Arn":
            return f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{self.ref(name)}"
        if rtype == "AWS::SQS::Queue" and attr == "QueueName":
            return self.ref(name)
        return f"{name}.{attr}"

    # -- evaluation -----------------------------------------------------
    def condition(self, name: str) -> bool:
        if name not in self._cond_cache:
            self._cond_cache[name] = bool(self.resolve(self.conditions.get(name, False)))
        return self._cond_cache[name]

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self.resolve(v) for v in value]
            return [v for v in items if v is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            fn = _INTRINSICS.get(key)
            if fn is not None:
                return fn(self, arg)
        out = {}
        for k, v in value.items():
            rv = self.resolve(v)
            if rv is not _NO_VALUE:
                out[k] = rv
        return out

    def sub(self, arg: Any) -> str:
        if isinstance(arg, list):
            text, extra = arg[0], {k: self.resolve(v) for k, v in (arg[1] or {}).items()}
        else:
            text, extra = arg, {}

        def repl(m: re.Match[str]) -> str:
            expr = m.group(1)
            if expr.startswith("!"):
                return "${" + expr[1:] + "}"  # ${!Literal} escape
            if expr in extra:
                return str(extra[expr])
            if "." in expr and expr.split(".", 1)[0] in self.resources:
                res, attr = expr.split(".", 1)
                return str(self.get_att(res, attr))
            return str(self.ref(expr))

        return re.sub(r"\$\{([^}]+)\}", repl, str(text))


def _fn_if(r: Resolver, a: list[Any]) -> Any:
    return r.resolve(a[1] if r.condition(a[0]) else a[2])


def _fn_select(r: Resolver, a: list[Any]) -> Any:
    return r.resolve(a[1])[int(r.resolve(a[0]))]


def _fn_join(r: Resolver, a: list[Any]) -> str:
    return str(a[0]).join(str(x) for x in r.resolve(a[1]))


def _fn_split(r: Resolver, a: list[Any]) -> list[str]:
    return str(r.resolve(a[1])).split(a[0])


def _fn_getatt(r: Resolver, a: Any) -> Any:
    res, attr = a.split(".", 1) if isinstance(a, str) else r.resolve(a)
    return r.get_att(res, attr)


def _fn_find_in_map(r: Resolver, a: list[Any]) -> Any:
    name, k1, k2 = (r.resolve(x) for x in a)
    return r.template.get("Mappings", {}).get(name, {}).get(k1, {}).get(k2, "")


_INTRINSICS: dict[str, Any] = {
    "Ref": lambda r, a: r.ref(a),
    "Fn::Sub": lambda r, a: r.sub(a),
    "Fn::GetAtt": _fn_getatt,
    "Fn::If": _fn_if,
    "Fn::Join": _fn_join,
    "Fn::Select": _fn_select,
    "Fn::Split": _fn_split,
    "Fn::FindInMap": _fn_find_in_map,
    "Fn::Equals": lambda r, a: r.resolve(a[0]) == r.resolve(a[1]),
    "Fn::Not": lambda r, a: not r.resolve(a[0]),
    "Fn::And": lambda r, a: all(r.resolve(x) for x in a),
    "Fn::Or": lambda r, a: any(r.resolve(x) for x in a),
    "Condition": lambda r, a: r.condition(a),
    "Fn::ImportValue": lambda r, a: r.resolve(a),
    "Fn::Base64": lambda r, a: r.resolve(a),
    "Fn::GetAZs": lambda r, a: [f"{r.params['AWS::Region']}a"],
}


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


def _load_apis(r: Resolver, glob_api: dict[str, Any]) -> dict[str, ApiSpec]:
    apis: dict[str, ApiSpec] = {}
    for lid, res in r.resources.items():
        if res.get("Type") != "AWS::Serverless::Api":
            continue
        props = _merge_globals(glob_api, r.resolve(res.get("Properties") or {}))
        responses = {}
        for rtype, spec in (props.get("GatewayResponses") or {}).items():
            headers = ((spec or {}).get("ResponseParameters") or {}).get("Headers") or {}
            responses[rtype] = {
                "status": int(spec["StatusCode"]) if spec.get("StatusCode") else None,
                "templates": dict(spec.get("ResponseTemplates") or {}),
                "headers": {k: _header_value(v) for k, v in headers.items()},
            }
        apis[lid] = ApiSpec(
            logical_id=lid,
            stage=str(props.get("StageName") or DEFAULT_STAGE),
            binary_media_types=[_unescape_media_type(t) for t in props.get("BinaryMediaTypes") or []],
            gateway_responses=responses,
        )
    return apis


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


def load_app(template_path: str | os.PathLike[str], region: str | None = None) -> App:
    path = Path(template_path).resolve()
    raw = load_yaml(path)
    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    r = Resolver(raw, path.parent, region)
    glob = r.resolve((raw.get("Globals") or {}).get("Function") or {})
    apis = _load_apis(r, r.resolve((raw.get("Globals") or {}).get("Api") or {}))
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
            api_id = str(ep.get("RestApiId") or "ServerlessRestApi")
            apis.setdefault(api_id, ApiSpec(api_id))
            routes.append(Route(str(ep["Path"]), str(ep["Method"]).upper(), lid, api_id))
    return App(path, functions, apis, routes)


def _env_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)
