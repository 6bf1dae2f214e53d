"""python -m local.bench.scale: see the package docstring."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from local.bench.scale.simulation import Config, Outcome, Simulation
from local.dynamodb.heat import format_report
from shared.protection.rate_policy import RateLimits

FUNCTIONS = Path(__file__).resolve().parents[3] / "functions"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--containers", type=int, default=1000)
    parser.add_argument("--rps", type=float, default=10_000.0, help="client requests per second, all functions")
    parser.add_argument("--seconds", type=float, default=20.0, help="simulated seconds")
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--flood-rps", type=float, default=0.0,
                        help="add one address flooding login and one user flooding their profile, each at this rate")
    parser.add_argument("--aws-partition-limits", action="store_true",
                        help="throttle partitions over DynamoDB's ceilings (default: only measure them)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the outcome as JSON")
    args = parser.parse_args(argv)
    config = Config(containers=args.containers, rps=args.rps, seconds=args.seconds, users=args.users,
                    flood_rps=args.flood_rps, enforce_aws_limits=args.aws_partition_limits, seed=args.seed)
    outcome = Simulation(config, load_policies()).run()
    print(render(config, outcome))
    if args.json:
        args.json.write_text(json.dumps({"config": config.__dict__, "outcome": outcome.__dict__}, indent=1,
                                        default=dict))
    return 0


def load_policies() -> dict[str, RateLimits]:
    """The functions' own rate-limit policies, quiet logs (the protection code warns on every failure)."""
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ScaleSimulation")
    sys.path[:0] = [str(FUNCTIONS / name) for name in ("users", "orders", "monitoring")]
    from monitoring_api.policy import RATE_LIMITS as MONITORING  # noqa: PLC0415 - after sys.path
    from orders_api.policy import RATE_LIMITS as ORDERS  # noqa: PLC0415 - after sys.path
    from shared.logger import logger  # noqa: PLC0415 - after the environment
    from users_api.policy import RATE_LIMITS as USERS  # noqa: PLC0415 - after sys.path

    logger.setLevel("ERROR")
    return {"users": USERS, "orders": ORDERS, "monitoring": MONITORING}


def render(config: Config, outcome: Outcome) -> str:
    per_container = config.rps / config.containers
    split = ", ".join(f"{n} {function}" for function, n in outcome.containers.items())
    requests = max(1, outcome.requests)
    calls = ", ".join(f"{name} {count / requests:.3f}" for name, count in sorted(outcome.calls.items()))
    lines = [f"## Scale simulation: {config.containers:,} containers ({split}), "
             f"{config.rps:,.0f} req/s (~{per_container:.0f} per container), {config.seconds:.0f} s simulated"
             + (f", flood {config.flood_rps:,.0f} req/s x 2" if config.flood_rps else ""), "",
             format_report(outcome.hot_keys), "",
             f"Requests: {outcome.requests:,}; DynamoDB calls per request: "
             f"{outcome.dynamodb_calls / requests:.2f} ({calls}); limiter fail-opens: {outcome.failed_open:,}; "
             f"/metrics counted {outcome.counted_by_metrics:,} of {outcome.requests:,} requests; "
             f"host CPU {outcome.cpu_seconds:.1f} s ({outcome.cpu_seconds / max(1, outcome.requests) * 1e6:.0f} µs per "
             "simulated request, engine included).", "",
             "| route and status | requests |", "|---|---|"]
    lines += [f"| {name} | {count:,} |" for name, count in sorted(outcome.statuses.items())]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
