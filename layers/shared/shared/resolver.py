"""The REST resolver every function uses, and the one place where errors become HTTP responses.

Validation is on (Powertools + Pydantic), bodies are compact JSON with exact decimals, every typed
domain error (shared.errors) maps to its status and envelope here, and so do Powertools' own
validation and routing errors. Authentication is decided before validation, so an anonymous or
non-admin caller never learns a protected route's input rules from a 400.
"""

from __future__ import annotations

import json
from decimal import Decimal
from functools import partial
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from shared.auth.principal import access_error
from shared.envelope import failure
from shared.errors import ApiError, NotFound, ValidationFailed
from shared.jsonutil import dumps
from shared.logger import log_unexpected, logger


def _parse_json(text: str | bytes) -> Any:
    """Money arrives as JSON numbers: parse them as Decimal so 19.99 never becomes 19.989999….

    Input the stdlib parser gives up on with something other than JSONDecodeError (nesting deeper
    than the recursion limit, an integer literal over 4300 digits) is invalid JSON too: a 400.
    """
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError:
        raise
    except (RecursionError, ValueError) as error:
        raise json.JSONDecodeError(f"unparseable JSON ({type(error).__name__})", "", 0) from error


def field_errors(errors: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Pydantic errors without the offending input or internals: field path, message, type."""
    details = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ()) if part not in ("body",)]
        if error.get("type") == "json_invalid":
            location = []
        details.append({
            "field": ".".join(location) or "body",
            "message": str(error.get("msg", "invalid value")),
            "type": str(error.get("type", "value_error")),
        })
    return details


def handle_api_error(error: ApiError) -> Response:
    if error.status >= 500:
        logger.warning("request failed", extra={"error_code": error.code})
    return failure(error)


def handle_request_validation(app: APIGatewayRestResolver, error: RequestValidationError) -> Response:
    denied = access_error(app)  # authentication and authorisation come before validation
    if denied is not None:
        return failure(denied)
    details = field_errors(list(error.errors()))
    if any(item["type"] == "json_invalid" for item in details):
        return failure(ValidationFailed("Request body is not valid JSON", details=details))
    return failure(ValidationFailed(details=details))


def handle_unsupported_content_type(_error: RequestUnsupportedContentType) -> Response:
    return failure(ValidationFailed("Content-Type must be application/json"))


def handle_not_found(_error: NotFoundError) -> Response:
    return failure(NotFound("Route not found"))


def handle_unexpected(error: Exception) -> Response:
    log_unexpected(error)
    return failure(ApiError())


def reject_unknown_query(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response:
    """Query parameters a route does not declare are a 400, like unknown body fields: a typo such
    as `?stauts=created` must not quietly return everything. Runs after validation; auth comes first."""
    route = app.context.get("_route")
    declared = {field.alias for field in route.dependant.query_params} if route is not None else set()
    unknown = sorted(set(app.current_event.query_string_parameters or {}) - declared)
    if unknown:
        raise access_error(app) or ValidationFailed(
            f"Unknown query parameter '{unknown[0]}'",
            details=[{"field": name, "message": "not a parameter of this route", "type": "extra_forbidden"}
                     for name in unknown[:10]])
    return next_middleware(app)


def create_resolver() -> APIGatewayRestResolver:
    """A resolver with validation on, compact JSON, and every error mapped to the envelope."""
    app = APIGatewayRestResolver(
        enable_validation=True,
        serializer=dumps,
        json_body_deserializer=_parse_json,
    )
    app.exception_handler(ApiError)(handle_api_error)
    app.exception_handler(RequestValidationError)(partial(handle_request_validation, app))
    app.exception_handler(RequestUnsupportedContentType)(handle_unsupported_content_type)
    app.not_found(handle_not_found)
    app.exception_handler(Exception)(handle_unexpected)
    app.use(middlewares=[reject_unknown_query])
    # The bearer scheme that `security=BEARER` names is defined where the document is generated
    # (local/openapi.py): building Powertools' OpenAPI models here costs ~60 ms of every cold start.
    return app
