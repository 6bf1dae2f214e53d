"""The gateway: routing, events, workers and API Gateway's own responses behind the shared
HTTP/1.1 server (`local/httpserver.py`), plus the embedding API (`start_in_thread`).

About 350 lines: the configuration, the request path and the embedding API are kept
together because each is short and they share the Gateway object; the pieces with their own job
(routing, events, responses, workers, docs, static sites) are modules of their own."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

from infra.sam_app import MOCK, ApiSpec, App, load_app
from local.httpserver import HttpServer, Limits, Request, Response, json_error
from local.loopthread import LoopThread

from .cors import Preflights
from .docs import PREFIX as DOCS_PREFIX
from .docs import DocsSite
from .events import build_event
from .gateway_responses import RequestFacts, gateway_response
from .reload import CodeWatcher
from .responses import MalformedResponse, proxy_to_http
from .routing import Match, Router
from .sites import SiteError, StaticSite
from .workers import FunctionPool, function_env

# API Gateway quotas for REST APIs (README "Facts relied on"): URL length of a regional API,
# total size of request line and header values, payload size.
GATEWAY_LIMITS = Limits(max_url=10240, max_head=10240, max_body=10 * 1024 * 1024)


@dataclass
class GatewayConfig:
    template: str | os.PathLike[str]
    host: str = "127.0.0.1"
    port: int = 8080
    env_overrides: dict[str, dict[str, str]] = field(default_factory=dict)
    parameters: dict[str, str] = field(default_factory=dict)  # template parameter values (--parameter-overrides)
    max_workers: int = 4
    eager: bool = False
    integration_timeout: float = 29.0
    reload: bool = True
    reload_interval: float = 1.0
    openapi: str | None = None  # serve it and Swagger UI under /_docs (local/gateway/docs.py)
    sites: dict[str, Path] = field(default_factory=dict)  # prefix -> folder of static pages (sites.py)
    header_timeout: float = GATEWAY_LIMITS.header_timeout
    idle_timeout: float = GATEWAY_LIMITS.idle_timeout
    max_connections: int = GATEWAY_LIMITS.max_connections
    max_pipelined: int = GATEWAY_LIMITS.max_pipelined
    stdout: Callable[[], IO[str]] = lambda: sys.stdout
    stderr: Callable[[], IO[str]] = lambda: sys.stderr

    @classmethod
    def from_env(cls, template: str | os.PathLike[str], **kw: Any) -> GatewayConfig:
        """Unset options come from the GATEWAY_* variables (README "Command line")."""
        env = os.environ
        kw.setdefault("max_workers", int(env.get("GATEWAY_MAX_WORKERS", "4")))
        kw.setdefault("integration_timeout", float(env.get("GATEWAY_INTEGRATION_TIMEOUT", "29")))
        kw.setdefault("eager", env.get("GATEWAY_EAGER", "") not in ("", "0", "false"))
        kw.setdefault("openapi", env.get("GATEWAY_OPENAPI") or None)
        for name, kind in (("header_timeout", float), ("idle_timeout", float), ("max_connections", int),
                           ("max_pipelined", int)):
            if env.get(f"GATEWAY_{name.upper()}"):
                kw.setdefault(name, kind(env[f"GATEWAY_{name.upper()}"]))
        return cls(template=template, **kw)

    def limits(self) -> Limits:
        return replace(GATEWAY_LIMITS, header_timeout=self.header_timeout, idle_timeout=self.idle_timeout,
                       max_connections=self.max_connections, max_pipelined=self.max_pipelined)


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
        self.app: App = load_app(config.template, parameters=config.parameters)
        self.preflights = Preflights(self.app)
        self.router = Router(self.app.routes + self.preflights.routes)
        self.default_api = self.app.default_api()
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        self.pools: dict[str, FunctionPool] = {}
        for lid, spec in self.app.functions.items():
            env = function_env(spec, overrides_for(config.env_overrides, lid, spec.name), region)
            self.pools[lid] = FunctionPool(spec, env, config.max_workers, config.stdout, config.stderr)
        self.http = HttpServer(self.serve, config.limits())
        self.loop: asyncio.AbstractEventLoop  # the serving loop, set by start()
        self.port = config.port
        self.watcher: CodeWatcher | None = None
        self.docs = DocsSite(config.openapi, self.app.routes) if config.openapi else None
        if self.docs is not None and DOCS_PREFIX in config.sites:
            raise SiteError(f"{DOCS_PREFIX} is the API docs' prefix; choose another for the site")
        self.sites = [StaticSite(prefix, folder, self.app.routes) for prefix, folder in config.sites.items()]

    # -- lifecycle -------------------------------------------------------------------
    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.port = await self.http.start(self.config.host, self.config.port)
        if self.config.eager:
            await asyncio.gather(*(p.warm() for p in self.pools.values()))
        if self.config.reload:
            notify = self._on_change(self.loop)
            self.watcher = CodeWatcher(self.app, self.config.reload_interval, notify)
            self.watcher.start()
        out = self.config.stdout()
        for line in self.mount_lines():
            out.write(line + "\n")
        if self.preflights.routes:
            out.write(f"CORS: OPTIONS answered by the gateway on {len(self.preflights.routes)} paths\n")
        if self.docs is not None:
            out.write(f"API docs at http://{self.config.host}:{self.port}{DOCS_PREFIX}\n")
        for site in self.sites:
            out.write(f"Site {site.folder} at http://{self.config.host}:{self.port}{site.prefix}/\n")
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
        await self.http.close()
        for pool in self.pools.values():
            pool.close()

    # -- request handling ----------------------------------------------------------------
    async def serve(self, req: Request) -> Response:
        """One request: /_docs or a static site when served, else API Gateway; one access-log line either way,
        written after the answer (call_soon runs once the server has written it), so the log's
        pipe never delays a client."""
        log = self.loop.call_soon
        started = time.perf_counter()
        try:
            page = self.page(req)
        except Exception as exc:  # a docs page or a site file that broke (openapi.json half-written): said, not silent
            self._log_error("-", "-", f"static page error on {req.path}: {exc!r}")
            page = json_error(500, "Internal server error")
        if page is not None:
            log(self.access_log, Exchange(req, "", time.time()), page.status, started)
            return page
        exchange = Exchange(req, str(uuid.uuid4()), time.time())
        try:
            response = await self.handle(exchange)
        except Exception as exc:  # never drop a connection on our own bug
            self._log_error(exchange.function or "-", exchange.request_id, f"gateway error: {exc!r}")
            response = self._gateway_response("INTEGRATION_FAILURE", self.default_api, exchange)
        response.headers.append(("x-amzn-RequestId", exchange.request_id))
        log(self.access_log, exchange, response.status, started)
        return response

    def page(self, req: Request) -> Response | None:
        """The docs' or a static site's answer when the request is theirs (GET/HEAD under their prefix)."""
        found = self.docs.respond(req.method, req.path, req.header("host")) if self.docs is not None else None
        for site in self.sites:
            found = found or site.respond(req.method, req.path, req.query)
        return found

    async def handle(self, exchange: Exchange) -> Response:
        req = exchange.request
        api = self.default_api
        if req.too_large:
            return self._gateway_response("REQUEST_TOO_LARGE", api, exchange)
        match = self.router.match(req.method, req.path)
        if match is None:
            return self._gateway_response("MISSING_AUTHENTICATION_TOKEN", api, exchange)
        exchange.match = match
        route = match.route
        api = self.app.apis[route.api]
        if route.integration == MOCK:
            return self.preflights.respond(route, self._facts(api, exchange))
        return await self._proxy(exchange, match, api)

    async def _proxy(self, exchange: Exchange, match: Match, api: ApiSpec) -> Response:
        """A Lambda proxy integration: the event to the function, its result (or failure) to the client."""
        req, route = exchange.request, match.route
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
            request_id=exchange.request_id,
            now=exchange.epoch,
        )
        outcome = await self.pools[route.function].invoke(event, self.config.integration_timeout)
        if outcome.kind == "timeout":
            return self._gateway_response("INTEGRATION_TIMEOUT", api, exchange)
        if outcome.kind == "error":
            self._log_error(route.function, exchange.request_id, outcome.detail)
            return self._gateway_response("INTEGRATION_FAILURE", api, exchange)
        try:
            return proxy_to_http(outcome.result, api, req.header("accept"))
        except MalformedResponse as exc:
            self._log_error(route.function, exchange.request_id, f"Malformed Lambda proxy response: {exc}")
            return self._gateway_response("INTEGRATION_FAILURE", api, exchange)

    @classmethod
    def _gateway_response(cls, kind: str, api: ApiSpec, exchange: Exchange) -> Response:
        return gateway_response(kind, api, cls._facts(api, exchange))

    @staticmethod
    def _facts(api: ApiSpec, exchange: Exchange) -> RequestFacts:
        req, match = exchange.request, exchange.match
        return RequestFacts(
            request_id=exchange.request_id,
            method=req.method,
            path=req.path,
            query=req.query,
            headers=req.headers,
            source_ip=req.peer,
            stage=api.stage,
            epoch=exchange.epoch,
            path_parameters=match.path_parameters if match is not None else None,
            resource_path=match.route.path if match is not None else None,
        )

    def _log_error(self, function: str, request_id: str, detail: str) -> None:
        err = self.config.stderr()
        err.write(f"[gateway] {function} request {request_id}: {detail}\n")
        err.flush()

    def access_log(self, exchange: Exchange, status: int, started: float) -> None:
        req, match = exchange.request, exchange.match
        line = json.dumps(
            {
                "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "requestId": exchange.request_id,
                "ip": req.peer,
                "method": req.method,
                "path": req.path,
                "resource": match.route.path if match is not None else None,
                "status": status,
                "latency_ms": round((time.perf_counter() - started) * 1000, 3),
                "function": exchange.function,
            },
            separators=(",", ":"),
        )
        out = self.config.stdout()
        out.write(line + "\n")
        out.flush()


@dataclass
class Exchange:
    """One request on its way through the gateway."""

    request: Request
    request_id: str
    epoch: float
    match: Match | None = None

    @property
    def function(self) -> str | None:
        return self.match.route.function or None if self.match is not None else None


# -- embedding API ---------------------------------------------------------------------


class GatewayHandle:
    """A gateway running in a background thread; `.port`, `.url`, `.stop()`."""

    def __init__(self, gateway: Gateway, runner: LoopThread) -> None:
        self.gateway = gateway
        self.runner = runner
        self.loop = runner.loop
        self.port = gateway.port
        self.url = f"http://{gateway.config.host}:{gateway.port}"

    def stop(self) -> None:
        self.runner.stop(self.gateway.close)

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

    `options` are GatewayConfig fields (parameters, max_workers, eager, integration_timeout, reload,
    header_timeout, idle_timeout, max_connections, max_pipelined, stdout, stderr); unset ones
    come from the GATEWAY_* environment variables.
    """
    config = GatewayConfig.from_env(Path(template), host=host, port=port, env_overrides=env_overrides or {}, **options)
    gateway = Gateway(config)
    runner = LoopThread("local-gateway")
    runner.start(gateway.start)
    return GatewayHandle(gateway, runner)


async def serve(config: GatewayConfig) -> None:
    """Run until cancelled (used by the CLI)."""
    gateway = Gateway(config)
    await gateway.start()
    try:
        await asyncio.Event().wait()
    finally:
        await gateway.close()
