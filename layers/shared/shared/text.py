"""What stored text may contain: valid UTF-8 and no control characters.

Postgres rejects NUL in text and `\\u0000` in jsonb, and JSON `"\\ud800"` decodes to a lone surrogate no
UTF-8 encoder accepts: left to the database or the serialiser, either is a 500. Checked in the request
models instead, so it is a 400 that names the field.
"""

from __future__ import annotations

import re

CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def is_utf8(value: str) -> bool:
    """False for strings with lone surrogates (JSON `\\ud800`), which Postgres and bcrypt reject."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def utf8_text(value: str) -> str:
    """`value`, or ValueError when it cannot be stored as UTF-8."""
    if not is_utf8(value):
        raise ValueError("must be valid UTF-8 text")
    return value


def printable_text(value: str) -> str:
    """`value`, or ValueError when it is not UTF-8 or holds a control character (NUL, newline, DEL…)."""
    if CONTROL_CHARACTERS.search(utf8_text(value)):
        raise ValueError("must not contain control characters")
    return value
