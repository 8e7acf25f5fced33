"""The memos of the pure statistics (`by_value`) are bounded in bytes, not only in entries:
4,096 entries of 7-20 kB each were no bound on a dashboard server that is asked distinct
views (m38, docs/benchmarks.md)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from survey.dashboard import cache
from survey.dashboard.cache import by_value, deep_size


@pytest.fixture
def memos() -> Iterator[None]:
    """The memos a test adds are taken out of the process's list afterwards."""
    before = list(cache._MEMOS)
    yield
    cache._MEMOS[:] = before


def test_it_keeps_a_memo_within_its_bytes(memos: None) -> None:
    calls: list[int] = []

    def rows(seed: int) -> list[float]:
        calls.append(seed)
        return [float(seed * 100_000 + i) for i in range(10_000)]  # about 320 kB

    kept = by_value(rows, max_bytes=2**20)
    memo = cache._MEMOS[-1]
    for seed in range(40):
        assert kept(seed)[0] == seed * 100_000
    assert memo._bytes <= 2**20
    assert 1 <= len(memo) <= 3
    kept(39)  # the latest is kept
    assert calls.count(39) == 1
    kept(0)  # the first was dropped: worked out again
    assert calls.count(0) == 2


def test_it_keeps_nothing_larger_than_the_bound(memos: None) -> None:
    calls: list[int] = []

    def big(seed: int) -> np.ndarray:
        calls.append(seed)
        return np.full(200_000, seed, dtype=np.float64)  # 1.6 MB

    kept = by_value(big, max_bytes=2**20)
    kept(1)
    kept(1)
    assert calls == [1, 1]
    assert len(cache._MEMOS[-1]) == 0


def test_it_sizes_what_a_value_holds() -> None:
    array = np.zeros(1000)
    assert deep_size([array]) >= array.nbytes
    assert deep_size({"a": [array, array]}) < 2 * array.nbytes  # held twice, counted once
    assert deep_size([deep_size]) < 200  # a function is not followed
