"""DynamoDB attribute values in their wire form ({"S": "x"}, {"N": "1"} ...): checks, numbers, order.

Values stay as the JSON dicts boto3 sends, so storing and answering need no conversion; numbers
are normalised once on the way in ("10.50" -> "10.5", "1E+2" -> "100"), as DynamoDB answers them.
"""

from __future__ import annotations

import base64
import binascii
import decimal
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

Value = dict[str, Any]
Item = dict[str, Value]

# DynamoDB numbers: 38 significant digits, magnitude 1E-130 .. 9.99E+125.
NUMBER_CONTEXT = decimal.Context(prec=38, traps=[decimal.Overflow, decimal.InvalidOperation, decimal.Inexact])
MAX_DIGITS = 38
_MAX_EXPONENT = 125
_MIN_EXPONENT = -130
_NUMBER = re.compile(r"(?P<sign>[+-]?)(?P<int>[0-9]*)(?:\.(?P<frac>[0-9]*))?(?:[eE](?P<exp>[+-]?[0-9]+))?")
# "DynamoDB supports nested attributes up to 32 levels deep" (Constraints page, see limits.py): a top-level
# attribute is level 1, so a document path to any stored value has at most 32 elements.
MAX_LEVELS = 32

TYPES = frozenset({"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"})
SET_TYPES = {"SS": "S", "NS": "N", "BS": "B"}


class DynamoError(Exception):
    """An error DynamoDB answers with: `code` is the __type suffix, HTTP 400 unless told; `extra` holds members
    of the error shape besides the message (e.g. ThrottlingReasons). local.dynamodb.wire.error_body writes it."""

    def __init__(self, code: str, message: str, status: int = 400, item: Item | None = None,
                 extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.item = item
        self.extra = extra


def validation(message: str) -> DynamoError:
    return DynamoError("ValidationException", message)


def too_deep() -> DynamoError:
    # botocore's service-2.json lists "Nesting Levels have exceeded supported limits" among DynamoDB's
    # ValidationException reasons; the rest of the sentence is the text recorded from DynamoDB.
    return validation("Nesting Levels have exceeded supported limits: Attributes in the item have nested levels "
                      "beyond supported limit")


def parse_number(text: Any) -> Decimal:
    """A request's number, checked on its text: no Decimal arithmetic runs before the range is known, so
    "1e999999999999999999" or a 4 MB digit string is refused in one regex pass instead of raising (Overflow)
    or spending time. Whitespace is refused as DynamoDB refuses it (moto's _validate_number_type)."""
    if not isinstance(text, str):
        raise DynamoError("SerializationException", "NUMBER_VALUE cannot be converted to String")
    digits = text[1:] if text[:1] == "-" else text
    if 0 < len(digits) <= MAX_DIGITS and digits.isascii() and digits.isdigit() and digits[0] != "0":
        return Decimal(text)  # the common case, a plain integer: in range by its length alone
    match = _NUMBER.fullmatch(text)
    if match is None or not (match["int"] or match["frac"]):
        shown = text if len(text) <= 100 else text[:100] + "..."
        raise validation(f"The parameter cannot be converted to a numeric value: {shown}" if text else
                         "The parameter cannot be converted to a numeric value")
    fraction = match["frac"] or ""
    digits = (match["int"] + fraction).lstrip("0")
    if not digits:
        return Decimal(0)
    significant = digits.rstrip("0")
    if len(significant) > MAX_DIGITS:
        raise validation("Attempting to store more than 38 significant digits in a Number")
    exponent_text = (match["exp"] or "0").lstrip("+-").lstrip("0")
    exponent = 10**13 if len(exponent_text) > 12 else int(exponent_text or "0")  # any huge one is out of range
    if (match["exp"] or "").startswith("-"):
        exponent = -exponent
    adjusted = exponent - len(fraction) + len(digits) - 1
    if adjusted > _MAX_EXPONENT:
        raise validation("Number overflow. Attempting to store a number with magnitude larger than supported range")
    if adjusted < _MIN_EXPONENT:
        raise validation("Number underflow. Attempting to store a number with magnitude smaller than supported range")
    return Decimal(f"{match['sign']}{significant}E{adjusted - len(significant) + 1}")


def check_number(number: Decimal) -> Decimal:
    if not number:
        return Decimal(0)
    number = number.normalize(decimal.Context(prec=60))
    if len(number.as_tuple().digits) > 38:
        raise validation("Attempting to store more than 38 significant digits in a Number")
    if number.adjusted() > _MAX_EXPONENT:
        raise validation("Number overflow. Attempting to store a number with magnitude larger than supported range")
    if number.adjusted() < _MIN_EXPONENT:
        raise validation("Number underflow. Attempting to store a number with magnitude smaller than supported range")
    return number


def format_number(number: Decimal) -> str:
    return "0" if not number else format(number, "f")


def normalise_number(text: Any) -> str:
    return format_number(parse_number(text))


def arithmetic(left: str, right: str, subtract: bool = False) -> str:
    a, b = Decimal(left), Decimal(right)
    try:
        result = NUMBER_CONTEXT.subtract(a, b) if subtract else NUMBER_CONTEXT.add(a, b)
    except decimal.Inexact:
        raise validation("Number overflow. Attempting to store a number with more than 38 significant digits") from None
    except decimal.Overflow:
        raise validation("Number overflow. Attempting to store a number with magnitude larger than supported range") \
            from None
    return format_number(check_number(result))


def _binary(text: Any) -> bytes:
    if not isinstance(text, str):
        raise DynamoError("SerializationException", "Binary value must be a base64 string")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise DynamoError("SerializationException", "Base64 encoded length is expected a multiple of 4 bytes") \
            from None


def _string(raw: Any) -> Value:
    if not isinstance(raw, str):
        raise DynamoError("SerializationException", "STRING_VALUE can not be converted to a String")
    return {"S": raw}


def _bool(raw: Any) -> Value:
    if not isinstance(raw, bool):
        raise DynamoError("SerializationException", "BOOL value must be a boolean")
    return {"BOOL": raw}


def _null(raw: Any) -> Value:
    if raw is not True:
        raise validation("One or more parameter values were invalid: Null attribute value types must have "
                         "the value of true")
    return {"NULL": True}


def _list(raw: Any, level: int) -> Value:
    if not isinstance(raw, list):
        raise DynamoError("SerializationException", "Start of list found where not expected")
    if raw and level >= MAX_LEVELS:
        raise too_deep()
    return {"L": [normalise(element, level + 1) for element in raw]}


def _map(raw: Any, level: int) -> Value:
    if not isinstance(raw, dict):
        raise DynamoError("SerializationException", "Start of structure or map found where not expected")
    if raw and level >= MAX_LEVELS:
        raise too_deep()
    return {"M": {str(key): normalise(element, level + 1) for key, element in raw.items()}}


def _bytes(raw: Any) -> Value:
    _binary(raw)
    return {"B": raw}


_NORMALISERS: dict[str, Callable[[Any], Value]] = {
    "S": _string, "N": lambda raw: {"N": normalise_number(raw)}, "B": _bytes, "BOOL": _bool, "NULL": _null,
    **{kind: (lambda raw, kind=kind: {kind: _normalise_set(kind, raw)})  # type: ignore[misc]
                              for kind in SET_TYPES},
}


def normalise(value: Any, level: int = 1) -> Value:
    """A checked copy of one attribute value with numbers normalised; raises DynamoError. `level` is the
    value's depth in its item (1 = a top-level attribute): recursion stops at MAX_LEVELS, however deep the
    request's JSON is."""
    if not isinstance(value, dict) or len(value) != 1:
        raise validation("Supplied AttributeValue has more than one datatypes set, must contain exactly one "
                         "of the supported datatypes" if isinstance(value, dict) and value else
                         "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
    ((kind, raw),) = value.items()
    if kind == "L":
        return _list(raw, level)
    if kind == "M":
        return _map(raw, level)
    normaliser = _NORMALISERS.get(kind)
    if normaliser is None:
        raise DynamoError("SerializationException", f"Unexpected value type in payload: {kind}")
    return normaliser(raw)


def _normalise_set(kind: str, raw: Any) -> list[Any]:
    if not isinstance(raw, list) or not all(isinstance(element, str) for element in raw):
        raise DynamoError("SerializationException", f"{kind} value must be a list of strings")
    if not raw:
        raise validation("One or more parameter values were invalid: An number set  may not be empty"
                         if kind == "NS" else "One or more parameter values were invalid: An string set  may not "
                         "be empty" if kind == "SS" else "One or more parameter values were invalid: Binary sets "
                         "should not be empty")
    elements = [normalise_number(element) for element in raw] if kind == "NS" else list(raw)
    if kind == "BS":
        for element in elements:
            _binary(element)
    if len(set(elements)) != len(elements):
        raise validation("One or more parameter values were invalid: Input collection contains duplicates")
    return elements


def normalise_item(item: Any, what: str = "Item") -> Item:
    if not isinstance(item, dict):
        raise DynamoError("SerializationException", f"{what} must be a map")
    return {str(name): normalise(value) for name, value in item.items()}


def kind_of(value: Value) -> str:
    return next(iter(value))


def sort_key(value: Value) -> Any:
    """Order of S / N / B values as DynamoDB sorts them (S: code points = UTF-8 byte order)."""
    kind, raw = next(iter(value.items()))
    if kind == "N":
        return Decimal(raw)
    if kind == "B":
        return base64.b64decode(raw)
    return raw


def equal(a: Value, b: Value) -> bool:
    kind_a, raw_a = next(iter(a.items()))
    kind_b, raw_b = next(iter(b.items()))
    if kind_a != kind_b:
        return False
    if kind_a in SET_TYPES:
        return set(raw_a) == set(raw_b)
    if kind_a == "L":
        return len(raw_a) == len(raw_b) and all(equal(x, y) for x, y in zip(raw_a, raw_b, strict=True))
    if kind_a == "M":
        return raw_a.keys() == raw_b.keys() and all(equal(raw_a[key], raw_b[key]) for key in raw_a)
    if kind_a == "B":
        return bool(base64.b64decode(raw_a) == base64.b64decode(raw_b))
    return bool(raw_a == raw_b)  # N values are normalised, so equal numbers have equal text


def size(value: Value) -> int | None:
    kind, raw = next(iter(value.items()))
    if kind == "S":
        return len(raw)
    if kind == "B":
        return len(base64.b64decode(raw))
    if kind in SET_TYPES or kind in ("L", "M"):
        return len(raw)
    return None
