"""`make run` talks to its own Postgres without TLS, whatever the template's deployed default (verify-full)."""

from __future__ import annotations

import pytest

from local.stack import Stack, StackConfig


def test_the_local_stack_disables_tls_for_its_own_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DB_SSL_MODE", raising=False)
    assert Stack(StackConfig.from_env()).function_env()["DB_SSL_MODE"] == "disable"


def test_a_db_ssl_mode_in_the_environment_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    # e.g. `DATABASE_URL=... DB_SSL_MODE=verify-full make run` against a database that requires TLS
    monkeypatch.setenv("DB_SSL_MODE", "verify-full")
    assert Stack(StackConfig.from_env()).function_env()["DB_SSL_MODE"] == "verify-full"
