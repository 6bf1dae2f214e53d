"""Run the AWS SAM transform on template.yaml offline: the CloudFormation CloudFormation would deploy.

Runs with the SAM CLI's own venv (.venv-sam holds aws-sam-translator; its pydantic pin clashes with the
layer's), as a script:

    .venv-sam/bin/python infra/sam_transform.py template.yaml < scenarios.json > transformed.json

stdin is a JSON object {scenario name: {parameter: value}}; stdout is {scenario name: transformed template}.
No AWS call is made: local code folders become placeholder S3 locations (as after `sam package`), managed
policy names resolve through a fixed map (the template names none), and the region is fixed.

samtranslator is imported inside the functions: it exists only in .venv-sam, and this module is also
read (linted, type-checked) from the dev venv.
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


def transform(template: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.arn_generator import ArnGenerator
    from samtranslator.translator.translator import Translator

    ArnGenerator.BOTO_SESSION_REGION_NAME = REGION
    values = {"AWS::Region": REGION, "AWS::AccountId": "123456789012", "AWS::Partition": "aws",
              "AWS::StackName": "users-orders-api", **parameters}
    try:
        return dict(Translator(MANAGED_POLICIES, Parser()).translate(
            as_packaged(template), parameter_values=values, get_managed_policy_map=lambda: MANAGED_POLICIES))
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
