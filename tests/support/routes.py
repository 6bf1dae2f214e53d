"""The routes a function's code serves, read from its Powertools resolver (to compare with the template's)."""

from __future__ import annotations

import importlib

from local.openapi import SECURITY_SCHEMES

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def handler_routes(handler: str) -> set[tuple[str, str]]:
    """(METHOD, path) pairs the resolver of a handler module (`pkg.module.function`) serves."""
    module = importlib.import_module(handler.rsplit(".", 1)[0])
    schema = module.app.get_openapi_schema(security_schemes=SECURITY_SCHEMES)
    return {(method.upper(), path) for path, operations in (schema.paths or {}).items() for method in METHODS
            if getattr(operations, method, None) is not None}
