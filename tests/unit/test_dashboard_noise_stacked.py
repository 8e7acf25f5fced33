"""`index_noise_each` works out the terms of the index's seven items as one stacked
computation (`_noise_terms`: items × offices × levels) instead of item by item (issue 17,
q34): the same figures, bit for bit, as `index_noise_each` of 252c022 (kept here as the
reference)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pytest

from survey.dashboard.disclosure import ProtectedTable
from survey.questionnaire import INDEX_ITEM, INDEX_ITEMS
from tests.unit.test_dashboard_figure_work import PERIODS, _table
from tests.unit.test_dashboard_mix_stacked import _filtered


def _old_index_noise_each(
    table: ProtectedTable, offices: Sequence[int], months: Iterable[str], item: str = INDEX_ITEM
) -> list[float]:
    """`index_noise_each` of 252c022: item by item."""
    offices, months = tuple(offices), tuple(months)
    if not offices:
        return []
    found = np.zeros(len(offices))
    parts = np.zeros(len(offices), dtype=np.int64)
    if item == INDEX_ITEM:
        least = max(1, table.grid.min_n)
        for code in INDEX_ITEMS:
            counts = table._each_counts(code, offices, months)
            used = counts.sum(axis=1) >= least
            found = table._add_noise(found, code, offices, months, counts, used)
            parts += used
    alone = parts == 0
    if alone.any():
        counts = table._each_counts(item, offices, months)
        found = table._add_noise(found, item, offices, months, counts, alone)
        parts[alone] = 1
    noise: list[float] = (found / parts**2).tolist()
    return noise


def _bits(values: list[float]) -> bytes:
    return np.array(values, dtype=np.float64).tobytes()


@pytest.mark.parametrize("case", [0, 2])
def test_the_index_noise_of_every_office_is_the_item_by_item_one_to_the_bit(case: int) -> None:
    name, table, fresh = _table(case)
    offices = [*table.grid.offices, 99]  # one the grid does not hold
    for months in PERIODS:
        expected = _old_index_noise_each(fresh, offices, months)
        assert _bits(table.index_noise_each(offices, months)) == _bits(expected), (name, months)


def test_a_filtered_view_s_index_noise_is_the_item_by_item_one_to_the_bit() -> None:
    table, fresh = _filtered(11, [4, 1, 3], 10)[:2]
    offices = list(reversed(table.grid.offices))
    for months in PERIODS[1:4]:
        expected = _old_index_noise_each(fresh, offices, months)
        assert _bits(table.index_noise_each(offices, months)) == _bits(expected), months


def test_an_office_without_index_items_keeps_the_classes_own_noise() -> None:
    _, table, fresh = _table(2)  # small cells: offices and months below the minimum
    offices = table.grid.offices
    months = PERIODS[0][3:9]
    found = [table.index_noise_each(offices, (m,)) for m in months]
    expected = [_old_index_noise_each(fresh, offices, (m,)) for m in months]
    assert [_bits(f) for f in found] == [_bits(e) for e in expected]
    assert any(v > 0 for each in found for v in each)


def test_the_noise_variances_kept_at_once_are_each_office_s_own_to_the_bit() -> None:
    """`_noise_variances_items` keeps what `noise_variance_each` kept item by item: one
    office's `noise_variance` afterwards reads the figure worked out alone."""
    _, table, fresh = _table(0)
    offices = [*table.grid.offices, 99]
    for months in PERIODS[1:3]:
        table.index_noise_each(offices, months)
        for code in INDEX_ITEMS:
            kept = [table.noise_variance(code, (o,), months) for o in offices]
            alone = [fresh.noise_variance(code, (o,), months) for o in offices]
            assert _bits(kept) == _bits(alone), (code, months)
