"""Helpers for fault injection on a running local stack: processes, Postgres counts, load threads."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import requests
import sqlalchemy as sa

from infra.dynamodb_tables import create_tables
from local.stack import Stack

ORDER = {"items": [{"product": "Widget", "quantity": 2, "price": 12.5}]}


def register_and_login(base_url: str) -> tuple[str, str]:
    """A fresh user: (user_id, token)."""
    email = f"fault-{uuid.uuid4().hex[:10]}@example.com"
    body = {"email": email, "password": "correct-horse-battery", "name": "Fault"}
    registered = requests.post(f"{base_url}/v1/users/register", json=body, timeout=15)
    assert registered.status_code == 201, registered.text
    login = requests.post(f"{base_url}/v1/users/login", json={"email": email, "password": body["password"]},
                          timeout=15)
    assert login.status_code == 200, login.text
    return str(registered.json()["data"]["user"]["id"]), str(login.json()["data"]["token"])


def committed_order_ids(stack: Stack, user_id: str) -> set[str]:
    """What Postgres really holds for that user (read directly, not through the API)."""
    engine = sa.create_engine(stack.database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT id FROM orders WHERE user_id = :u"), {"u": user_id})
            return {str(row[0]) for row in rows}
    finally:
        engine.dispose()


def _environ(pid: int) -> dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {key.decode(errors="replace"): value.decode(errors="replace") for key, value in pairs}


def worker_pids(stack: Stack, function: str) -> list[int]:
    """Warm workers of one function of this stack: their environment names the function and our database."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            env = _environ(int(entry.name))
            if env.get("AWS_LAMBDA_FUNCTION_NAME") == function and env.get("DATABASE_URL") == stack.database_url:
                found.append(int(entry.name))
    return found


def postgres_pids(stack: Stack) -> list[int]:
    """The postmaster (first line of postmaster.pid) and every process it forked."""
    assert stack.postgres is not None
    postmaster = int((stack.postgres.data_dir / "postmaster.pid").read_text().split()[0])
    pids = [postmaster]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = Path(f"/proc/{entry.name}/stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == postmaster:
                pids.append(int(entry.name))
    return pids


@contextmanager
def postgres_frozen(stack: Stack) -> Iterator[None]:
    """Postgres hangs (SIGSTOP: connections stay open, nothing answers) until the block ends."""
    pids = postgres_pids(stack)
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)


@contextmanager
def orders_table_locked(stack: Stack) -> Iterator[None]:
    """Writers to `orders` block (another session holds ACCESS EXCLUSIVE) while reads of `users` go on."""
    engine = sa.create_engine(stack.database_url)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE"))
            yield
            connection.rollback()
    finally:
        engine.dispose()


def restore_dynamodb(stack: Stack) -> None:
    """Bring the emulation back; moto keeps no data across restarts, so recreate the template's tables."""
    stack.start_dynamodb_server()
    client = boto3.client("dynamodb", endpoint_url=stack.dynamodb_url, region_name="us-east-1",
                          aws_access_key_id="local", aws_secret_access_key="local")
    create_tables(client, stack.config.template)


@dataclass
class OrderLoad:
    """Threads creating orders until stopped; remembers every answer (status, order id or error code), and
    when each request was sent (`sent`, monotonic seconds, in the same order as `results`)."""

    base_url: str
    token: str
    threads: int = 4
    results: list[tuple[int, str]] = field(default_factory=list)
    sent: list[float] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _workers: list[threading.Thread] = field(default_factory=list)

    def _run(self) -> None:
        session = requests.Session()
        headers = {"Authorization": f"Bearer {self.token}"}
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                response = session.post(f"{self.base_url}/v1/orders", json=ORDER, headers=headers, timeout=30)
            except requests.RequestException as error:
                self._record(started, 0, type(error).__name__)
                continue
            body = response.json()
            if response.status_code == 201:
                marker = body["data"]["order"]["id"]
            else:  # the error code, and whether a 503 said when to retry
                marker = body["error"]["code"] + ("+retry" if "Retry-After" in response.headers else "")
            self._record(started, response.status_code, marker)
            if response.status_code >= 500:
                time.sleep(0.05)  # a client backing off, not a hot loop against a dead dependency

    def _record(self, started: float, status: int, marker: str) -> None:
        with self._lock:
            self.sent.append(started)
            self.results.append((status, marker))

    def sent_between(self, start: float, end: float) -> list[tuple[int, str]]:
        """Answers to the requests sent in [start, end) (time.monotonic() seconds)."""
        with self._lock:
            return [result for sent, result in zip(self.sent, self.results, strict=True) if start <= sent < end]

    def __enter__(self) -> OrderLoad:
        for _ in range(self.threads):
            thread = threading.Thread(target=self._run, daemon=True)
            thread.start()
            self._workers.append(thread)
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._workers:
            thread.join(60)

    def acknowledged(self) -> set[str]:
        return {marker for status, marker in self.results if status == 201}

    def statuses(self) -> set[int]:
        return {status for status, _ in self.results}

    def errors(self) -> set[str]:
        return {marker for status, marker in self.results if status != 201}
