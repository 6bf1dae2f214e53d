"""Benchmark the local gateway with wrk: `python -m local.bench.gateway`.

Starts the gateway CLI on the test template's Powertools route (/pt/hello, a no-I/O
APIGatewayRestResolver handler), warms all workers, runs wrk with keep-alive, and compares
latency with the in-process cost of calling the same handler with a built event.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import threading
import timeit
from pathlib import Path
from typing import Any

from infra.sam_app import load_app
from local.gateway.events import build_event
from local.gateway.routing import Router

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "gateway" / "fixtures"
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def start_gateway(template: Path, max_workers: int) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "local.gateway",
            "--template",
            str(template),
            "--port",
            "0",
            "--eager",
            "--no-reload",
            "--max-workers",
            str(max_workers),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    port = 0
    for line in proc.stdout:
        m = re.match(r"Gateway listening on http://[^:]+:(\d+)", line)
        if m:
            port = int(m.group(1))
            break
    if not port:
        proc.kill()
        raise SystemExit("gateway did not start")
    out = proc.stdout
    # Drain the access log like a terminal would.
    threading.Thread(target=lambda: [None for _ in out], daemon=True).start()
    return proc, port


def run_wrk(url: str, connections: int, duration: int, threads: int = 2,
            script: Path | None = None) -> dict[str, float]:
    """req/s, p50/p99 (ms) and non-2xx count of one wrk run (optionally driven by a Lua script)."""
    cmd = ["wrk", f"-t{min(threads, connections)}", f"-c{connections}", f"-d{duration}s", "--latency"]
    cmd += ["-s", str(script), url] if script else [url]
    text = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    res: dict[str, float] = {"rps": float(rps.group(1)) if rps else float("nan")}
    for pct in ("50", "99"):
        m = re.search(rf"\s{pct}(?:\.000)?%\s+([\d.]+)(us|ms|s)", text)
        res[f"p{pct}"] = float(m.group(1)) * _UNITS[m.group(2)] if m else float("nan")
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    res["non2xx"] = float(errors.group(1)) if errors else 0.0
    return res


def handler_cost_ms(template: Path, path: str) -> float:
    """In-process cost of one handler call with a gateway-built event (no IPC, no HTTP)."""
    app = load_app(template)
    match = Router(app.routes).match("GET", path)
    assert match is not None
    spec = app.functions[match.route.function]
    sys.path[:0] = [str(spec.code_dir), *map(str, spec.layer_dirs)]
    module_name, _, fn_name = spec.handler.rpartition(".")
    handler = getattr(__import__(module_name), fn_name)

    class Ctx:
        function_name = spec.name
        function_version = "$LATEST"
        invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{spec.name}"
        memory_limit_in_mb = spec.memory
        aws_request_id = "bench"
        log_group_name = log_stream_name = "bench"

        def get_remaining_time_in_millis(self) -> int:
            return 3000

    headers = [("Host", "127.0.0.1"), ("User-Agent", "wrk")]

    def call() -> Any:
        event = build_event(
            method="GET",
            raw_path=path,
            raw_query="",
            raw_headers=headers,
            body=b"",
            source_ip="127.0.0.1",
            server_port=8080,
            match=match,
            api=app.apis[match.route.api],
        )
        return handler(event, Ctx())

    call()
    n = 5000
    return timeit.timeit(call, number=n) / n * 1000


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--template", type=Path, default=FIXTURES / "template.yaml")
    p.add_argument("--path", default="/pt/hello")
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--duration", type=int, default=10)
    p.add_argument("--max-workers", type=int, default=4)
    args = p.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed: `sudo apt-get update && sudo apt-get install -y wrk`", file=sys.stderr)
        return 2
    cost = handler_cost_ms(args.template, args.path)
    proc, port = start_gateway(args.template, args.max_workers)
    url = f"http://127.0.0.1:{port}{args.path}"
    try:
        run_wrk(url, args.connections, 2)  # warm-up: every worker started and hot
        loaded = run_wrk(url, args.connections, args.duration)
        single = run_wrk(url, 1, max(3, args.duration // 2), threads=1)
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    rows = [
        (f"c={args.connections} keep-alive", loaded),
        ("c=1 keep-alive", single),
    ]
    print(f"\nGateway benchmark: GET {args.path} ({args.max_workers} workers/function)")
    print(f"{'run':<22}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'non-2xx':>10}")
    for name, r in rows:
        print(f"{name:<22}{r['rps']:>10.0f}{r['p50']:>10.3f}{r['p99']:>10.3f}{r['non2xx']:>10.0f}")
    print(f"{'in-process handler':<22}{'':>10}{cost:>10.3f}")
    print(f"overhead p50 (c=1 p50 - handler): {single['p50'] - cost:.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
