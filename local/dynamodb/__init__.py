"""A local DynamoDB for the stack and the tests: a fast in-memory engine (default) or moto.

    from local.dynamodb import start_dynamodb
    handle = start_dynamodb()            # 127.0.0.1, any free port, engine from DYNAMODB_ENGINE or "fast"
    handle.url; handle.stop()

    python -m local.dynamodb [--host H] [--port P] [--template T] [--engine fast|moto] [--allow-remote]
                             [--hot-keys] [--aws-partition-limits]

`fast` (local.dynamodb.server/store) implements the API subset this project and Powertools use,
single-threaded on an asyncio loop, roughly ten times moto's UpdateItem rate; DynamoDB's limits are
enforced before any expensive work (limits.py), so one client cannot stall it for the others. `moto`
(local.dynamodb.moto_engine) is the broad, slower reference, kept for anything `fast` rejects.
TTL attributes are recorded and described but items never expire (DynamoDB's own TTL deletion
lags by up to days, so nothing may depend on it).
`start_dynamodb(heat=HeatMap(...))` meters every key and can inject throttling (local.dynamodb.heat).
"""

from __future__ import annotations

import os
from typing import Protocol

from local.dynamodb.fast import start_fast
from local.dynamodb.heat import HeatMap

ENGINES = ("fast", "moto")


class DynamoDbServer(Protocol):
    @property
    def url(self) -> str: ...

    def stop(self) -> None: ...


def default_engine() -> str:
    engine = os.environ.get("DYNAMODB_ENGINE") or "fast"
    if engine not in ENGINES:
        raise ValueError(f"DYNAMODB_ENGINE must be one of {', '.join(ENGINES)}, not {engine!r}")
    return engine


def start_dynamodb(host: str = "127.0.0.1", port: int = 0, engine: str | None = None,
                   heat: HeatMap | None = None) -> DynamoDbServer:
    """Serve DynamoDB on host:port (0 = any free port) in a background thread; `heat` meters and throttles keys
    (fast: per capacity unit; moto: throttling rules only, one unit per request)."""
    engine = engine or default_engine()
    if engine == "moto":
        from local.dynamodb.moto_engine import start_moto  # noqa: PLC0415 - moto takes ~1 s to import

        return start_moto(host, port, heat)
    if engine != "fast":
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    server = start_fast(host, port)
    server.store.heat = heat  # before anyone knows the port
    return server


__all__ = ["ENGINES", "DynamoDbServer", "HeatMap", "default_engine", "start_dynamodb"]
