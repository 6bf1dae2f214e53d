"""Cross-instance metrics: batching per container, pending counters on failure, percentiles."""

from collections.abc import Iterator
from typing import Any

import pytest

from shared.dynamodb import DynamoDBClient, DynamoDBUnavailable
from shared.protection.metrics import LATENCY_BOUNDS_MS, MetricsRecorder, latency_bucket
from shared.protection.metrics_summary import percentiles
from tests.support.dynamodb import hot_path_client, template_table, throwaway_table


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


class CountingClient:
    """A DynamoDB client that counts UpdateItem calls and can be switched off."""

    def __init__(self, client: DynamoDBClient, name: str) -> None:
        self.client, self.name, self.updates, self.down = client, name, 0, False

    def update_item(self, **kwargs: Any) -> Any:
        if self.down:
            # What shared.dynamodb raises when nothing answers (refused, timed out, dropped)
            raise DynamoDBUnavailable("ConnectionRefusedError: [Errno 111] Connection refused")
        self.updates += 1
        return self.client.update_item(**kwargs)


@pytest.fixture
def table(engine_endpoint: str) -> Iterator[CountingClient]:
    """The template's MetricsTable under a name of its own, through the functions' own client."""
    with throwaway_table(engine_endpoint, template_table("MetricsTable")) as name:
        client = hot_path_client(engine_endpoint)
        yield CountingClient(client, name)
        client.close()


def _requests(table: CountingClient, minute: int) -> int:
    item = table.client.get_item(TableName=table.name,
                                 Key={"pk": {"S": f"minute#{minute}"}, "sk": {"S": "route#GET /x"}}).get("Item")
    return int(item["requests"]["N"]) if item else 0


def test_a_busy_container_writes_at_most_once_per_interval(table: CountingClient) -> None:
    clock = Clock()
    recorder = MetricsRecorder(table.name, lambda: table, clock=clock, flush_interval=1.0)
    # Given 50 requests within one second
    for _ in range(50):
        recorder.add("route#GET /x", {"requests": 1})
        recorder.flush()
        clock.now += 0.01
    # Then one write went out (the first), the rest are pending
    assert table.updates == 1
    # When the interval has passed and the next request flushes
    clock.now += 1.0
    recorder.flush()
    # Then every request is counted, in two writes
    assert table.updates == 2
    assert _requests(table, int(clock.now // 60)) == 50


def test_counters_survive_an_unreachable_table(table: CountingClient) -> None:
    clock = Clock()
    recorder = MetricsRecorder(table.name, lambda: table, clock=clock)
    # Given the table is unreachable while requests are counted
    table.down = True
    recorder.add("route#GET /x", {"requests": 1})
    recorder.flush()
    assert recorder.pending() == 1
    # When it is back (after the back-off)
    table.down = False
    clock.now += 5
    recorder.add("route#GET /x", {"requests": 1})
    recorder.flush()
    # Then nothing was lost
    assert recorder.pending() == 0
    assert _requests(table, int(clock.now // 60)) == 2


def test_percentiles_are_bucket_upper_bounds() -> None:
    histogram = [0] * len(LATENCY_BOUNDS_MS)
    for latency in [3] * 90 + [40] * 9 + [900]:
        histogram[latency_bucket(latency)] += 1
    assert percentiles(histogram) == {"p50": 5, "p95": 50, "p99": 50}
    assert percentiles([0] * len(LATENCY_BOUNDS_MS)) == {"p50": None, "p95": None, "p99": None}
