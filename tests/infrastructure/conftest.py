"""The template as CloudFormation would receive it: SAM-transformed, per parameter set, conditions evaluated.

The transform runs once per session in .venv-sam (infra/sam_transform.py, aws-sam-translator, no AWS call).
Conditions, Fn::If and the other intrinsics are evaluated with the local gateway's Resolver, given the
scenario's parameter values, so a test reads the resources and properties one deploy would create.
"""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infra.cfn import Resolver

REPO = Path(__file__).resolve().parents[2]
SAM_PYTHON = Path(os.environ.get("SAM_PYTHON", REPO / ".venv-sam" / "bin" / "python"))
REGION = "us-east-1"
AZS = [f"{REGION}a", f"{REGION}b", f"{REGION}c"]

# name -> parameter values (CommaDelimitedList values as "a,b", as on the command line)
SCENARIOS: dict[str, dict[str, str]] = {
    "default": {},
    "existing_vpc": {"SubnetIds": "subnet-0aa,subnet-0bb", "SecurityGroupIds": "sg-0cc",
                     "DatabaseSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf",
                     "JwtSecretParameterName": "users-orders-api/jwt-secret"},
    "create_db": {"CreateDatabase": "true", "JwtSecretParameterName": "users-orders-api/jwt-secret"},
    "create_db_xray": {"CreateDatabase": "true", "CreateXRayEndpoint": "true"},
    "snapstart": {"EnableSnapStart": "true", "UsersReservedConcurrency": "20", "OrdersReservedConcurrency": "30",
                  "MonitoringReservedConcurrency": "5"},
    "tls_bundle": {"DbSslMode": "verify-full", "DbSslRootCert": "/opt/certs/rds-global-bundle.pem"},
    "observed": {"AlarmTopicArn": "arn:aws:sns:us-east-1:123456789012:alerts", "ManageApiGatewayAccount": "true",
                 "ApiThrottlingRateLimit": "50", "ApiThrottlingBurstLimit": "75"},
    "no_migrations": {"RunMigrationsOnDeploy": "false"},
    "cors_origin": {"CorsAllowOrigins": "https://shop.example"},
    "cors_list": {"CorsAllowOrigins": "https://shop.example,http://localhost:5500"},
    "cors_any": {"CorsAllowOrigins": "*"},
}


class CfnResolver(Resolver):
    """The gateway's resolver plus the intrinsics a network needs (several AZs, Fn::Cidr)."""

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Fn::GetAZs":
                return list(AZS)
            if key == "Fn::Cidr":
                block, count, bits = (self.resolve(a) for a in arg)
                network = ipaddress.ip_network(block)
                subnets = network.subnets(new_prefix=network.max_prefixlen - int(bits))
                return [str(next(subnets)) for _ in range(int(count))]
        return super().resolve(value)


@dataclass
class Stack:
    """One transformed template under one set of parameter values."""

    name: str
    template: dict[str, Any]
    resolver: CfnResolver

    def created(self, logical_id: str) -> bool:
        resource = self.template["Resources"].get(logical_id)
        if resource is None:
            return False
        condition = resource.get("Condition")
        return condition is None or self.resolver.condition(condition)

    def resources(self, rtype: str) -> dict[str, dict[str, Any]]:
        """Created resources of a type, logical id -> properties with intrinsics evaluated."""
        return {lid: self.properties(lid) for lid, res in self.template["Resources"].items()
                if res.get("Type") == rtype and self.created(lid)}

    def properties(self, logical_id: str) -> dict[str, Any]:
        assert self.created(logical_id), f"{logical_id} is not created in scenario {self.name}"
        return dict(self.resolver.resolve(self.template["Resources"][logical_id].get("Properties") or {}))

    def raw(self, logical_id: str) -> dict[str, Any]:
        return dict(self.template["Resources"][logical_id])

    def functions(self) -> dict[str, dict[str, Any]]:
        return self.resources("AWS::Lambda::Function")

    def environment(self, logical_id: str) -> dict[str, Any]:
        return dict(self.properties(logical_id).get("Environment", {}).get("Variables", {}))


def _transform_all() -> dict[str, dict[str, Any]]:
    if not SAM_PYTHON.exists():
        pytest.fail(f"{SAM_PYTHON} is missing: run `make .venv-sam/.installed` (the SAM CLI's tool venv)")
    done = subprocess.run([str(SAM_PYTHON), str(REPO / "infra" / "sam_transform.py"), str(REPO / "template.yaml")],
                          input=json.dumps(SCENARIOS), capture_output=True, text=True, timeout=300, check=False,
                          env={**os.environ, "AWS_DEFAULT_REGION": REGION})
    if done.returncode != 0:
        pytest.fail(f"SAM transform failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout))


@pytest.fixture(scope="session")
def transformed() -> Iterator[dict[str, dict[str, Any]]]:
    yield _transform_all()


def make_stack(transformed: dict[str, dict[str, Any]], name: str) -> Stack:
    template = transformed[name]
    resolver = CfnResolver(template, REPO, REGION)
    resolver.params.update(SCENARIOS[name])
    for key, spec in template["Parameters"].items():  # a CommaDelimitedList is a list, even "" (-> [""])
        if spec.get("Type") == "CommaDelimitedList":
            resolver.params[key] = str(resolver.params[key]).split(",")
    return Stack(name, template, resolver)


@pytest.fixture(scope="session")
def stacks(transformed: dict[str, dict[str, Any]]) -> dict[str, Stack]:
    return {name: make_stack(transformed, name) for name in SCENARIOS}


@pytest.fixture(scope="session")
def default(stacks: dict[str, Stack]) -> Stack:
    return stacks["default"]


@pytest.fixture(scope="session")
def create_db(stacks: dict[str, Stack]) -> Stack:
    return stacks["create_db"]
