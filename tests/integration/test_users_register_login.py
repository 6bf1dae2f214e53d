"""POST /v1/users/register and /v1/users/login through the users handler (real Postgres, moto)."""

from __future__ import annotations

import io
import json
import logging

import pytest
from sqlalchemy import create_engine, func, select

from shared.auth import passwords
from shared.auth.tokens import decode_token
from shared.pg_schema import users
from tests.support.api import ApiClient
from tests.support.users import factory_engine

PASSWORD = "correct horse battery"
USER_FIELDS = {"id", "email", "name", "roles", "created_at", "updated_at"}


def register(api: ApiClient, email: str = "ann@example.com", password: str = PASSWORD, name: str = "Ann", **extra):
    return api.post("/v1/users/register", json={"email": email, "password": password, "name": name, **extra})


def count_users(database_url: str) -> int:
    engine = factory_engine(database_url)
    with engine.connect() as connection:
        total = connection.execute(select(func.count()).select_from(users)).scalar_one()
    return int(total)


def test_register_creates_a_user_with_the_user_role(api: ApiClient) -> None:
    # Given a new email / When registering
    response = register(api, email="  Ann@Example.COM ", name="  Ann  ")
    # Then 201 with the public user shape, email normalised, role "user"
    assert response.status == 201, response.body
    assert response.body.startswith('{"success":true,"data":{"user":{')
    user = response.data["user"]
    assert set(user) == USER_FIELDS
    assert (user["email"], user["name"], user["roles"]) == ("ann@example.com", "Ann", ["user"])
    assert user["created_at"].endswith("Z")
    assert "password" not in response.body and "token_version" not in response.body


def test_register_with_roles_is_rejected_and_creates_nobody(api: ApiClient) -> None:
    # Given a body that tries to grant itself admin (mass assignment)
    response = register(api, roles=["admin"])
    # Then 400 names the field, and no user exists
    assert response.status == 400
    assert response.error["code"] == "VALIDATION_ERROR"
    assert any(item["field"] == "roles" for item in response.error["details"])
    assert count_users(api.env_overrides["DATABASE_URL"]) == 0


def test_duplicate_email_in_another_case_is_409(api: ApiClient) -> None:
    # Given a registered email
    assert register(api, email="dup@example.com").status == 201
    # When the same address registers again in other case and with spaces
    response = register(api, email=" DUP@Example.com")
    # Then 409 EMAIL_ALREADY_REGISTERED and still one user
    assert response.status == 409
    assert response.error["code"] == "EMAIL_ALREADY_REGISTERED"
    assert count_users(api.env_overrides["DATABASE_URL"]) == 1


@pytest.mark.parametrize(("password", "status"), [
    ("a" * 72, 201), ("a" * 73, 400), ("€" * 24, 201), ("€" * 24 + "a", 400), ("a" * 7, 400),
])
def test_register_password_byte_limits(api: ApiClient, password: str, status: int) -> None:
    # Given a password at or just over a byte limit / When registering / Then 201 or a 400 on `password`
    response = register(api, password=password)
    assert response.status == status, response.body
    if status == 400:
        assert response.error["details"][0]["field"] == "password"


@pytest.mark.parametrize("body", [
    '{"email":"a@example.com","password":"password123"}',  # name missing
    '{"email":"a@example.com","password":12345678,"name":"A"}',  # wrong type
    '{"email":"not-an-email","password":"password123","name":"A"}',
    '{"email":"a@example.com","password":"password123","name":""}',
    '{"email":"a@example.com","password":"password123","name":"' + "x" * 101 + '"}',
    '{"email":"a@example.com","password":"\\ud800abcdefgh","name":"A"}',  # lone surrogate
    '{"email":"a@example.com","password":"password123","name":"A\\u0000"}',  # NUL Postgres would reject
    '{"email":"a@example.com",',  # malformed JSON
    '[]', 'null', '"text"',
])
def test_register_bad_bodies_are_400(api: ApiClient, body: str) -> None:
    response = api.post("/v1/users/register", body=body, headers={"Content-Type": "application/json"})
    assert response.status == 400, response.body
    assert response.error["code"] == "VALIDATION_ERROR"


def test_login_returns_a_bearer_token_for_24_hours(api: ApiClient) -> None:
    # Given a registered user
    user_id = register(api).data["user"]["id"]
    # When logging in with the email in another case
    response = api.post("/v1/users/login", json={"email": " ANN@example.com", "password": PASSWORD})
    # Then 200 with a token for that user, greppable from the compact body
    assert response.status == 200, response.body
    data = response.data
    assert (data["token_type"], data["expires_in"]) == ("Bearer", 86400)
    assert set(data["user"]) == USER_FIELDS and data["user"]["id"] == user_id
    assert f'"token":"{data["token"]}"' in response.body
    assert str(decode_token(data["token"]).user_id) == user_id
    # And the token opens the profile
    assert api.get("/v1/users/profile", token=data["token"]).status == 200


def test_login_failures_look_identical_and_both_run_bcrypt(api: ApiClient, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a registered user and a spy on password verification
    register(api)
    seen: list[str | None] = []
    real = passwords.verify_password

    def spy(password: str, password_hash: str | None) -> bool:
        seen.append(password_hash)
        return real(password, password_hash)

    monkeypatch.setattr("users_api.accounts.verify_password", spy)
    # When logging in with a wrong password, and with an unknown email
    wrong_password = api.post("/v1/users/login", json={"email": "ann@example.com", "password": "wrong password"})
    unknown_email = api.post("/v1/users/login", json={"email": "nobody@example.com", "password": "wrong password"})
    # Then status, body and header names are the same (only the request id differs)
    assert wrong_password.status == unknown_email.status == 401
    assert wrong_password.body == unknown_email.body
    assert wrong_password.error == {"code": "INVALID_CREDENTIALS", "message": "Invalid email or password"}
    assert set(wrong_password.headers) == set(unknown_email.headers)
    # And a bcrypt comparison ran both times: against the real hash, then against none (the dummy)
    assert len(seen) == 2 and seen[0] is not None and seen[0].startswith("$2b$") and seen[1] is None


@pytest.mark.parametrize("password", ["a" * 73, "€" * 24 + "a", "x" * 1000, "short"])
def test_login_with_out_of_range_password_is_401_not_500(api: ApiClient, password: str) -> None:
    # Given a user whose password is the first 72 bytes of the attempt
    register(api, password="a" * 72)
    # When logging in with a password outside 8-72 bytes / Then it is just wrong credentials
    response = api.post("/v1/users/login", json={"email": "ann@example.com", "password": password})
    assert response.status == 401
    assert response.error["code"] == "INVALID_CREDENTIALS"


@pytest.mark.parametrize("password", ["a" * 10_000, "€" * 5_000, "\ud800" * 3 + "long enough"])
def test_login_with_a_password_no_account_can_have_is_401_without_bcrypt(
        api: ApiClient, monkeypatch: pytest.MonkeyPatch, password: str) -> None:
    # Given a registered user, and a spy on bcrypt
    register(api)
    calls: list[bytes] = []
    real = passwords.bcrypt.checkpw
    monkeypatch.setattr(passwords.bcrypt, "checkpw", lambda given, stored: calls.append(given) or real(given, stored))
    # When someone logs in with a 10,000-character (or otherwise impossible) password, for a real email
    # and for an unknown one
    known = api.post("/v1/users/login", json={"email": "ann@example.com", "password": password})
    unknown = api.post("/v1/users/login", json={"email": "nobody@example.com", "password": password})
    # Then both are the plain 401, never a 400 that reveals the rules, and bcrypt never ran
    for response in (known, unknown):
        assert response.status == 401, response.body
        assert response.error == {"code": "INVALID_CREDENTIALS", "message": "Invalid email or password"}
    assert calls == []


@pytest.mark.parametrize("email", ["not-an-email", "", "x" * 300 + "@example.com", "x" * 5000, "\ud800@example.com"])
def test_login_with_malformed_email_is_the_same_401(api: ApiClient, email: str) -> None:
    response = api.post("/v1/users/login", json={"email": email, "password": PASSWORD})
    assert response.status == 401
    assert response.error == {"code": "INVALID_CREDENTIALS", "message": "Invalid email or password"}


@pytest.mark.parametrize("body", ['{"email":"a@example.com"}', '{"email":"a@example.com","password":"p","x":1}',
                                  '{"email":1,"password":"password123"}', 'not json'])
def test_login_bad_bodies_are_400(api: ApiClient, body: str) -> None:
    response = api.post("/v1/users/login", body=body, headers={"Content-Type": "application/json"})
    assert response.status == 400
    assert response.error["code"] == "VALIDATION_ERROR"


def test_passwords_and_tokens_never_reach_the_logs(api: ApiClient) -> None:
    # Given the service's JSON log lines collected with the service's own formatter
    from shared.logger import logger

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    try:
        # When registering, logging in and reading the profile
        secret_password = "unique-secret-pw-4711"
        register(api, password=secret_password)
        login = api.post("/v1/users/login", json={"email": "ann@example.com", "password": secret_password})
        token = login.data["token"]
        api.get("/v1/users/profile", token=token)
    finally:
        logger.removeHandler(handler)
    # Then there are access lines, but neither the password nor the token (nor its signature) appear
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["message"] for line in lines].count("request") == 3
    logs = stream.getvalue()
    assert secret_password not in logs
    assert token not in logs and token.split(".")[2] not in logs


def test_register_body_over_1_mib_is_413(api: ApiClient) -> None:
    body = '{"email":"a@example.com","password":"password123","name":"' + "x" * (1024 * 1024) + '"}'
    response = api.post("/v1/users/register", body=body, headers={"Content-Type": "application/json"})
    assert response.status == 413
    assert response.error["code"] == "PAYLOAD_TOO_LARGE"
    assert count_users(api.env_overrides["DATABASE_URL"]) == 0


def test_responses_are_compact_json_with_a_request_id(api: ApiClient) -> None:
    for response in (register(api), register(api), api.post("/v1/users/login", json={"email": "x@y.io",
                                                                                      "password": "p" * 8})):
        assert response.headers["Content-Type"] == "application/json"
        assert response.headers["X-Request-ID"]
        assert response.body == json.dumps(json.loads(response.body), separators=(",", ":"), ensure_ascii=False)


def test_racing_registrations_of_one_email_give_one_user_and_one_409(api: ApiClient) -> None:
    # Given a first registration inserted but not yet committed
    import time
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import text

    from shared import db
    from shared.dependencies import dependencies
    from shared.errors import EmailAlreadyRegistered
    from users_api.repository import insert_user

    url = api.env_overrides["DATABASE_URL"]
    api.post("/v1/users/login", json={"email": "x@example.com", "password": "p" * 8})  # loads the function's env
    first = dependencies().database.engine.connect()
    first_tx = first.begin()
    insert_user(first, email="race@example.com", name="First", password_hash="x")

    def second_registration() -> str:
        try:
            db.write(lambda connection: insert_user(connection, email="race@example.com", name="Second",
                                                    password_hash="x"))
        except EmailAlreadyRegistered:
            return "409"
        return "201"

    # When a second registration of the same email runs meanwhile (past any pre-check)
    with ThreadPoolExecutor(max_workers=1) as pool:
        second = pool.submit(second_registration)
        probe = create_engine(url)
        deadline = time.monotonic() + 10
        while not second.done() and time.monotonic() < deadline:
            with probe.connect() as connection:
                if connection.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                                           " AND datname = current_database()")).scalar_one():
                    break
            time.sleep(0.05)
        probe.dispose()
        first_tx.commit()
        first.close()
        # Then the unique index decides: the second is a clean 409, not a 500
        assert second.result(timeout=10) == "409"
    assert count_users(url) == 1
