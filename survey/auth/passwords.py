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

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

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
