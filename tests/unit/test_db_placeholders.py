"""shared.db.memoise_placeholder_rewrite: pg8000's `%s` → `$n` rewrite, remembered per statement."""

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
