"""docker-compose.yml sanity (no Docker engine or compose plugin here to run `docker compose config`)."""

import json
import os
import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_services_are_postgres_15_and_localstack_pinned_to_a_tokenless_version() -> None:
    assert set(SERVICES) == {"postgres", "localstack"}
    assert re.fullmatch(r"postgres:15(\.\d+)?(-alpine)?", SERVICES["postgres"]["image"])
    assert SERVICES["localstack"]["image"] == "${LOCALSTACK_IMAGE:-localstack/localstack:4.14}"
    assert SERVICES["localstack"]["environment"]["LOCALSTACK_AUTH_TOKEN"] == "${LOCALSTACK_AUTH_TOKEN:-}"


def test_every_service_has_an_exec_form_health_check() -> None:
    for name, service in SERVICES.items():
        check = service["healthcheck"]
        assert check["test"][0] in ("CMD", "CMD-SHELL") and len(check["test"]) >= 2, name
        assert int(check["retries"]) >= 1, name


def test_dependencies_wait_for_health_and_name_real_services() -> None:
    for service in SERVICES.values():
        for dependency, condition in (service.get("depends_on") or {}).items():
            assert dependency in SERVICES
            assert condition == {"condition": "service_healthy"}


def test_bind_mounts_exist_and_init_hooks_are_executable_scripts() -> None:
    for service in SERVICES.values():
        for volume in service.get("volumes", []):
            source, target = volume.split(":")[:2]
            if source.startswith("./"):
                assert (REPO / source).exists(), source
            if target == "/etc/localstack/init/ready.d":
                hooks = sorted((REPO / source).glob("*.sh"))
                assert hooks
                for hook in hooks:
                    assert os.access(hook, os.X_OK) and hook.read_text().startswith("#!"), hook


def test_lambda_network_is_the_compose_network_and_env_example_uses_its_hostnames() -> None:
    network = COMPOSE["networks"]["default"]["name"]
    assert SERVICES["localstack"]["environment"]["LAMBDA_DOCKER_NETWORK"] == network
    env = json.loads((REPO / "env.json.example").read_text())["Parameters"]
    assert "@postgres:5432/" in env["DATABASE_URL"]
    assert env["DYNAMODB_ENDPOINT_URL"] == "http://localstack:4566"
    postgres_env = SERVICES["postgres"]["environment"]
    assert f"{postgres_env['POSTGRES_USER']}:{postgres_env['POSTGRES_PASSWORD']}@" in env["DATABASE_URL"]


def test_env_example_only_sets_variables_the_template_declares() -> None:
    # sam local ignores variables a function does not declare, so a typo would silently do nothing
    from infra.sam_app import load_app

    declared = set().union(*(spec.environment for spec in load_app(REPO / "template.yaml").functions.values()))
    env = json.loads((REPO / "env.json.example").read_text())["Parameters"]
    assert set(env) <= declared, set(env) - declared
