"""Fast-engine behaviour moto cannot be the oracle for: number normalisation, readiness answer, the CLI."""

from __future__ import annotations

import signal
import subprocess
import sys
import urllib.error
import urllib.request
from typing import Any

import pytest

from local.dynamodb import DynamoDbServer
from local.postgres import free_port
from tests.dynamodb.conftest import Twin


def test_numbers_come_back_normalised_like_dynamodb(clients: tuple[Any, Any]) -> None:
    # Given numbers written with trailing zeros and exponents
    twin = Twin(*clients, keys=("pk",))
    try:
        twin.fast.put_item(TableName=twin.table, Item={"pk": {"S": "n"}, "a": {"N": "10.50"}, "b": {"N": "1E+2"},
                                                       "c": {"N": "-0.0"}})
        # When read back and incremented
        item = twin.fast.update_item(TableName=twin.table, Key={"pk": {"S": "n"}}, UpdateExpression="ADD a :x",
                                     ExpressionAttributeValues={":x": {"N": "0.50"}}, ReturnValues="ALL_NEW")
        # Then they are plain, minimal decimal strings
        assert item["Attributes"] == {"pk": {"S": "n"}, "a": {"N": "11"}, "b": {"N": "100"}, "c": {"N": "0"}}
    finally:
        twin.drop()


def test_a_plain_get_gets_an_answer(fast_server: DynamoDbServer) -> None:
    # Given the stack's readiness poll, a bare GET
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(fast_server.url, timeout=5)
    # Then it is a DynamoDB-style 400, not a dropped connection
    assert answer.value.code == 400


@pytest.mark.parametrize("engine", ["fast", "moto"])
def test_cli_announces_its_url_and_stops_on_sigterm(engine: str) -> None:
    # Given the server started as the stack starts it
    port = free_port()
    child = subprocess.Popen([sys.executable, "-m", "local.dynamodb", "--host", "127.0.0.1", "--port", str(port),
                              "--engine", engine], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        # When it is ready
        assert child.stdout.readline().strip() == f"DynamoDB listening on http://127.0.0.1:{port}"
    finally:
        # Then SIGTERM stops it cleanly
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=10) == 0
