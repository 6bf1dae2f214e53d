"""CLI: python -m local.gateway --template FILE [--host H] [--port P] [--env-file F] [--parameter-overrides K=V ...]."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys

from local.loopthread import new_event_loop

from .server import GatewayConfig, serve
from .sites import parse_site


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m local.gateway", description=__doc__)
    p.add_argument("--template", "-t", default="template.yaml", help="SAM template (default: template.yaml)")
    p.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")), help="0 = any free port")
    p.add_argument("--env-file", "-n", help="SAM env-vars JSON: {Parameters: {...}, FunctionId: {...}}")
    p.add_argument("--parameter-overrides", nargs="*", default=[], metavar="KEY=VALUE",
                   help="template parameter values, as `sam local start-api --parameter-overrides` (shorthand form)")
    p.add_argument(
        "--max-workers",
        type=int,
        help="warm workers per function (env GATEWAY_MAX_WORKERS, default 4)",
    )
    p.add_argument(
        "--eager",
        action="store_true",
        default=None,
        help="start one worker per function at startup instead of on first request (env GATEWAY_EAGER)",
    )
    p.add_argument(
        "--integration-timeout",
        type=float,
        help="API Gateway integration timeout in seconds (env GATEWAY_INTEGRATION_TIMEOUT, default 29)",
    )
    p.add_argument("--no-reload", action="store_true", help="do not restart workers on code changes")
    p.add_argument("--header-timeout", type=float, help="seconds to receive a request's headers (env "
                   "GATEWAY_HEADER_TIMEOUT, default 10)")
    p.add_argument("--idle-timeout", type=float, help="seconds an idle keep-alive connection stays open (env "
                   "GATEWAY_IDLE_TIMEOUT, default 60)")
    p.add_argument("--max-connections", type=int, help="open connections; more get 503 (env "
                   "GATEWAY_MAX_CONNECTIONS, default 512)")
    p.add_argument("--max-pipelined", type=int, help="queued requests per connection before reading pauses "
                   "(env GATEWAY_MAX_PIPELINED, default 16)")
    p.add_argument(
        "--openapi",
        help="OpenAPI file to serve with Swagger UI under /_docs (env GATEWAY_OPENAPI; default: off)",
    )
    p.add_argument(
        "--site",
        action="append",
        default=[],
        metavar="PREFIX=DIR",
        help="serve a folder of static pages under a reserved prefix, e.g. /_dashboard=local/dashboard/site "
        "(repeatable; see local/gateway/sites.py)",
    )
    return p.parse_args(argv)


_FROM_ENV = ("max_workers", "eager", "integration_timeout", "openapi", "header_timeout", "idle_timeout",
             "max_connections", "max_pipelined")


def parameter_overrides(pairs: list[str]) -> dict[str, str]:
    """`Key=Value` pairs (the value may hold commas and `=`); a pair without `=` is refused."""
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise SystemExit(f"--parameter-overrides: expected KEY=VALUE, got {pair!r}")
        values[name] = value
    return values


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    overrides = {}
    if args.env_file:
        with open(args.env_file, encoding="utf-8") as fh:
            overrides = json.load(fh)
    # Options not given on the command line come from the GATEWAY_* variables, in GatewayConfig.from_env alone.
    given = {name: getattr(args, name) for name in _FROM_ENV if getattr(args, name) is not None}
    config = GatewayConfig.from_env(
        args.template,
        parameters=parameter_overrides(args.parameter_overrides),
        host=args.host,
        port=args.port,
        env_overrides=overrides,
        reload=not args.no_reload,
        sites=dict(parse_site(option) for option in args.site),
        **given,
    )
    loop = new_event_loop()
    asyncio.set_event_loop(loop)
    task = loop.create_task(serve(config))
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    try:
        loop.run_until_complete(task)
    except asyncio.CancelledError:
        pass
    finally:
        loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
