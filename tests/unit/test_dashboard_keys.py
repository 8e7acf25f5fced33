"""The keys of what a dashboard keeps are the same for equal inputs, however they were built."""

from __future__ import annotations

import pickle

from survey.dashboard import stored
from survey.dashboard.cache import key_bytes


def test_a_key_holding_one_string_twice_is_that_of_two_equal_strings() -> None:
    shared = "de"
    parsed = "".join(["d", "e"])  # as a language read from a query string
    assert parsed == shared and parsed is not shared
    # pickle writes the second use of one object as a reference to the first
    assert pickle.dumps((shared, shared), protocol=5) != pickle.dumps((shared, parsed), protocol=5)
    assert key_bytes((shared, shared)) == key_bytes((shared, parsed))
    assert stored.key_of("office", (1, shared, (shared,))) == stored.key_of(
        "office", (1, parsed, (shared,))
    )
    assert stored.key_of("office", (1, "de")) != stored.key_of("office", (1, "en"))
