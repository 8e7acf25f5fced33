"""Password hashing with argon2id.

Production hashes use argon2-cffi's default parameters (RFC 9106's low-memory profile:
t=3, m=64 MiB, p=4), about 0.2 CPU seconds per hash or check on the project's machines.
`RESONANZ_PASSWORD_HASH_PROFILE=test` switches to the cheapest parameters argon2 allows;
the test suite sets it (tests/conftest.py) because hundreds of sign-ins at the production cost
took about a minute of its five-minute budget. The server warns at start when it is set.
Checking a stored hash always uses the parameters written in that hash, so either profile
reads hashes of the other.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from survey.i18n import N_

PROFILE_VARIABLE = "RESONANZ_PASSWORD_HASH_PROFILE"


@functools.cache
def _hasher_for(profile: str) -> PasswordHasher:
    if profile == "test":
        return PasswordHasher.from_parameters(profiles.CHEAPEST)
    return PasswordHasher()


def _hasher() -> PasswordHasher:
    return _hasher_for(hash_profile())


def hash_profile() -> str:
    """`test` when the cheap test profile is on, else `production`."""
    return "test" if os.environ.get(PROFILE_VARIABLE) == "test" else "production"


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)


MIN_LENGTH = 10
TOO_SHORT = N_("The password must have at least 10 characters.")
HAS_USERNAME = N_("The password must not be or contain the username.")
TOO_COMMON = N_(
    "This password is among those people choose most often and is guessed first. "
    "Please choose another one."
)
_COMMON_FILE = Path(__file__).resolve().parent.parent / "data" / "common_passwords.txt"
_EDGES = re.compile(r"^[\W\d_]+|[\W\d_]+$")


@functools.cache
def _common_stems() -> frozenset[str]:
    lines = _COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(s.strip() for s in lines if s.strip() and not s.startswith("#"))


def password_problem(password: str, username: str) -> str | None:
    """Why `password` is refused for `username` (an English msgid), or None.

    At least MIN_LENGTH characters; not the username nor containing it; not a common stem
    (survey/data/common_passwords.txt) alone or between digits and signs, nor digits and
    signs only, nor one character repeated."""
    if len(password) < MIN_LENGTH:
        return TOO_SHORT
    folded, name = password.casefold(), username.casefold()
    if name and (folded == name or (len(name) >= 3 and name in folded)):
        return HAS_USERNAME
    stem = _EDGES.sub("", folded)
    if not stem or stem in _common_stems() or len(set(folded)) <= 2:
        return TOO_COMMON
    return None
