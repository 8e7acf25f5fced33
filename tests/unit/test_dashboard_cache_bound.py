"""The dashboard cache's byte bound holds for protected tables, which keep the figures worked
out from them after they are put: a table counts what its stores hold as they grow and tells
the cache, which counts it again and drops the least recently used (c39; m38 in
docs/benchmarks.md: 193 tables counted at 56 MB held 319 MB)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from survey.dashboard.cache import BoundedCache, deep_size
from survey.dashboard.disclosure import MAX_FIGURES, ProtectedTable, _Growth, _Store
from survey.questionnaire import INDEX_ITEM, INDEX_ITEMS
from tests.unit.test_dashboard_figure_work import PERIODS, _table


class Grows:
    """A value that keeps more after it is put, as a protected table does."""

    def __init__(self, nbytes: int) -> None:
        self.nbytes = nbytes
        self.watchers: list[Callable[[], None]] = []

    def watch(self, grown: Callable[[], None]) -> None:
        self.watchers.append(grown)

    def unwatch(self, grown: Callable[[], None]) -> None:
        self.watchers.remove(grown)

    def recount(self) -> int:
        return self.nbytes

    def grow(self, by: int) -> None:
        self.nbytes += by
        for grown in self.watchers:
            grown()


def _work_out(table: ProtectedTable, periods: list[tuple[str, ...]]) -> None:
    """What an overview asks of a table: every office's figures and noise, and the pool's."""
    offices = table.grid.offices
    for months in periods:
        table.index_noise_each(offices, months)
        for office in offices:
            for item in [INDEX_ITEM, *INDEX_ITEMS]:
                table.counts(item, (office,), list(months))
                table.noise_variance(item, (office,), list(months))
        table.counts(INDEX_ITEM, offices, list(months))
        table.index_noise(offices, list(months))


def test_it_counts_a_value_again_when_it_grows_and_drops_the_oldest() -> None:
    cache = BoundedCache(max_bytes=1000)
    values = [Grows(100) for _ in range(4)]
    for i, value in enumerate(values):
        cache.put_growing(i, value)
    assert cache.nbytes == 400
    values[1].grow(500)
    values[3].grow(200)
    assert cache.get(3) is values[3]  # counted again: 1100 bytes, over
    assert cache.nbytes <= 1000
    assert cache.get(0) is None  # the least recently used went first
    assert cache.nbytes == 1000  # 600 + 100 + 300
    assert not values[0].watchers  # a dropped value no longer tells the cache


def test_it_drops_a_value_that_grows_beyond_the_bound() -> None:
    cache = BoundedCache(max_bytes=1000)
    value = Grows(100)
    cache.put_growing("a", value)
    value.grow(5000)
    assert cache.get("a") is None
    assert cache.nbytes == 0
    assert not value.watchers


def test_a_value_put_again_under_its_key_is_counted_once() -> None:
    cache = BoundedCache(max_bytes=1000)
    old, new = Grows(300), Grows(200)
    cache.put_growing("a", old)
    cache.put_growing("a", new)
    old.grow(10_000)  # no longer the cache's: not counted
    assert cache.get("a") is new
    assert cache.nbytes == 200
    assert not old.watchers


def test_a_table_counts_what_its_stores_keep() -> None:
    """The counted bytes of a table after an overview's figures of six periods are within
    0.9-1.5 × what it holds by `deep_size` (the count is about; it errs upwards: a months
    tuple several keys share is counted in each)."""
    _, table, _ = _table(0)
    before = table.nbytes
    _work_out(table, list(PERIODS))
    held = deep_size(table)
    assert table.nbytes > 4 * before  # the stores hold most of it
    assert 0.9 * held <= table.nbytes <= 1.5 * held


def test_an_emptied_store_no_longer_counts() -> None:
    growth = _Growth()
    store = _Store(growth)
    for i in range(MAX_FIGURES):
        store["item", (i,), ("2025-01",)] = np.zeros(5)
    assert growth.nbytes > MAX_FIGURES * np.zeros(5).nbytes
    store["item", (0,), ("2025-01",)] = np.zeros(5)  # put again: counted once
    assert growth.nbytes == store.nbytes
    store.clear()
    assert growth.nbytes == store.nbytes == 0


def test_a_cache_of_tables_stays_within_its_bound_as_their_figures_are_worked_out() -> None:
    tables = [_table(0)[1] for _ in range(6)]
    fresh = tables[0].nbytes
    cache = BoundedCache(max_bytes=12 * fresh)  # room for six fresh tables, not six grown
    for i, table in enumerate(tables):
        cache.put_growing(i, table)
    assert len(cache) == 6
    for table in tables:  # (each request asks its own: none is got meanwhile)
        _work_out(table, list(PERIODS))
    cache.get("anything")  # the growth told is counted at the next get or put
    kept = [t for i, t in enumerate(tables) if cache.get(i) is not None]
    assert 1 <= len(kept) < 6
    assert kept == tables[-len(kept) :]  # the least recently used were dropped
    assert cache.nbytes <= cache.max_bytes
    assert deep_size(kept) <= 1.1 * cache.max_bytes
