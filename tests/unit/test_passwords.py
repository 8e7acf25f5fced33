"""Passwords are hashed with argon2id at RFC 9106's low-memory parameters unless the test
suite's cheap profile is asked for by name; either profile checks the other's hashes."""

from __future__ import annotations

import pytest

from survey.auth.passwords import PROFILE_VARIABLE, hash_password, needs_rehash, verify_password


@pytest.mark.parametrize("setting", [None, "", "production", "Test", "cheap"])
def test_it_hashes_at_the_production_cost_unless_told_test(
    setting: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if setting is None:
        monkeypatch.delenv(PROFILE_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(PROFILE_VARIABLE, setting)
    stored = hash_password("correct horse")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$"), stored
    assert not needs_rehash(stored)
    if setting is None:  # a check reads the hash's own parameters: once, not per setting
        # (each check at the production cost took 0.2 s of CPU)
        assert verify_password(stored, "correct horse")
        assert not verify_password(stored, "correct horse ")


def test_the_test_profile_is_cheap_and_each_profile_reads_the_others_hashes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(PROFILE_VARIABLE, "test")
    cheap = hash_password("pw")
    assert cheap.startswith("$argon2id$v=19$m=8,t=1,p=1$"), cheap
    monkeypatch.setenv(PROFILE_VARIABLE, "production")
    assert verify_password(cheap, "pw")
    assert needs_rehash(cheap), "a sign-in in production upgrades a cheap hash"
    strong = hash_password("pw")
    monkeypatch.setenv(PROFILE_VARIABLE, "test")
    assert verify_password(strong, "pw") and not verify_password(strong, "pW")
    assert not verify_password("not a hash", "pw")
