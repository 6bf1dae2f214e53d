"""shared.dynamodb against the session's DynamoDB emulation, and against raw sockets for the failure modes."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from local.postgres import free_port
from shared.dynamodb import DynamoDBClient, DynamoDBError, DynamoDBUnavailable
from shared.protection.backoff import is_condition_failure

RATE_LIMIT_TABLE = "RateLimitTable"
METRICS_TABLE = "MetricsTable"
OK_BODY = b"{}"

Responder = Callable[[int], bytes | None]  # request number on its connection -> raw response, or None to hang up


def http_response(status: int, body: bytes, *, content_type: str = "application/x-amz-json-1.0",
                  reason: str = "OK") -> bytes:
    head = (f"HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n")
    return head.encode() + body


class RawServer:
    """A threaded raw-socket HTTP server: records every connection and request's headers."""

    def __init__(self, respond: Responder) -> None:
        self.respond = respond
        self.connections = 0
        self.requests: list[dict[str, str]] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._handle, args=(connection,), daemon=True).start()

    def _handle(self, connection: socket.socket) -> None:
        with connection:
            buffer = b""
            for number in range(1, 100):
                while b"\r\n\r\n" not in buffer:
                    chunk = connection.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")[1:]
                headers = {name.strip().lower(): value.strip()
                           for name, _, value in (line.partition(":") for line in lines)}
                length = int(headers.get("content-length", "0"))
                while len(buffer) < length:
                    buffer += connection.recv(65536)
                buffer = buffer[length:]
                self.requests.append(headers)
                answer = self.respond(number)
                if answer is None:
                    return
                connection.sendall(answer)

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def raw_server() -> Iterator[Callable[[Responder], RawServer]]:
    servers: list[RawServer] = []

    def start(respond: Responder) -> RawServer:
        servers.append(RawServer(respond))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def client(dynamodb: object, dynamodb_endpoint: str) -> Iterator[DynamoDBClient]:
    subject = DynamoDBClient(region="us-east-1", endpoint_url=dynamodb_endpoint, timeout=2.0)
    yield subject
    subject.close()


def test_update_item_add_returns_all_new_attributes(client: DynamoDBClient) -> None:
    # Given an empty counter table
    # When a counter is incremented twice with ADD and ReturnValues=ALL_NEW
    update = {"TableName": RATE_LIMIT_TABLE, "Key": {"pk": {"S": "counter"}}, "UpdateExpression": "ADD hits :one",
              "ExpressionAttributeValues": {":one": {"N": "1"}}, "ReturnValues": "ALL_NEW"}
    first = client.update_item(**update)
    second = client.update_item(**update)
    # Then each answer carries the item as it now is, in botocore's shape
    assert first["Attributes"] == {"pk": {"S": "counter"}, "hits": {"N": "1"}}
    assert second["Attributes"] == {"pk": {"S": "counter"}, "hits": {"N": "2"}}


def test_put_item_then_get_item_round_trip(client: DynamoDBClient) -> None:
    # Given an item with string, number, boolean, list and non-ASCII values
    item = {"pk": {"S": "breaker:users"}, "state": {"S": "öffen ✓"}, "failures": {"N": "3"},
            "probe": {"BOOL": True}, "history": {"L": [{"N": "1"}, {"S": "x"}]}}
    # When it is put and read back
    assert client.put_item(TableName=RATE_LIMIT_TABLE, Item=item) == {}
    found = client.get_item(TableName=RATE_LIMIT_TABLE, Key={"pk": {"S": "breaker:users"}}, ConsistentRead=True)
    # Then the same item comes back; a missing key gives no Item at all
    assert found["Item"] == item
    assert "Item" not in client.get_item(TableName=RATE_LIMIT_TABLE, Key={"pk": {"S": "absent"}})


def test_query_returns_the_partition_items_in_sort_order(client: DynamoDBClient) -> None:
    # Given three metric rows in one partition (out of order) and one in another
    for pk, sk in (("route#a", "0002"), ("route#a", "0001"), ("route#a", "0003"), ("route#b", "0001")):
        client.put_item(TableName=METRICS_TABLE, Item={"pk": {"S": pk}, "sk": {"S": sk}})
    # When one partition is queried from a sort key on
    result = client.query(TableName=METRICS_TABLE, KeyConditionExpression="pk = :pk AND sk >= :from",
                          ExpressionAttributeValues={":pk": {"S": "route#a"}, ":from": {"S": "0002"}})
    # Then only its matching rows come back, ascending
    assert [row["sk"]["S"] for row in result["Items"]] == ["0002", "0003"]
    assert result["Count"] == 2


def test_failed_condition_raises_with_the_stored_item(client: DynamoDBClient) -> None:
    # Given a stored item
    stored = {"pk": {"S": "k"}, "version": {"N": "7"}}
    client.put_item(TableName=RATE_LIMIT_TABLE, Item=stored)
    # When a conditional update expects another version and asks for the old item on failure
    with pytest.raises(DynamoDBError) as caught:
        client.update_item(TableName=RATE_LIMIT_TABLE, Key={"pk": {"S": "k"}}, UpdateExpression="SET version = :new",
                           ConditionExpression="version = :expected",
                           ExpressionAttributeValues={":expected": {"N": "6"}, ":new": {"N": "8"}},
                           ReturnValuesOnConditionCheckFailure="ALL_OLD")
    # Then the error is botocore-shaped, carries the stored item, and the backoff helper recognises it
    error = caught.value
    assert error.code == "ConditionalCheckFailedException"
    assert error.status == 400
    assert error.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert error.response["Item"] == stored
    assert is_condition_failure(error)
    assert client.get_item(TableName=RATE_LIMIT_TABLE, Key={"pk": {"S": "k"}})["Item"] == stored


def test_missing_table_is_a_service_error(client: DynamoDBClient) -> None:
    # Given no table of that name
    # When it is read
    with pytest.raises(DynamoDBError) as caught:
        client.get_item(TableName="NoSuchTable", Key={"pk": {"S": "k"}})
    # Then DynamoDB's own error code comes through, and it is not a condition failure
    assert caught.value.code == "ResourceNotFoundException"
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert not is_condition_failure(caught.value)


def test_nothing_listening_is_unavailable() -> None:
    # Given an endpoint on a port nobody listens on
    subject = DynamoDBClient(region="us-east-1", endpoint_url=f"http://127.0.0.1:{free_port()}", timeout=0.5)
    # When a call is made
    # Then it is DynamoDBUnavailable, not a service error
    with pytest.raises(DynamoDBUnavailable):
        subject.get_item(TableName=RATE_LIMIT_TABLE, Key={"pk": {"S": "k"}})


def test_a_server_that_never_answers_times_out_quickly() -> None:
    # Given a socket that accepts connections (in its backlog) but never answers
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        subject = DynamoDBClient(region="us-east-1", endpoint_url=f"http://127.0.0.1:{port}", timeout=0.2)
        # When a call is made with a 0.2 s timeout
        started = time.monotonic()
        with pytest.raises(DynamoDBUnavailable):
            subject.get_item(TableName=RATE_LIMIT_TABLE, Key={"pk": {"S": "k"}})
        elapsed = time.monotonic() - started
    # Then it gives up around the timeout (a guard against hanging, not a benchmark)
    assert elapsed < 2


def test_a_stale_kept_alive_connection_is_replaced_once(raw_server: Callable[[Responder], RawServer]) -> None:
    # Given a server that answers each connection's first request (keep-alive) and then closes it
    server = raw_server(lambda number: http_response(200, b'{"Item":{"pk":{"S":"k"}}}') if number == 1 else None)
    subject = DynamoDBClient(region="us-east-1", endpoint_url=server.url, timeout=1.0)
    first = subject.get_item(TableName=RATE_LIMIT_TABLE, Key={"pk": {"S": "k"}})
    time.sleep(0.05)  # let the server's close reach the idle connection
    # When a second call reuses the now-dead idle connection
    second = subject.get_item(TableName=RATE_LIMIT_TABLE, Key={"pk": {"S": "k"}})
    # Then both succeed, the second over a fresh connection
    assert first == second == {"Item": {"pk": {"S": "k"}}}
    assert server.connections == 2
    subject.close()


def test_a_kept_alive_connection_is_reused(raw_server: Callable[[Responder], RawServer]) -> None:
    # Given a server that keeps connections open
    server = raw_server(lambda number: http_response(200, OK_BODY))
    subject = DynamoDBClient(region="us-east-1", endpoint_url=server.url, timeout=1.0)
    # When three calls are made one after another
    for _ in range(3):
        assert subject.put_item(TableName=RATE_LIMIT_TABLE, Item={"pk": {"S": "k"}}) == {}
    # Then they share one connection
    assert server.connections == 1
    assert len(server.requests) == 3
    subject.close()


def test_a_fresh_connection_dropped_without_answer_is_not_retried(
        raw_server: Callable[[Responder], RawServer]) -> None:
    # Given a server that hangs up on every request without answering
    server = raw_server(lambda number: None)
    subject = DynamoDBClient(region="us-east-1", endpoint_url=server.url, timeout=1.0)
    # When a call is made on a new connection
    with pytest.raises(DynamoDBUnavailable):
        subject.update_item(TableName=RATE_LIMIT_TABLE, Key={"pk": {"S": "k"}})
    # Then it fails after one attempt: only a reused connection earns a retry
    assert server.connections == 1
    assert len(server.requests) == 1


def test_a_500_with_a_non_json_body_is_a_service_error(raw_server: Callable[[Responder], RawServer]) -> None:
    # Given a server that answers 500 with an HTML page
    server = raw_server(lambda number: http_response(500, b"<html>oops</html>", content_type="text/html",
                                                     reason="Internal Server Error"))
    subject = DynamoDBClient(region="us-east-1", endpoint_url=server.url, timeout=1.0)
    # When a call is made
    with pytest.raises(DynamoDBError) as caught:
        subject.get_item(TableName=RATE_LIMIT_TABLE, Key={"pk": {"S": "k"}})
    # Then it is a service error with the status and a code derived from it
    assert caught.value.status == 500
    assert caught.value.code == "HTTP500"
    assert caught.value.response["Error"]["Code"] == "HTTP500"
    subject.close()


def test_requests_are_signed_with_the_environment_credentials(raw_server: Callable[[Responder], RawServer]) -> None:
    # Given the test environment's credentials and a server that records headers
    server = raw_server(lambda number: http_response(200, OK_BODY))
    subject = DynamoDBClient(region="us-east-1", endpoint_url=server.url, timeout=1.0)
    # When a GetItem is sent
    subject.get_item(TableName=RATE_LIMIT_TABLE, Key={"pk": {"S": "k"}})
    # Then it carries the JSON protocol headers and a SigV4 signature for those credentials
    (headers,) = server.requests
    access_key = os.environ["AWS_ACCESS_KEY_ID"]
    day = headers["x-amz-date"][:8]
    assert headers["authorization"].startswith(
        f"AWS4-HMAC-SHA256 Credential={access_key}/{day}/us-east-1/dynamodb/aws4_request, ")
    assert headers["x-amz-target"] == "DynamoDB_20120810.GetItem"
    assert headers["content-type"] == "application/x-amz-json-1.0"
    assert headers["host"] == server.url.removeprefix("http://")
    subject.close()
