"""bcrypt hashing with the 8-72 byte rule checked first, so bcrypt itself never raises."""

from __future__ import annotations

import bcrypt

from shared.settings import get_settings
from shared.text import is_utf8

MIN_BYTES = 8
MAX_BYTES = 72  # bcrypt's limit; longer input would be silently truncated or rejected


def _utf8(password: str) -> bytes:
    # surrogatepass: a lone surrogate (JSON "\ud800") encodes to bytes no valid UTF-8 password has,
    # so it can be compared (and never matches) instead of raising UnicodeEncodeError → 500.
    return password.encode("utf-8", "surrogatepass")


def password_problem(password: str) -> str | None:
    """Why a new password is unacceptable, or None."""
    if not is_utf8(password):
        return "Password must be valid UTF-8 text"
    size = len(_utf8(password))
    if size < MIN_BYTES:
        return f"Password must be at least {MIN_BYTES} bytes"
    if size > MAX_BYTES:
        return f"Password must be at most {MAX_BYTES} bytes (UTF-8)"
    return None


def could_be_a_password(password: str) -> bool:
    """Whether any account can have this password; if not, checking it needs no bcrypt work."""
    return password_problem(password) is None


def hash_password(password: str) -> str:
    if password_problem(password):
        raise ValueError("password violates the length rule")
    salt = bcrypt.gensalt(rounds=get_settings().bcrypt_rounds)
    return bcrypt.hashpw(_utf8(password), salt).decode("ascii")


# Salt and digest of some bcrypt hash. bcrypt does the full work of the cost written in front of
# them before comparing, so "$2b$<cost>$" + this costs exactly what a real hash of that cost
# costs, with nothing to compute at cold start (a lazily built dummy would make the first
# unknown-email login of each container slower, which is observable).
_DUMMY_SALT_AND_DIGEST = "0xWney8xs/a99J.g5JcA0uLfttxx/wKUplaw0LTvXFv9oI7Xm.EIG"


def _dummy_hash(rounds: int) -> bytes:
    return f"$2b${rounds:02d}${_DUMMY_SALT_AND_DIGEST}".encode("ascii")


def verify_password(password: str, password_hash: str | None) -> bool:
    """One bcrypt comparison, even without a stored hash (then against a dummy of the same cost), so the
    time does not tell whether an account exists. A password over 72 bytes matches nothing and costs no
    bcrypt work: that is the same for every account, so it tells nothing either."""
    encoded = _utf8(password)
    if len(encoded) > MAX_BYTES:
        return False
    try:
        stored = password_hash.encode("ascii") if password_hash else _dummy_hash(get_settings().bcrypt_rounds)
        matches = bcrypt.checkpw(encoded, stored)
    except ValueError:  # a malformed stored hash is a mismatch, not a crash
        matches = False
    return matches and password_hash is not None
