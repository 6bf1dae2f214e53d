"""The response envelope, built in this one place: `{"success":true,"data":…}` and `{"success":false,"error":…}`."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from pydantic import BaseModel

from shared.errors import ApiError, RetryableError
from shared.jsonutil import dumps
from shared.output import ErrorBody, ErrorDetail, ErrorEnvelope

# Route return type. Bodies are serialised here, not by Powertools: its response encoder turns
# Decimal into float, and money must keep two decimals. `str` keeps the validator hands-off.
ApiResponse = Response[str]


def success(data: BaseModel, status: int = 200, headers: dict[str, str] | None = None) -> ApiResponse:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON,
                    body=dumps({"success": True, "data": data}), headers=headers)


def status_report(data: BaseModel, *, healthy: bool) -> ApiResponse:
    """A health report: 200 with `success: true` when healthy, else 503 with `success: false`, same data."""
    return Response(status_code=200 if healthy else 503, content_type=content_types.APPLICATION_JSON,
                    body=dumps({"success": healthy, "data": data}))


def error_envelope(error: ApiError) -> ErrorEnvelope:
    return ErrorEnvelope(error=ErrorBody(
        code=error.code, message=error.message,
        details=[ErrorDetail(**detail) for detail in error.details] if error.details else None,
        retry_after=error.retry_after if isinstance(error, RetryableError) else None))


def failure(error: ApiError) -> ApiResponse:
    return Response(status_code=error.status, content_type=content_types.APPLICATION_JSON,
                    body=dumps(error_envelope(error)), headers=dict(error.headers))


def proxy_failure(error: ApiError) -> dict[str, Any]:
    """The same error as a raw Lambda proxy result, for code that runs outside the resolver (the guard)."""
    return {
        "statusCode": error.status,
        "headers": {"Content-Type": content_types.APPLICATION_JSON, **error.headers},
        "body": dumps(error_envelope(error)),
        "isBase64Encoded": False,
    }
