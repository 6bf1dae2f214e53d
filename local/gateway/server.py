"""HTTP/1.1 front end (asyncio + httptools) and the embedding API.

One Protocol per connection, requests handled in order (pipelining-safe), keep-alive,
chunked request bodies (decoded by httptools), exact Content-Length on responses.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path
from typing import IO, Any

import httptools

from .docs import DocsSite
from .events import build_event
from .reload import CodeWatcher
from .responses import HttpResponse, MalformedResponse, gateway_response, proxy_to_http
from .routing import Router
from .template import App, load_app
from .workers import FunctionPool, function_env

MAX_BODY = 10 * 1024 * 1024  # API Gateway payload limit
_REASONS = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No Content",
    301: "Moved Permanently",
    302: "Found",
    304: "Not Modified",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass
class GatewayConfig:
    template: str | os.PathLike[str]
    host: str = "127.0.0.1"
    port: int = 8080
    env_overrides: dict[str, dict[str, str]] = field(default_factory=dict)
    max_workers: int = 4
    eager: bool = False
    integration_timeout: float = 29.0
    reload: bool = True
    reload_interval: float = 1.0
    openapi: str | None = None  # serve it and Swagger UI under /_docs (local/gateway/docs.py)
    stdout: Callable[[], IO[str]] = lambda: sys.stdout
    stderr: Callable[[], IO[str]] = lambda: sys.stderr

    @classmethod
    def from_env(cls, template: str | os.PathLike[str], **kw: Any) -> GatewayConfig:
        """Defaults from GATEWAY_MAX_WORKERS / GATEWAY_INTEGRATION_TIMEOUT / GATEWAY_EAGER."""
        env = os.environ
        kw.setdefault("max_workers", int(env.get("GATEWAY_MAX_WORKERS", "4")))
        kw.setdefault("integration_timeout", float(env.get("GATEWAY_INTEGRATION_TIMEOUT", "29")))
        kw.setdefault("eager", env.get("GATEWAY_EAGER", "") not in ("", "0", "false"))
        kw.setdefault("openapi", env.get("GATEWAY_OPENAPI") or None)
        return cls(template=template, **kw)


def overrides_for(env_file: dict[str, Any], spec_id: str, spec_name: str) -> dict[str, str]:
    """SAM env-vars file: `Parameters` for all functions, then the function's own key.

    Unlike SAM, variables not declared in the template are added too (lenient).
    """
    out: dict[str, str] = {}
    for key in ("Parameters", spec_id, spec_name):
        for k, v in (env_file.get(key) or {}).items():
            out[str(k)] = "" if v is None else str(v)
    return out


class Gateway:
    def __init__(self, config: GatewayConfig) -> None:
        self.config = config
        self.app: App = load_app(config.template)
        self.router = Router(self.app.routes)
        self.default_api = self.app.default_api()
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        self.pools: dict[str, FunctionPool] = {}
        for lid, spec in self.app.functions.items():
            env = function_env(spec, overrides_for(config.env_overrides, lid, spec.name), region)
            self.pools[lid] = FunctionPool(spec, env, config.max_workers, config.stdout, config.stderr)
        self.server: asyncio.AbstractServer | None = None
        self.port = config.port
        self.watcher: CodeWatcher | None = None
        self.docs = DocsSite(config.openapi, self.app.routes) if config.openapi else None

    # -- lifecycle -------------------------------------------------------------------
    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(
            lambda: HttpProtocol(self), self.config.host, self.config.port, backlog=1024
        )
        self.port = self.server.sockets[0].getsockname()[1]
        if self.config.eager:
            await asyncio.gather(*(p.warm() for p in self.pools.values()))
        if self.config.reload:
            self.watcher = CodeWatcher(self.app, self.config.reload_interval, self._on_change(loop))
            self.watcher.start()
        out = self.config.stdout()
        for line in self.mount_lines():
            out.write(line + "\n")
        if self.docs is not None:
            out.write(f"API docs at http://{self.config.host}:{self.port}/_docs\n")
        out.write(f"Gateway listening on http://{self.config.host}:{self.port}\n")
        out.flush()

    def _on_change(self, loop: asyncio.AbstractEventLoop) -> Callable[[list[str]], None]:
        def notify(function_ids: list[str]) -> None:
            def recycle() -> None:
                for lid in function_ids:
                    self.config.stdout().write(f"Code changed: restarting workers of {lid}\n")
                    self.pools[lid].recycle()
                self.config.stdout().flush()

            loop.call_soon_threadsafe(recycle)

        return notify

    def mount_lines(self) -> list[str]:
        grouped: dict[tuple[str, str], list[str]] = {}
        for r in self.app.routes:
            grouped.setdefault((r.function, r.path), []).append(r.method)
        base = f"http://{self.config.host}:{self.port}"
        return [
            f"Mounting {fn} at {base}{path} [{', '.join(sorted(methods))}]" for (fn, path), methods in grouped.items()
        ]

    async def close(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
        if self.server is not None:
            self.server.close()
        for pool in self.pools.values():
            pool.close()

    # -- request handling ----------------------------------------------------------------
    async def handle(self, req: Request) -> HttpResponse:
        request_id = str(uuid.uuid4())
        req.request_id = request_id
        api = self.default_api
        if req.too_large:
            return gateway_response("REQUEST_TOO_LARGE", api, request_id)
        match = self.router.match(req.method, req.path)
        if match is None:
            return gateway_response("MISSING_AUTHENTICATION_TOKEN", api, request_id)
        route = match.route
        req.resource = route.path
        req.function = route.function
        api = self.app.apis[route.api]
        event = build_event(
            method=req.method,
            raw_path=req.path,
            raw_query=req.query,
            raw_headers=req.headers,
            body=req.body,
            source_ip=req.peer,
            server_port=self.port,
            match=match,
            api=api,
            request_id=request_id,
        )
        outcome = await self.pools[route.function].invoke(event, self.config.integration_timeout)
        if outcome.kind == "timeout":
            return gateway_response("INTEGRATION_TIMEOUT", api, request_id)
        if outcome.kind == "error":
            self._log_error(route.function, request_id, outcome.detail)
            return gateway_response("INTEGRATION_FAILURE", api, request_id)
        try:
            return proxy_to_http(outcome.result, api, req.header("accept"))
        except MalformedResponse as exc:
            self._log_error(route.function, request_id, f"Malformed Lambda proxy response: {exc}")
            return gateway_response("INTEGRATION_FAILURE", api, request_id)

    def docs_response(self, req: Request) -> HttpResponse | None:
        """/_docs requests when serving --openapi (local/gateway/docs.py), else None."""
        return self.docs.respond(req.method, req.path, req.header("host")) if self.docs is not None else None

    def _log_error(self, function: str, request_id: str, detail: str) -> None:
        err = self.config.stderr()
        err.write(f"[gateway] {function} request {request_id}: {detail}\n")
        err.flush()

    def access_log(self, req: Request, status: int, started: float) -> None:
        line = json.dumps(
            {
                "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "requestId": req.request_id,
                "ip": req.peer,
                "method": req.method,
                "path": req.path,
                "resource": req.resource,
                "status": status,
                "latency_ms": round((time.perf_counter() - started) * 1000, 3),
                "function": req.function,
            },
            separators=(",", ":"),
        )
        out = self.config.stdout()
        out.write(line + "\n")
        out.flush()


class Request:
    __slots__ = (
        "body",
        "function",
        "headers",
        "keep_alive",
        "method",
        "path",
        "peer",
        "query",
        "request_id",
        "resource",
        "too_large",
    )

    def __init__(self) -> None:
        self.method = ""
        self.path = "/"
        self.query = ""
        self.headers: list[tuple[str, str]] = []
        self.body = b""
        self.peer = ""
        self.keep_alive = True
        self.too_large = False
        self.request_id = ""
        self.resource: str | None = None
        self.function: str | None = None

    def header(self, lname: str) -> str | None:
        for name, value in self.headers:
            if name.lower() == lname:
                return value
        return None


class HttpProtocol(asyncio.Protocol):
    def __init__(self, gateway: Gateway) -> None:
        self.gw = gateway
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.peer = ""
        self.url = b""
        self.req: Request | None = None
        self.body: list[bytes] = []
        self.size = 0
        self.queue: deque[Request] = deque()
        self.busy = False
        self.closing = False

    # -- transport -----------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        self.peer = peer[0] if peer else "127.0.0.1"

    def connection_lost(self, exc: Exception | None) -> None:
        self.closing = True

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(400)
        except httptools.HttpParserError:
            self._fail(400)

    def _fail(self, status: int) -> None:
        if self.transport is not None and not self.closing:
            body = json.dumps({"message": _REASONS.get(status, "Error")}).encode()
            self._write(HttpResponse(status, [("Content-Type", "application/json")], body), False)
            self.transport.close()
            self.closing = True

    # -- httptools callbacks -------------------------------------------------------------
    def on_message_begin(self) -> None:
        self.req = Request()
        self.req.peer = self.peer
        self.url = b""
        self.body = []
        self.size = 0

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        assert self.req is not None
        self.req.headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        req = self.req
        assert req is not None
        req.method = self.parser.get_method().decode()
        url = self.url
        path, _, query = url.partition(b"?")
        req.path = path.partition(b"#")[0].decode("latin-1") or "/"
        req.query = query.partition(b"#")[0].decode("latin-1")
        req.keep_alive = self.parser.should_keep_alive()
        length = req.header("content-length")
        if length and length.isdigit() and int(length) > MAX_BODY:
            req.too_large = True

    def on_body(self, body: bytes) -> None:
        self.size += len(body)
        if self.size > MAX_BODY:
            assert self.req is not None
            self.req.too_large = True
            self.body = []
        elif not self.req or not self.req.too_large:
            self.body.append(body)

    def on_message_complete(self) -> None:
        req = self.req
        assert req is not None
        req.body = b"".join(self.body) if not req.too_large else b""
        self.body = []
        self.queue.append(req)
        if not self.busy:
            self.busy = True
            asyncio.get_running_loop().create_task(self._drain())

    # -- processing ----------------------------------------------------------------
    async def _drain(self) -> None:
        while self.queue and not self.closing:
            req = self.queue.popleft()
            started = time.perf_counter()
            try:
                resp = self.gw.docs_response(req) or await self.gw.handle(req)
            except Exception as exc:  # never drop a connection on our own bug
                self.gw._log_error(req.function or "-", req.request_id, f"gateway error: {exc!r}")
                resp = gateway_response("INTEGRATION_FAILURE", self.gw.default_api, req.request_id)
            keep = req.keep_alive and not req.too_large
            if not self.closing:
                self._write(resp, keep, req)
                if not keep and self.transport is not None:
                    self.transport.close()
                    self.closing = True
            self.gw.access_log(req, resp.status, started)
        self.busy = False

    def _write(self, resp: HttpResponse, keep_alive: bool, req: Request | None = None) -> None:
        assert self.transport is not None
        status = resp.status
        lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}"]
        skip = {"content-length", "connection", "transfer-encoding", "date"}
        for name, value in resp.headers:
            if name.lower() not in skip:
                lines.append(f"{name}: {value}")
        if req is not None and req.request_id:
            lines.append(f"x-amzn-RequestId: {req.request_id}")
        body = b"" if req is not None and req.method == "HEAD" else resp.body
        lines.append(_http_date())
        lines.append(f"Content-Length: {len(resp.body)}")
        lines.append("Connection: keep-alive" if keep_alive else "Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
        self.transport.write(head + body)


_date_cache: list[Any] = [0, ""]


def _http_date() -> str:
    """Date header, formatted once per second (hot path)."""
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache[:] = [now, f"Date: {formatdate(now, usegmt=True)}"]
    return str(_date_cache[1])


# -- embedding API ---------------------------------------------------------------------


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop

        return uvloop.new_event_loop()
    except ImportError:  # pragma: no cover - uvloop is a pinned dependency
        return asyncio.new_event_loop()


class GatewayHandle:
    """A gateway running in a background thread; `.port`, `.url`, `.stop()`."""

    def __init__(self, gateway: Gateway, loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
        self.gateway = gateway
        self.loop = loop
        self.thread = thread
        self.port = gateway.port
        self.url = f"http://{gateway.config.host}:{gateway.port}"

    def stop(self) -> None:
        if not self.thread.is_alive():
            return
        fut = asyncio.run_coroutine_threadsafe(self.gateway.close(), self.loop)
        with contextlib.suppress(Exception):
            fut.result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)

    def __enter__(self) -> GatewayHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_in_thread(
    template: str | os.PathLike[str],
    host: str = "127.0.0.1",
    port: int = 0,
    env_overrides: dict[str, dict[str, str]] | None = None,
    **options: Any,
) -> GatewayHandle:
    """Start a gateway on its own event loop thread; returns once it is listening.

    `options` are GatewayConfig fields (max_workers, eager, integration_timeout, reload,
    stdout, stderr); unset ones come from the GATEWAY_* environment variables.
    """
    config = GatewayConfig.from_env(Path(template), host=host, port=port, env_overrides=env_overrides or {}, **options)
    gateway = Gateway(config)
    loop = _new_loop()
    started = threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(gateway.start())
        except BaseException as exc:
            errors.append(exc)
            started.set()
            return
        started.set()
        loop.run_forever()
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()

    thread = threading.Thread(target=run, name="local-gateway", daemon=True)
    thread.start()
    started.wait()
    if errors:
        raise errors[0]
    return GatewayHandle(gateway, loop, thread)


async def serve(config: GatewayConfig) -> None:
    """Run until cancelled (used by the CLI)."""
    gateway = Gateway(config)
    await gateway.start()
    try:
        await asyncio.Event().wait()
    finally:
        await gateway.close()
