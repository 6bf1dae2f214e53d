"""Alembic environment: online migrations against DATABASE_URL (or the URL passed in config), connected
the way the functions connect (TLS per DB_SSL_MODE / DB_SSL_ROOT_CERT, short connect timeout)."""

import os

from alembic import context

from shared.database import migration_engine
from shared.pg_schema import metadata
from shared.settings import settings_from_env

config = context.config


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("DATABASE_URL", "")
    if not url:
        raise SystemExit("DATABASE_URL is not set")
    engine = migration_engine(settings_from_env(), url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
