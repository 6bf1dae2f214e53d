"""A throwaway Postgres cluster for one test session, migrated to head."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from local.postgres import PostgresCluster, free_port

REPO = Path(__file__).resolve().parents[2]


def migrate(url: str, revision: str = "head", downgrade: bool = False) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config(str(REPO / "infra" / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", url)
    (command.downgrade if downgrade else command.upgrade)(config, revision)


@contextmanager
def throwaway_cluster() -> Iterator[PostgresCluster]:
    root = Path(tempfile.mkdtemp(prefix="uoapi-pg-", dir="/tmp"))
    root.chmod(0o755)
    cluster = PostgresCluster(data_dir=root / "data", port=free_port())
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop(mode="immediate")
        shutil.rmtree(root, ignore_errors=True)


def external_url() -> str | None:
    """TEST_DATABASE_URL points the suite at an existing (empty) database instead."""
    return os.environ.get("TEST_DATABASE_URL") or None
