"""Worker processes: isolation, warmth, concurrency, timeouts, crashes, reload, logs."""

from __future__ import annotations

import json
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from local.gateway.server import GatewayHandle

from .conftest import FIXTURES, Sink, start


def wait_for(predicate, timeout: float = 15.0) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_function_env_context_and_import_path(http: requests.Session, gw: GatewayHandle) -> None:
    b = http.get(gw.url + "/echo").json()
    env, ctx = b["env"], b["context"]
    assert b["pid"] != os.getpid()  # own process
    assert b["layer"] == "from-layer"  # layer folder on sys.path
    assert b["cwd"] == str((FIXTURES / "functions").resolve())
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "EchoFunction"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"
    assert env["_HANDLER"] == "echo.handler"
    assert env["AWS_REGION"] and env["AWS_DEFAULT_REGION"] == env["AWS_REGION"]
    assert env["AWS_ACCESS_KEY_ID"] and env["AWS_SECRET_ACCESS_KEY"]
    assert env["PATH"] and env["ORDERS_TABLE"] == "orders-dev"
    assert env["_GATEWAY_IPC_FD"] is None  # internals not leaked to the function
    assert ctx["function_name"] == "EchoFunction" and ctx["function_version"] == "$LATEST"
    assert ctx["invoked_function_arn"].endswith(":123456789012:function:EchoFunction")
    assert ctx["memory_limit_in_mb"] == 256
    assert ctx["log_group_name"] == "/aws/lambda/EchoFunction"
    assert 0 < ctx["remaining_ms"] <= 5000


def test_module_init_once_per_worker(http: requests.Session, gw: GatewayHandle) -> None:
    by_pid: dict[int, set[str]] = {}
    for _ in range(10):
        b = http.get(gw.url + "/echo").json()
        assert b["init_count"] == 1
        by_pid.setdefault(b["pid"], set()).add(b["init_id"])
    assert all(len(ids) == 1 for ids in by_pid.values())


def test_50_parallel_requests_no_5xx(gw: GatewayHandle) -> None:
    def call(i: int) -> tuple[int, str]:
        r = requests.get(f"{gw.url}/shapes/sleep?s=0.05&i={i}", timeout=30)
        return r.status_code, r.text

    with ThreadPoolExecutor(50) as pool:
        results = list(pool.map(call, range(50)))
    assert all(status == 200 for status, _ in results), results
    pids = {text for _, text in results}
    assert 2 <= len(pids) <= 4  # scaled out, capped at max_workers, rest queued


def test_powertools_logger_with_context(http: requests.Session, gw: GatewayHandle, sinks: tuple[Sink, Sink]) -> None:
    r = http.post(gw.url + "/pt/items/abc", json={"n": 1})
    assert r.status_code == 201 and r.json() == {"item_id": "abc", "body": {"n": 1}}
    out, _ = sinks

    def logged() -> list[dict[str, object]]:
        return [json.loads(ln) for ln in out.lines() if '"creating item"' in ln]

    assert wait_for(lambda: bool(logged()))
    rec = logged()[-1]
    assert rec["function_name"] == "PowertoolsFunction" and rec["item_id"] == "abc"
    assert rec["function_memory_size"] == 256 and rec["function_request_id"]


def test_access_log_lines(http: requests.Session, gw: GatewayHandle, sinks: tuple[Sink, Sink]) -> None:
    rid = http.get(gw.url + "/v1/orders/stats").headers["x-amzn-RequestId"]
    out, _ = sinks

    def entry() -> dict[str, object] | None:
        for ln in out.lines():
            if rid in ln and ln.startswith("{"):
                return json.loads(ln)
        return None

    assert wait_for(lambda: entry() is not None)
    e = entry()
    assert e is not None
    assert set(e) == {"timestamp", "requestId", "ip", "method", "path", "resource", "status", "latency_ms", "function"}
    assert (e["status"], e["function"], e["resource"]) == (200, "StatsFunction", "/v1/orders/stats")


def test_worker_output_relayed_line_by_line(gw: GatewayHandle, sinks: tuple[Sink, Sink]) -> None:
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: requests.get(gw.url + "/shapes/log?n=100", timeout=30), range(4)))
    out, _ = sinks
    assert wait_for(lambda: sum('"message":"line 99"' in ln for ln in out.lines()) >= 4)
    for ln in out.lines():
        if '"message":"line' in ln:
            json.loads(ln)  # every line intact: no interleaving


def test_function_timeout_is_502_and_worker_replaced(http: requests.Session, gw: GatewayHandle) -> None:
    r = http.get(gw.url + "/slow/sleep?s=3")  # SlowFunction Timeout: 1
    assert r.status_code == 502 and r.json() == {"message": "Internal server error"}
    r = http.get(gw.url + "/slow/pid")
    assert r.status_code == 200


def test_worker_killed_mid_request_is_502_and_replaced() -> None:
    gw = start(max_workers=1)
    try:
        first = requests.get(gw.url + "/shapes/pid", timeout=30).text
        r = requests.get(gw.url + "/shapes/die", timeout=30)
        assert r.status_code == 502 and r.json() == {"message": "Internal server error"}
        r = requests.get(gw.url + "/shapes/pid", timeout=30)
        assert r.status_code == 200 and r.text != first  # a fresh worker took over
        assert wait_for(lambda: _zombie(int(first)) or not Path(f"/proc/{first}").exists(), 5)
    finally:
        gw.stop()


def test_integration_timeout_504() -> None:
    gw = start(integration_timeout=0.5)
    try:
        r = requests.get(gw.url + "/shapes/sleep?s=1.5", timeout=30)
        assert r.status_code == 504 and r.json() == {"message": "Endpoint request timed out"}
        r = requests.get(gw.url + "/shapes/pid", timeout=30)  # the pool still serves
        assert r.status_code == 200
    finally:
        gw.stop()


def test_requests_beyond_cap_queue_with_single_worker() -> None:
    gw = start(max_workers=1)
    try:
        with ThreadPoolExecutor(8) as pool:
            rs = list(pool.map(lambda _: requests.get(gw.url + "/shapes/sleep?s=0.05", timeout=30), range(8)))
        assert {r.status_code for r in rs} == {200}
        assert len({r.text for r in rs}) == 1  # one worker served them all, in turn
    finally:
        gw.stop()


def test_env_file_overrides() -> None:
    overrides = {
        "Parameters": {"GLOBAL_VAR": "from-params", "EXTRA_VAR": "added"},
        "EchoFunction": {"DECLARED_VAR": "per-function"},
        "StatsFunction": {"DECLARED_VAR": "other"},
    }
    gw = start(env_overrides=overrides)
    try:
        env = requests.get(gw.url + "/echo", timeout=30).json()["env"]
        assert env["GLOBAL_VAR"] == "from-params"
        assert env["DECLARED_VAR"] == "per-function"
        assert env["EXTRA_VAR"] == "added"  # lenient: undeclared variables are added
        assert env["ORDERS_TABLE"] == "orders-dev"  # untouched
    finally:
        gw.stop()


def test_eager_start_and_stop_leaves_no_processes() -> None:
    gw = start(eager=True)
    pids = [w.pid for p in gw.gateway.pools.values() for w in p.all]
    assert len(pids) >= 5  # one per function except the broken one
    gw.stop()
    for pid in pids:
        assert wait_for(lambda pid=pid: not Path(f"/proc/{pid}").exists() or _zombie(pid), 5)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True


def test_reload_on_code_change(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "layer", tmp_path / "layer")
    (tmp_path / "src").mkdir()
    mod = tmp_path / "src" / "app.py"
    mod.write_text("import os\nVERSION = 1\n\ndef handler(e, c):\n    return {'body': f'{VERSION} {os.getpid()}'}\n")
    (tmp_path / "template.yaml").write_text(
        "Resources:\n"
        "  Layer: {Type: AWS::Serverless::LayerVersion, Properties: {ContentUri: layer}}\n"
        "  Fn:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties:\n"
        "      CodeUri: src\n      Handler: app.handler\n      Layers: [!Ref Layer]\n"
        "      Events: {A: {Type: Api, Properties: {Path: /v, Method: get}}}\n"
    )
    gw = start(tmp_path / "template.yaml", reload=True, reload_interval=0.1)
    try:
        v1, pid1 = requests.get(gw.url + "/v", timeout=30).text.split()
        assert v1 == "1"
        mod.write_text(mod.read_text().replace("VERSION = 1", "VERSION = 2"))
        st = mod.stat()
        os.utime(mod, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
        assert wait_for(lambda: requests.get(gw.url + "/v", timeout=30).text.startswith("2 "))
        assert requests.get(gw.url + "/v", timeout=30).text.split()[1] != pid1
        # a layer change also restarts the function's workers
        pid2 = requests.get(gw.url + "/v", timeout=30).text.split()[1]
        layer_mod = tmp_path / "layer" / "shared_util.py"
        layer_mod.write_text(layer_mod.read_text() + "\n# touched\n")
        st = layer_mod.stat()
        os.utime(layer_mod, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
        assert wait_for(lambda: requests.get(gw.url + "/v", timeout=30).text.split()[1] != pid2)
    finally:
        gw.stop()
