"""The response envelope: `{"success":true,"data":…}` and `{"success":false,"error":…}`."""

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types

from shared.errors import ApiError, RetryableError
from shared.jsonutil import dumps

# Route return type. Bodies are serialised here, not by Powertools: its response encoder turns
# Decimal into float, and money must keep two decimals. `str` keeps the validator hands-off.
ApiResponse = Response[str]


def success(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> ApiResponse:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=dumps({"success": True, "data": data}),
        headers=headers,
    )


def error_body(error: ApiError) -> dict[str, Any]:
    payload: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.details:
        payload["details"] = error.details
    if isinstance(error, RetryableError):
        payload["retry_after"] = error.retry_after
    return {"success": False, "error": payload}


def failure(error: ApiError) -> ApiResponse:
    return Response(
        status_code=error.status,
        content_type=content_types.APPLICATION_JSON,
        body=dumps(error_body(error)),
        headers=dict(error.headers),
    )


def proxy_failure(error: ApiError) -> dict[str, Any]:
    """The same error as a raw Lambda proxy result, for code that runs outside the resolver."""
    return {
        "statusCode": error.status,
        "headers": {"Content-Type": content_types.APPLICATION_JSON, **error.headers},
        "body": dumps(error_body(error)),
        "isBase64Encoded": False,
    }
