"""Where the functions connect: DATABASE_URL or the secret, with DB_HOST and DB_NAME replacing parts of it."""

from __future__ import annotations

import json

import pytest

from shared.database import connect_options, database_url
from shared.settings import Settings

SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db"


def secret(**fields: object) -> str:
    return json.dumps({"username": "app_owner", "password": "p@ss/word:%", **fields})


def test_a_plain_url_is_read_as_pg8000_and_db_host_and_db_name_replace_its_parts() -> None:
    settings = Settings(database_url="postgresql://app:pw@db.internal:5433/app", db_host="proxy.example",
                        db_name="other")
    assert database_url(settings, read_secret=lambda arn: "") == "postgresql+pg8000://app:pw@proxy.example:5433/other"


def test_an_rds_managed_secret_has_only_credentials_and_db_host_names_the_proxy() -> None:
    # Given the master-user secret RDS manages (username and password only) and the proxy endpoint
    settings = Settings(database_secret_arn=SECRET_ARN, db_host="proxy.example", db_name="app")
    # Then the URL is the proxy's, on the default port, with the password quoted
    url = database_url(settings, read_secret=lambda arn: secret())
    assert url == "postgresql+pg8000://app_owner:p%40ss%2Fword%3A%25@proxy.example:5432/app"


def test_a_secret_with_its_own_host_is_used_as_it_is() -> None:
    settings = Settings(database_secret_arn=SECRET_ARN)
    url = database_url(settings, read_secret=lambda arn: secret(host="cluster.example", port=6432, dbname="x"))
    assert url.endswith("@cluster.example:6432/x")


def test_a_secret_without_a_host_and_no_db_host_is_a_clear_error() -> None:
    with pytest.raises(RuntimeError, match="set DB_HOST"):
        database_url(Settings(database_secret_arn=SECRET_ARN), read_secret=lambda arn: secret())


@pytest.mark.parametrize(("mode", "startup"), [
    ("startup", {"statement_timeout": "5000", "default_transaction_read_only": "on"}),
    ("role", {}),  # RDS Proxy: nothing in the startup packet; the role carries the statement timeout
])
def test_session_settings_go_in_the_startup_packet_or_to_the_role(mode: str, startup: dict[str, str]) -> None:
    options = connect_options(Settings(db_session_settings=mode), read_only=True)
    assert options.startup_params == startup
    assert options.read_timeout > 5  # the socket still waits longer than any statement may run


def test_both_engines_share_one_tls_context(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given verify-full against the system trust store (loading it takes ~30 ms)
    import shared.database
    from shared.protection.circuit_breaker import CircuitBreaker, MemoryStore

    built: list[object] = []
    real = shared.database.tls_context
    monkeypatch.setattr(shared.database, "tls_context", lambda *a: built.append(real(*a)) or built[-1])
    settings = Settings(database_url="postgresql://app:pw@db.internal/app", db_ssl_mode="verify-full")
    breaker = CircuitBreaker("users", MemoryStore(), threshold=5, reset_timeout=30)
    database = shared.database.Database(settings, breaker, read_secret=lambda arn: "")
    # When the write and the read engines are built, then the CA store was loaded once
    assert database.engine is not database.read_engine
    assert len(built) == 1 and built[0] is database.tls
