"""The one small HTTP/1.1 server of the local stack (asyncio + httptools; run it on
`local.loopthread.new_event_loop()`), shared by the API Gateway emulator and the DynamoDB engine.

A handler gets a parsed `Request` and returns a `Response`, or an awaitable of one. A plain
`Response` is written from inside the protocol callback before anything else is parsed: the
DynamoDB engine relies on that (one thread, so no two operations interleave). Awaitables run one
at a time per connection, and answers go out in request order, so pipelining stays correct.
Handlers set no framing headers (Content-Length, Connection, Date): the server writes those.

Every connection is bounded (`Limits`): URL and head size, checked on the bytes as they arrive
(httptools would otherwise buffer a whole header in memory); a header deadline that dribbled bytes
do not extend (slowloris); an idle timeout; a cap on open connections (the extra one gets 503 and
is closed); and back-pressure: parsing and reading stop while too many requests wait for an answer
or while the transport's write buffer is full, and resume once they drain. Deadlines are checked by
a sweeper every quarter of the shortest timeout (at most every second).

Longer than this project's usual ~300 lines on purpose: the connection is one state machine
(parse, bound, answer in order, back-pressure) that is easier to check when read in one place.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus

import httptools

_STATUS_LINES = {s.value: f"HTTP/1.1 {s.value} {s.phrase}\r\n" for s in HTTPStatus}
_SLICE = 8 * 1024  # larger reads are parsed in slices, so parsing can stop when answers back up


@dataclass(frozen=True)
class Limits:
    max_url: int = 10240  # characters in the request target (-> 414)
    max_head: int = 10240  # request target + header values, bytes; header names likewise (-> 431)
    max_body: int = 10 * 1024 * 1024  # larger bodies are drained, dropped and flagged `too_large`
    header_timeout: float = 10.0  # seconds from a request's first byte to the end of its head
    idle_timeout: float = 60.0  # seconds without a byte while idle between requests or inside a body
    max_connections: int = 512  # open connections; the next one is answered 503 and closed
    max_pipelined: int = 16  # requests waiting for an answer before parsing and reading pause

    @property
    def max_head_raw(self) -> int:
        """Raw head bytes (names, separators, values) accepted before giving up: the memory bound."""
        return 4 * self.max_head + 4096


class Request:
    """A parsed request. Header names and values, path and query are decoded (latin-1) on first
    use, so a handler that reads one header pays for one."""

    __slots__ = ("_headers", "_path", "_query", "body", "keep_alive", "method", "peer", "raw_headers",
                 "too_large", "url")

    def __init__(self, peer: str = "") -> None:
        self.method = ""
        self.url = b""
        self.raw_headers: list[tuple[bytes, bytes]] = []
        self.body = b""
        self.peer = peer
        self.keep_alive = True
        self.too_large = False
        self._headers: list[tuple[str, str]] | None = None
        self._path: str | None = None
        self._query = ""

    @property
    def headers(self) -> list[tuple[str, str]]:
        if self._headers is None:
            self._headers = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in self.raw_headers]
        return self._headers

    @property
    def path(self) -> str:
        return self._split()[0]

    @property
    def query(self) -> str:
        return self._split()[1]

    def _split(self) -> tuple[str, str]:
        if self._path is None:
            path, _, query = self.url.partition(b"?")
            self._path = path.partition(b"#")[0].decode("latin-1") or "/"
            self._query = query.partition(b"#")[0].decode("latin-1")
        return self._path, self._query

    def header(self, lname: str) -> str | None:
        """Last value of a header (name given in lower case)."""
        wanted, found = lname.encode("latin-1"), None
        for name, value in self.raw_headers:
            if len(name) == len(wanted) and name.lower() == wanted:
                found = value
        return found.decode("latin-1") if found is not None else None


@dataclass(slots=True)
class Response:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


Handler = Callable[[Request], "Response | Awaitable[Response]"]


def json_error(status: int, message: str) -> Response:
    body = json.dumps({"message": message}, separators=(",", ":")).encode()
    return Response(status, [("Content-Type", "application/json")], body)


class _Reject(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


_date = [0, ""]  # [second, "Date: ...\r\n"]: formatted once per second, this is the hot path


class _Connection(asyncio.Protocol):
    def __init__(self, server: HttpServer) -> None:
        limits = server.limits
        self.server, self.handler, self.limits = server, server.handler, limits
        self.max_url, self.max_head, self.max_pipelined = limits.max_url, limits.max_head, limits.max_pipelined
        self.header_timeout, self.idle_timeout = limits.header_timeout, limits.idle_timeout
        self.parser = httptools.HttpRequestParser(self)
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.peer = ""
        self.req = Request()
        self.url = b""
        self.body: list[bytes] = []
        self.size = self.head_raw = self.begun = self.chunk_begun = self.chunk_len = 0
        self.in_head = self.in_message = self.running = self.closing = self.write_paused = False
        self.parsing = False
        self.reading = True
        self.pending: deque[Request] = deque()
        self.stash = b""  # bytes read but not parsed yet (held back while answers back up)
        self.deadline: float | None = server.now + limits.idle_timeout

    # -- transport -----------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's transports are not subclasses
        peer = transport.get_extra_info("peername")
        self.peer = peer[0] if peer else "127.0.0.1"
        if len(self.server.connections) >= self.limits.max_connections:
            self._refuse(503, "Too many connections")
            return
        self.server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closing = True
        self.pending.clear()
        self.server.connections.discard(self)

    def pause_writing(self) -> None:
        self.write_paused = True
        self._throttle()

    def resume_writing(self) -> None:
        self.write_paused = False
        self._advance()

    def data_received(self, data: bytes) -> None:
        if self.stash or self.pending or self.write_paused or len(data) > _SLICE:
            self.stash = self.stash + data if self.stash else data
            self._pump()
        else:  # the common case: one small read, nothing held back
            self._parse(data)

    def _pump(self) -> None:
        """Parse held bytes slice by slice while answers keep up (never from inside a callback)."""
        if self.parsing:
            return
        self.parsing = True
        try:
            view, offset = memoryview(self.stash), 0
            while offset < len(view) and not self.closing and not self._held():
                chunk = view[offset : offset + _SLICE]
                offset += len(chunk)
                self._parse(chunk)
            self.stash = bytes(view[offset:]) if offset < len(view) and not self.closing else b""
        finally:
            self.parsing = False

    def _held(self) -> bool:
        return self.write_paused or len(self.pending) >= self.max_pipelined

    def _parse(self, chunk: bytes | memoryview) -> None:
        was_in_head, begun = self.in_head, self.begun
        self.chunk_begun, self.chunk_len = begun, len(chunk)
        try:
            self.parser.feed_data(chunk)
        except httptools.HttpParserCallbackError as error:
            reject = error.__context__
            if not isinstance(reject, _Reject):
                raise
            self._refuse(reject.status, reject.message)
        except httptools.HttpParserUpgrade:
            self._refuse(400, "Protocol upgrades are not supported")
        except httptools.HttpParserError:
            self._refuse(400, "Malformed HTTP request")
        if self.in_head and was_in_head and begun == self.begun:
            # The whole chunk was head bytes, which httptools buffers until a header ends: bound them.
            self.head_raw += len(chunk)
            if self.head_raw > self.limits.max_head_raw:
                self._refuse(431, f"HTTP header is larger than {self.max_head} bytes.")

    def _refuse(self, status: int, message: str) -> None:
        if not self.closing and self.transport is not None:
            self._write(self.server.error_response(status, message), "GET", keep_alive=False)
        self.closing = True
        self.stash = b""

    def expire(self) -> None:
        """Deadline passed (header timeout, or idle): close without an answer, as servers do."""
        self.closing = True
        self.deadline = None
        if self.transport is not None:
            self.transport.close()

    # -- httptools callbacks ---------------------------------------------------------------
    def on_message_begin(self) -> None:
        self.req = Request(self.peer)
        self.url, self.body = b"", []
        self.size = self.head_raw = 0
        self.in_head = self.in_message = True
        self.begun += 1
        self.deadline = self.server.now + self.header_timeout

    def on_url(self, url: bytes) -> None:
        self.url += url
        if len(self.url) > self.max_url:
            raise _Reject(414, "Request-URI Too Long")

    def on_header(self, name: bytes, value: bytes) -> None:
        self.req.raw_headers.append((name, value))

    def on_headers_complete(self) -> None:
        req = self.req
        self.in_head = False
        # API Gateway's quota counts the request line and header values; names get the same bound
        # on their own (the raw-byte guard in _parse already bounded what could pile up). A head
        # that began in this read and fits in it is within both bounds: nothing to add up.
        if (self.begun == self.chunk_begun or self.chunk_len > self.max_head) and (
                sum([len(value) for _, value in req.raw_headers]) + len(self.url) > self.max_head
                or sum([len(name) for name, _ in req.raw_headers]) > self.max_head):
            raise _Reject(431, f"HTTP header is larger than {self.max_head} bytes.")
        req.method = self.parser.get_method().decode()
        req.url = self.url
        req.keep_alive = self.parser.should_keep_alive()
        self.deadline = self.server.now + self.idle_timeout

    def on_body(self, body: bytes) -> None:
        self.size += len(body)
        if self.size > self.limits.max_body:
            self.req.too_large = True
            self.body = []
        elif not self.req.too_large:
            self.body.append(body)
        self.deadline = self.server.now + self.idle_timeout

    def on_message_complete(self) -> None:
        self.in_message = False
        if self.closing:  # requests pipelined after a `Connection: close` one are not served
            return
        req = self.req
        if self.body:
            req.body = b"".join(self.body)
            self.body = []
        self.deadline = None
        if self.pending or self.running or self.write_paused:
            self.pending.append(req)
            self._throttle()
        else:
            self._serve(req)

    # -- answering -------------------------------------------------------------------------
    def _serve(self, req: Request) -> None:
        """Answer one request nothing waits ahead of: at once if the handler is synchronous,
        else as this connection's only task."""
        try:
            result = self.handler(req)
        except Exception:  # a handler bug must still answer
            self.server.log_error(req)
            result = self.server.error_response(500, "Internal server error")
        if isinstance(result, Response):
            self._answer(req, result)
        else:
            self.running = True
            self.loop.create_task(self._await(req, result))

    async def _await(self, req: Request, pending: Awaitable[Response]) -> None:
        try:
            response = await pending
        except Exception:
            self.server.log_error(req)
            response = self.server.error_response(500, "Internal server error")
        self.running = False
        self._answer(req, response)
        self._advance()

    def _advance(self) -> None:
        """Serve queued requests in order while nothing runs and the writer keeps up."""
        while self.pending and not self.running and not self.closing and not self.write_paused:
            self._serve(self.pending.popleft())
        self._throttle()

    def _answer(self, req: Request, response: Response) -> None:
        if self.closing:
            return
        keep_alive = req.keep_alive and not req.too_large
        self._write(response, req.method, keep_alive)
        if not keep_alive:
            self.closing = True
        elif not self.running and not self.pending and not self.in_message:
            self.deadline = self.server.now + self.idle_timeout

    def _write(self, response: Response, method: str, keep_alive: bool) -> None:
        assert self.transport is not None
        status, now = response.status, int(time.time())
        if _date[0] != now:
            _date[:] = [now, f"Date: {formatdate(now, usegmt=True)}\r\n"]
        status_line = _STATUS_LINES.get(status) or f"HTTP/1.1 {status} Unknown\r\n"
        fields = "".join([f"{name}: {value}\r\n" for name, value in response.headers])
        connection = "keep-alive" if keep_alive else "close"
        head = (f"{status_line}{fields}{_date[1]}Content-Length: {len(response.body)}\r\n"
                f"Connection: {connection}\r\n\r\n").encode("latin-1", "replace")
        self.transport.write(head if method == "HEAD" else head + response.body)
        if not keep_alive:
            self.transport.close()

    def _throttle(self) -> None:
        """Pause reading while answers back up; resume, and parse what was held, once they drain."""
        if self.transport is None or self.closing:
            return
        held = self._held()
        if held and self.reading:
            self.reading = False
            self.transport.pause_reading()
        elif not held and not self.reading:
            self.reading = True
            self.transport.resume_reading()
            self._pump()


class HttpServer:
    """Listens, counts connections, and sweeps their deadlines."""

    def __init__(self, handler: Handler, limits: Limits | None = None,
                 error_response: Callable[[int, str], Response] = json_error,
                 on_handler_error: Callable[[Request], None] | None = None) -> None:
        self.handler, self.limits, self.error_response = handler, limits or Limits(), error_response
        self.on_handler_error = on_handler_error
        self.connections: set[_Connection] = set()
        self.now = time.monotonic()  # the loop's clock, refreshed by the sweeper
        self._server: asyncio.Server | None = None
        self._sweeper: asyncio.TimerHandle | None = None

    async def start(self, host: str, port: int, backlog: int = 1024) -> int:
        """Listen; returns the bound port (useful with port 0)."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Connection(self), host, port,
                                                backlog=backlog, reuse_address=True)
        self._sweep()
        return int(self._server.sockets[0].getsockname()[1])

    def log_error(self, req: Request) -> None:
        if self.on_handler_error is not None:
            self.on_handler_error(req)

    def _sweep(self) -> None:
        loop = asyncio.get_running_loop()
        self.now = loop.time()
        for connection in list(self.connections):
            if connection.deadline is not None and self.now > connection.deadline:
                connection.expire()
        shortest = min(self.limits.header_timeout, self.limits.idle_timeout)
        self._sweeper = loop.call_later(min(max(shortest / 4, 0.02), 1.0), self._sweep)

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
        if self._server is not None:
            self._server.close()
        for connection in list(self.connections):
            if connection.transport is not None:
                connection.transport.close()
