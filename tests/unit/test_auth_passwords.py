"""shared.auth.passwords: the 8-72 byte rule, bcrypt round trips, constant-work verification."""

from __future__ import annotations

from collections.abc import Iterator

import bcrypt
import pytest

from shared.auth import passwords
from shared.auth.passwords import hash_password, password_problem, verify_password
from shared.dependencies import reset


@pytest.fixture(autouse=True)
def cheap_bcrypt(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("BCRYPT_ROUNDS", "4")
    reset()
    yield
    reset()


@pytest.mark.parametrize(("password", "ok"), [
    ("a" * 7, False),
    ("a" * 8, True),
    ("a" * 72, True),
    ("a" * 73, False),
    ("€" * 24, True),  # 3 bytes each: exactly 72 bytes
    ("€" * 24 + "a", False),  # 73 bytes though only 25 characters
    ("é" * 4, True),  # 4 characters but 8 bytes
    ("\ud800" + "a" * 10, False),  # lone surrogate: not UTF-8 text
])
def test_password_problem_counts_utf8_bytes(password: str, ok: bool) -> None:
    # Given a candidate password / When checked / Then only 8-72 UTF-8 bytes pass
    assert (password_problem(password) is None) is ok


def test_hash_then_verify_round_trip_and_cost_from_settings() -> None:
    # Given a hash of a 72-byte multi-byte password
    password = "€" * 24
    stored = hash_password(password)
    # Then it uses the configured cost and verifies only the same password
    assert stored.startswith("$2b$04$")
    assert verify_password(password, stored) is True
    assert verify_password("€" * 23 + "a", stored) is False


def test_hash_refuses_what_the_rule_rejects() -> None:
    with pytest.raises(ValueError):
        hash_password("a" * 73)


def test_nul_byte_is_significant() -> None:
    # Given a password with a NUL byte in the middle
    stored = hash_password("abc\x00defgh")
    # Then the prefix before the NUL does not verify
    assert verify_password("abc\x00defgh", stored) is True
    assert verify_password("abc", stored) is False


def test_verify_without_hash_still_runs_bcrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a spy on bcrypt's comparison
    calls: list[bytes] = []
    real = bcrypt.checkpw

    def spy(password: bytes, hashed: bytes) -> bool:
        calls.append(hashed)
        return real(password, hashed)

    monkeypatch.setattr(passwords.bcrypt, "checkpw", spy)
    # When verifying against no stored hash (unknown email)
    result = verify_password("whatever-password", None)
    # Then it fails after one comparison against a dummy hash of the configured cost
    assert result is False
    assert len(calls) == 1 and calls[0].startswith(b"$2b$04$")


@pytest.mark.parametrize("password", ["a" * 73, "€" * 25, "x" * 5000, "\ud800bad-surrogate"])
def test_verify_never_raises_and_never_matches_bad_input(password: str) -> None:
    # Given a stored hash whose password is the first 72 bytes of the candidate
    stored = hash_password("a" * 72)
    # When a too-long or non-UTF-8 password is verified / Then it is simply wrong (bcrypt would truncate)
    assert verify_password(password, stored) is False


@pytest.mark.parametrize("stored", ["", "not-a-bcrypt-hash", "$2b$04$short", "€uro"])
def test_malformed_stored_hash_is_a_mismatch(stored: str) -> None:
    assert verify_password("correct horse battery", stored) is False
