"""Create the DynamoDB tables that template.yaml declares, for emulators (moto, LocalStack).

The template is the only copy of the table schema: this reads each `AWS::DynamoDB::Table`,
resolves its intrinsics the way the local gateway does, and issues CreateTable/UpdateTimeToLive.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from infra.cfn import Resolver, load_yaml

_CREATE_KEYS = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "LocalSecondaryIndexes",
                "ProvisionedThroughput", "StreamSpecification", "SSESpecification")


def table_definitions(template_path: str | Path, region: str = "us-east-1") -> list[dict[str, Any]]:
    """CreateTable arguments (plus a `TimeToLive` entry) for every table in the template."""
    path = Path(template_path).resolve()
    raw = load_yaml(path)
    resolver = Resolver(raw, path.parent, region)
    definitions = []
    for logical_id, resource in (raw.get("Resources") or {}).items():
        if resource.get("Type") != "AWS::DynamoDB::Table":
            continue
        props = resolver.resolve(resource.get("Properties") or {})
        definition: dict[str, Any] = {key: props[key] for key in _CREATE_KEYS if key in props}
        definition["TableName"] = resolver.ref(logical_id)
        definition["BillingMode"] = props.get("BillingMode", "PROVISIONED")
        if "SSESpecification" in definition:
            definition["SSESpecification"] = {"Enabled": bool(definition["SSESpecification"].get("SSEEnabled"))}
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            definition["TimeToLive"] = ttl["AttributeName"]
        definitions.append(definition)
    return definitions


def create_tables(client: Any, template_path: str | Path, region: str = "us-east-1",
                  definitions: list[dict[str, Any]] | None = None) -> list[str]:
    """Create missing tables (existing ones are left as they are); returns the table names.

    `definitions` (from table_definitions) saves parsing the template again when tables are created often.
    """
    existing = set(client.list_tables().get("TableNames", []))
    names = []
    for parsed in definitions if definitions is not None else table_definitions(template_path, region):
        definition = dict(parsed)
        ttl_attribute = definition.pop("TimeToLive", None)
        name = definition["TableName"]
        names.append(name)
        if name in existing:
            continue
        client.create_table(**definition)
        client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})
        if ttl_attribute:
            client.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl_attribute}
            )
    return names
