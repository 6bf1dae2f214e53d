"""CloudFormation templates read locally: YAML with the short-form tags, and intrinsic functions resolved.

Everything is resolved to local values: there is no CloudFormation here, so a `!Ref` to a resource
yields something useful on a laptop (a table name, a layer folder). Used by the local gateway and stack
(via infra.sam_app), the DynamoDB table bootstrap, the OpenAPI and sample-event generators, and the
infrastructure tests (which evaluate the Conditions of the SAM-transformed template with it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

ACCOUNT_ID = "123456789012"
STACK_NAME = "local"
_NO_VALUE = object()

_SHORT_TAGS = {
    "Ref": "Ref",
    "Condition": "Condition",
    "GetAtt": "Fn::GetAtt",
}


class TemplateError(ValueError):
    """The template cannot be understood locally."""


# libyaml's parser when PyYAML has it (its wheels do): ~8x faster on template.yaml, same documents.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):  # type: ignore[valid-type,misc]
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
        value = loader.construct_mapping(node, deep=True)
    return {key: value}


_Loader.add_multi_constructor("!", _construct_tag)


def load_yaml(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        data = yaml.load(fh, Loader=_Loader)
    if not isinstance(data, dict):
        raise TemplateError(f"{path}: not a mapping")
    return data


class Resolver:
    """Evaluates intrinsic functions against template parameters and local resource values."""

    def __init__(self, template: dict[str, Any], base_dir: Path, region: str,
                 parameters: Mapping[str, str] | None = None) -> None:
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
        declared = template.get("Parameters") or {}
        for name, spec in declared.items():
            self.params[name] = (spec or {}).get("Default", "")
        for name, value in (parameters or {}).items():  # a deploy's parameter values (sam --parameter-overrides)
            if name not in declared:
                raise TemplateError(f"the template has no parameter {name!r}")
            self.params[name] = value
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


