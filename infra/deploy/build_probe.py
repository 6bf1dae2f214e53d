"""Runs inside `python3.12 -S` with only a built function, the built layer and boto3 on sys.path.

That is the Lambda runtime's import situation (/var/task, /opt/python, the runtime's boto3), so an
import that works here works there. Driven by infra/deploy/check_build.py; prints one JSON line.
Usage: build_probe.py FUNCTION_DIR LAYER_DIR BOTO_DIR HANDLER [RESPONSE_URL]

Imports of the layer and its dependencies are inside functions on purpose: they must run only after
main() has put the built artefact on sys.path, which is what the probe checks.
"""
# ruff: noqa: PLC0415

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import sys
from typing import Any


def import_tree(package_name: str) -> list[str]:
    """Import a package and every module below it; returns their names."""
    package = importlib.import_module(package_name)
    names = [package_name]
    for module in pkgutil.walk_packages(package.__path__, prefix=f"{package_name}."):
        importlib.import_module(module.name)
        names.append(module.name)
    return names


def exercise_native_code() -> None:
    """Touch every compiled extension the layer ships (bcrypt, orjson, pydantic-core, SQLAlchemy)."""
    from decimal import Decimal

    from sqlalchemy import select

    from shared.auth.passwords import hash_password, verify_password
    from shared.jsonutil import dumps
    from shared.pg_schema import users

    os.environ["BCRYPT_ROUNDS"] = "4"
    assert verify_password("correct horse", hash_password("correct horse"))
    assert dumps({"amount": Decimal("75000.00")}) == '{"amount":75000.00}'
    assert "users" in str(select(users.c.id).compile())


def count_users() -> int:
    from sqlalchemy import func, select

    from shared import db
    from shared.pg_schema import users

    return int(db.write(lambda connection: connection.execute(select(func.count()).select_from(users)).scalar_one()))


class Context:
    function_name = "probe"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:probe"
    aws_request_id = "probe"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 60_000


def run_migrations(handler: Any, response_url: str) -> dict[str, Any]:
    event = {
        "RequestType": "Create",
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:probe",
        "ResponseURL": response_url,
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/probe/1",
        "RequestId": "probe-request",
        "LogicalResourceId": "SchemaMigrations",
        "ResourceType": "Custom::SchemaMigrations",
        "ResourceProperties": {"ServiceToken": "x", "TargetRevision": "head"},
    }
    return dict(handler(event, Context()))


def main(function_dir: str, layer_dir: str, boto_dir: str, handler_path: str, response_url: str = "") -> None:
    sys.path[:0] = [function_dir, layer_dir, boto_dir]
    module_name, attribute = handler_path.rsplit(".", 1)
    handler = getattr(importlib.import_module(module_name), attribute)
    top_package = module_name.split(".", 1)[0]
    modules = import_tree(top_package) + import_tree("shared")
    result: dict[str, Any] = {"handler": handler_path, "modules": len(modules), "python": sys.version.split()[0]}
    origin = importlib.import_module("sqlalchemy").__file__ or ""
    result["sqlalchemy_from"] = "function" if origin.startswith(function_dir) else "layer"
    exercise_native_code()
    if response_url:
        result["migrations"] = run_migrations(handler, response_url)
    if os.environ.get("DATABASE_URL"):
        result["users"] = count_users()
    print(json.dumps(result))


if __name__ == "__main__":
    del sys.path[0]  # this script's folder: only the built artefacts may be importable
    main(*sys.argv[1:])
