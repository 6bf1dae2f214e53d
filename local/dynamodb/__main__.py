"""python -m local.dynamodb --host H --port P [--template T] [--engine fast|moto]"""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from local.dynamodb import ENGINES, default_engine, start_dynamodb


def create_template_tables(url: str, template: Path, region: str = "us-east-1") -> list[str]:
    import boto3

    from infra.tables import create_tables

    client = boto3.client("dynamodb", endpoint_url=url, region_name=region,
                          aws_access_key_id="local", aws_secret_access_key="local")
    return create_tables(client, template, region)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A local DynamoDB (fast in-memory engine or moto)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--template", type=Path, help="create the tables this SAM template declares")
    parser.add_argument("--engine", choices=ENGINES, default=None,
                        help="fast (default, or $DYNAMODB_ENGINE) or moto")
    args = parser.parse_args(argv)
    handle = start_dynamodb(args.host, args.port, args.engine or default_engine())
    if args.template:
        create_template_tables(handle.url, args.template)
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    print(f"DynamoDB listening on {handle.url}", flush=True)
    stopped.wait()
    handle.stop()


if __name__ == "__main__":
    main()
