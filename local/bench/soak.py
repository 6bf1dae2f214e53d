"""`make soak`: steady mixed load for SOAK_SECONDS (default 600), watching for leaks and 5xx.

Starts the local stack, drives the `mix` scenario of `make bench` with wrk in chunks of --chunk
seconds at --connections, and every --sample seconds records the RSS of the gateway, of each
function's workers and of the DynamoDB emulation, and the number of Postgres connections
(pg_stat_activity, client backends). At the end: a table over time, and for each series whether it
stayed flat (last third vs middle third within 10 % and 10 MiB, or 2 connections), and the 5xx count.
Exit status 1 if anything grew or any 5xx was seen.

    SOAK_SECONDS=600 python -m local.bench.soak [--connections 8]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field

import sqlalchemy as sa

from local.bench.harness import (
    WrkResult,
    parent_pid,
    rss_mb,
    seed_user,
    start_project,
    stop_project,
    worker_pids,
)
from local.bench.mix import Side
from local.stack import Stack

FUNCTIONS = ("UsersFunction", "OrdersFunction", "MonitoringFunction")


@dataclass
class Samples:
    times: list[float] = field(default_factory=list)
    series: dict[str, list[float]] = field(default_factory=dict)

    def add(self, at: float, values: dict[str, float]) -> None:
        self.times.append(at)
        for name, value in values.items():
            self.series.setdefault(name, []).append(value)


def sample(stack: Stack, engine: sa.Engine) -> dict[str, float]:
    values: dict[str, float] = {}
    gateway = 0
    for function in FUNCTIONS:
        pids = worker_pids(stack.database_url, function)
        values[f"{function} workers"] = len(pids)
        values[f"{function} RSS MiB (sum)"] = sum(rss_mb(pid) for pid in pids)
        gateway = gateway or (parent_pid(pids[0]) if pids else 0)
    values["gateway RSS MiB"] = rss_mb(gateway) if gateway else 0.0
    dynamodb = [pid for pid in _children(os.getpid()) if b"local.dynamodb" in _cmdline(pid)]
    values["dynamodb emulation RSS MiB"] = rss_mb(dynamodb[0]) if dynamodb else 0.0
    with engine.connect() as connection:
        values["postgres connections"] = connection.execute(sa.text(
            "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'")).scalar_one() - 1
    return values


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read()
    except OSError:
        return b""


def _children(pid: int) -> list[int]:
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if parent_pid(int(name)) == pid:
                    found.append(int(name))
            except (OSError, ValueError, IndexError):
                continue
    return found


def flat(name: str, values: list[float]) -> tuple[bool, str]:
    """Last third vs middle third (the first third is warm-up)."""
    third = max(1, len(values) // 3)
    middle, last = statistics.mean(values[third:2 * third] or values), statistics.mean(values[-third:])
    growth = last - middle
    counted = "connections" in name or "workers" in name
    ok = growth <= 2 if counted else growth <= max(10.0, 0.10 * middle)
    return ok, f"{middle:.1f} -> {last:.1f} ({growth:+.1f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("SOAK_SECONDS", "600")))
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--chunk", type=int, default=30)
    parser.add_argument("--sample", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2, help="GATEWAY_MAX_WORKERS (as make bench)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the cleanup on `kill`, too
    log = tempfile.NamedTemporaryFile("w", prefix="soak-", suffix=".log", delete=False)  # noqa: SIM115
    print(f"soak: {args.seconds} s at c={args.connections} (stack log: {log.name})", flush=True)
    stack, state = start_project({}, log, max_workers=args.workers)
    engine = sa.create_engine(stack.database_url, pool_size=1)
    samples, chunks = Samples(), []
    try:
        side = Side("project", stack.base_url)
        seed_user(stack.base_url, orders=0, label="soak-probe")
        stop = threading.Event()
        started = time.monotonic()

        def sampler() -> None:
            while not stop.wait(args.sample):
                samples.add(time.monotonic() - started, sample(stack, engine))

        samples.add(0.0, sample(stack, engine))
        thread = threading.Thread(target=sampler, daemon=True)
        thread.start()
        while time.monotonic() - started < args.seconds:
            left = args.seconds - (time.monotonic() - started)
            chunk = side.run("mix", args.connections, max(1, min(args.chunk, int(left))))
            chunks.append(chunk)
            print(f"t={time.monotonic() - started:5.0f}s {chunk.rps:7.1f} req/s p50 {chunk.p50:6.1f} ms "
                  f"p99 {chunk.p99:7.1f} ms non-2xx {chunk.non2xx} 5xx {chunk.s5xx}", flush=True)
        stop.set()
        thread.join()
        samples.add(time.monotonic() - started, sample(stack, engine))
    finally:
        engine.dispose()
        stop_project(stack, state)
    return report(samples, chunks)


def report(samples: Samples, chunks: list[WrkResult]) -> int:
    print("\n| series | middle third -> last third (change) | flat |\n|---|---|---|")
    all_flat = True
    for name, values in samples.series.items():
        ok, text = flat(name, values)
        all_flat &= ok
        print(f"| {name} | {text} | {'yes' if ok else 'NO'} |")
    total = sum(c.requests for c in chunks)
    fives = sum(c.s5xx for c in chunks)
    non2xx = sum(c.non2xx for c in chunks)
    rps = [c.rps for c in chunks]
    p99 = [c.p99 for c in chunks]
    print(f"\nrequests {total}, 5xx {fives}, non-2xx {non2xx}, socket errors {sum(c.socket_errors for c in chunks)}")
    if rps:
        print(f"req/s per chunk: first {rps[0]:.1f}, last {rps[-1]:.1f}, min {min(rps):.1f}; "
              f"p99 ms first {p99[0]:.1f}, last {p99[-1]:.1f}, max {max(p99):.1f}")
    verdict = all_flat and fives == 0
    print(f"verdict: {'PASS' if verdict else 'FAIL'} (flat: {all_flat}, zero 5xx: {fives == 0})")
    return 0 if verdict else 1


if __name__ == "__main__":
    sys.exit(main())
