"""Warm worker processes per function, driven from the asyncio loop.

Each worker is a fresh interpreter (`subprocess`, never a fork of the server) with the
function's environment and import path; module init therefore runs once per worker as in
Lambda. A worker serves one invocation at a time; a pool grows up to `max_workers` and
queues beyond that. Timeouts kill and replace the worker (function Timeout -> 502) or
answer 504 while the invocation runs on until its own Timeout (integration timeout).

Longer than most modules (~380 lines) because a worker's lifecycle is one piece: spawning with
Lambda's environment, the framed IPC, the two timeouts, death and replacement, and reload all
change the same state, and splitting them would spread one state machine over several files.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import os
import socket
import struct
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from infra.cfn import ACCOUNT_ID
from infra.sam_app import FunctionSpec

_LEN = struct.Struct(">I")
WORKER_SCRIPT = str(Path(__file__).with_name("worker_main.py"))
# Parent variables a local function may legitimately need (tools, locale, local endpoints).
_BASE_VARS = ("PATH", "HOME", "LANG", "LANGUAGE", "TERM", "USER", "TMPDIR", "SYSTEMROOT")
_PASS_PREFIXES = ("LC_", "AWS_ENDPOINT_URL")
_PASS_AWS = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
)


@dataclass
class Outcome:
    """Result of one invocation as seen by API Gateway."""

    kind: str  # "ok" | "error" (handler raised / init failed / died / timed out) | "timeout" (504)
    result: Any = None
    detail: str = ""


def function_env(spec: FunctionSpec, overrides: dict[str, str], region: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in _BASE_VARS or k.startswith(_PASS_PREFIXES)}
    env.update({k: os.environ[k] for k in _PASS_AWS if k in os.environ})
    name = spec.name
    env.update(
        {
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_LAMBDA_FUNCTION_NAME": name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory),
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(spec.timeout),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": time.strftime("%Y/%m/%d/[$LATEST]") + uuid.uuid4().hex,
            "AWS_EXECUTION_ENV": "AWS_Lambda_" + spec.runtime,
            "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "LAMBDA_TASK_ROOT": str(spec.code_dir),
            "LAMBDA_RUNTIME_DIR": str(Path(sys.executable).parent),
            "TZ": ":UTC",
            "_HANDLER": spec.handler,
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    env.setdefault("AWS_ACCESS_KEY_ID", "testing")
    env.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    env.update(spec.environment)
    env.update(overrides)
    env["_GATEWAY_ACCOUNT_ID"] = ACCOUNT_ID
    env["_GATEWAY_SYS_PATH"] = os.pathsep.join([str(spec.code_dir), *map(str, spec.layer_dirs)])
    return env


class LineRelay(asyncio.Protocol):
    """Copies a worker's output to our stream one whole line per write (no interleaving)."""

    def __init__(self, sink: Callable[[], IO[str]]) -> None:
        self.sink = sink
        self.buf = b""

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if b"\n" not in self.buf:
            return
        complete, _, self.buf = self.buf.rpartition(b"\n")
        out = self.sink()
        out.write(complete.decode("utf-8", "replace") + "\n")
        out.flush()

    def eof_received(self) -> bool | None:
        if self.buf:
            out = self.sink()
            out.write(self.buf.decode("utf-8", "replace") + "\n")
            out.flush()
            self.buf = b""
        return None


class Worker(asyncio.Protocol):
    """One worker process plus the framed-JSON channel to it."""

    def __init__(self, pool: FunctionPool) -> None:
        self.pool = pool
        self.proc: subprocess.Popen[bytes] | None = None
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.waiter: asyncio.Future[Any] | None = None
        self.ready: asyncio.Future[Any] | None = None
        self.dead = False
        self.generation = pool.generation
        self.pid = 0

    async def start(self, env: dict[str, str]) -> None:
        loop = asyncio.get_running_loop()
        parent, child = socket.socketpair()
        env = dict(env, _GATEWAY_IPC_FD=str(child.fileno()))
        self.ready = loop.create_future()
        bootstrap = f"import runpy; runpy.run_path({WORKER_SCRIPT!r}, run_name='__main__')"
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", bootstrap],
                env=env,
                cwd=str(self.pool.spec.code_dir),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=(child.fileno(),),
                start_new_session=True,  # Ctrl-C on the gateway terminal must not hit workers
            )
        finally:
            child.close()
        self.pid = self.proc.pid
        assert self.proc.stdout is not None and self.proc.stderr is not None
        relay_out = self.pool.relay_stdout
        relay_err = self.pool.relay_stderr
        await loop.connect_read_pipe(lambda: LineRelay(relay_out), self.proc.stdout)
        await loop.connect_read_pipe(lambda: LineRelay(relay_err), self.proc.stderr)
        await loop.create_unix_connection(lambda: self, sock=parent)
        hello = await self.ready
        if not hello.get("ready"):
            self.kill()
            raise InitError(hello.get("error") or {})

    # -- asyncio.Protocol -------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        while len(buf) >= 4:
            (size,) = _LEN.unpack_from(buf)
            if len(buf) < 4 + size:
                break
            msg = json.loads(bytes(buf[4 : 4 + size]))
            del buf[: 4 + size]
            if self.ready is not None and not self.ready.done():
                self.ready.set_result(msg)
            elif self.waiter is not None and not self.waiter.done():
                self.waiter.set_result(msg)

    def connection_lost(self, exc: Exception | None) -> None:
        self.dead = True
        err = ConnectionError("worker exited")
        for fut in (self.ready, self.waiter):
            if fut is not None and not fut.done():
                fut.set_exception(err)
        self.kill()

    # -- control ------------------------------------------------------------
    def send(self, payload: dict[str, Any]) -> asyncio.Future[Any]:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        data = json.dumps(payload, separators=(",", ":")).encode()
        self.transport.write(_LEN.pack(len(data)) + data)
        return self.waiter

    def kill(self, reap: bool = True) -> None:
        self.dead = True
        proc = self.proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            if reap:  # reap without blocking the loop
                asyncio.get_running_loop().run_in_executor(None, proc.wait)
        if self.transport is not None:
            self.transport.close()


class InitError(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error.get("errorMessage", "init failed"))
        self.error = error


class FunctionPool:
    def __init__(
        self,
        spec: FunctionSpec,
        env: dict[str, str],
        max_workers: int,
        relay_stdout: Callable[[], IO[str]],
        relay_stderr: Callable[[], IO[str]],
    ) -> None:
        self.spec = spec
        self.env = env
        self.max_workers = max(1, max_workers)
        self.relay_stdout = relay_stdout
        self.relay_stderr = relay_stderr
        self.idle: collections.deque[Worker] = collections.deque()
        self.total = 0  # alive + starting workers
        self.waiters: collections.deque[asyncio.Future[Worker | None]] = collections.deque()
        self.generation = 0
        self.all: set[Worker] = set()
        self._background: set[asyncio.Task[None]] = set()

    # -- acquisition -------------------------------------------------------------
    async def acquire(self) -> Worker:
        while True:
            while self.idle:
                w = self.idle.pop()  # LIFO keeps the warmest worker busy
                if not w.dead and w.generation == self.generation:
                    return w
                self._retire(w)
            if self.total < self.max_workers:
                return await self._spawn()
            fut: asyncio.Future[Worker | None] = asyncio.get_running_loop().create_future()
            self.waiters.append(fut)
            handed = await fut
            if handed is not None:
                return handed
            # else a slot freed up (worker died/retired): loop and take it

    async def _spawn(self) -> Worker:
        self.total += 1
        w = Worker(self)
        self.all.add(w)
        try:
            await w.start(self.env)
        except BaseException:
            self._retire(w)
            raise
        return w

    def release(self, w: Worker) -> None:
        if w.dead or w.generation != self.generation:
            self._retire(w)
            return
        while self.waiters:
            fut = self.waiters.popleft()
            if not fut.done():
                fut.set_result(w)
                return
        self.idle.append(w)

    def _retire(self, w: Worker) -> None:
        w.kill()
        if w not in self.all:
            return
        self.all.discard(w)
        self.total -= 1
        while self.waiters:  # hand the freed slot to a queued request
            fut = self.waiters.popleft()
            if not fut.done():
                fut.set_result(None)
                return

    async def warm(self) -> None:
        """Eager start of one worker; an init failure is reported, not fatal (as in Lambda)."""
        try:
            w = await self.acquire()
        except (InitError, ConnectionError) as exc:
            err = self.relay_stderr()
            err.write(f"[gateway] {self.spec.logical_id}: init failed: {exc}\n")
            err.flush()
            return
        self.release(w)

    def recycle(self) -> None:
        """Code changed: idle workers go now, busy ones when they finish."""
        self.generation += 1
        while self.idle:
            self._retire(self.idle.pop())

    def close(self) -> None:
        """Shutdown: kill and reap every worker synchronously (no orphans)."""
        for fut in self.waiters:
            if not fut.done():
                fut.cancel()
        self.waiters.clear()
        for w in list(self.all):
            w.kill(reap=False)
            if w.proc is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    w.proc.wait(timeout=5)
        self.all.clear()
        self.idle.clear()
        self.total = 0

    # -- invocation ----------------------------------------------------------------
    async def invoke(self, event: dict[str, Any], integration_timeout: float) -> Outcome:
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            w = await self.acquire()
        except InitError as exc:
            return Outcome("error", detail=f"init error: {exc}")
        except ConnectionError:
            return Outcome("error", detail="worker died during init")
        fn_timeout = float(self.spec.timeout)
        # Queueing time counts against the integration timeout, as in API Gateway.
        remaining = max(0.0, integration_timeout - (loop.time() - started))
        request_id = str(uuid.uuid4())  # Lambda's request id differs from API Gateway's
        deadline_ms = int((time.time() + fn_timeout) * 1000)
        fut = w.send({"id": request_id, "deadline": deadline_ms, "event": event})
        if fn_timeout <= remaining:
            # The function's own Timeout fires first: kill the worker -> 502.
            handle = loop.call_later(fn_timeout, self._on_fn_timeout, w, fut)
            with contextlib.suppress(Exception):  # inspected by _collect
                await fut
            handle.cancel()
        else:
            done, _ = await asyncio.wait({fut}, timeout=remaining)
            if not done:
                # API Gateway gives up; the invocation itself runs on until its own Timeout.
                task = loop.create_task(self._finish_late(w, fut, fn_timeout - remaining))
                self._background.add(task)
                task.add_done_callback(self._background.discard)
                return Outcome("timeout")
        return self._collect(w, fut)

    def _collect(self, w: Worker, fut: asyncio.Future[Any]) -> Outcome:
        exc = fut.exception()
        if isinstance(exc, asyncio.TimeoutError):
            return Outcome("error", detail=f"Task timed out after {self.spec.timeout:.2f} seconds")
        if exc is not None:
            self._retire(w)
            return Outcome("error", detail="worker process exited")
        self.release(w)
        return _outcome(fut.result())

    def _on_fn_timeout(self, w: Worker, fut: asyncio.Future[Any]) -> None:
        if not fut.done():
            fut.set_exception(TimeoutError())
            self.relay_stderr().write(
                f"Function '{self.spec.logical_id}' timed out after {self.spec.timeout}s; worker {w.pid} replaced\n"
            )
            self._retire(w)

    async def _finish_late(self, w: Worker, fut: asyncio.Future[Any], left: float) -> None:
        done, _ = await asyncio.wait({fut}, timeout=max(0.0, left))
        if done and not fut.exception():
            self.release(w)
        else:
            self._retire(w)


def _outcome(msg: Any) -> Outcome:
    if isinstance(msg, dict) and msg.get("ok"):
        return Outcome("ok", result=msg.get("result"))
    err = (msg or {}).get("error") or {}
    return Outcome("error", detail=f"{err.get('errorType')}: {err.get('errorMessage')}")
