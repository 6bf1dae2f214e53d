"""`make admin EMAIL=…`: create that admin, or promote the existing user.

Uses DATABASE_URL when set, else the private cluster of `make run` (started briefly when it is
not running). An existing user's password is left unchanged. A new admin's password is never a
command-line argument (visible in `ps`): it comes from ADMIN_PASSWORD (what `make admin PASSWORD=…`
exports), else from a prompt that does not echo, else (no terminal) from the first line of stdin.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable

from sqlalchemy import create_engine, func, insert, select, update

from local.postgres import PostgresCluster, PostgresError
from local.stack import StackConfig, postgres_data_dir
from shared.auth.passwords import hash_password, password_problem
from shared.database import normalise_url
from shared.pg_schema import users


def upsert_admin(database_url: str, email: str, password: str | Callable[[], str], name: str) -> str:
    """Returns "created" or "promoted". `password` may be a function: asked only when creating."""
    os.environ.setdefault("BCRYPT_ROUNDS", "12")
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
            password = password() if callable(password) else password
            problem = password_problem(password)
            if problem:
                raise SystemExit(f"ERROR: {problem}")
            connection.execute(insert(users).values(email=email, name=name, roles=["user", "admin"],
                                                    password_hash=hash_password(password)))
            outcome = "created"
    engine.dispose()
    return outcome


def new_admin_password(email: str) -> str:
    given = os.environ.get("ADMIN_PASSWORD", "")
    if given:
        return given
    if sys.stdin.isatty():
        return getpass.getpass(f"Password for the new admin {email}: ")
    return sys.stdin.readline().rstrip("\r\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.admin", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--email", required=True)
    parser.add_argument("--name", default="Administrator")
    args = parser.parse_args(argv)
    config = StackConfig.from_env()

    def password() -> str:
        return new_admin_password(args.email)

    if config.database_url:
        print(f"{upsert_admin(config.database_url, args.email, password, args.name)} admin {args.email}")
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
        print(f"{upsert_admin(cluster.url, args.email, password, args.name)} admin {args.email}")
    except PostgresError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    finally:
        if started:
            cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
