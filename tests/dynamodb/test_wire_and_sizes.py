"""The pieces under the limits: request parsing for the HTTP layer, DynamoDB's size arithmetic, numbers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from local.dynamodb.limits import measure
from local.dynamodb.store import Store
from local.dynamodb.values import DynamoError, normalise_number, parse_number
from local.dynamodb.wire import parse_request


def code_and_message(body: bytes) -> tuple[str, str]:
    with pytest.raises(DynamoError) as error:
        parse_request(body)
    return error.value.code, error.value.message


def test_a_200000_deep_json_body_is_an_answer_not_a_crash() -> None:
    # Given bodies nested 200,000 deep: inside an object (an item far past 32 levels), and bare
    inside_object = b'{"TableName":"t","Item":{"a":' + b'{"L":[' * 100_000 + b"]}" * 100_000 + b"}}"
    bare = b"[" * 200_000 + b"]" * 200_000
    # Then DynamoDB's nesting ValidationException for the first, a SerializationException for the second
    assert code_and_message(inside_object)[0] == "ValidationException"
    assert code_and_message(inside_object)[1].startswith("Nesting Levels have exceeded supported limits")
    assert code_and_message(bare) == ("SerializationException", "Start of list found where not expected")


@pytest.mark.parametrize("body", [b'{"TableName":', b"\xff\xfe", b"[1, 2]", b'"text"',
                                  b'{"Limit": 1' + b"0" * 5000 + b"}"],
                         ids=["truncated", "not-utf8", "array", "string", "5000-digit-integer"])
def test_bodies_that_are_not_a_request_object_are_serialization_errors(body: bytes) -> None:
    assert code_and_message(body)[0] == "SerializationException"


def test_a_request_object_is_returned_as_parsed() -> None:
    assert parse_request(b'{"TableName": "users", "Limit": 5}') == {"TableName": "users", "Limit": 5}
    assert parse_request(b"") == {}


def test_item_size_follows_aws_arithmetic() -> None:
    # AWS's own example (Constraints page): "shirt-color": "R" and "shirt-size": "M" make 23 bytes
    assert measure({"shirt-color": {"S": "R"}, "shirt-size": {"S": "M"}}) == (23, 1)
    # Numbers: 1 byte per two significant digits + 1; UTF-8 bytes for strings; raw bytes for binary
    assert measure({"n": {"N": "12345"}})[0] == 1 + 4
    assert measure({"n": {"N": "1000"}, "z": {"N": "0"}})[0] == (1 + 2) + (1 + 1)
    assert measure({"s": {"S": "é"}, "b": {"B": "AAECAw=="}})[0] == (1 + 2) + (1 + 4)
    # Lists and maps: 3 bytes + 1 per element (+ the keys of a map); depth is the longest document path
    assert measure({"l": {"L": [{"N": "1"}, {"M": {"k": {"BOOL": True}}}]}}) == (1 + 3 + 2 + 2 + (3 + 1 + 1 + 1), 3)


@pytest.mark.parametrize(("text", "normalised"), [
    ("10.50", "10.5"), ("1E+2", "100"), ("-0.0", "0"), ("007", "7"), ("-12", "-12"), (".5", "0.5"),
    ("12345678901234567890123456789012345678", "12345678901234567890123456789012345678"),
    ("9.9999999999999999999999999999999999999E+125", "99999999999999999999999999999999999999" + "0" * 88),
])
def test_numbers_are_normalised(text: str, normalised: str) -> None:
    assert normalise_number(text) == normalised
    assert parse_number(text) == Decimal(text)


@pytest.mark.parametrize("text", ["1e999999999999999999", "1e" + "9" * 5000, "9" * 4_000_000, "1_000", "NaN",
                                  "Infinity", "", " 1", "1 ", "0x10", "1e", "."],
                         ids=["huge-exponent", "5000-digit-exponent", "4M-digits", "underscore", "nan", "infinity",
                              "empty", "leading-space", "trailing-space", "hex", "no-exponent-digits", "dot"])
def test_unstorable_numbers_are_validation_errors(text: str) -> None:
    with pytest.raises(DynamoError) as error:
        parse_number(text)
    assert error.value.code == "ValidationException"


def test_a_recursion_error_in_an_action_is_still_a_validation_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an action that (by a bug) recurses without end
    store = Store()

    def endless(request: dict[str, object]) -> dict[str, object]:
        return endless(request)
    monkeypatch.setitem(store.actions, "GetItem", endless)
    # Then the store answers DynamoDB's nesting error instead of letting RecursionError become a 500
    with pytest.raises(DynamoError) as error:
        store.handle("GetItem", {"TableName": "any"})
    assert error.value.code == "ValidationException"


def test_a_body_nested_200000_deep_is_a_400_over_http(dynamodb_endpoint: str) -> None:
    import urllib.error
    import urllib.request

    # Given a request body whose JSON nests far past the decoder's recursion limit
    body = b'{"TableName":"t","Item":' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    request = urllib.request.Request(dynamodb_endpoint, data=body, method="POST", headers={
        "X-Amz-Target": "DynamoDB_20120810.PutItem", "Content-Type": "application/x-amz-json-1.0"})
    # When it is sent to the engine over HTTP / Then the answer is DynamoDB's 400, never a 500
    try:
        urllib.request.urlopen(request, timeout=10)
        raise AssertionError("a 200 for an unparseable body")
    except urllib.error.HTTPError as error:
        assert error.code == 400
        assert b"ValidationException" in error.read()
