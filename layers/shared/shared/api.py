"""The REST resolver every function uses, and the one place where errors become HTTP."""

from __future__ import annotations

import json
from decimal import Decimal
from functools import partial
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from shared.errors import ApiError, NotFound, ValidationFailed
from shared.jsonutil import dumps
from shared.observability import logger
from shared.responses import failure

# Money arrives as JSON numbers: parse them as Decimal so 19.99 never becomes 19.989999….
_parse_json = partial(json.loads, parse_float=Decimal)


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
    from shared.auth.principal import access_error

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


def handle_unexpected(_error: Exception) -> Response:
    logger.exception("unhandled error")
    return failure(ApiError())


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
    return app
