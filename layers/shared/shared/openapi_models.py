"""Output models for the OpenAPI document only: routes pass them in `responses=`, which documents and never
validates (Powertools validates a response against the return annotation, `ApiResponse` = Response[str]).

Bodies stay pre-serialised by shared.jsonutil; these classes describe what that writes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel, WithJsonSchema

# Decimal would be documented as a string in serialisation mode; jsonutil writes it as a bare number.
Money = Annotated[Decimal, WithJsonSchema({"type": "number", "description": "always written with two decimals"})]

ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "VALIDATION_ERROR: malformed JSON, wrong types, unknown fields, bad parameters",
    401: "UNAUTHORIZED: missing, malformed, badly signed, expired or revoked token",
    403: "FORBIDDEN: authenticated but not allowed",
    404: "NOT_FOUND: no such resource, or not yours",
    409: "Conflict with the current state",
    413: "PAYLOAD_TOO_LARGE: body over 1 MiB",
    422: "IDEMPOTENCY_KEY_MISMATCH: Idempotency-Key reused with a different body",
    429: "RATE_LIMIT_EXCEEDED (with Retry-After)",
    503: "SERVICE_UNAVAILABLE: circuit breaker open or a dependency down (with Retry-After)",
}


class ErrorDetail(BaseModel):
    field: str | None = None
    message: str | None = None
    type: str | None = None


class ErrorBody(BaseModel):
    code: str
    message: str
    details: list[ErrorDetail] | None = None
    retry_after: int | None = None


class ErrorEnvelope(BaseModel):
    success: Literal[False]
    error: ErrorBody


class Pagination(BaseModel):
    page: int
    limit: int
    total: int
    pages: int


class DeletedData(BaseModel):
    deleted: Literal[True]
    id: str


class DeletedEnvelope(BaseModel):
    success: Literal[True]
    data: DeletedData


def json_response(description: str, model: type[BaseModel]) -> OpenAPIResponse:
    return {"description": description, "content": {"application/json": {"model": model}}}


def documented(success_status: int, description: str, model: type[BaseModel], *errors: int,
               overrides: dict[int, str] | None = None) -> dict[int, OpenAPIResponse]:
    """`responses=` for one route: its success body plus the error envelope for each status it can return.

    429 is added to every route (the rate limiter sees every request).
    """
    texts = {**ERROR_DESCRIPTIONS, **(overrides or {})}
    responses: dict[int, OpenAPIResponse] = {success_status: json_response(description, model)}
    for status in sorted({*errors, 429}):
        responses[status] = json_response(texts[status], ErrorEnvelope)
    return responses


def error_statuses(*, body: bool = False, params: bool = False, auth: bool = False, admin: bool = False,
                   database: bool = False) -> tuple[int, ...]:
    """The common error statuses of a route from what it does; route-specific ones are added by the caller."""
    statuses: list[int] = []
    if body or params:
        statuses.append(400)
    if body:
        statuses.append(413)
    if auth or admin:
        statuses.append(401)
    if admin:
        statuses.append(403)
    if database:
        statuses.append(503)
    return tuple(statuses)
