"""Cold start per function: fresh worker process to first response, with an import-time breakdown.

1. Import breakdown: `python -X importtime -c "import <handler module>"` with the function's import path
   and template environment (as the gateway's worker has), best of --repeat runs; self time summed
   per top-level package, so the rows add up to the total.
2. Through the gateway (non-eager: a request with no idle worker spawns one): for each function, kill
   its workers (SIGKILL), time the next request (cold = interpreter start + imports + init + the request
   itself incl. first DB connection / first DynamoDB connection), then the warm median of 10 requests.
3. As Lambda runs it, when `sam build` output exists: python3.12 with only the built function, the
   built (pre-compiled) layer and boto3 on its path and no bytecode writes (/opt is read-only), imports
   the handler and answers one event against the same stack; process start to answer.

    python -m local.bench.coldstart [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import requests

from infra.deploy.check_build import built_functions, runtime_boto_dir
from infra.sam_app import load_app
from local.bench.harness import seed_user, start_project, stop_project, worker_pids
from local.gateway.workers import function_env
from local.sample_events import EVENTS_DIR, PATH_VALUES, TOKEN_PLACEHOLDER
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


BUILD_DIR = Path(__file__).resolve().parents[2] / ".aws-sam" / "build"
EVENTS = {"UsersFunction": "GetProfile", "OrdersFunction": "GetOrder", "MonitoringFunction": "Health"}
# What Lambda adds to a traced function's environment (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime).
ACTIVE_TRACING_ENV = {"AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000", "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
                      "_X_AMZN_TRACE_ID": "Root=1-674a1b2c-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1"}
_INVOKE = """
import json, sys, time
started = time.perf_counter()
import importlib
handler = importlib.import_module(sys.argv[1]).lambda_handler
imported = time.perf_counter()
class Context:
    function_name, memory_limit_in_mb, aws_request_id = "cold", 512, "cold-start"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:cold"
result = handler(json.loads(sys.argv[2]), Context())
done = time.perf_counter()
print("COLD", json.dumps({"import": (imported - started) * 1000, "first_call": (done - imported) * 1000,
                          "answered_at": time.time(), "status": result["statusCode"]}))
"""


def built_cold_starts(stack: Stack, python: str, repeat: int,
                      tracing: bool = False) -> dict[str, list[dict[str, float]]]:
    """Per function: runs of {import, first_call, total} ms from the sam-built artefacts under python3.12."""
    user = seed_user(stack.base_url, orders=1, label="built")
    app = load_app(TEMPLATE)
    layer = BUILD_DIR / "SharedLayer" / "python"
    results: dict[str, list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        boto = runtime_boto_dir(Path(scratch) / "runtime")
        for function, (code, handler) in built_functions(BUILD_DIR).items():
            if function not in EVENTS:
                continue
            event = sample_event(function, user.token, user.order_id)
            env = function_env(app.functions[function], stack.function_env(), "us-east-1")
            env.pop("_GATEWAY_SYS_PATH")
            env["PYTHONPATH"] = os.pathsep.join(map(str, (code, layer, boto)))
            if tracing:
                env.update(ACTIVE_TRACING_ENV, LAMBDA_TASK_ROOT=str(code))
            runs = []
            for _ in range(repeat):
                started = time.time()  # wall clock: compared with the child's, at its answer (not its exit)
                output = subprocess.run([python, "-S", "-c", _INVOKE, handler.rpartition(".")[0], event], env=env,
                                        capture_output=True, text=True, check=True).stdout
                line = json.loads(next(row for row in output.splitlines() if row.startswith("COLD "))[5:])
                assert line["status"] == 200, (function, output[-2000:])
                runs.append({"import": line["import"], "first_call": line["first_call"],
                             "total": (line["answered_at"] - started) * 1000})
            results[function] = runs
    return results


def sample_event(function: str, token: str, order_id: str) -> str:
    """The committed sample event of the route (events/), with a real token and order id."""
    text = (EVENTS_DIR / function / f"{EVENTS[function]}.json").read_text()
    return text.replace(TOKEN_PLACEHOLDER, token).replace(PATH_VALUES["order_id"], order_id)


def print_built(results: dict[str, list[dict[str, float]]], label: str) -> None:
    print(f"\n| function (sam build, python3.12, {label}) | import ms | first call ms | "
          "start to answer ms: median (min-max) |")
    print("|---|---|---|---|")
    for function, runs in results.items():
        totals = [run["total"] for run in runs]
        print(f"| {function} | {statistics.median(r['import'] for r in runs):.0f} | "
              f"{statistics.median(r['first_call'] for r in runs):.0f} | "
              f"{statistics.median(totals):.0f} ({min(totals):.0f}-{max(totals):.0f}) |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--top", type=int, default=8)
    parser.add_argument("--tracing", action="store_true", help="also measure the built functions with active tracing")
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
    python312 = os.environ.get("PYTHON312") or shutil.which("python3.12") or ""
    built: dict[str, dict[str, list[dict[str, float]]]] = {}
    try:
        colds = gateway_cold_starts(stack, args.repeat)
        if python312 and BUILD_DIR.exists():
            built["tracing off"] = built_cold_starts(stack, python312, args.repeat)
            if args.tracing:
                built["Tracer on (Tracing: Active)"] = built_cold_starts(stack, python312, args.repeat, tracing=True)
    finally:
        stop_project(stack, state)
    print("\n| function (route) | cold first response ms: median (min-max) | warm median ms | cold - warm |")
    print("|---|---|---|---|")
    for function, (runs, warm) in colds.items():
        median = statistics.median(runs)
        print(f"| {function} ({TARGETS[function]}) | {median:.0f} ({min(runs):.0f}-{max(runs):.0f}) | "
              f"{warm:.0f} | {median - warm:.0f} |")
    for label, results in built.items():
        print_built(results, label)
    if not built:
        print("\n(no sam build output or python3.12: run `make sam-build` for the Lambda-like measurement)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
