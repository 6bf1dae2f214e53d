"""`make bench`: this project and the classic Flask design side by side, same scenarios, one run.

Starts the local stack (Postgres, DynamoDB emulation, gateway) and seed_flask, seeds the same users and
orders on both, then drives each scenario with wrk at each concurrency, alternating systems, and
prints req/s, p50/p95/p99 (ms) and errors with the ratio project/baseline. The limiter and the
breakers are active on both sides; RATE_LIMIT_* are raised to 1000000/60 on both so the benchmark
users are never rejected. bcrypt cost is each system's default (12) on both sides.

    python -m local.bench.mix [--seconds 8] [--concurrency 1,8,16,32] [--scenarios a,b] [--workers N] [--rounds N]

On this 2-vCPU VM one 8-15 s cell can swing by a third from run to run; `--rounds N` measures every
cell N times (alternating which side goes first) and reports the round with the median ratio.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from local.bench import baseline as seed_flask
from local.bench.harness import (
    HIGH_LIMITS,
    ITEMS,
    PASSWORD,
    Seeded,
    WrkResult,
    call,
    run_wrk,
    seed_user,
    start_project,
    stop_project,
    write_requests,
)

READ_SCENARIOS = ("profile", "list_orders", "get_order", "my_stats")
ALL_SCENARIOS = ("login", *READ_SCENARIOS, "create_order", "mix")
Request = tuple[str, str, Any]


class Side:
    """One system under test with its seeded users and the request files of each scenario."""

    def __init__(self, name: str, base: str) -> None:
        self.name, self.base = name, base
        self.reader = seed_user(base, orders=20, label="reader")  # list returns exactly 20 rows
        self.writer = seed_user(base, orders=1, label="writer")   # create_order grows only this one
        self.mixer = seed_user(base, orders=20, label="mixer")
        self.requests = {name: write_requests(lines) for name, (lines, _) in self.scenarios().items()}

    def scenarios(self) -> dict[str, tuple[list[Request], Seeded | None]]:
        reader, mixer = self.reader, self.mixer
        login = ("POST", "/v1/users/login", {"email": reader.email, "password": PASSWORD})
        create = ("POST", "/v1/orders", {"items": ITEMS})

        def reads(user: Seeded) -> list[Request]:
            return [("GET", "/v1/users/profile", None), ("GET", "/v1/orders?limit=20", None),
                    ("GET", f"/v1/orders/{user.order_id}", None), ("GET", "/v1/orders/my-stats", None)]

        # A session-like mix: 1 login : 1 create : 18 reads (profile, list, get, my-stats).
        mix = [login, create, *(reads(mixer) * 5)[:18]]
        return {
            "login": ([login], None),
            "profile": ([reads(reader)[0]], reader),
            "list_orders": ([reads(reader)[1]], reader),
            "get_order": ([reads(reader)[2]], reader),
            "my_stats": ([reads(reader)[3]], reader),
            "create_order": ([create], self.writer),
            "mix": (mix, mixer),
        }

    def run(self, scenario: str, connections: int, seconds: int) -> WrkResult:
        user = self.scenarios()[scenario][1]
        result = run_wrk(self.base, self.requests[scenario], user.token if user else None, connections, seconds)
        self.drain()
        return result

    def drain(self, limit_seconds: float = 90) -> None:
        """Wait until requests wrk left queued (e.g. slow bcrypt logins) are done: /health answers fast twice."""
        deadline, fast = time.monotonic() + limit_seconds, 0
        while fast < 2 and time.monotonic() < deadline:
            started = time.monotonic()
            call(self.base, "GET", "/health", timeout=limit_seconds)
            fast = fast + 1 if time.monotonic() - started < 0.2 else 0


def median_round(rounds: list[dict[str, WrkResult]]) -> dict[str, WrkResult]:
    """The round whose project/baseline ratio is the median (the lower middle for an even count)."""
    ranked = sorted(rounds, key=lambda pair: pair["project"].rps / (pair["baseline"].rps or 1))
    return ranked[(len(ranked) - 1) // 2]


def ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}x" if theirs else "n/a"


def print_table(results: dict[str, dict[int, dict[str, WrkResult]]], out: Callable[[str], None]) -> None:
    out("| scenario | c | project req/s | baseline req/s | ratio | project p50/p95/p99 ms | "
        "baseline p50/p95/p99 ms | CPU ms/request (project/baseline) | errors (project/baseline) |")
    out("|---|---|---|---|---|---|---|---|---|")
    for scenario, by_c in results.items():
        for c, pair in by_c.items():
            p, b = pair["project"], pair["baseline"]
            out(f"| {scenario} | {c} | {p.rps:.0f} | {b.rps:.0f} | {ratio(p.rps, b.rps)} | "
                f"{p.p50:.1f} / {p.p95:.1f} / {p.p99:.1f} | {b.p50:.1f} / {b.p95:.1f} / {b.p99:.1f} | "
                f"{p.cpu_ms_per_request:.2f} / {b.cpu_ms_per_request:.2f} | {p.errors} / {b.errors} |")


def check_targets(results: dict[str, dict[int, dict[str, WrkResult]]], out: Callable[[str], None]) -> bool:
    """Target: every read scenario at c=16 ≥ 1.5x the baseline's req/s."""
    ok = True
    for scenario in READ_SCENARIOS:
        pair = results.get(scenario, {}).get(16)
        if pair is None:
            continue
        value = pair["project"].rps / pair["baseline"].rps if pair["baseline"].rps else 0.0
        met = value >= 1.5
        ok &= met
        out(f"target {scenario} c=16: {value:.2f}x (>= 1.5x) {'MET' if met else 'MISSED'}")
    return ok


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=8, help="wrk duration per scenario, concurrency and side")
    parser.add_argument("--concurrency", default="1,8,16,32")
    parser.add_argument("--scenarios", default=",".join(ALL_SCENARIOS))
    parser.add_argument("--workers", type=int, default=2,
                        help="GATEWAY_MAX_WORKERS for the project (2 measured best on 2 cores; 1 and 4 slower)")
    parser.add_argument("--rounds", type=int, default=1, help="measurements per cell; the median round is kept")
    parser.add_argument("--baseline-dir", type=Path, default=Path("/tmp/seed_flask"))
    parser.add_argument("--json", type=Path, default=Path(".state/bench-mix.json"))
    parser.add_argument("--log", type=Path, default=Path("/tmp/bench-mix.log"))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop both systems on `kill`, too
    if shutil.which("wrk") is None:
        print("wrk is not installed: `apt-get install -y wrk`", file=sys.stderr)
        return 2
    concurrency = [int(c) for c in args.concurrency.split(",")]
    scenarios = [s for s in args.scenarios.split(",") if s]
    log = args.log.open("w")
    print(f"starting the project stack and seed_flask (logs: {args.log})…", flush=True)
    stack, state = start_project({}, log, max_workers=args.workers)
    classic = None
    try:
        classic = seed_flask.start(args.baseline_dir, HIGH_LIMITS, log)
        sides = [Side("project", stack.base_url), Side("baseline", classic.base_url)]
        for side in sides:  # warm-up: every worker/thread started and every code path imported
            side.run("mix", max(concurrency), 3)
        results: dict[str, dict[int, dict[str, WrkResult]]] = {}
        for scenario in scenarios:
            for c in concurrency:
                rounds = [{side.name: side.run(scenario, c, args.seconds)
                           for side in (sides if index % 2 == 0 else sides[::-1])} for index in range(args.rounds)]
                pair = results.setdefault(scenario, {})[c] = median_round(rounds)
                p, b = pair["project"], pair["baseline"]
                every = ", ".join(ratio(r["project"].rps, r["baseline"].rps) for r in rounds)
                print(f"{scenario:<13} c={c:<3} project {p.rps:8.1f} req/s  baseline {b.rps:8.1f} req/s  "
                      f"{ratio(p.rps, b.rps):>6}  CPU ms/req {p.cpu_ms_per_request:.2f}/{b.cpu_ms_per_request:.2f}  "
                      f"errors {p.errors}/{b.errors}  (rounds: {every})", flush=True)
    finally:
        if classic is not None:
            classic.stop()
        stop_project(stack, state)
    print()
    print_table(results, print)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({s: {c: {k: asdict(v) for k, v in pair.items()} for c, pair in by_c.items()}
                                     for s, by_c in results.items()}, indent=1))
    check_targets(results, print)
    return 0


if __name__ == "__main__":
    sys.exit(main())
