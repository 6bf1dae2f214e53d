"""Conditional UpdateItem/s against the local DynamoDB: fast engine vs moto engine, 1 and N clients.

    python -m local.bench.dynamodb [--seconds 5] [--threads 8]

Each thread owns one pooled boto3 client (as each function container does) and issues the
rate limiter's kind of write: ADD with a condition, ReturnValues ALL_NEW.
"""

from __future__ import annotations

import argparse
import multiprocessing
import signal
import subprocess
import sys
import threading
import time
from typing import Any

import boto3
from botocore.config import Config

from local.postgres import free_port

TABLE = "BenchTable"


def _client(url: str) -> Any:
    return boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1", aws_access_key_id="x",
                        aws_secret_access_key="x", config=Config(retries={"max_attempts": 1}))


def _create_table(url: str) -> None:
    client = _client(url)
    if TABLE in client.list_tables()["TableNames"]:  # moto servers share one in-process backend
        client.delete_table(TableName=TABLE)
    client.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                              AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                              KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])


def _worker(url: str, index: int, deadline: float, counts: list[int]) -> None:
    client = _client(url)
    done = 0
    while time.perf_counter() < deadline:
        client.update_item(
            TableName=TABLE, Key={"pk": {"S": f"key-{index}-{done % 50}"}},
            UpdateExpression="ADD c :one", ConditionExpression="attribute_not_exists(c) OR c < :max",
            ExpressionAttributeValues={":one": {"N": "1"}, ":max": {"N": "1000000"}}, ReturnValues="ALL_NEW",
        )
        done += 1
    counts[index] = done


def measure(url: str, seconds: float, threads: int) -> float:
    counts = [0] * threads
    deadline = time.perf_counter() + seconds
    workers = [threading.Thread(target=_worker, args=(url, i, deadline, counts)) for i in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(counts) / (time.perf_counter() - started)


def _serve(engine: str) -> tuple[str, subprocess.Popen[str]]:
    """The server in its own process, as the stack runs it (clients in this process would share its GIL)."""
    port = free_port()
    child = subprocess.Popen([sys.executable, "-m", "local.dynamodb", "--port", str(port), "--engine", engine],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    child.stdout.readline()  # "DynamoDB listening on ..."
    return f"http://127.0.0.1:{port}", child


def _measure_in_process(args: tuple[str, float, int]) -> float:
    return measure(*args)


def measure_processes(url: str, seconds: float, threads: int, processes: int) -> float:
    """Client threads spread over `processes` processes (each like a function container's client)."""
    split = [threads // processes + (i < threads % processes) for i in range(processes)]
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        return sum(pool.map(_measure_in_process, [(url, seconds, n) for n in split if n]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--processes", type=int, default=2, help="client processes for the multi-thread run")
    args = parser.parse_args()
    for engine in ("fast", "moto"):
        url, child = _serve(engine)
        try:
            _create_table(url)
            print(f"{engine:>4} engine: {measure(url, args.seconds, 1):7.0f} conditional UpdateItem/s, 1 client thread")
            rate = measure_processes(url, args.seconds, args.threads, args.processes)
            print(f"{engine:>4} engine: {rate:7.0f} conditional UpdateItem/s, {args.threads} client threads in "
                  f"{args.processes} processes")
        finally:
            child.send_signal(signal.SIGTERM)
            child.wait(timeout=10)


if __name__ == "__main__":
    main()
