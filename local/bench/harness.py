"""Shared pieces of the benchmarks: the project's stack, JSON over HTTP, seeding users, wrk runs."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from local.postgres import free_port
from local.stack import Stack, StackConfig

WRK_SCRIPT = Path(__file__).with_name("_wrk") / "scenario.lua"
# Both systems run with limits no benchmark can reach, so the limiter runs but never rejects.
HIGH_LIMITS = {"RATE_LIMIT_AUTH": "1000000/60", "RATE_LIMIT_ORDER_CREATE": "1000000/60",
               "RATE_LIMIT_DEFAULT": "1000000/60"}
PASSWORD = "bench-password-1"
ITEMS = [{"product": "Widget", "quantity": 2, "price": 19.99}, {"product": "Gadget", "quantity": 1, "price": 5.5}]


def start_project(extra_env: dict[str, str], log: IO[str], max_workers: int | None = None) -> tuple[Stack, Path]:
    """A private stack (own Postgres, DynamoDB emulation, gateway on a free port) in a temp state dir."""
    if max_workers is not None:
        os.environ["GATEWAY_MAX_WORKERS"] = str(max_workers)  # read by the gateway child
    os.environ.setdefault("GATEWAY_EAGER", "1")
    state = Path(tempfile.mkdtemp(prefix="uoapi-bench-", dir="/tmp"))
    state.chmod(0o755)
    config = StackConfig(state_dir=state, port=0, pg_port=free_port(), dynamodb_port=free_port(),
                         extra_env={**HIGH_LIMITS, "POWERTOOLS_METRICS_DISABLED": "true", **extra_env}, log=log)
    stack = Stack(config)
    stack.start()
    return stack, state


def stop_project(stack: Stack, state: Path) -> None:
    stack.stop()
    shutil.rmtree(state, ignore_errors=True)


def call(base: str, method: str, path: str, body: Any = None, token: str | None = None, *,
         timeout: float = 30) -> tuple[int, dict[str, Any]]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


@dataclass
class Seeded:
    email: str
    token: str
    order_id: str


def seed_user(base: str, orders: int, label: str) -> Seeded:
    """Register and log in a fresh user, then give it `orders` orders."""
    email = f"bench-{label}-{uuid.uuid4().hex[:10]}@example.com"
    status, _ = call(base, "POST", "/v1/users/register", {"email": email, "password": PASSWORD, "name": label})
    if status != 201:
        raise RuntimeError(f"register on {base} answered {status}")
    status, body = call(base, "POST", "/v1/users/login", {"email": email, "password": PASSWORD})
    if status != 200:
        raise RuntimeError(f"login on {base} answered {status}: {body}")
    token = body["data"]["token"]
    order_id = ""
    for _ in range(orders):
        status, body = call(base, "POST", "/v1/orders", {"items": ITEMS}, token)
        if status != 201:
            raise RuntimeError(f"create order on {base} answered {status}: {body}")
        order_id = body["data"]["order"]["id"]
    return Seeded(email, token, order_id)


@dataclass
class WrkResult:
    requests: int
    rps: float
    p50: float
    p95: float
    p99: float
    non2xx: int
    s5xx: int
    socket_errors: int
    cpu_ms_per_request: float = 0.0  # machine busy time minus wrk's own, per request: the servers' CPU

    @property
    def errors(self) -> int:
        return self.non2xx + self.socket_errors


def machine_busy_seconds() -> float:
    """CPU time all cores spent on anything but idle and I/O wait since boot (/proc/stat)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle, iowait = fields[3], fields[4]
    return (sum(fields[:8]) - idle - iowait) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def write_requests(lines: list[tuple[str, str, Any]]) -> Path:
    """The request file scenario.lua replays: METHOD<TAB>PATH<TAB>compact JSON body."""
    handle, name = tempfile.mkstemp(prefix="wrk-", suffix=".reqs")
    with os.fdopen(handle, "w") as out:
        for method, path, body in lines:
            payload = json.dumps(body, separators=(",", ":")) if body is not None else ""
            out.write(f"{method}\t{path}\t{payload}\n")
    return Path(name)


def run_wrk(base: str, requests: Path, token: str | None, connections: int, seconds: int) -> WrkResult:
    threads = max(1, min(2, connections))
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
               "-s", str(WRK_SCRIPT), base, "--", str(requests), token or "-"]
    busy, wrk_cpu = machine_busy_seconds(), children_cpu_seconds()
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    busy, wrk_cpu = machine_busy_seconds() - busy, children_cpu_seconds() - wrk_cpu
    line = next(row for row in output.splitlines() if row.startswith("RESULT "))
    fields = line.split()[1:]
    answered = int(fields[0])
    cpu_ms = (busy - wrk_cpu) * 1000 / answered if answered else 0.0
    return WrkResult(answered, float(fields[1]), float(fields[2]), float(fields[3]), float(fields[4]),
                     int(fields[5]), int(fields[6]), int(fields[7]), round(cpu_ms, 3))


def worker_pids(database_url: str, function: str) -> list[int]:
    """Gateway workers of one function of one stack: their environment names both."""
    wanted = (f"AWS_LAMBDA_FUNCTION_NAME={function}".encode(), f"DATABASE_URL={database_url}".encode())
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            env = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if all(item in env for item in wanted):
            pids.append(int(entry.name))
    return pids


def rss_mb(pid: int) -> float:
    """Resident set size of a process in MiB (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def parent_pid(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rpartition(")")[2].split()[1])
