"""Alembic environment: online migrations against DATABASE_URL (or the URL passed in config)."""

from alembic import context
from sqlalchemy import create_engine, pool

from shared.db import normalise_url
from shared.tables import metadata

config = context.config


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url") or ""
    if not url:
        import os

        url = os.environ.get("DATABASE_URL", "")
    if not url:
        raise SystemExit("DATABASE_URL is not set")
    engine = create_engine(normalise_url(url), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
