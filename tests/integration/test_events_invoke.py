"""The committed events/ files invoke their handlers cleanly (what `sam local invoke -e` would do)."""

import json
from pathlib import Path

import pytest

from local.sample_events import EVENTS_DIR, PUBLIC_ROUTES, TOKEN_PLACEHOLDER
from tests.support.api import ApiClient
from tests.support.users import make_user

EVENT_FILES = sorted(EVENTS_DIR.rglob("*.json"))


def _load(path: Path) -> dict:
    return json.loads(path.read_text())


def _is_public(event: dict) -> bool:
    return (event["httpMethod"], event["resource"]) in PUBLIC_ROUTES


def _assert_envelope(body: str, status: int) -> dict:
    document = json.loads(body)
    assert document["success"] is (200 <= status < 300)
    assert ("data" if document["success"] else "error") in document
    return document


@pytest.mark.parametrize("path", EVENT_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_sample_event_as_committed_never_fails_with_5xx(api: ApiClient, path: Path) -> None:
    # Given a committed sample event, placeholder token and all
    event = _load(path)
    # When the template's function for it is invoked with it
    response = api.invoke(path.parent.name, event)
    # Then it answers in the envelope, never 5xx: protected routes say 401, public ones anything but 401
    assert response.status < 500, response.body
    document = _assert_envelope(response.body, response.status)
    if _is_public(event):
        assert response.status != 401 or document["error"]["code"] == "INVALID_CREDENTIALS", response.body
    else:
        assert (response.status, document["error"]["code"]) == (401, "UNAUTHORIZED"), response.body


@pytest.mark.parametrize("path", EVENT_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_sample_event_with_a_real_admin_token_is_authorised(api: ApiClient, clean_database: str,
                                                            path: Path) -> None:
    # Given an admin whose credentials match the samples, and the sample with that admin's token
    admin = make_user(clean_database, email="ada@example.com", roles=("user", "admin"),
                      password="correct-horse-battery")
    text = path.read_text().replace(f"Bearer {TOKEN_PLACEHOLDER}", f"Bearer {admin.token}")
    # When the function is invoked with it
    response = api.invoke(path.parent.name, json.loads(text))
    # Then it gets past authentication and still answers in the envelope without a 5xx
    assert response.status < 500, response.body
    _assert_envelope(response.body, response.status)
    assert response.status not in (401, 403), response.body
