"""Each function's role names exactly the tables, parameter and secret it uses; no data action on `*`."""

from __future__ import annotations

from typing import Any

import pytest

from tests.infrastructure.conftest import SCENARIOS, Stack

TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/{}"
PROTECTION = {TABLE.format(t) for t in ("RateLimitTable", "CircuitBreakerTable", "MetricsTable")}
ITEM_RW = {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}
# What each function may do to which resource (the handlers' data access; see shared/protection, shared/db).
EXPECTED_DYNAMODB = {
    "UsersFunction": {(action, arn) for action in ITEM_RW for arn in PROTECTION},
    "OrdersFunction": {(action, arn) for action in ITEM_RW for arn in PROTECTION}
    | {(action, TABLE.format("IdempotencyTable")) for action in ITEM_RW | {"dynamodb:DeleteItem"}},
    "MonitoringFunction": {(action, arn) for action in ITEM_RW for arn in PROTECTION}
    | {("dynamodb:Query", TABLE.format("MetricsTable"))},
    "MigrationsFunction": set(),
}
DATA_SERVICES = ("dynamodb:", "ssm:", "secretsmanager:", "s3:", "kms:")
# AWS managed policies SAM and the template attach: logs, traces, and (in a VPC) ENI management.
MANAGED = {"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
           "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
           "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"}


def _listify(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def role_statements(stack: Stack, function: str) -> tuple[list[dict[str, Any]], set[str]]:
    """The statements of the function's role (inline and customer-managed policies) and its AWS managed ARNs."""
    role_id = stack.raw(function)["Properties"]["Role"]["Fn::GetAtt"][0]
    role = stack.properties(role_id)
    statements = [s for policy in role.get("Policies", []) for s in _listify(policy["PolicyDocument"]["Statement"])]
    aws_managed = set()
    for arn in role.get("ManagedPolicyArns", []):
        if arn in stack.template["Resources"]:  # a customer-managed policy of this template (Ref -> logical id)
            statements += _listify(stack.properties(arn)["PolicyDocument"]["Statement"])
        else:
            aws_managed.add(arn)
    return statements, aws_managed


def data_grants(statements: list[dict[str, Any]], prefix: str) -> set[tuple[str, str]]:
    return {(action, resource) for s in statements if s["Effect"] == "Allow"
            for action in _listify(s["Action"]) if action.startswith(prefix)
            for resource in _listify(s["Resource"])}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_data_actions_name_only_the_resources_each_function_uses(stacks: dict[str, Stack], scenario: str) -> None:
    stack = stacks[scenario]
    for function in stack.functions():
        statements, aws_managed = role_statements(stack, function)
        # No data action on a wildcard resource, and no wildcard action
        for action, resource in data_grants(statements, ""):
            assert "*" not in action, (function, action)
            if action.startswith(DATA_SERVICES):
                assert "*" not in str(resource), (function, action, resource)
        # Exactly the tables this function uses, with exactly the actions it needs
        assert data_grants(statements, "dynamodb:") == EXPECTED_DYNAMODB[function], function
        # Only AWS managed policies for logs, traces and ENIs
        assert aws_managed <= MANAGED, (function, aws_managed - MANAGED)


def test_secrets_and_parameters_are_granted_by_exact_arn(stacks: dict[str, Stack]) -> None:
    stack = stacks["existing_vpc"]
    secret = SCENARIOS["existing_vpc"]["DatabaseSecretArn"]
    parameter = "arn:aws:ssm:us-east-1:123456789012:parameter/users-orders-api/jwt-secret"
    for function in ("UsersFunction", "OrdersFunction", "MonitoringFunction"):
        statements, _ = role_statements(stack, function)
        assert data_grants(statements, "secretsmanager:") == {("secretsmanager:GetSecretValue", secret)}
        assert data_grants(statements, "ssm:") == {("ssm:GetParameter", parameter)}
    statements, _ = role_statements(stack, "MigrationsFunction")
    assert data_grants(statements, "secretsmanager:") == {("secretsmanager:GetSecretValue", secret)}
    assert data_grants(statements, "ssm:") == set()  # migrations never read the JWT secret


def test_without_secrets_no_secret_or_parameter_is_readable(default: Stack) -> None:
    for function in default.functions():
        statements, _ = role_statements(default, function)
        assert data_grants(statements, "secretsmanager:") == set()
        assert data_grants(statements, "ssm:") == set()


def test_created_database_secret_is_read_by_the_functions_and_the_proxy_only(create_db: Stack) -> None:
    managed_secret = "DatabaseCluster.MasterUserSecret.SecretArn"  # the resolver's name for that GetAtt
    for function in create_db.functions():
        statements, _ = role_statements(create_db, function)
        assert data_grants(statements, "secretsmanager:") == {("secretsmanager:GetSecretValue", managed_secret)}
    proxy_role = create_db.properties("DatabaseProxyRole")
    assert proxy_role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "rds.amazonaws.com"}
    statements = [s for p in proxy_role["Policies"] for s in _listify(p["PolicyDocument"]["Statement"])]
    assert data_grants(statements, "") == {("secretsmanager:GetSecretValue", managed_secret)}
