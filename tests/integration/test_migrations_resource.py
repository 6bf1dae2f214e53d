"""The migrations custom resource against a real Postgres and a fake CloudFormation response URL."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from infra.cfn import load_yaml
from infra.deploy import migrations_resource
from shared.dependencies import reset
from tests.support.api import TEMPLATE, LambdaContext

UNREACHABLE = "postgresql+pg8000://migrator:s3cr3t-pw@127.0.0.1:9/app"


class ResponseUrl:
    """A local HTTP server standing in for the pre-signed S3 URL CloudFormation waits on."""

    def __init__(self) -> None:
        self.documents: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.received = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.headers.append(dict(self.headers))
                outer.documents.append(json.loads(body))
                outer.received.set()
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/cfn-response?X-Amz-Signature=x"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def response_url() -> Iterator[ResponseUrl]:
    server = ResponseUrl()
    yield server
    server.close()


@pytest.fixture
def fresh_database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An empty database on the session's cluster, configured as the function's DATABASE_URL."""
    name = f"cfn_{uuid.uuid4().hex[:12]}"
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    _configure(monkeypatch, url)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def _configure(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DATABASE_SECRET_ARN", "")
    reset()


def _event(request_type: str, response: ResponseUrl, target: str | None = "0001", **extra: Any) -> dict[str, Any]:
    properties = {"ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:migrations"}
    if target is not None:
        properties["TargetRevision"] = target
    return {
        "RequestType": request_type,
        "ServiceToken": properties["ServiceToken"],
        "ResponseURL": response.url,
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/users-orders-api/guid",
        "RequestId": str(uuid.uuid4()),
        "LogicalResourceId": "SchemaMigrations",
        "ResourceType": "Custom::SchemaMigrations",
        "ResourceProperties": properties,
        **extra,
    }


def _invoke(event: dict[str, Any], remaining_ms: int = 60_000) -> dict[str, Any]:
    context = LambdaContext(function_name="migrations")
    context.get_remaining_time_in_millis = lambda: remaining_ms  # type: ignore[method-assign]
    return migrations_resource.lambda_handler(event, context)


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _stamp(url: str, revision: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    engine.dispose()


def test_template_target_revision_is_the_alembic_head() -> None:
    # Given the migrations in infra/migrations and the custom resource in template.yaml
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(migrations_resource.alembic_config("postgresql://x")).get_current_head()
    resource = load_yaml(TEMPLATE)["Resources"]["SchemaMigrations"]
    # Then the resource targets the head: a new migration must bump it, or deploys would not run it
    assert resource["Properties"]["TargetRevision"] == head


def test_create_migrates_an_empty_database_and_answers_success(fresh_database: str,
                                                               response_url: ResponseUrl) -> None:
    # Given an empty database
    event = _event("Create", response_url)
    # When CloudFormation creates the resource
    _invoke(event)
    # Then the schema is there and CloudFormation got exactly one SUCCESS, with a stable physical id
    assert {"users", "orders", "alembic_version"} <= _tables(fresh_database)
    (document,) = response_url.documents
    assert document["Status"] == "SUCCESS"
    assert document["PhysicalResourceId"] == migrations_resource.PHYSICAL_ID
    assert (document["RequestId"], document["StackId"]) == (event["RequestId"], event["StackId"])
    assert document["LogicalResourceId"] == "SchemaMigrations"
    assert document["Data"] == {"Action": "upgraded", "Revision": "0001"}
    # The pre-signed URL is signed without a content type
    assert response_url.headers[0].get("Content-Type", "") == ""


def test_update_on_a_migrated_database_is_an_idempotent_success(fresh_database: str,
                                                                response_url: ResponseUrl) -> None:
    # Given a database already at the target revision
    _invoke(_event("Create", response_url))
    # When the stack is updated (twice)
    for _ in range(2):
        _invoke(_event("Update", response_url, PhysicalResourceId=migrations_resource.PHYSICAL_ID,
                       OldResourceProperties={"TargetRevision": "0001"}))
    # Then each answer is SUCCESS and nothing changed
    assert [d["Status"] for d in response_url.documents] == ["SUCCESS"] * 3
    assert response_url.documents[-1]["Data"] == {"Action": "unchanged", "Revision": "0001"}


def test_a_database_ahead_of_the_target_is_never_downgraded(fresh_database: str,
                                                            response_url: ResponseUrl) -> None:
    # Given a database carrying a revision this code does not know (a newer deploy that rolled back)
    _invoke(_event("Create", response_url))
    _stamp(fresh_database, "9999_newer")
    # When an Update (e.g. the rollback) asks for the older target
    _invoke(_event("Update", response_url, PhysicalResourceId=migrations_resource.PHYSICAL_ID))
    # Then it succeeds without touching the schema, so the rollback can complete
    assert response_url.documents[-1]["Status"] == "SUCCESS"
    assert response_url.documents[-1]["Data"] == {"Action": "skipped", "Revision": "9999_newer"}
    assert {"users", "orders"} <= _tables(fresh_database)


def test_delete_keeps_the_schema_and_needs_no_database(monkeypatch: pytest.MonkeyPatch,
                                                       response_url: ResponseUrl) -> None:
    # Given a function whose database is unreachable
    _configure(monkeypatch, UNREACHABLE)
    # When the stack (or the resource) is deleted
    _invoke(_event("Delete", response_url, PhysicalResourceId="schema-migrations"))
    # Then it answers SUCCESS right away, keeping the physical id it was given
    (document,) = response_url.documents
    assert document["Status"] == "SUCCESS"
    assert document["PhysicalResourceId"] == "schema-migrations"


def test_unreachable_database_answers_failed_without_leaking_the_password(monkeypatch: pytest.MonkeyPatch,
                                                                          response_url: ResponseUrl) -> None:
    # Given a database nobody listens on
    _configure(monkeypatch, UNREACHABLE)
    # When the resource is created
    result = _invoke(_event("Create", response_url))
    # Then CloudFormation hears FAILED with a reason (so the stack rolls back instead of waiting)
    (document,) = response_url.documents
    assert result == {"Status": "FAILED"}
    assert document["Status"] == "FAILED"
    assert document["Reason"]
    assert "s3cr3t-pw" not in json.dumps(document)
    assert document["PhysicalResourceId"] == migrations_resource.PHYSICAL_ID


@pytest.mark.parametrize("event_kwargs", [{"request_type": "Rename"}, {"request_type": "Create", "target": "nope"}])
def test_bad_requests_answer_failed(fresh_database: str, response_url: ResponseUrl,
                                    event_kwargs: dict[str, Any]) -> None:
    # Given an unknown request type, or a target revision that does not exist
    event = _event(event_kwargs["request_type"], response_url, target=event_kwargs.get("target", "0001"))
    # When the function handles it
    _invoke(event)
    # Then the answer is FAILED and says why
    (document,) = response_url.documents
    assert document["Status"] == "FAILED"
    assert "Rename" in document["Reason"] or "nope" in document["Reason"]


def test_secrets_in_reasons_are_redacted() -> None:
    assert migrations_resource.redact("cannot reach postgresql+pg8000://u:p%40ss@db:5432/app") == (
        "cannot reach postgresql+pg8000://***@db:5432/app"
    )


def test_a_hung_migration_still_gets_failed_answered_before_the_lambda_timeout(
    monkeypatch: pytest.MonkeyPatch, response_url: ResponseUrl
) -> None:
    # Given a migration that blocks until CloudFormation has been answered
    def hang(target: str) -> dict[str, str]:
        assert response_url.received.wait(30), "the deadline timer never answered"
        return {"Action": "upgraded", "Revision": target}

    monkeypatch.setattr(migrations_resource, "migrate", hang)
    # When the function has little time left (the timer fires at remaining - margin, at least 1 s)
    _invoke(_event("Create", response_url), remaining_ms=int(migrations_resource.DEADLINE_MARGIN_SECONDS * 1000))
    # Then exactly one answer went out: the timer's FAILED; the late result is not sent again
    assert [d["Status"] for d in response_url.documents] == ["FAILED"]
    assert "in time" in response_url.documents[0]["Reason"]
