"""Run the template's transforms offline (AWS::LanguageExtensions, then AWS::Serverless): the CloudFormation
CloudFormation would deploy.

Runs with the SAM CLI's own venv (.venv-sam holds aws-sam-translator; its pydantic pin clashes with the
layer's), as a script:

    .venv-sam/bin/python infra/sam_transform.py template.yaml < scenarios.json > transformed.json

stdin is a JSON object {scenario name: {parameter: value}}; stdout is {scenario name: transformed template}.
No AWS call is made: local code folders become placeholder S3 locations (as after `sam package`), managed
policy names resolve through a fixed map (the template names none), and the region is fixed.

AWS::LanguageExtensions runs first, as CloudFormation runs it (the SAM docs and the CloudFormation docs require
it before AWS::Serverless), through the SAM CLI's own implementation of it (samcli.lib.cfn_language_extensions):
it resolves the Fn::If / AWS::NoValue that SAM cannot take (the Api's Cors) with the scenario's parameter values.

samtranslator and samcli are imported inside the functions: they exist only in .venv-sam, and this module is
also read (linted, type-checked) from the dev venv.
"""
# ruff: noqa: PLC0415

from __future__ import annotations

import copy
import json
import os
import sys
from pathlib import Path
from typing import Any

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
STACK_NAME = "users-orders-api"
LANGUAGE_EXTENSIONS = "AWS::LanguageExtensions"
# SAM's ManagedPolicyLoader would call IAM's ListPolicies; the template references no policy by name.
MANAGED_POLICIES: dict[str, str] = {}
_LOCAL_CODE = {"AWS::Serverless::Function": "CodeUri", "AWS::Serverless::LayerVersion": "ContentUri"}


def as_packaged(template: dict[str, Any]) -> dict[str, Any]:
    """Local CodeUri/ContentUri folders replaced by S3 locations, as `sam package` leaves them."""
    packaged = copy.deepcopy(template)
    for logical_id, resource in (packaged.get("Resources") or {}).items():
        key = _LOCAL_CODE.get(resource.get("Type", ""))
        properties = resource.get("Properties") or {}
        if key and isinstance(properties.get(key), str) and not properties[key].startswith("s3://"):
            properties[key] = f"s3://placeholder-bucket/{logical_id}.zip"
    return packaged


def parameter_values(template: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    """Every parameter's value as CloudFormation passes it to a transform: given, else the default."""
    values = {name: spec.get("Default", "") for name, spec in (template.get("Parameters") or {}).items()}
    return {**values, **parameters}


def language_extensions(template: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    """AWS::LanguageExtensions applied (when the template names it), then removed from `Transform` as
    CloudFormation removes a transform once it has run."""
    transforms = template.get("Transform")
    names = transforms if isinstance(transforms, list) else [transforms]
    if LANGUAGE_EXTENSIONS not in names:
        return template
    from samcli.lib.cfn_language_extensions.api import process_template
    from samcli.lib.cfn_language_extensions.models import PseudoParameterValues

    # No stack name: `Ref AWS::StackName` stays for the tests' resolver to answer, as it does without the transform.
    pseudo = PseudoParameterValues(region=REGION, account_id=ACCOUNT_ID)
    processed = dict(process_template(template, parameter_values=parameter_values(template, parameters),
                                      pseudo_parameters=pseudo))
    processed["Transform"] = [name for name in names if name != LANGUAGE_EXTENSIONS]
    return processed


def transform(template: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.arn_generator import ArnGenerator
    from samtranslator.translator.translator import Translator

    ArnGenerator.BOTO_SESSION_REGION_NAME = REGION
    values = {"AWS::Region": REGION, "AWS::AccountId": ACCOUNT_ID, "AWS::Partition": "aws",
              "AWS::StackName": STACK_NAME, **parameters}
    try:
        return dict(Translator(MANAGED_POLICIES, Parser()).translate(
            as_packaged(language_extensions(template, parameters)), parameter_values=values,
            get_managed_policy_map=lambda: MANAGED_POLICIES))
    except InvalidDocumentException as error:
        causes = "; ".join(cause.message for cause in error.causes)
        raise SystemExit(f"SAM transform failed ({parameters}): {causes}") from None


def main() -> None:
    from samtranslator.yaml_helper import yaml_parse

    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    template = yaml_parse(Path(sys.argv[1]).read_text(encoding="utf-8"))
    scenarios = json.load(sys.stdin)
    json.dump({name: transform(template, parameters) for name, parameters in scenarios.items()}, sys.stdout)


if __name__ == "__main__":
    main()
