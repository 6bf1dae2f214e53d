"""`make admin EMAIL=… PASSWORD=…`: create that admin, or promote the existing user.

Uses DATABASE_URL when set, else the private cluster of `make run` (started briefly when it is
not running). An existing user's password is left unchanged.
"""

from __future__ import annotations

import argparse
import os
import sys

from sqlalchemy import create_engine, func, insert, select, update

from local.postgres import PostgresCluster, PostgresError
from local.stack import StackConfig, postgres_data_dir


def upsert_admin(database_url: str, email: str, password: str, name: str) -> str:
    """Returns "created" or "promoted"."""
    os.environ.setdefault("BCRYPT_ROUNDS", "12")
    from shared.auth.passwords import hash_password, password_problem
    from shared.db import normalise_url
    from shared.tables import users

    email = email.strip().lower()
    engine = create_engine(normalise_url(database_url))
    with engine.begin() as connection:
        existing = connection.execute(select(users.c.id, users.c.roles).where(users.c.email == email)).one_or_none()
        if existing is not None:
            roles = sorted(set(existing.roles) | {"admin", "user"})
            connection.execute(update(users).where(users.c.id == existing.id).values(
                roles=roles, token_version=users.c.token_version + 1, updated_at=func.now()))
            outcome = "promoted"
        else:
            problem = password_problem(password)
            if problem:
                raise SystemExit(f"ERROR: {problem}")
            connection.execute(insert(users).values(email=email, name=name, roles=["user", "admin"],
                                                    password_hash=hash_password(password)))
            outcome = "created"
    engine.dispose()
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.admin", description=__doc__)
    parser.add_argument("--email", required=True)
    parser.add_argument("--password", default="")
    parser.add_argument("--name", default="Administrator")
    args = parser.parse_args(argv)
    config = StackConfig.from_env()
    if config.database_url:
        print(f"{upsert_admin(config.database_url, args.email, args.password, args.name)} admin {args.email}")
        return 0
    cluster = PostgresCluster(data_dir=postgres_data_dir(config.state_dir), port=config.pg_port)
    if not cluster.initialised():
        print("ERROR: no local database yet; run `make run` once first (or set DATABASE_URL)", file=sys.stderr)
        return 2
    started = False
    try:
        if not cluster.running():
            cluster.start()
            started = True
        print(f"{upsert_admin(cluster.url, args.email, args.password, args.name)} admin {args.email}")
    except PostgresError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    finally:
        if started:
            cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
