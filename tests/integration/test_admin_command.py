"""`make admin` creates an admin, or promotes an existing user without touching the password."""

from sqlalchemy import select

from local.admin import upsert_admin
from shared.dependencies import reset
from shared.pg_schema import users
from tests.support.users import factory_engine, make_user


def _row(database_url: str, email: str):  # type: ignore[no-untyped-def]
    engine = factory_engine(database_url)
    with engine.connect() as connection:
        row = connection.execute(select(users).where(users.c.email == email)).one()
    return row


def test_creates_a_new_admin(clean_database: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BCRYPT_ROUNDS", "4")

    reset()
    # Given no user with that email / When the admin command runs
    outcome = upsert_admin(clean_database, "Boss@Example.com", "s3cret-password", "Boss")
    # Then an admin exists with the lower-cased email and a bcrypt hash
    row = _row(clean_database, "boss@example.com")
    assert outcome == "created"
    assert set(row.roles) == {"user", "admin"}
    assert row.password_hash.startswith("$2b$")
    reset()


def test_promotes_an_existing_user_and_revokes_old_tokens(clean_database: str) -> None:
    # Given a plain user
    user = make_user(clean_database, email="plain@example.com")
    before = _row(clean_database, "plain@example.com")
    # When the admin command names that email
    outcome = upsert_admin(clean_database, "plain@example.com", "", "ignored")
    # Then the user is promoted, the password is unchanged and the token version moved on
    after = _row(clean_database, "plain@example.com")
    assert outcome == "promoted"
    assert set(after.roles) == {"user", "admin"}
    assert after.password_hash == before.password_hash
    assert after.token_version == before.token_version + 1
    assert after.id == user.id


def test_the_command_reads_a_new_admins_password_from_stdin_not_its_arguments(clean_database: str) -> None:
    import subprocess
    import sys

    from local.stack import REPO

    # Given no such user, and the password written to the command's stdin (no terminal: no prompt)
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": clean_database, "BCRYPT_ROUNDS": "4",
           "PYTHONPATH": f"{REPO}:{REPO / 'layers' / 'shared'}"}
    result = subprocess.run([sys.executable, "-m", "local.admin", "--email", "stdin@example.com"], cwd=REPO, env=env,
                            input="from-stdin-password\n", capture_output=True, text=True, timeout=60, check=False)
    # Then the admin is created with that password, and the password was on no command line
    assert result.returncode == 0, result.stderr
    assert "created admin stdin@example.com" in result.stdout
    import bcrypt

    assert bcrypt.checkpw(b"from-stdin-password", _row(clean_database, "stdin@example.com").password_hash.encode())
    # And --password no longer exists (a password in argv is readable by anyone running `ps`)
    refused = subprocess.run([sys.executable, "-m", "local.admin", "--email", "x@example.com", "--password", "p"],
                             cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert refused.returncode == 2 and "unrecognized arguments: --password" in refused.stderr


def test_make_admin_passes_the_password_in_the_environment(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import subprocess

    from local.stack import REPO

    # When make prints what `make admin EMAIL=… PASSWORD=…` would run (dry run)
    result = subprocess.run(["make", "-n", "admin", "EMAIL=a@example.com", "PASSWORD=never-shown-secret"], cwd=REPO,
                            capture_output=True, text=True, timeout=60, check=False)
    # Then the password is not on any command line the recipe runs
    assert result.returncode == 0, result.stderr
    assert "never-shown-secret" not in result.stdout
