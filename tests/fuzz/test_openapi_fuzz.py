"""Schemathesis fuzzing of every operation in openapi.json against the running local stack.

Valid and invalid inputs (positive and negative generation) with an admin token: no 5xx, every
error in the envelope, status codes, content types, headers and bodies as the spec declares.
Bounded to FUZZ_EXAMPLES examples per operation (default 50) so it runs in a few minutes.
"""

from __future__ import annotations

import json
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance, unsupported_method

from tests.fuzz.conftest import SPEC, FuzzTarget

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

schema = schemathesis.openapi.from_path(SPEC)
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "50"))


def assert_in_envelope(response: schemathesis.Response) -> None:
    """Every answer is compact JSON in the envelope; errors carry a code and a message, never a trace."""
    assert response.headers.get("content-type", [""])[0].startswith("application/json")
    text = response.text
    body = json.loads(text)
    assert text == json.dumps(body, separators=(",", ":"), ensure_ascii=False) or '": ' not in text
    if response.status_code >= 400:
        assert body["success"] is False, text
        assert isinstance(body["error"]["code"], str) and isinstance(body["error"]["message"], str), text
        assert "Traceback" not in text and 'File "' not in text
    else:
        assert body["success"] is True and "data" in body, text


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_operation_holds_the_contract(case: schemathesis.Case, fuzz_target: FuzzTarget) -> None:
    # Given any generated request (valid or not) for this operation, its generated credentials replaced
    # by an admin token; a case generated without them (negative: missing Authorization) stays without
    headers = {"Authorization": f"Bearer {fuzz_target.token}"} if "Authorization" in (case.headers or {}) else {}
    # When it is sent / Then schemathesis' checks hold (no 5xx, status/content type/schema conformance)
    # Excluded: unsupported_method expects 405 for an undeclared method; the SPEC mandates 404 NOT_FOUND
    # (tests/e2e/test_stack.py checks it). positive_data_acceptance expects every schema-valid request to
    # succeed, but some input rules are stricter than JSON Schema can say (password length in UTF-8 bytes,
    # the email grammar, ISO 8601 bounds, names after trimming); the document describes them in words and
    # the integration tests hold them. Rejections are still checked: a 4xx in the envelope, never a 5xx.
    response = case.call_and_validate(base_url=fuzz_target.stack.base_url, headers=headers,
                                      excluded_checks=[unsupported_method, positive_data_acceptance])
    # And the body is the compact envelope
    assert_in_envelope(response)
