"""Idempotent order creation with Powertools' Idempotency utility on DynamoDB.

The record key hashes `[user_id, key]`, so a key is scoped to its user; the stored validation hash
covers the parsed, normalised body, so whitespace, key order and `19.9` vs `19.90` don't matter, but a
different order under the same key is a 422. What is stored is the first response itself (status and
body), replayed verbatim. A request that raises is not cached (Powertools deletes its record).

The persistence layer is built on first use, never at import, with the shared lazily created botocore
client (Powertools needs an SDK client; honours DYNAMODB_ENDPOINT_URL, short timeouts), so tests can
set the endpoint first and cold starts that never see an Idempotency-Key never build a botocore client.

If the table can't be reached the request fails with 503: the client asked for exactly-once, and
creating the order without the guard could duplicate it on their retry. The exception is a failure
*after* the order was committed (saving the result): then the real 201 is returned, not a false 503.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from uuid import UUID

from orders_api import logic
from orders_api.models import OrderItemsRequest
from shared.aws import dynamodb_sdk_client
from shared.errors import IdempotencyKeyInUse, IdempotencyKeyMismatch, ServiceUnavailable, ValidationFailed
from shared.jsonutil import dumps
from shared.observability import logger
from shared.settings import get_settings

if TYPE_CHECKING:  # the utility (and boto3 under it) is imported on the first keyed create, not at cold start
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig
    from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
KEY_PREFIX = "orders-create"
EXPIRES_AFTER_SECONDS = 24 * 60 * 60


@dataclass(frozen=True)
class Outcome:
    """The response of a create: fresh, or replayed from the first request with this key."""

    status: int
    body: str
    replayed: bool = False


def validate_key(value: str | None) -> str | None:
    if value is None:
        return None
    if not 1 <= len(value) <= MAX_KEY_LENGTH:
        raise ValidationFailed(f"{HEADER} must be 1 to {MAX_KEY_LENGTH} characters", details=[
            {"field": HEADER, "message": f"must be 1 to {MAX_KEY_LENGTH} characters", "type": "string_length"},
        ])
    return value


def _mark_replayed(response: Any, idempotent_data: DataRecord) -> Any:
    return {**response, "replayed": True}


def _create(*, request: dict[str, Any], user_id: UUID, body: OrderItemsRequest,
            sink: list[dict[str, Any]]) -> dict[str, Any]:
    # `request` is only what Powertools hashes; the order comes from the validated model.
    order = logic.create_order(user_id, body)
    result = {"status": 201, "body": dumps({"success": True, "data": {"order": order.to_json()}})}
    sink.append(result)
    return result


@lru_cache(maxsize=2)
def _idempotent_create(client: Any, table_name: str) -> tuple[Callable[..., dict[str, Any]], IdempotencyConfig]:
    """Keyed by the client so a new shared client (tests clear it) gets a new persistence layer."""
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    config = IdempotencyConfig(
        event_key_jmespath="[user_id, key]",
        payload_validation_jmespath="body",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=EXPIRES_AFTER_SECONDS,
        hash_function="sha256",
        response_hook=_mark_replayed,
    )
    store = DynamoDBPersistenceLayer(table_name=table_name, boto3_client=client)
    wrapped = idempotent_function(_create, data_keyword_argument="request", persistence_store=store,
                                  config=config, key_prefix=KEY_PREFIX)
    return wrapped, config


def create_once(user_id: UUID, key: str, body: OrderItemsRequest, lambda_context: Any = None) -> Outcome:
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyInconsistentStateError,
        IdempotencyPersistenceLayerError,
        IdempotencyValidationError,
    )

    create, config = _idempotent_create(dynamodb_sdk_client(), get_settings().idempotency_table)
    if lambda_context is not None:
        # Lets an in-progress record expire with this invocation, so a crashed request doesn't block the key.
        config.register_lambda_context(lambda_context)
    request = {"user_id": str(user_id), "key": key, "body": body.canonical()}
    sink: list[dict[str, Any]] = []
    try:
        result = create(request=request, user_id=user_id, body=body, sink=sink)
    except IdempotencyValidationError as exc:
        raise IdempotencyKeyMismatch() from exc
    except (IdempotencyAlreadyInProgressError, IdempotencyInconsistentStateError) as exc:
        raise IdempotencyKeyInUse() from exc
    except IdempotencyPersistenceLayerError as exc:
        if sink:  # the order exists; only recording the result failed
            logger.warning("idempotency record not saved after create", extra={"error": type(exc).__name__})
            result = sink[0]
        else:
            logger.warning("idempotency store unavailable", extra={"error": type(exc).__name__})
            raise ServiceUnavailable("Idempotency store unavailable; retry with the same key", retry_after=1) from exc
    return Outcome(status=int(result["status"]), body=str(result["body"]), replayed=bool(result.get("replayed")))
