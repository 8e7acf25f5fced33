"""The figure work of a new view made cheaper stays the same figures (issue 17, q27): what a
protected table works out for every office at once equals, bit for bit, what the code before
worked out office by office (kept here as the reference)."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

from survey.dashboard.disclosure import (
    INDEX_GRID,
    Grid,
    ProtectedTable,
    _from_left,
    _item_mean,
    _running_sum,
    nonnegative,
    protect,
    retarget,
)
from survey.dashboard.queries import CountRow
from survey.questionnaire import INDEX_ITEM, INDEX_ITEMS

MONTHS = tuple(f"{y}-{m:02d}" for y in (2024, 2025) for m in range(1, 13))


def _rows(seed: int, offices: list[int], size: float) -> list[CountRow]:
    """Random count rows of the index and its items; `size`: responses a cell, about (some
    cells hold nobody, some a handful, some hundreds)."""
    rng = np.random.default_rng(seed)
    out = []
    for o in offices:
        for month in MONTHS:
            scale = size * float(rng.choice([0.0, 0.05, 1.0, 8.0]))
            for item in [INDEX_ITEM, *INDEX_ITEMS]:
                values = range(7 * 60, 36 * 60, 60) if item == INDEX_ITEM else range(1, 6)
                for v in values:
                    n = int(rng.poisson(scale / len(values) * float(rng.uniform(0.2, 2.0))))
                    if n:
                        out.append(CountRow(o, item, int(v), month, n, int(rng.integers(0, 2**40))))
    return out


CASES = [
    ("many offices", [3, 1, 2, 7, 9, 11, 4], 40.0, 10, "2025-10"),
    ("one office", [5], 30.0, 10, "2025-12"),
    ("small cells", [1, 2, 3, 4], 3.0, 10, "2025-10"),
    ("no minimum", [1, 2, 3], 6.0, 0, None),
    ("large cells", [1, 2], 900.0, 10, "2025-11"),
    ("empty", [1, 2], 0.0, 10, "2025-10"),
]


def _table(case: int) -> tuple[str, ProtectedTable, ProtectedTable]:
    """A pair of equal tables (one asked office by office, one all at once) of case `case`
    (its own seed): a test of one case builds that case's tables only. Built all six for
    each test before, a test's case took 0.24 s of CPU, most of these files' 15 s."""
    name, offices, size, min_n, through = CASES[case]
    rows = _rows(case, offices, size) if size else []
    grid = Grid(tuple(sorted(offices)), MONTHS, dict(INDEX_GRID), min_n, through)
    return name, protect(rows, grid), protect(rows, grid)


def _tables() -> list[tuple[str, ProtectedTable, ProtectedTable]]:
    """Every case's pair of equal tables."""
    return [_table(case) for case in range(len(CASES))]


PERIODS = [MONTHS, MONTHS[-12:], MONTHS[3:5], MONTHS[11:14], MONTHS[-6:], MONTHS[-1:]]


@pytest.mark.parametrize("case", range(6))
def test_the_item_means_of_every_office_at_once_are_those_office_by_office(case: int) -> None:
    """`_item_means` against the loop it replaces (`index_parts` and `_item_mean` of each
    office alone), to the bit; an office the grid does not hold has no parts."""
    name, table, _ = _table(case)
    offices = (*table.grid.offices, 99)
    for months in PERIODS:
        means, parts = table._item_means(offices, months)
        for i, office in enumerate(offices):
            found = table.index_parts((office,), months)
            assert parts[i] == len(found), (name, office, months)
            if found:
                assert means[i] == _item_mean(found, table.grid), (name, office, months)
            else:
                assert math.isnan(means[i])


@pytest.mark.parametrize("case", range(6))
def test_every_office_s_index_worked_out_at_once_is_its_index_worked_out_alone(case: int) -> None:
    """`matrix` of single offices (`each_office`: the sums of the index's classes and of its
    items at once, made non-negative together, the classes tilted to each office's item mean
    at once) against `counts` office by office on an equal table that never worked out
    anything at once; every item too, and the noise figures read from the same sums."""
    name, alone, together = _table(case)
    offices = [*alone.grid.offices, 99]
    for months in PERIODS:
        found = together.matrix(INDEX_ITEM, [[o] for o in offices], months)
        for i, office in enumerate(offices):
            assert np.array_equal(found[i], alone.counts(INDEX_ITEM, [office], months)), name
            for code in INDEX_ITEMS:
                found_item = together.counts(code, [office], months)
                assert np.array_equal(found_item, alone.counts(code, [office], months)), code
            assert together.index_noise([office], months) == alone.index_noise([office], months)


def _old_sum(table: ProtectedTable, item: str, offices: tuple[int, ...], months: tuple[str, ...]
             ) -> np.ndarray:  # fmt: skip
    """`ProtectedTable._sum` before (f. 60067ea): the pooled figure office by office."""
    totals = table._totals[item]
    total = np.zeros(totals.shape[2])
    for row, runs in table._walk(offices, months):
        sums = np.zeros(totals.shape[2])
        for base, end in runs:
            sums += table._between(totals[row], base, end)
        total += nonnegative(sums, table.grid.levels[item])
    return total


def _old_index(table: ProtectedTable, offices: tuple[int, ...], months: tuple[str, ...]
               ) -> np.ndarray:  # fmt: skip
    """The pooled index before: its classes (`_old_sum`) tilted to the mean of its index
    items' indices (`_count`, `index_parts`)."""
    classes = _old_sum(table, INDEX_ITEM, offices, months)
    least = max(1, table.grid.min_n)
    parts = [(code, c) for code in INDEX_ITEMS
             if (c := _old_sum(table, code, offices, months)).sum() >= least]  # fmt: skip
    if not parts:
        return classes
    levels = table.grid.levels[INDEX_ITEM]
    target = levels[0] + (levels[-1] - levels[0]) * _item_mean(parts, table.grid) / 100.0
    return retarget(classes, levels, target)


@pytest.mark.parametrize("case", range(6))
def test_a_pooled_figure_is_the_sum_of_its_offices_figures_as_before(case: int) -> None:
    """A pooled figure's counts (the network, a job centre, any offices, an office twice, one
    the grid does not hold) from its offices' own sums kept or worked out at once, against
    the office-by-office loop before; the pooled index tilted to the pool's item mean."""
    name, table, fresh = _table(case)
    offices = table.grid.offices
    pools = [offices, offices[:2], offices[::-1], (*offices, 99), (offices[0],) * 2, (99, 98)]
    for months in PERIODS:
        table.matrix(INDEX_ITEM, [[o] for o in offices[:1]], months)  # some kept, some not
        for pool in pools:
            for item in [INDEX_ITEM, *INDEX_ITEMS]:
                found = table._sum(item, pool, months)
                assert np.array_equal(found, _old_sum(fresh, item, pool, months)), (name, pool)
            assert np.array_equal(table.counts(INDEX_ITEM, pool, months),
                                  _old_index(fresh, pool, months)), (name, pool)  # fmt: skip
            assert table.index_noise(pool, months) == fresh.index_noise(pool, months)


@pytest.mark.parametrize("case", range(6))
def test_every_office_s_index_noise_worked_out_at_once_is_its_own(case: int) -> None:
    """`index_noise_each` against `index_noise` office by office, to the bit: of the index
    (the mean of its index items' indices; the classes' own without index items) and of each
    item, offices the grid does not hold, periods with nobody."""
    name, table, fresh = _table(case)
    offices = [*table.grid.offices, 99]
    for months in PERIODS:
        for item in [INDEX_ITEM, *INDEX_ITEMS]:
            found = table.index_noise_each(offices, months, item)
            assert found == [fresh.index_noise([o], months, item) for o in offices], (name, item)
    assert table.index_noise_each([], MONTHS) == []


def test_the_sums_from_the_left_are_python_s() -> None:
    rng = np.random.default_rng(5)
    a = rng.uniform(-1, 1, (300, 17)) * 10.0 ** rng.integers(-8, 8, (300, 17))
    a[:20] = -0.0
    a[20:40, :5] = -0.0
    assert [math.copysign(1, v) for v in _running_sum(a).tolist()] == [
        math.copysign(1, sum(row)) for row in a.tolist()
    ]
    assert _running_sum(a).tolist() == [_from_left(row) for row in a.tolist()]
    if sys.version_info < (3, 12):  # 3.12's `sum` compensates its rounding: not from the left
        assert _running_sum(a).tolist() == [sum(row) for row in a.tolist()]
    # r28: from the left on any Python, with the rounding of each addition (3.12's sum gives 1.0)
    assert _from_left([1.0, 1e100, 1.0, -1e100]) == 0.0
    assert _running_sum(np.zeros((3, 0))).tolist() == [0.0, 0.0, 0.0]
