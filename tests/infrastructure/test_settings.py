"""Database settings reach every function (and the migrations); SnapStart, tracing, concurrency as asked."""

from __future__ import annotations

import pytest

from shared.settings import Settings, settings_from_env
from tests.infrastructure.conftest import SCENARIOS, Stack

DB_VARIABLES = ("DATABASE_URL", "DATABASE_SECRET_ARN", "DB_SSL_MODE", "DB_SSL_ROOT_CERT", "DB_HOST", "DB_NAME",
                "DB_SESSION_SETTINGS")


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_tls_settings_reach_every_function_and_the_migrations(stacks: dict[str, Stack], scenario: str) -> None:
    stack = stacks[scenario]
    expected_mode = SCENARIOS[scenario].get("DbSslMode", "verify-full")  # the deployed default verifies
    expected_ca = SCENARIOS[scenario].get("DbSslRootCert", "")
    functions = stack.functions()
    assert ("MigrationsFunction" in functions) == (scenario != "no_migrations")
    for function in functions:
        env = stack.environment(function)
        assert {name: env[name] for name in ("DB_SSL_MODE", "DB_SSL_ROOT_CERT")} == {
            "DB_SSL_MODE": expected_mode, "DB_SSL_ROOT_CERT": expected_ca}, function
        assert set(DB_VARIABLES) <= set(env), function


def test_the_api_functions_settings_validate(default: Stack, create_db: Stack) -> None:
    # What the template hands the functions is accepted by the code's own settings model
    for stack in (default, create_db):
        for function in ("UsersFunction", "OrdersFunction", "MonitoringFunction"):
            env = {k: str(v) for k, v in stack.environment(function).items()}
            settings = settings_from_env(env)
            assert isinstance(settings, Settings)
            assert settings.db_ssl_mode == "verify-full"


def test_created_database_points_the_functions_at_the_proxy_and_its_secret(create_db: Stack, default: Stack) -> None:
    for function in create_db.functions():
        env = create_db.environment(function)
        assert env["DATABASE_SECRET_ARN"] == "DatabaseCluster.MasterUserSecret.SecretArn"
        assert (env["DB_HOST"], env["DB_NAME"], env["DB_SESSION_SETTINGS"]) == ("DatabaseProxy.Endpoint", "app", "role")
    for function in default.functions():
        env = default.environment(function)
        assert (env["DB_HOST"], env["DB_NAME"], env["DB_SESSION_SETTINGS"]) == ("", "", "startup")


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_snapstart_is_off_unless_asked_and_applies_to_published_versions(stacks: dict[str, Stack],
                                                                         scenario: str) -> None:
    stack = stacks[scenario]
    expected = "PublishedVersions" if SCENARIOS[scenario].get("EnableSnapStart") == "true" else "None"
    for function in ("UsersFunction", "OrdersFunction", "MonitoringFunction"):
        props = stack.properties(function)
        assert props["SnapStart"] == {"ApplyOn": expected}
        assert props["Runtime"] == "python3.12"  # SnapStart for Python needs 3.12+
        # API Gateway calls the alias, which points at a published version (SnapStart needs one)
        (alias,) = [a for a in stack.resources("AWS::Lambda::Alias").values() if a["FunctionName"] == function]
        assert alias["Name"] == "live"


def test_a_parameter_change_replaces_the_published_version(stacks: dict[str, Stack]) -> None:
    # SAM names versions after the code only (serverless-application-model#1640); the version's description
    # carries the parameters that shape the function, so a change replaces it and the alias follows.
    def descriptions(stack: Stack) -> dict[str, str]:
        return {props["FunctionName"]: props["Description"]
                for props in stack.resources("AWS::Lambda::Version").values()}

    default, tls, snap = (descriptions(stacks[s]) for s in ("default", "tls_bundle", "snapstart"))
    assert set(default) == {"UsersFunction", "OrdersFunction", "MonitoringFunction"}
    for function in default:
        assert default[function] != tls[function] and default[function] != snap[function]
        assert len(default[function]) <= 256 and "snap=false" in default[function]
        assert "snap=true" in snap[function] and "ca=/opt/certs/rds-global-bundle.pem" in tls[function]


def test_reserved_concurrency_only_when_given(stacks: dict[str, Stack]) -> None:
    reserved = {"UsersFunction": "20", "OrdersFunction": "30", "MonitoringFunction": "5"}
    for function, value in reserved.items():
        assert str(stacks["snapstart"].properties(function)["ReservedConcurrentExecutions"]) == value
        assert "ReservedConcurrentExecutions" not in stacks["default"].properties(function)


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_function_is_traced(stacks: dict[str, Stack], scenario: str) -> None:
    for function, props in stacks[scenario].functions().items():
        assert props["TracingConfig"] == {"Mode": "Active"}, function
        statements_from = stacks[scenario].properties(f"{function}Role" if function != "MigrationsFunction"
                                                      else "MigrationsRole")
        assert "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess" in statements_from["ManagedPolicyArns"]
