"""Per-key throughput of the local engine as DynamoDB meters it, the hot-key report, and injected throttling.

Off unless a HeatMap is attached (`Store.heat`; `python -m local.dynamodb --hot-keys`): the engine then pays
nothing. When on, every single-item request and every Query is metered in capacity units (capacity.py) per
whole second of `clock`, per partition key value (what DynamoDB's partition ceilings apply to: a
KeyRangeThroughputExceeded throttle is about "a specific partition key value") and, in tables with a sort key,
per item as well. `report()` lists the hottest keys: peak and mean units per second and their share of a
partition's ceiling (3,000 RCU / 1,000 WCU, or a linear combination).

Throttling, for tests and the scale simulation: `limit(table, reads=…, writes=…)` rules (per partition key
value, one partition only, or the whole table), and `enforce_aws_limits=True` applies DynamoDB's own partition
ceilings everywhere. A request is refused with DynamoDB's throttling error when what its partition (or table)
consumed in the current second has reached the limit; a refused request consumes nothing (DynamoDB does not
charge throttled requests). The whole-second window is an approximation: DynamoDB admits at a finer grain,
and its burst capacity does not lift the partition ceilings.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from local.dynamodb.capacity import (
    READ_UNITS_PER_PARTITION,
    WRITE_UNITS_PER_PARTITION,
    item_bytes,
    load,
    read_units,
    throttled,
    write_units,
)
from local.dynamodb.table import Table
from local.dynamodb.values import Item, sort_key

PARTITION, TABLE = "partition", "table"


class Meter:
    """One key's capacity units per whole second: the current second, the peaks and the totals."""

    __slots__ = ("peak_load", "peak_reads", "peak_writes", "reads", "requests", "second", "throttled",
                 "total_reads", "total_writes", "writes")

    def __init__(self) -> None:
        self.second = -1
        self.reads = self.writes = 0.0
        self.peak_reads = self.peak_writes = self.peak_load = 0.0
        self.total_reads = self.total_writes = 0.0
        self.requests = self.throttled = 0

    def add(self, second: int, reads: float, writes: float) -> None:
        if second != self.second:
            self._close()
            self.second, self.reads, self.writes = second, 0.0, 0.0
        self.reads += reads
        self.writes += writes
        self.total_reads += reads
        self.total_writes += writes
        self.requests += 1

    def used(self, second: int) -> tuple[float, float]:
        return (self.reads, self.writes) if second == self.second else (0.0, 0.0)

    def _close(self) -> None:
        self.peak_reads = max(self.peak_reads, self.reads)
        self.peak_writes = max(self.peak_writes, self.writes)
        self.peak_load = max(self.peak_load, load(self.reads, self.writes))

    def row(self, table: str, key: str, span: int) -> dict[str, Any]:
        self._close()
        return {"table": table, "key": key, "peak_wcu": self.peak_writes, "peak_rcu": self.peak_reads,
                "mean_wcu": round(self.total_writes / span, 1), "mean_rcu": round(self.total_reads / span, 1),
                "peak_load": round(self.peak_load, 3), "requests": self.requests, "throttled": self.throttled}


@dataclass(frozen=True)
class Rule:
    """Refuse reads (or writes) of `table` once `reads` (`writes`) units were consumed in the current second,
    per partition key value (scope "partition"; `partition` narrows it to one) or for the whole table."""

    table: str
    reads: float | None = None
    writes: float | None = None
    partition: str | None = None
    scope: str = PARTITION


class HeatMap:
    def __init__(self, clock: Callable[[], float] = time.time, *, enforce_aws_limits: bool = False) -> None:
        self.clock = clock
        self.enforce_aws_limits = enforce_aws_limits
        self.rules: list[Rule] = []
        self.partitions: dict[tuple[str, str], Meter] = {}
        self.items: dict[tuple[str, str], Meter] = {}
        self.tables: dict[str, Meter] = {}
        self._span: tuple[int, int] | None = None

    def limit(self, table: str, *, reads: float | None = None, writes: float | None = None,
              partition: str | None = None, scope: str = PARTITION) -> None:
        if scope not in (PARTITION, TABLE):
            raise ValueError(f"scope must be {PARTITION!r} or {TABLE!r}")
        self.rules.append(Rule(table, reads, writes, partition, scope))

    def clear(self) -> None:
        """Forget every rule and every measurement."""
        self.rules.clear()
        self.partitions.clear()
        self.items.clear()
        self.tables.clear()
        self._span = None

    # -- the engine's two calls per request ----------------------------------------------------------
    def admit(self, table: str, on_demand: bool, partition: str, *, write: bool) -> None:
        """Raise DynamoDB's throttling error if this request's partition or table is over a limit now."""
        if not self.rules and not self.enforce_aws_limits:
            return
        second = int(self.clock())
        meter = self.partitions.get((table, partition))
        if self.enforce_aws_limits and meter is not None and load(*meter.used(second)) >= 1.0:
            self._refuse(table, partition, on_demand, write=write, scope=PARTITION)
        for rule in self.rules:
            ceiling = rule.writes if write else rule.reads
            if rule.table != table or ceiling is None or rule.partition not in (None, partition):
                continue
            counted = self.tables.get(table) if rule.scope == TABLE else meter
            used = counted.used(second)[1 if write else 0] if counted is not None else 0.0
            if used >= ceiling:
                self._refuse(table, partition, on_demand, write=write, scope=rule.scope)

    def record(self, table: str, partition: str, sort: str | None = None, *, reads: float = 0.0,
               writes: float = 0.0) -> None:
        second = int(self.clock())
        self._span = (second, second) if self._span is None else (self._span[0], max(self._span[1], second))
        self.partitions.setdefault((table, partition), Meter()).add(second, reads, writes)
        self.tables.setdefault(table, Meter()).add(second, reads, writes)
        if sort is not None:
            self.items.setdefault((table, f"{partition} / {sort}"), Meter()).add(second, reads, writes)

    # -- the same, in the engine's own terms (Store calls these) ------------------------------------------
    def admit_key(self, table: Table, key: Item, *, write: bool) -> None:
        self.admit(table.name, table.billing_mode == "PAY_PER_REQUEST", _text(key, table.hash_key), write=write)

    def read_item(self, table: Table, key: Item, item: Item | None, *, consistent: bool) -> None:
        self.record(table.name, *_key_texts(table, key), reads=read_units(item_bytes(item), consistent=consistent))

    def wrote_item(self, table: Table, key: Item, *images: Item | None) -> None:
        """A write, metered on the larger of the item's images (before, after)."""
        self.record(table.name, *_key_texts(table, key), writes=write_units(*images))

    def queried(self, table: Table, partition: object, items: Iterable[Item], *, consistent: bool) -> None:
        size = sum(item_bytes(item) for item in items)
        self.record(table.name, str(partition), reads=read_units(size, consistent=consistent))

    def _refuse(self, table: str, partition: str, on_demand: bool, *, write: bool, scope: str) -> None:
        self.partitions.setdefault((table, partition), Meter()).throttled += 1
        self.tables.setdefault(table, Meter()).throttled += 1
        raise throttled(table, on_demand, write=write, scope=scope)

    def throttled(self, table: str) -> int:
        """How many requests to `table` were refused."""
        meter = self.tables.get(table)
        return meter.throttled if meter is not None else 0

    # -- the report ------------------------------------------------------------------------------------
    def report(self, top: int = 10) -> dict[str, Any]:
        """The hottest partition key values and items, by their busiest second's share of a partition."""
        span = self._span[1] - self._span[0] + 1 if self._span else 1
        partitions = _rows(self.partitions.items(), span)
        items = _rows(self.items.items(), span)
        return {
            "seconds": span,
            "ceilings": {"rcu_per_second": READ_UNITS_PER_PARTITION, "wcu_per_second": WRITE_UNITS_PER_PARTITION},
            "partition_keys": partitions[:top], "items": items[:top],
            "over_half": sum(row["peak_load"] > 0.5 for row in partitions + items),
            "over_limit": sum(row["peak_load"] > 1.0 for row in partitions + items),
            "throttled": sum(meter.throttled for meter in self.partitions.values()),
            "tables": {name: meter.row(name, "*", span) for name, meter in sorted(self.tables.items())},
        }


def _text(key: Item, name: str) -> str:
    return str(sort_key(key[name]))


def _key_texts(table: Table, key: Item) -> tuple[str, str | None]:
    return _text(key, table.hash_key), _text(key, table.range_key) if table.range_key else None


def _rows(meters: Iterable[tuple[tuple[str, str], Meter]], span: int) -> list[dict[str, Any]]:
    rows = [meter.row(table, key, span) for (table, key), meter in meters]
    return sorted(rows, key=lambda row: (-row["peak_load"], -row["requests"], row["table"], row["key"]))


def verdict(peak_load: float) -> str:
    if peak_load > 1.0:
        return "AWS would throttle"
    return "hot (> 50 %)" if peak_load > 0.5 else "ok"


def format_report(report: dict[str, Any], title: str = "Hot keys") -> str:
    """The report as Markdown: one table of partition key values, one of items (tables with a sort key)."""
    lines = [f"### {title}", "",
             f"{report['seconds']} s measured; a partition serves {report['ceilings']['rcu_per_second']:,.0f} RCU/s "
             f"or {report['ceilings']['wcu_per_second']:,.0f} WCU/s (or a linear combination). "
             f"Keys above 50 %: {report['over_half']}; above 100 %: {report['over_limit']}; "
             f"requests throttled: {report['throttled']}.", ""]
    for heading, rows in (("partition key value", report["partition_keys"]), ("item (pk / sk)", report["items"])):
        if not rows:
            continue
        lines += [f"| table | {heading} | peak WCU/s | peak RCU/s | mean WCU/s | mean RCU/s | peak load | verdict |",
                  "|---|---|---|---|---|---|---|---|"]
        lines += [f"| {row['table']} | `{_short(row['key'])}` | {row['peak_wcu']:,.0f} | {row['peak_rcu']:,.1f} | "
                  f"{row['mean_wcu']:,.1f} | {row['mean_rcu']:,.1f} | {row['peak_load']:.1%} | "
                  f"{verdict(row['peak_load'])} |" for row in rows]
        lines.append("")
    return "\n".join(lines)


def _short(key: str, width: int = 60) -> str:
    key = key.replace("|", "\\|")
    return key if len(key) <= width else key[: width - 1] + "…"
