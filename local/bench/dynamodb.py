"""Conditional UpdateItem/s against the local DynamoDB: fast server vs stock moto server.

    python -m local.bench.dynamodb [--seconds 5] [--threads 8]

Each thread owns one pooled boto3 client (as each function container does) and issues the
rate limiter's kind of write: ADD with a condition, ReturnValues ALL_NEW.
"""

from __future__ import annotations

import argparse
import threading
import time
from typing import Any

import boto3
from botocore.config import Config

from local.dynamodb import start_dynamodb

TABLE = "BenchTable"


def _client(url: str) -> Any:
    return boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1", aws_access_key_id="x",
                        aws_secret_access_key="x", config=Config(retries={"max_attempts": 1}))


def _create_table(url: str) -> None:
    client = _client(url)
    if TABLE in client.list_tables()["TableNames"]:  # both servers share moto's in-process backend
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


def _stock_server() -> tuple[str, Any]:
    from moto.server import ThreadedMotoServer

    from local.postgres import free_port

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return f"http://{host}:{port}", server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    fast = start_dynamodb()
    _create_table(fast.url)
    print(f"local.dynamodb (HTTP/1.1 keep-alive, threaded): {measure(fast.url, args.seconds, args.threads):.0f} "
          f"UpdateItem/s with {args.threads} clients")
    print(f"local.dynamodb, single client: {measure(fast.url, args.seconds, 1):.0f} UpdateItem/s")
    fast.stop()
    url, stock = _stock_server()
    _create_table(url)
    print(f"stock ThreadedMotoServer (HTTP/1.0): {measure(url, args.seconds, args.threads):.0f} "
          f"UpdateItem/s with {args.threads} clients")
    print(f"stock ThreadedMotoServer, single client: {measure(url, args.seconds, 1):.0f} UpdateItem/s")
    stock.stop()


if __name__ == "__main__":
    main()
