"""A flood of maximal invalid requests must not stall the engine for everyone else.

The engine is single-threaded: a request that takes seconds (a 4 MiB OR-chain used to take ~3 s and end in a
500) delays every other client, and the rate limiter, whose DynamoDB timeout is 0.5 s, then fails open.
Here one client floods 4 MiB OR-chains while another does the limiter's kind of conditional UpdateItem. No
timing is asserted: the flood must be refused with 400 and every normal request answered correctly.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local.dynamodb import DynamoDbServer, start_dynamodb
from tests.dynamodb.conftest import error_of, make_client, raw_call

NORMAL_REQUESTS = 150
MAX_FLOOD_REQUESTS = 200  # bounded whatever happens


@pytest.fixture
def server() -> Iterator[DynamoDbServer]:
    handle = start_dynamodb(engine="fast")
    yield handle
    handle.stop()


def flood_body(table: str) -> bytes:
    chain = " OR ".join(["a = :v"] * (4 * 1024 * 1024 // 9))  # ~4.4 MiB
    return json.dumps({"TableName": table, "Key": {"pk": {"S": "flood"}}, "UpdateExpression": "SET b = :v",
                       "ConditionExpression": chain, "ExpressionAttributeValues": {":v": {"N": "1"}}}).encode()


def refused_for_size(answer: tuple[int, str, str]) -> bool:
    status, code, message = answer
    return status == 400 and code == "ValidationException" and "Expression size has exceeded" in message


def test_flood_of_4_mib_or_chains_is_refused_while_conditional_updates_are_answered(server: DynamoDbServer) -> None:
    client, table = make_client(server.url), f"flood-{uuid.uuid4().hex[:12]}"
    client.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    body = flood_body(table)
    flood_answers: list[tuple[int, str, str]] = []
    first_answer, normal_done, flood_misanswered = threading.Event(), threading.Event(), threading.Event()

    def flood() -> None:
        while not normal_done.is_set() and len(flood_answers) < MAX_FLOOD_REQUESTS:
            flood_answers.append(answer := error_of(raw_call(server.url, "UpdateItem", body)))
            if not refused_for_size(answer):
                flood_misanswered.set()  # no point going on: the assertion below fails anyway
            first_answer.set()

    # Given a client flooding maximal invalid requests (the normal client starts once the flood is answered)
    flooder = threading.Thread(target=flood, name="flood")
    flooder.start()
    try:
        assert first_answer.wait(60)
        # When another client makes the limiter's kind of write: a counter under a conditional ceiling
        counts: list[Any] = []
        for _ in range(NORMAL_REQUESTS):
            if flood_misanswered.is_set():
                break
            try:
                answer = client.update_item(
                    TableName=table, Key={"pk": {"S": "user:1"}}, UpdateExpression="ADD c :one",
                    ConditionExpression="attribute_not_exists(c) OR c < :limit", ReturnValues="UPDATED_NEW",
                    ExpressionAttributeValues={":one": {"N": "1"}, ":limit": {"N": "100"}})
                counts.append(int(answer["Attributes"]["c"]["N"]))
            except ClientError as error:
                counts.append(error.response["Error"]["Code"])
    finally:
        normal_done.set()
        flooder.join(120)
    # Then every flood request, however many overlapped, was a 400 ValidationException about the size
    assert flood_answers and all(refused_for_size(answer) for answer in flood_answers), flood_answers[:3]
    # And every normal request got its correct answer: 100 admitted in order, then refused by the condition
    assert counts == [*range(1, 101), *["ConditionalCheckFailedException"] * (NORMAL_REQUESTS - 100)]
    assert client.get_item(TableName=table, Key={"pk": {"S": "flood"}}).get("Item") is None
