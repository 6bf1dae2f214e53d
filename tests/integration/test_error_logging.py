"""An unexpected database error is logged with its traceback, never with what the database quotes."""

from __future__ import annotations

import io
import logging

import pytest

from tests.support.api import ApiClient

BODY = {"email": "secret.person@example.com", "password": "hunter2-hunter2", "name": "Secret Person"}


def test_a_failing_users_write_logs_no_email_password_or_hash(api: ApiClient, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a users write that Postgres refuses in a way no handler expects (the lower-case email CHECK),
    # so the driver's message quotes the failing row: email, bcrypt hash, name
    api.post("/v1/users/login", json={"email": "warm@example.com", "password": "x" * 8})  # imports the function
    from users_api import repository

    insert_user = repository.insert_user
    monkeypatch.setattr(repository, "insert_user", lambda connection, *, email, name, password_hash: insert_user(
        connection, email=email.upper(), name=name, password_hash=password_hash))
    # (the service's JSON log lines, collected with its own formatter)
    from shared.logger import logger

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    try:
        # When a client registers
        response = api.post("/v1/users/register", json=BODY)
    finally:
        logger.removeHandler(handler)
    # Then it is a 500 in the envelope, logged with the error's type and SQLSTATE
    assert response.status == 500 and response.error["code"] == "INTERNAL_ERROR"
    logs = stream.getvalue()
    assert "unhandled error" in logs and "SQLSTATE 23514" in logs
    # And no log line carries the email, the password, the hash or the name
    for secret in ("SECRET.PERSON@EXAMPLE.COM", BODY["email"], BODY["password"], "$2b$", BODY["name"]):
        assert secret not in logs
