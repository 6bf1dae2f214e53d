"""Cross-instance metrics: batching per container, sharded items summed at read time, a write rate per item that
does not grow with the number of containers, pending counters on failure, percentiles."""

from collections.abc import Iterator
from typing import Any

import pytest

from local.bench.scale.transport import StoreClient
from local.dynamodb.heat import HeatMap
from local.dynamodb.store import Store
from shared.dynamodb import DynamoDBClient, DynamoDBUnavailable
from shared.protection.metrics import (
    LATENCY_BOUNDS_MS,
    SHARDS,
    TARGET_WRITES_PER_SECOND,
    MetricsRecorder,
    latency_bucket,
    minute_key,
    shard_key,
)
from shared.protection.metrics_summary import percentiles, summarize
from tests.support.dynamodb import hot_path_client, template_table, throwaway_table

START = 1_800_000_000.0  # a whole minute


class Clock:
    def __init__(self) -> None:
        self.now = START

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

    def query(self, **kwargs: Any) -> Any:
        return self.client.query(**kwargs)


@pytest.fixture
def table(engine_endpoint: str) -> Iterator[CountingClient]:
    """The template's MetricsTable under a name of its own, through the functions' own client."""
    with throwaway_table(engine_endpoint, template_table("MetricsTable")) as name:
        client = hot_path_client(engine_endpoint)
        yield CountingClient(client, name)
        client.close()


def _item(table: CountingClient, recorder: MetricsRecorder, minute: int) -> dict[str, Any]:
    key = {"pk": {"S": shard_key(recorder.shard)}, "sk": {"S": minute_key(minute, recorder.source)}}
    return dict(table.client.get_item(TableName=table.name, Key=key).get("Item") or {})


def _requests(table: CountingClient, recorder: MetricsRecorder, minute: int, route: str = "GET /x") -> int:
    item = _item(table, recorder, minute)
    return int(item[f"r|{route}|requests"]["N"]) if f"r|{route}|requests" in item else 0


def _count(recorder: MetricsRecorder, route: str = "GET /x") -> None:
    recorder.add(f"r|{route}|", {"requests": 1, "status_200": 1})
    recorder.flush()


def test_a_busy_container_writes_at_most_once_per_interval(table: CountingClient) -> None:
    clock = Clock()
    recorder = MetricsRecorder(table.name, lambda: table, clock=clock, flush_interval=1.0, source="orders")
    # Given 50 requests within one second
    for _ in range(50):
        _count(recorder)
        clock.now += 0.01
    # Then one write went out (the first), the rest are pending
    assert table.updates == 1
    # When the interval has passed and the next request flushes
    clock.now += 1.0
    recorder.flush()
    # Then every request is counted, in two writes, in this container's shard and function item
    assert table.updates == 2
    assert _requests(table, recorder, int(clock.now // 60)) == 50
    assert _item(table, recorder, int(clock.now // 60))["flushes"] == {"N": "2"}


def test_one_write_per_flush_however_many_routes(table: CountingClient) -> None:
    clock = Clock()
    recorder = MetricsRecorder(table.name, lambda: table, clock=clock, flush_interval=1.0, source="orders", shard=3)
    recorder.flush()  # the first flush: nothing pending
    for route in ("GET /a", "GET /b", "POST /c", "GET /d"):
        recorder.add(f"r|{route}|", {"requests": 1})
    recorder.add("b|orders|", {"closed_to_open": 1})
    clock.now += 1.0
    recorder.flush()
    assert table.updates == 1
    item = _item(table, recorder, int(START // 60))
    assert {name for name in item if name.startswith(("r|", "b|"))} == {
        "r|GET /a|requests", "r|GET /b|requests", "r|POST /c|requests", "r|GET /d|requests",
        "b|orders|closed_to_open"}


def test_metrics_add_up_every_shard_function_and_minute(table: CountingClient) -> None:
    # Given containers of two functions spread over every shard, across a minute boundary
    clock = Clock()
    recorders = [MetricsRecorder(table.name, lambda: table, clock=clock, source=source, shard=shard)
                 for shard in range(SHARDS) for source in ("users", "orders")]
    for recorder in recorders:
        recorder.record_request("GET /x", 200, 3.0, rate_limited=False, failed_open=False)
        recorder.record_request("GET /y", 429, 30.0, rate_limited=True, failed_open=False)
    clock.now += 60
    recorders[0].record_request("GET /x", 503, 700.0, rate_limited=False, failed_open=True)
    recorders[1].record_transition("users", "closed", "open")
    recorders[1].flush(force=True)
    # When /metrics reads the last two minutes
    summary = summarize(table, table.name, 2, now=clock.now)
    # Then every request of every container is there, once
    count = len(recorders)
    assert summary["requests"]["total"] == 2 * count + 1
    assert summary["requests"]["by_status"] == {"200": count, "429": count, "503": 1}
    assert summary["routes"]["GET /x"]["total"] == count + 1
    assert summary["routes"]["GET /y"]["rate_limited"] == count
    assert summary["rate_limit"] == {"rejected": count, "fail_open": 1}
    assert summary["breaker_transitions"] == {"users": {"closed_to_open": 1}}
    # And a one-minute window leaves the earlier minute out
    assert summarize(table, table.name, 1, now=clock.now)["requests"]["total"] == 1


def test_no_item_takes_more_writes_as_containers_are_added() -> None:
    """200 containers of one function in one shard, 10 requests/s each: without the adaptive interval the item
    takes 200 writes a second; with it, about TARGET_WRITES_PER_SECOND, and nothing is lost."""
    clock = Clock()
    heat = HeatMap(clock)
    store = Store(heat=heat)
    store.handle("CreateTable", template_table("MetricsTable"))
    client = StoreClient(store)
    recorders = [MetricsRecorder("MetricsTable", lambda: client, clock=clock, flush_interval=1.0, source="orders",
                                 shard=0) for _ in range(200)]
    requests = 0
    for tick in range(400):  # 40 s of 0.1 s ticks; each container serves one request per tick
        if tick == 150:
            heat.clear()  # measure from 15 s on, once the intervals have settled
        for recorder in recorders:
            _count(recorder)
            requests += 1
        clock.now += 0.1
    item = heat.report()["items"][0]
    assert item["key"] == f"{shard_key(0)} / {minute_key(int(START // 60), 'orders')}"
    assert item["peak_wcu"] <= 2.5 * TARGET_WRITES_PER_SECOND
    for recorder in recorders:  # what the containers still hold: their next flush
        recorder.flush(force=True)
    assert summarize(client, "MetricsTable", 2, now=clock.now)["requests"]["total"] == requests


def test_counters_survive_an_unreachable_table(table: CountingClient) -> None:
    clock = Clock()
    recorder = MetricsRecorder(table.name, lambda: table, clock=clock)
    # Given the table is unreachable while requests are counted
    table.down = True
    _count(recorder)
    assert recorder.pending() == 1
    # When it is back (after the back-off)
    table.down = False
    clock.now += 5
    _count(recorder)
    # Then nothing was lost
    assert recorder.pending() == 0
    assert _requests(table, recorder, int(clock.now // 60)) == 2


def test_percentiles_are_bucket_upper_bounds() -> None:
    histogram = [0] * len(LATENCY_BOUNDS_MS)
    for latency in [3] * 90 + [40] * 9 + [900]:
        histogram[latency_bucket(latency)] += 1
    assert percentiles(histogram) == {"p50": 5, "p95": 50, "p99": 50}
    assert percentiles([0] * len(LATENCY_BOUNDS_MS)) == {"p50": None, "p95": None, "p99": None}


def test_emf_values_stay_bounded_when_powertools_cannot_flush_them(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given EMF with no namespace: Powertools' flush at 100 values raises, and it kept every value
    from shared.protection import metrics as metrics_module

    monkeypatch.setattr(metrics_module.emf, "namespace", None)
    metrics_module.emf.clear_metrics()
    # When a warm container records many requests
    for _ in range(1_000):
        metrics_module._emit_emf(200, 3.0, rate_limited=False, failed_open=False)
    # Then what it holds stays under Powertools' batch of 100 (before: 1,000 values, and quadratic CPU)
    assert max(len(metric["Value"]) for metric in metrics_module.emf.metric_set.values()) < 100
    metrics_module.emf.clear_metrics()
