"""Users for the security tests: two ordinary users and an admin, straight through the database."""

from __future__ import annotations

import pytest

from tests.support.users import SeededUser, make_user


@pytest.fixture
def alice(test_env: dict[str, str]) -> SeededUser:
    return make_user(test_env["DATABASE_URL"])


@pytest.fixture
def bob(test_env: dict[str, str]) -> SeededUser:
    return make_user(test_env["DATABASE_URL"])


@pytest.fixture
def admin(test_env: dict[str, str]) -> SeededUser:
    return make_user(test_env["DATABASE_URL"], roles=("user", "admin"))
