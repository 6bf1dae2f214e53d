"""The shared HTTP/1.1 server (local/httpserver.py): limits, timeouts, caps, back-pressure, keep-alive.

Timeouts are set tiny and waited for with generous bounds: the tests assert that a connection is
closed, never how fast.
"""

from __future__ import annotations

import asyncio
import socket
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from local.httpserver import HttpServer, Limits, Request, Response
from local.loopthread import LoopThread

from .conftest import start

BOUND = 10.0  # seconds a test waits for something that must happen


def hello(req: Request) -> Response:
    return Response(200, [("Content-Type", "text/plain")], f"{req.method} {req.path}".encode())


@contextmanager
def serving(handler: Callable[[Request], Any] = hello, **limits: Any) -> Iterator[tuple[HttpServer, int]]:
    server = HttpServer(handler, Limits(**limits))
    runner = LoopThread("test-http")
    port = runner.start(lambda: server.start("127.0.0.1", 0))
    try:
        yield server, port
    finally:
        runner.stop(server.close)


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=BOUND)


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes (a reset counts as closed)."""
    chunks = []
    deadline = time.monotonic() + BOUND
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    else:
        raise AssertionError("the server kept the connection open")
    return b"".join(chunks)


def read_responses(sock: socket.socket, count: int) -> list[bytes]:
    """`count` complete responses (head + Content-Length body), in the order they arrive."""
    data, out = b"", []
    while len(out) < count:
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536)
        head, _, data = data.partition(b"\r\n\r\n")
        length = int(next(ln for ln in head.split(b"\r\n") if ln.lower().startswith(b"content-length")).split(b":")[1])
        while len(data) < length:
            data += sock.recv(65536)
        out.append(head + b"\r\n\r\n" + data[:length])
        data = data[length:]
    return out


def wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + BOUND
    while not condition():
        assert time.monotonic() < deadline, "condition never became true"
        time.sleep(0.01)


def get(path: str, *extra: str) -> bytes:
    return ("\r\n".join([f"GET {path} HTTP/1.1", "Host: x", *extra]) + "\r\n\r\n").encode()


def test_keep_alive_serves_several_requests_on_one_connection() -> None:
    with serving() as (_, port), connect(port) as sock:
        for path in ("/a", "/b", "/c"):
            sock.sendall(get(path))
            [response] = read_responses(sock, 1)
            assert response.startswith(b"HTTP/1.1 200 OK") and response.endswith(f"GET {path}".encode())
            assert b"Connection: keep-alive" in response


def test_pipelined_requests_are_answered_in_order_even_when_handled_asynchronously() -> None:
    async def slow_first(req: Request) -> Response:
        await asyncio.sleep(0.2 if req.path == "/slow" else 0)
        return hello(req)

    with serving(slow_first) as (_, port), connect(port) as sock:
        sock.sendall(get("/slow") + get("/fast") + get("/last", "Connection: close"))
        responses = read_until_closed(sock).split(b"HTTP/1.1 ")[1:]
        assert [r.rsplit(b"\r\n\r\n", 1)[1] for r in responses] == [b"GET /slow", b"GET /fast", b"GET /last"]


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (get("/", "X-Big: " + "v" * 10240), b"431"),  # header values over the quota
        (get("/" + "u" * 10241), b"414"),  # URL over the quota
        (get("/", *(f"X-{i:05d}{'n' * 100}: v" for i in range(100))), b"431"),  # names are bounded too
    ],
)
def test_oversized_heads_are_refused(request_bytes: bytes, status: bytes) -> None:
    with serving() as (_, port), connect(port) as sock:
        sock.sendall(request_bytes)
        answer = read_until_closed(sock)
        assert answer.startswith(b"HTTP/1.1 " + status)
        assert b'{"message":' in answer


def test_head_within_the_quota_is_served() -> None:
    with serving() as (_, port), connect(port) as sock:
        sock.sendall(get("/" + "u" * 100, "X-Big: " + "v" * (10240 - 200)))
        [response] = read_responses(sock, 1)
        assert response.startswith(b"HTTP/1.1 200 OK")


def test_endless_header_is_refused_with_bounded_memory() -> None:
    # Given a client streaming one header value without end (200 MiB would be sent if accepted)
    with serving() as (_, port), connect(port) as sock:
        tracemalloc.start()
        try:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Endless: ")
            sent, piece = 0, b"v" * 65536
            while sent < 200 * 1024 * 1024:
                try:
                    sock.sendall(piece)
                except (BrokenPipeError, ConnectionResetError):
                    break
                sent += len(piece)
            else:
                raise AssertionError("the server read 200 MiB of one header")
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        # Then the server stopped it early and never held more than a few reads' worth
        assert sent < 64 * 1024 * 1024
        assert peak < 8 * 1024 * 1024


def test_half_sent_request_is_closed_after_the_header_timeout_however_it_dribbles() -> None:
    with serving(header_timeout=0.3) as (_, port), connect(port) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        deadline = time.monotonic() + BOUND
        while True:  # one byte every 50 ms: progress, but the head never ends
            assert time.monotonic() < deadline, "the half-sent request was never closed"
            try:
                sock.sendall(b"v")
            except (BrokenPipeError, ConnectionResetError):
                break
            sock.settimeout(0.05)
            try:
                if sock.recv(1024) == b"":
                    break
            except TimeoutError:
                continue
            except ConnectionResetError:
                break


def test_idle_keep_alive_connection_is_closed() -> None:
    with serving(idle_timeout=0.3) as (_, port), connect(port) as sock:
        sock.sendall(get("/"))
        [response] = read_responses(sock, 1)
        assert response.startswith(b"HTTP/1.1 200 OK")
        assert read_until_closed(sock) == b""


def test_connection_cap_refuses_the_extra_connection_with_503() -> None:
    with serving(max_connections=2) as (server, port):
        held = [connect(port), connect(port)]
        wait_for(lambda: len(server.connections) == 2)
        with connect(port) as extra:
            extra.sendall(get("/"))
            answer = read_until_closed(extra)
            assert answer.startswith(b"HTTP/1.1 503") and b"Too many connections" in answer
        held[0].close()
        wait_for(lambda: len(server.connections) == 1)
        with connect(port) as again:  # a freed slot serves again
            again.sendall(get("/"))
            assert read_responses(again, 1)[0].startswith(b"HTTP/1.1 200 OK")
        held[1].close()


def test_reading_pauses_while_too_many_requests_wait_and_resumes_after() -> None:
    gate: list[asyncio.Event] = []
    loops: list[asyncio.AbstractEventLoop] = []

    async def gated(req: Request) -> Response:
        if not gate:
            gate.append(asyncio.Event())
            loops.append(asyncio.get_running_loop())
        await gate[0].wait()
        return hello(req)

    count = 2000  # ~40 KB of pipelined requests, far more than the cap
    with serving(gated, max_pipelined=4) as (server, port), connect(port) as sock:
        sock.sendall(b"".join(get(f"/{i}") for i in range(count)))
        wait_for(lambda: len(server.connections) == 1 and not next(iter(server.connections)).reading)
        connection = next(iter(server.connections))
        # the rest waits unparsed (in the connection's stash or still in the socket)
        assert len(connection.pending) < count // 2
        loops[0].call_soon_threadsafe(gate[0].set)
        responses = read_responses(sock, count)
        assert [r.rsplit(b"\r\n\r\n", 1)[1] for r in responses] == [f"GET /{i}".encode() for i in range(count)]


def test_reading_pauses_while_the_client_does_not_read_answers() -> None:
    big = b"x" * (1024 * 1024)

    def large(req: Request) -> Response:
        return Response(200, [], big)

    count = 64  # 64 MiB of answers if nothing held the server back
    with serving(large) as (server, port), connect(port) as sock:
        sock.sendall(b"".join(get(f"/{i}") for i in range(count)))
        wait_for(lambda: len(server.connections) == 1 and next(iter(server.connections)).write_paused)
        connection = next(iter(server.connections))
        assert connection.transport is not None
        wait_for(lambda: not connection.reading)
        assert connection.transport.get_write_buffer_size() < 16 * 1024 * 1024
        responses = read_responses(sock, count)  # reading them lets everything through, in order
        assert all(r.endswith(big) for r in responses)


def test_gateway_applies_its_limits() -> None:
    gw = start(header_timeout=0.3, max_connections=50)
    try:
        with connect(gw.port) as sock:  # API Gateway's header quota, through the gateway
            sock.sendall(get("/echo", "X-Big: " + "v" * 10240))
            answer = read_until_closed(sock)
            assert answer.startswith(b"HTTP/1.1 431") and b"larger than 10240 bytes" in answer
        with connect(gw.port) as sock:  # and its header timeout
            sock.sendall(b"GET /echo HTTP/1.1\r\nHost: x\r\n")
            assert read_until_closed(sock) == b""
    finally:
        gw.stop()


def test_dynamodb_engine_runs_on_the_shared_server_with_its_own_bounds() -> None:
    from local.dynamodb.fast import start_fast

    engine = start_fast()
    try:
        with connect(engine.port) as sock:  # a DynamoDB call is served
            body = b"{}"
            sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\n"
                         b"Content-Type: application/x-amz-json-1.0\r\nContent-Length: 2\r\n\r\n" + body)
            [response] = read_responses(sock, 1)
            assert response.startswith(b"HTTP/1.1 200 OK") and response.endswith(b'{"TableNames":[]}')
        with connect(engine.port) as sock:  # a head over its 64 KiB bound is refused, DynamoDB-shaped
            sock.sendall(get("/", "X-Big: " + "v" * (65 * 1024)))
            answer = read_until_closed(sock)
            assert answer.startswith(b"HTTP/1.1 431") and b"#ValidationException" in answer
    finally:
        engine.stop()
