"""Powertools' idempotency persistence layer, driven against both engines: same records, same errors."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
from aws_lambda_powertools.utilities.idempotency.persistence.dynamodb import DynamoDBPersistenceLayer

from tests.dynamodb.conftest import Twin


def _step(action: Any) -> Any:
    try:
        record = action()
    except (IdempotencyItemAlreadyExistsError, IdempotencyItemNotFoundError) as error:
        old = getattr(error, "old_data_record", None)
        return type(error).__name__, None if old is None else (old.status, old.response_data)
    return None if record is None else (record.status, record.response_data, record.expiry_timestamp)


def _flow(layer: DynamoDBPersistenceLayer, now: int) -> list[Any]:
    progress = DataRecord("key-1", status="INPROGRESS", expiry_timestamp=now + 3600,
                          in_progress_expiry_timestamp=(now + 60) * 1000)
    done = DataRecord("key-1", status="COMPLETED", expiry_timestamp=now + 3600, response_data='{"ok":1}')
    expired = DataRecord("key-2", status="COMPLETED", expiry_timestamp=now - 10, response_data="old")
    fresh = DataRecord("key-2", status="INPROGRESS", expiry_timestamp=now + 3600,
                       in_progress_expiry_timestamp=(now + 60) * 1000)
    return [
        _step(lambda: layer._put_record(progress)),
        _step(lambda: layer._put_record(progress)),  # in progress: rejected with the stored record
        _step(lambda: layer._update_record(done)),
        _step(lambda: layer._get_record("key-1")),
        _step(lambda: layer._put_record(expired)),
        _step(lambda: layer._put_record(fresh)),  # the stored record has expired: allowed to overwrite
        _step(lambda: layer._delete_record(done)),
        _step(lambda: layer._get_record("key-1")),
    ]


def test_idempotency_records_behave_the_same(clients: tuple[Any, Any]) -> None:
    # Given the IdempotencyTable's schema (hash key `id`) on both engines
    twin = Twin(*clients, keys=("id",))
    try:
        # When Powertools saves, rejects, completes, reads, overwrites and deletes records
        now = int(time.time())  # one clock for both: a second boundary between the flows is not a difference
        fast, moto = (_flow(DynamoDBPersistenceLayer(table_name=twin.table, boto3_client=client), now)
                      for client in clients)
        # Then both engines lead it to the same results
        assert fast == moto
        assert fast[1][0] == "IdempotencyItemAlreadyExistsError" and fast[1][1] == ("INPROGRESS", None)
        assert fast[3][:2] == ("COMPLETED", '{"ok":1}')
        assert fast[7] == ("IdempotencyItemNotFoundError", None)
    finally:
        twin.drop()
