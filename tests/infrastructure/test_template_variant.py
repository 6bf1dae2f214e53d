"""infra.template_variant: the copy checkov scans differs from template.yaml in the named defaults only."""

from __future__ import annotations

import difflib

import pytest

from infra.template_variant import with_defaults
from tests.infrastructure.conftest import REPO

TEMPLATE = (REPO / "template.yaml").read_text(encoding="utf-8")


def test_only_the_named_defaults_change() -> None:
    variant = with_defaults(TEMPLATE, {"CreateDatabase": "true", "AlarmTopicArn": "arn:aws:sns:us-east-1:1:t"})
    changed = [line for line in difflib.unified_diff(TEMPLATE.splitlines(), variant.splitlines(), lineterm="", n=0)
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert sorted(changed) == sorted(['-    Default: "false"', '+    Default: "true"',
                                      '-    Default: ""', '+    Default: "arn:aws:sns:us-east-1:1:t"'])


def test_an_unknown_parameter_is_an_error_not_a_silent_no_op() -> None:
    with pytest.raises(SystemExit, match="NoSuchParameter"):
        with_defaults(TEMPLATE, {"NoSuchParameter": "x"})
