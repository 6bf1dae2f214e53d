"""Cold start per function: fresh worker process to first response, with an import-time breakdown.

1. Import breakdown: `python -X importtime -c "import <handler module>"` with the function's import path
   and template environment (as the gateway's worker has), best of --repeat runs; self time summed
   per top-level package, so the rows add up to the total.
2. Through the gateway (non-eager: a request with no idle worker spawns one): for each function, kill
   its workers (SIGKILL), time the next request (cold = interpreter start + imports + init + the request
   itself incl. first DB connection / first boto3 client), then the warm median of 10 requests.

    python -m local.bench.coldstart [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter

import requests

from local.bench.harness import seed_user, start_project, stop_project, worker_pids
from local.gateway.template import load_app
from local.gateway.workers import function_env
from local.stack import TEMPLATE, Stack

_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")
TARGETS = {"UsersFunction": "/v1/users/profile", "OrdersFunction": "/v1/orders/{order}",
           "MonitoringFunction": "/health"}


def import_breakdown(function: str, repeat: int) -> tuple[float, Counter[str]]:
    """(total ms, self µs per top-level package) of importing the handler module, best run."""
    app = load_app(TEMPLATE)
    spec = app.functions[function]
    env = function_env(spec, {}, "us-east-1")
    env["PYTHONPATH"] = env.pop("_GATEWAY_SYS_PATH")
    module = spec.handler.rpartition(".")[0]
    best: tuple[float, Counter[str]] | None = None
    for _ in range(repeat):
        result = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"], env=env,
                                capture_output=True, text=True, check=True)
        per_package: Counter[str] = Counter()
        total_us = 0.0
        for match in _LINE.finditer(result.stderr):
            self_us, package = int(match.group(1)), match.group(4).split(".")[0]
            per_package[package] += self_us
            total_us += self_us
        if best is None or total_us / 1000 < best[0]:
            best = (total_us / 1000, per_package)
    assert best is not None
    return best


def interpreter_start_ms(repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        runs.append((time.perf_counter() - started) * 1000)
    return min(runs)


def gateway_cold_starts(stack: Stack, repeat: int) -> dict[str, tuple[list[float], float]]:
    """Per function: cold first-response times (ms) and the warm median (ms)."""
    user = seed_user(stack.base_url, orders=1, label="cold")
    headers = {"Authorization": f"Bearer {user.token}"}
    results = {}
    for function, template in TARGETS.items():
        url = stack.base_url + template.format(order=user.order_id)
        colds = []
        for _ in range(repeat):
            for pid in worker_pids(stack.database_url, function):
                os.kill(pid, signal.SIGKILL)
            time.sleep(0.5)  # let the gateway notice and retire them
            started = time.perf_counter()
            response = requests.get(url, headers=headers, timeout=30)
            colds.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.text
        warm = []
        for _ in range(10):
            started = time.perf_counter()
            requests.get(url, headers=headers, timeout=30)
            warm.append((time.perf_counter() - started) * 1000)
        results[function] = (colds, statistics.median(warm))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--top", type=int, default=8)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    print(f"interpreter start (python -c pass), best of {args.repeat}: {interpreter_start_ms(args.repeat):.0f} ms")
    print("\n| function | handler import ms | top packages (self ms) |\n|---|---|---|")
    for function in TARGETS:
        total, packages = import_breakdown(function, args.repeat)
        top = ", ".join(f"{name} {us / 1000:.0f}" for name, us in packages.most_common(args.top))
        print(f"| {function} | {total:.0f} | {top} |")
    os.environ["GATEWAY_EAGER"] = "0"
    log = tempfile.NamedTemporaryFile("w", prefix="bench-cold-", suffix=".log", delete=False)  # noqa: SIM115
    stack, state = start_project({}, log)
    try:
        colds = gateway_cold_starts(stack, args.repeat)
    finally:
        stop_project(stack, state)
    print("\n| function (route) | cold first response ms: median (min-max) | warm median ms | cold - warm |")
    print("|---|---|---|---|")
    for function, (runs, warm) in colds.items():
        median = statistics.median(runs)
        print(f"| {function} ({TARGETS[function]}) | {median:.0f} ({min(runs):.0f}-{max(runs):.0f}) | "
              f"{warm:.0f} | {median - warm:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
