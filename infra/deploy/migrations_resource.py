"""CloudFormation custom resource: run the Alembic migrations against the deployed database.

Create/Update upgrade the schema to the resource's `TargetRevision` (template.yaml keeps it equal
to the Alembic head; a unit test enforces that). Delete never touches the schema: data outlives
stacks. Every request gets exactly one answer, SUCCESS or FAILED, sent to the pre-signed
`ResponseURL` with urllib, even when the database hangs (a timer answers FAILED shortly before
the Lambda timeout), so a stack never waits an hour for a response that will not come.

Rollback safety: a failed Update is rolled back with another Update carrying the old target.
Postgres runs each migration in a transaction, so the database is still at the old revision and
the upgrade is a no-op; and when the database is already *ahead* of the target (a later resource
failed after migrating, or an older stack version is redeployed), nothing is downgraded: the
answer is SUCCESS with `Action=skipped`, because only a person should decide to drop schema.

Packaged by infra/deploy/Makefile as `deploy.migrations_resource` next to alembic.ini and
migrations/; in the repository it is `infra.deploy.migrations_resource` next to infra/alembic.ini.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import CloudFormationCustomResourceEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext
from sqlalchemy import text

from shared.database import database_url, migration_engine
from shared.dependencies import dependencies
from shared.settings import get_settings

PHYSICAL_ID = "schema-migrations"
ALEMBIC_INI = Path(__file__).resolve().parents[1] / "alembic.ini"
DEADLINE_MARGIN_SECONDS = 5.0
_MAX_REASON = 1000  # the whole response document must stay under 4 KiB
_CREDENTIALS = re.compile(r"(\w[\w+.-]*://)[^@\s/]*@")

logger = Logger(service="migrations")


class Responder:
    """Sends the one answer CloudFormation waits for; later attempts are ignored."""

    def __init__(self, event: CloudFormationCustomResourceEvent) -> None:
        self.event = event
        self.lock = threading.Lock()
        self.sent = False

    def send(self, status: str, reason: str = "", data: dict[str, str] | None = None) -> bool:
        with self.lock:
            if self.sent:
                return False
            self.sent = True
        document = {
            "Status": status,
            "Reason": redact(reason)[:_MAX_REASON] or status,
            "PhysicalResourceId": self.event.physical_resource_id or PHYSICAL_ID,
            "StackId": self.event.stack_id,
            "RequestId": self.event.request_id,
            "LogicalResourceId": self.event.logical_resource_id,
            "NoEcho": False,
            "Data": data or {},
        }
        put_json(self.event.response_url, document)
        logger.info("custom resource answered", extra={"status": status, "reason": document["Reason"]})
        return True


def redact(text: str) -> str:
    """Hide credentials of any URL (`postgresql://user:pw@host` -> `postgresql://***@host`)."""
    return _CREDENTIALS.sub(r"\1***@", text)


def put_json(url: str, document: dict[str, Any], attempts: int = 3) -> None:
    """PUT to the pre-signed S3 URL; it is signed without a Content-Type, so send an empty one."""
    body = json.dumps(document).encode()
    for attempt in range(1, attempts + 1):
        request = urllib.request.Request(
            url, data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
            return
        except OSError:
            logger.exception("sending the custom resource response failed", extra={"attempt": attempt})
            if attempt == attempts:
                raise
            time.sleep(attempt)


def alembic_config(url: str) -> Any:
    from alembic.config import Config  # noqa: PLC0415 - cold start: Alembic loads every dialect

    config = Config(str(ALEMBIC_INI))
    # ConfigParser interpolation: URL-encoded passwords contain '%'.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def current_revisions(url: str) -> set[str]:
    from alembic.runtime.migration import MigrationContext  # noqa: PLC0415 - cold start: Alembic loads every dialect

    engine = migration_engine(get_settings(), url, read_timeout=10)
    try:
        with engine.connect() as connection:
            return set(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()


def is_ahead(script: Any, current: set[str], target: str) -> bool:
    """True when the database already holds `target` and more, or a revision this code does not know."""
    for revision in current:
        if not known_revision(script, revision):
            return True
        ancestors = {r.revision for r in script.walk_revisions(base="base", head=revision)}
        if revision != target and target in ancestors:
            return True
    return False


def known_revision(script: Any, revision: str) -> bool:
    from alembic.script.revision import RevisionError  # noqa: PLC0415 - cold start: Alembic loads every dialect

    try:
        return script.revision_map.get_revision(revision) is not None
    except RevisionError:
        return False


def migrate(target: str) -> dict[str, str]:
    from alembic import command  # noqa: PLC0415 - cold start: Alembic loads every dialect
    from alembic.script import ScriptDirectory  # noqa: PLC0415 - cold start: Alembic loads every dialect

    url = database_url(get_settings(), dependencies().read_secret)
    config = alembic_config(url)
    script = ScriptDirectory.from_config(config)
    resolved = script.get_current_head() if target == "head" else target
    if not resolved or not known_revision(script, resolved):
        raise ValueError(f"TargetRevision {target!r} is not a revision of this code's migrations")
    target = resolved
    current = current_revisions(url)
    if is_ahead(script, current, target):
        apply_role_settings(url)
        return {"Action": "skipped", "Revision": ",".join(sorted(current))}
    command.upgrade(config, target)
    apply_role_settings(url)
    action = "unchanged" if current == {target} else "upgraded"
    return {"Action": action, "Revision": target}


def apply_role_settings(url: str) -> None:
    """With DB_SESSION_SETTINGS=role (RDS Proxy takes no startup parameters), the functions' statement timeout
    is set on the database role they log in as, whenever the custom resource runs (also when the database is
    ahead of this code's revision), from the same DB_STATEMENT_TIMEOUT_SECONDS the functions read."""
    settings = get_settings()
    if settings.db_session_settings != "role":
        return
    timeout_ms = int(settings.db_statement_timeout_seconds * 1000)
    engine = migration_engine(settings, url)
    try:
        with engine.begin() as connection:
            connection.execute(text(f"ALTER ROLE CURRENT_USER SET statement_timeout = {timeout_ms}"))
    finally:
        engine.dispose()
    logger.info("statement timeout set on the database role", extra={"statement_timeout_ms": timeout_ms})


def handle(event: CloudFormationCustomResourceEvent) -> tuple[str, str, dict[str, str]]:
    request_type = event.request_type
    if request_type == "Delete":
        return "SUCCESS", "schema left in place on delete", {"Action": "kept"}
    if request_type in ("Create", "Update"):
        target = str((event.resource_properties or {}).get("TargetRevision") or "head")
        data = migrate(target)
        return "SUCCESS", f"{data['Action']} at {data['Revision']}", data
    raise ValueError(f"unknown RequestType {request_type!r}")


@logger.inject_lambda_context(clear_state=True)
@event_source(data_class=CloudFormationCustomResourceEvent)
def lambda_handler(event: CloudFormationCustomResourceEvent, context: LambdaContext) -> dict[str, str]:
    responder = Responder(event)
    budget = context.get_remaining_time_in_millis() / 1000 - DEADLINE_MARGIN_SECONDS
    timer = threading.Timer(max(budget, 1.0), responder.send, ("FAILED", "migrations did not finish in time"))
    timer.daemon = True
    timer.start()
    try:
        status, reason, data = handle(event)
    except Exception as exc:  # any failure must reach CloudFormation, never a hung stack
        logger.exception("migrations failed")
        status, reason, data = "FAILED", f"{type(exc).__name__}: {exc}", {}
    finally:
        timer.cancel()
    responder.send(status, reason, data)
    return {"Status": status}
