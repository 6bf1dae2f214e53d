"""The shapes responses take, as Pydantic models: they serialise the bodies and document them in openapi.json.

A route builds its data model from the domain objects a use case returns, and `shared.envelope` wraps it
and writes it with shared.jsonutil: Decimals keep their digits (money is always written with two
decimals, `75000.00`), times are UTC. `documented()` gives Powertools' `responses=` for the same models,
so what is documented is what is written (Powertools validates a route's return annotation, which is
the pre-serialised `Response[str]`, so these models document without being re-validated).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Annotated, Any, ClassVar, Literal, Self

from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema, create_model

from shared.paging import Page

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def to_cents(value: Decimal | int) -> Decimal:
    """Quantize to cents; a negative zero becomes 0.00 so it is never written as -0.00."""
    amount = Decimal(value).quantize(CENT)
    return ZERO if amount == 0 else amount


def to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


# Documented as a number (Decimal would be a string in serialisation mode); jsonutil writes its digits.
Money = Annotated[Decimal, AfterValidator(to_cents),
                  WithJsonSchema({"type": "number", "description": "always written with two decimals"})]
UtcDatetime = Annotated[datetime, AfterValidator(to_utc)]


class Output(BaseModel):
    """Base of every output model: built from domain objects' attributes, immutable."""

    model_config = ConfigDict(from_attributes=True, frozen=True)

    @classmethod
    def of(cls, **fields: Any) -> Self:
        """The model from domain objects (their attributes are read, nested models included)."""
        return cls.model_validate(fields)


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


class ErrorDetail(Output):
    field: str | None = None
    message: str | None = None
    type: str | None = None


def absent(value: object) -> bool:
    """For `Field(exclude_if=absent)`: a key that is left out of the body rather than written as null."""
    return value is None


class ErrorBody(Output):
    code: str
    message: str
    details: list[ErrorDetail] | None = Field(default=None, exclude_if=absent)  # validation errors only
    retry_after: int | None = Field(default=None, exclude_if=absent)  # 429 and 503 only


class ErrorEnvelope(Output):
    success: Literal[False] = False
    error: ErrorBody


class Pagination(Output):
    page: int
    limit: int
    total: int
    pages: int

    @classmethod
    def of_page(cls, page: Page[Any]) -> Pagination:
        return cls(page=page.number, limit=page.limit, total=page.total, pages=math.ceil(page.total / page.limit))


class Paged(Output):
    """A page of output models: `items_field` holds them, `pagination` says where they sit."""

    items_field: ClassVar[str]

    @classmethod
    def of_page(cls, page: Page[Any]) -> Self:
        return cls.model_validate({cls.items_field: page.items, "pagination": Pagination.of_page(page)})


class DeletedData(Output):
    deleted: Literal[True] = True
    id: str


@cache
def envelope_of(data: type[BaseModel]) -> type[BaseModel]:
    """The success envelope around a data model, `{"success": true, "data": …}`, for the document."""
    name = data.__name__.removesuffix("Data") + "Envelope"
    fields: dict[str, Any] = {"success": (Literal[True], ...), "data": (data, ...)}
    return create_model(name, __base__=Output, **fields)


def json_response(description: str, model: type[BaseModel]) -> OpenAPIResponse:
    return {"description": description, "content": {"application/json": {"model": model}}}


def documented(success_status: int, description: str, model: type[BaseModel], *errors: int,
               overrides: dict[int, str] | None = None,
               envelope: type[BaseModel] | None = None) -> dict[int, OpenAPIResponse]:
    """`responses=` for one route: its success body (the envelope around `model`) plus the error envelope for
    each status it can return. `envelope` replaces the standard success envelope (health's is another).

    429 is added to every route (the rate limiter sees every request).
    """
    texts = {**ERROR_DESCRIPTIONS, **(overrides or {})}
    body = envelope or envelope_of(model)
    responses: dict[int, OpenAPIResponse] = {success_status: json_response(description, body)}
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
