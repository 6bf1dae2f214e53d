"""CI check of `sam build` output: the layer's size, and that the built artefacts really work.

For every function of .aws-sam/build/template.yaml, a `python3.12 -S` process gets only that
function's folder, the built layer and boto3 (which the Lambda runtime provides and the layer
leaves out) on sys.path, imports the handler and every module of its package and of `shared`,
and exercises the native extensions. With a throwaway Postgres (default) the built migrations
function then runs its CloudFormation Create against it and the API functions query it.

    .venv/bin/python -m infra.deploy.check_build [--build-dir .aws-sam/build] [--max-mb 50] [--no-db]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import boto3

from infra.cfn import load_yaml
from infra.deploy.prune import tree_size
from local.postgres import PostgresCluster, free_port

REPO = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).with_name("build_probe.py")
# What the python3.12 Lambda runtime already has: boto3 and its own dependencies (pure Python).
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "urllib3")
_FUNCTION_TYPES = {"AWS::Serverless::Function": "CodeUri", "AWS::Lambda::Function": "Code"}


def built_functions(build_dir: Path) -> dict[str, tuple[Path, str]]:
    """Logical id -> (built code folder, handler) for every zip function of the built template."""
    resources = load_yaml(build_dir / "template.yaml").get("Resources") or {}
    found = {}
    for logical_id, resource in resources.items():
        code_key = _FUNCTION_TYPES.get(resource.get("Type", ""))
        properties = resource.get("Properties") or {}
        if code_key and isinstance(properties.get(code_key), str):
            found[logical_id] = (build_dir / properties[code_key], str(properties["Handler"]))
    return found


def runtime_boto_dir(target: Path) -> Path:
    """A folder exposing the dev venv's boto3 stack, standing in for the runtime's."""

    site_packages = Path(boto3.__file__).resolve().parents[1]
    target.mkdir(parents=True, exist_ok=True)
    for name in RUNTIME_PACKAGES:
        (target / name).symlink_to(site_packages / name)
    return target


class _Capture(BaseHTTPRequestHandler):
    documents: list[dict[str, Any]] = []

    def do_PUT(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.documents.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return


@contextmanager
def response_server() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Stands in for CloudFormation's pre-signed response URL."""
    documents: list[dict[str, Any]] = []
    handler = type("Capture", (_Capture,), {"documents": documents})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/response", documents
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def database(enabled: bool) -> Iterator[str | None]:
    if not enabled:
        yield None
        return
    root = Path(tempfile.mkdtemp(prefix="uoapi-build-check-", dir="/tmp"))
    root.chmod(0o755)
    cluster = PostgresCluster(data_dir=root / "data", port=free_port())
    try:
        cluster.start()
        yield cluster.url
    finally:
        cluster.stop(mode="immediate")
        shutil.rmtree(root, ignore_errors=True)


def probe(python: str, code: Path, *, layer: Path, boto: Path, handler: str, env: dict[str, str],
          response_url: str = "") -> dict[str, Any]:
    args = [python, "-S", str(PROBE), str(code), str(layer), str(boto), handler]
    if response_url:
        args.append(response_url)
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{handler}: built artefact failed under {python}:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def probe_env(database_url: str | None) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", ""), "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "POWERTOOLS_METRICS_DISABLED": "true", "JWT_SECRET": "build-check-secret-0123456789abcdef"}
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def missing_bytecode(layer: Path) -> list[Path]:
    """Modules without a cpython-312 .pyc: /opt is read-only, so Lambda would compile them on every cold start."""
    return [source for source in layer.rglob("*.py")
            if not (source.parent / "__pycache__" / f"{source.stem}.cpython-312.pyc").exists()]


def check(build_dir: Path, python: str, max_mb: float, with_db: bool) -> list[str]:
    layer = build_dir / "SharedLayer" / "python"
    size = tree_size(layer)
    lines = [f"shared layer: {size / 1e6:.1f} MB unzipped (limit {max_mb:g} MB)"]
    if size > max_mb * 1e6:
        raise SystemExit(lines[0] + ": too large")
    if (layer / "boto3").exists() or (layer / "botocore").exists():
        raise SystemExit("the layer bundles boto3/botocore; the Lambda runtime provides them")
    uncompiled = missing_bytecode(layer)
    if uncompiled:
        raise SystemExit(f"{len(uncompiled)} modules without python3.12 bytecode, e.g. {uncompiled[0]}")
    functions = built_functions(build_dir)
    with tempfile.TemporaryDirectory() as scratch, database(with_db) as url, response_server() as (resp, docs):
        boto = runtime_boto_dir(Path(scratch) / "runtime")
        env = probe_env(url)
        # Migrations first: the API functions' probes then query the migrated schema.
        for logical_id in sorted(functions, key=lambda lid: lid != "MigrationsFunction"):
            code, handler = functions[logical_id]
            is_migrations = logical_id == "MigrationsFunction"
            result = probe(python, code, layer=layer, boto=boto, handler=handler, env=env,
                           response_url=resp if is_migrations and url else "")
            if is_migrations and url and (not docs or docs[-1]["Status"] != "SUCCESS"):
                raise SystemExit(f"migrations custom resource did not answer SUCCESS: {docs}")
            lines.append(f"{logical_id}: {json.dumps(result, sort_keys=True)}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", type=Path, default=REPO / ".aws-sam" / "build")
    parser.add_argument("--python", default=os.environ.get("PYTHON312") or shutil.which("python3.12") or "")
    parser.add_argument("--max-mb", type=float, default=50.0)
    parser.add_argument("--no-db", action="store_true", help="skip the Postgres round trip")
    args = parser.parse_args(argv)
    if not args.python:
        raise SystemExit("python3.12 not found: put it on PATH or set PYTHON312")
    for line in check(args.build_dir, args.python, args.max_mb, not args.no_db):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
