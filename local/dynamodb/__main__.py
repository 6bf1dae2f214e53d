"""python -m local.dynamodb [--host H] [--port P] [--template T] [--engine fast|moto] [--allow-remote]
                           [--hot-keys] [--aws-partition-limits]

--hot-keys meters every partition key value and item (fast engine) and prints the hot-key report on exit;
--aws-partition-limits also throttles any partition over DynamoDB's 3,000 RCU / 1,000 WCU per second.

Binds loopback only unless --allow-remote is given: the emulation checks no signature and has no
access control, so anyone who can reach the port can read, change or delete every table (rate-limit
counters, idempotency records). The local stack always runs it on 127.0.0.1, whatever HOST the gateway uses.
"""

from __future__ import annotations

import argparse
import ipaddress
import signal
import threading
from pathlib import Path

import boto3

from infra.dynamodb_tables import create_tables
from local.dynamodb import ENGINES, default_engine, start_dynamodb
from local.dynamodb.heat import HeatMap, format_report


def create_template_tables(url: str, template: Path, region: str = "us-east-1") -> list[str]:
    client = boto3.client("dynamodb", endpoint_url=url, region_name=region,
                          aws_access_key_id="local", aws_secret_access_key="local")
    return create_tables(client, template, region)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # any other name may resolve to anything
        return False


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A local DynamoDB (fast in-memory engine or moto)")
    parser.add_argument("--host", default="127.0.0.1", help="loopback only unless --allow-remote")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--template", type=Path, help="create the tables this SAM template declares")
    parser.add_argument("--engine", choices=ENGINES, default=None,
                        help="fast (default, or $DYNAMODB_ENGINE) or moto")
    parser.add_argument("--allow-remote", action="store_true",
                        help="allow a non-loopback --host: the tables are unauthenticated, anyone who reaches the "
                             "port can read and change them")
    parser.add_argument("--hot-keys", action="store_true",
                        help="meter every key and print the hot-key report on exit (fast engine)")
    parser.add_argument("--aws-partition-limits", action="store_true",
                        help="throttle partitions over DynamoDB's per-partition ceilings, as AWS would")
    args = parser.parse_args(argv)
    if not args.allow_remote and not is_loopback(args.host):
        parser.error(f"--host {args.host} is not a loopback address; the emulation has no authentication, "
                     "so it binds 127.0.0.1 unless --allow-remote is given")
    heat = HeatMap(enforce_aws_limits=args.aws_partition_limits) if args.hot_keys or args.aws_partition_limits \
        else None
    handle = start_dynamodb(args.host, args.port, args.engine or default_engine(), heat=heat)
    if args.template:
        create_template_tables(handle.url, args.template)
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    print(f"DynamoDB listening on {handle.url}", flush=True)
    stopped.wait()
    handle.stop()
    if heat is not None and args.hot_keys:
        print(format_report(heat.report(top=20)), flush=True)


if __name__ == "__main__":
    main()
