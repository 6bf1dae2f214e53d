"""Typed domain exceptions. `shared.resolver` maps them to HTTP in one place."""

from typing import Any


class ApiError(Exception):
    """Base of every error a client may see: an HTTP status and a stable code."""

    status = 500
    code = "INTERNAL_ERROR"
    default_message = "Internal server error"

    def __init__(self, message: str | None = None, *, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.details = details
        self.headers: dict[str, str] = {}


class ValidationFailed(ApiError):
    status, code, default_message = 400, "VALIDATION_ERROR", "Request validation failed"


class Unauthorized(ApiError):
    status, code, default_message = 401, "UNAUTHORIZED", "Authentication required"


class InvalidCredentials(ApiError):
    status, code, default_message = 401, "INVALID_CREDENTIALS", "Invalid email or password"


class Forbidden(ApiError):
    status, code, default_message = 403, "FORBIDDEN", "You are not allowed to do this"


class NotFound(ApiError):
    status, code, default_message = 404, "NOT_FOUND", "Resource not found"


class EmailAlreadyRegistered(ApiError):
    status, code, default_message = 409, "EMAIL_ALREADY_REGISTERED", "Email is already registered"


class InvalidStatusTransition(ApiError):
    status, code, default_message = 409, "INVALID_STATUS_TRANSITION", "Status transition not allowed"


class Conflict(ApiError):
    status, code, default_message = 409, "CONFLICT", "Conflicting state"


class IdempotencyKeyInUse(ApiError):
    status, code = 409, "IDEMPOTENCY_KEY_IN_USE"
    default_message = "A request with this Idempotency-Key is still in progress"


class IdempotencyKeyMismatch(ApiError):
    status, code = 422, "IDEMPOTENCY_KEY_MISMATCH"
    default_message = "Idempotency-Key was already used with a different request body"


class PayloadTooLarge(ApiError):
    status, code, default_message = 413, "PAYLOAD_TOO_LARGE", "Request body too large"


class RetryableError(ApiError):
    """An error the client should retry after `retry_after` seconds."""

    def __init__(self, message: str | None = None, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))
        self.headers = {"Retry-After": str(self.retry_after)}


class RateLimitExceeded(RetryableError):
    status, code, default_message = 429, "RATE_LIMIT_EXCEEDED", "Too many requests. Please try again later."


class ServiceUnavailable(RetryableError):
    status, code, default_message = 503, "SERVICE_UNAVAILABLE", "Service temporarily unavailable"
