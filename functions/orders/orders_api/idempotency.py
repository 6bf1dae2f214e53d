"""Idempotent order creation with Powertools' Idempotency utility on DynamoDB.

The record key hashes `[user_id, key]`, so a key is scoped to its user; the stored validation hash
covers the parsed, normalised body, so whitespace, key order and `19.9` vs `19.90` don't matter, but a
different order under the same key is a 422. The first request's order is stored through Powertools'
own serializer hook (the `OrderOut` output model, money as exact strings) and replayed from it, so a
repeat gets the same status and body. A request that raises is not cached (Powertools deletes its record).

The persistence layer is built on first use per container (the Powertools utility and botocore under it
are imported only then), with the container's botocore client (DYNAMODB_ENDPOINT_URL, short timeouts).

If the table can't be reached the request fails with 503: the client asked for exactly-once, and
creating the order without the guard could duplicate it on their retry. The exception is a failure
*after* the order was committed (saving the result): then the real 201 is returned, not a false 503
(the record stays "in progress" until it expires, as if the request had died).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from uuid import UUID

from orders_api import logic
from orders_api.models import OrderItemsRequest
from orders_api.output import OrderOut
from shared.dependencies import Dependencies, dependencies
from shared.errors import IdempotencyKeyInUse, IdempotencyKeyMismatch, ServiceUnavailable, ValidationFailed
from shared.logger import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
KEY_PREFIX = "orders-create"
EXPIRES_AFTER_SECONDS = 24 * 60 * 60


@dataclass(frozen=True)
class CreatedOrder:
    """A keyed create's order: made now, or replayed from the first request with this key."""

    order: OrderOut
    replayed: bool = False


def validate_key(value: str | None) -> str | None:
    if value is None:
        return None
    if not 1 <= len(value) <= MAX_KEY_LENGTH:
        raise ValidationFailed(f"{HEADER} must be 1 to {MAX_KEY_LENGTH} characters", details=[
            {"field": HEADER, "message": f"must be 1 to {MAX_KEY_LENGTH} characters", "type": "string_length"},
        ])
    return value


def _create(*, request: dict[str, Any], user_id: UUID, body: OrderItemsRequest) -> CreatedOrder:
    # `request` is only what Powertools hashes; the order comes from the validated model.
    return CreatedOrder(OrderOut.model_validate(logic.create_order(user_id, body)))


def _replayed(response: Any, idempotent_data: Any) -> Any:  # Powertools' response_hook signature
    created: CreatedOrder = response
    return replace(created, replayed=True)


@lru_cache(maxsize=1)
def _idempotent_create(container: Dependencies) -> tuple[Any, IdempotencyConfig]:
    """Built once per container's dependencies (a reset, in tests, builds a new one)."""
    # Imported here: the utility and botocore under it cost a cold start ~40 ms; only keyed creates need them.
    from aws_lambda_powertools.utilities.idempotency import (  # noqa: PLC0415 - cold start: only keyed creates need it
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )
    from aws_lambda_powertools.utilities.idempotency.serialization.custom_dict import CustomDictSerializer  # noqa: PLC0415 - cold start, as above

    class CommittedResultFirst(DynamoDBPersistenceLayer):
        """Failing to record the result of a committed create must not turn its 201 into an error."""

        def save_success(self, data: Any, result: dict[str, Any]) -> None:
            try:
                super().save_success(data=data, result=result)
            except Exception as error:  # whatever failed, the order exists: its 201 stands
                logger.warning("idempotency record not saved after create", extra={"error": type(error).__name__})

    config = IdempotencyConfig(
        event_key_jmespath="[user_id, key]",
        payload_validation_jmespath="body",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=EXPIRES_AFTER_SECONDS,
        hash_function="sha256",
        response_hook=_replayed,
    )
    serializer = CustomDictSerializer(to_dict=lambda created: created.order.model_dump(mode="json"),
                                      from_dict=lambda stored: CreatedOrder(OrderOut.model_validate(stored)))
    store = CommittedResultFirst(table_name=container.settings.idempotency_table, boto3_client=container.dynamodb_sdk)
    wrapped = idempotent_function(_create, data_keyword_argument="request", persistence_store=store,
                                  config=config, key_prefix=KEY_PREFIX, output_serializer=serializer)
    return wrapped, config


def create_once(user_id: UUID, key: str, body: OrderItemsRequest, lambda_context: Any = None) -> CreatedOrder:
    # Imported here, as in _idempotent_create: only keyed creates need the utility.
    from aws_lambda_powertools.utilities.idempotency.exceptions import (  # noqa: PLC0415 - cold start, as above
        IdempotencyAlreadyInProgressError,
        IdempotencyInconsistentStateError,
        IdempotencyPersistenceLayerError,
        IdempotencyValidationError,
    )

    create, config = _idempotent_create(dependencies())
    if lambda_context is not None:
        # Lets an in-progress record expire with this invocation, so a crashed request doesn't block the key.
        config.register_lambda_context(lambda_context)
    request = {"user_id": str(user_id), "key": key, "body": body.canonical()}
    try:
        return create(request=request, user_id=user_id, body=body)
    except IdempotencyValidationError as exc:
        raise IdempotencyKeyMismatch() from exc
    except (IdempotencyAlreadyInProgressError, IdempotencyInconsistentStateError) as exc:
        raise IdempotencyKeyInUse() from exc
    except IdempotencyPersistenceLayerError as exc:
        logger.warning("idempotency store unavailable", extra={"error": type(exc).__name__})
        raise ServiceUnavailable("Idempotency store unavailable; retry with the same key", retry_after=1) from exc
