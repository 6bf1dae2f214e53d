"""What a function's cold start imports: nothing that only documentation, tracing or boto needs.

Each import below cost tens of milliseconds of every cold start when it crept onto the load path
(`make bench-coldstart` measures the time; this checks the cause, which does not depend on the machine).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from infra.sam_app import load_app
from local.gateway.workers import function_env
from tests.support.api import TEMPLATE

# module → why it must stay off an untraced function's load path
NOT_AT_COLD_START = {
    "aws_lambda_powertools.event_handler.openapi.models": "OpenAPI document models (~60 ms): docs only",
    "aws_xray_sdk": "the X-Ray SDK: only functions Lambda traces load it",
    # Powertools' package import touches `botocore` itself (a user-agent hook, a few ms); its clients
    # and sessions are what cost: the hot path has its own DynamoDB client, idempotency loads boto lazily.
    "botocore.session": "boto clients and their service models",
    "boto3": "as botocore.session",
}
_PROBE = "import importlib, json, sys; importlib.import_module(sys.argv[1]); print(json.dumps(sorted(sys.modules)))"


@pytest.mark.parametrize("function", ["UsersFunction", "OrdersFunction", "MonitoringFunction"])
def test_importing_a_handler_loads_no_docs_tracing_or_boto_module(function: str) -> None:
    spec = load_app(TEMPLATE).functions[function]
    env = function_env(spec, {}, "us-east-1")
    env["PYTHONPATH"] = env.pop("_GATEWAY_SYS_PATH")
    module = spec.handler.rpartition(".")[0]
    loaded = json.loads(subprocess.run([sys.executable, "-c", _PROBE, module], env=env, capture_output=True,
                                       text=True, check=True).stdout)
    found = {name: why for name, why in NOT_AT_COLD_START.items()
             if any(m == name or m.startswith(name + ".") for m in loaded)}
    assert found == {}
