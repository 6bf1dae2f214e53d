"""shared.db.memoise_placeholder_rewrite: pg8000's `%s` → `$n` rewrite, remembered per statement."""

from pathlib import Path

import pg8000.legacy
import pytest
from pg8000.dbapi import convert_paramstyle as pg8000_convert_paramstyle

from shared.pg8000_speedups import memoise_placeholder_rewrite

STATEMENTS = [
    "SELECT users.email FROM users WHERE users.id = %s::UUID",
    "SELECT 'it''s %s', E'\\\\' || %s, \"odd %s\" FROM t WHERE a = %s -- %s in a comment\nAND b = %s",
    "SELECT $$ %s $$, %s, 100 %% 7",
    "UPDATE orders SET items = CAST(%s AS JSONB) WHERE orders.id = %s AND orders.status = %s RETURNING orders.id",
]


@pytest.fixture(autouse=True)
def memoised() -> None:
    memoise_placeholder_rewrite()


@pytest.mark.parametrize("statement", STATEMENTS)
def test_rewrite_equals_pg8000s_own(statement: str) -> None:
    # Given a statement with placeholders inside and outside quotes, comments and dollar quotes
    args = ("a", 2, None, 4.5, b"x")
    # Then the remembered rewrite is exactly pg8000's, values passed through untouched, every time
    for _ in range(2):
        assert pg8000.legacy.convert_paramstyle("format", statement, args) == \
            pg8000_convert_paramstyle("format", statement, args)


def test_each_statement_is_scanned_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given pg8000's scanner counted
    scans: list[str] = []

    def counting(style: str, query: str, args: object) -> object:
        scans.append(query)
        return pg8000_convert_paramstyle(style, query, args)

    monkeypatch.setattr(pg8000.legacy, "convert_paramstyle", counting)
    memoise_placeholder_rewrite()
    # When one statement runs three times with different values
    for value in (1, 2, 3):
        statement, values = pg8000.legacy.convert_paramstyle("format", "SELECT %s + 1", (value,))
        assert (statement, values) == ("SELECT $1 + 1", (value,))
    # Then it was scanned once
    assert scans == ["SELECT %s + 1"]


def test_other_paramstyles_are_left_to_pg8000() -> None:
    assert pg8000.legacy.convert_paramstyle("named", "SELECT :a, :b, :a", {"a": 1, "b": 2}) == \
        ("SELECT $1, $2, $1", (1, 2))


def test_installing_twice_keeps_one_layer() -> None:
    installed = pg8000.legacy.convert_paramstyle
    memoise_placeholder_rewrite()
    assert pg8000.legacy.convert_paramstyle is installed


# pg8000 1.31.6's placeholder rewrite and the cursor code that calls it, as the wrapper was verified against.
REWRITE_FINGERPRINT = "d86b773c239000bdf508e858e061d13b0f9f128cd0e8fd16244ffaa0eb73fad9"


def test_the_wrapped_pg8000_function_is_the_one_verified() -> None:
    import hashlib
    import inspect

    from pg8000 import dbapi

    # pg8000 has no public hook for this, so it is pinned exactly (layers/shared/requirements.txt), and an
    # upgrade that changes the rewrite fails here: re-check the exactness tests above, then the fingerprint.
    source = inspect.getsource(dbapi.convert_paramstyle)
    assert hashlib.sha256(source.encode()).hexdigest() == REWRITE_FINGERPRINT
    assert "pg8000==1.31.6" in (Path(__file__).parents[2] / "layers/shared/requirements.txt").read_text()


def test_the_cursor_calls_the_wrapped_function_through_pg8000_legacy() -> None:
    import inspect

    # The wrapper replaces `pg8000.legacy.convert_paramstyle`; it works only while the legacy cursor
    # (SQLAlchemy's pg8000 dialect uses it) looks the name up there on every execute.
    source = inspect.getsource(pg8000.legacy.Cursor.execute)
    assert "convert_paramstyle(" in source
    assert pg8000.legacy.convert_paramstyle.__module__ == "shared.pg8000_speedups"
