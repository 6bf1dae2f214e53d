"""The functions' own DynamoDB client with the local engine in this process as its server (no sockets).

Everything of `shared.dynamodb.DynamoDBClient` runs (request JSON, SigV4 signing, response parsing, botocore-shaped
errors); only the HTTP exchange is replaced by a call into `Store.handle`, with the engine's own error bodies
(`local.dynamodb.wire.error_body`, throttling reasons included). The simulation is single-threaded, so one Store
serves every simulated container in turn, as the engine's one event loop does.
"""

from __future__ import annotations

from local.dynamodb.store import Store
from local.dynamodb.values import DynamoError
from local.dynamodb.wire import error_body, parse_request
from shared.dynamodb import TARGET_PREFIX, DynamoDBClient
from shared.jsonutil import dumps
from shared.sigv4 import Credentials

_CREDENTIALS = Credentials("simulated", "simulated", None)


class StoreClient(DynamoDBClient):
    def __init__(self, store: Store) -> None:
        super().__init__(region="us-east-1", endpoint_url="http://engine.invalid", credentials=lambda: _CREDENTIALS)
        self._store = store

    def _send(self, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        try:
            action = headers["X-Amz-Target"].removeprefix(TARGET_PREFIX)
            return 200, dumps(self._store.handle(action, parse_request(body))).encode()
        except DynamoError as error:
            return error.status, dumps(error_body(error)).encode()
