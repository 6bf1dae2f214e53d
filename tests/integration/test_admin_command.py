"""`make admin` creates an admin, or promotes an existing user without touching the password."""

from sqlalchemy import create_engine, select

from local.admin import upsert_admin
from shared.tables import users
from tests.support.users import make_user


def _row(database_url: str, email: str):  # type: ignore[no-untyped-def]
    engine = create_engine(database_url)
    with engine.connect() as connection:
        row = connection.execute(select(users).where(users.c.email == email)).one()
    engine.dispose()
    return row


def test_creates_a_new_admin(clean_database: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BCRYPT_ROUNDS", "4")
    from shared.settings import get_settings

    get_settings.cache_clear()
    # Given no user with that email / When the admin command runs
    outcome = upsert_admin(clean_database, "Boss@Example.com", "s3cret-password", "Boss")
    # Then an admin exists with the lower-cased email and a bcrypt hash
    row = _row(clean_database, "boss@example.com")
    assert outcome == "created"
    assert set(row.roles) == {"user", "admin"}
    assert row.password_hash.startswith("$2b$")
    get_settings.cache_clear()


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
