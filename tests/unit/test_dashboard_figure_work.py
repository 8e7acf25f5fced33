"""The figure work of a new view made cheaper stays the same figures (issue 17, q27): what a
protected table works out for every office at once equals, bit for bit, what the code before
worked out office by office (kept here as the reference)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from survey.dashboard.disclosure import (
    INDEX_GRID,
    Grid,
    ProtectedTable,
    _item_mean,
    protect,
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


def _tables() -> list[tuple[str, ProtectedTable, ProtectedTable]]:
    """Pairs of equal tables (one asked office by office, one all at once)."""
    out = []
    cases = [
        ("many offices", [3, 1, 2, 7, 9, 11, 4], 40.0, 10, "2025-10"),
        ("one office", [5], 30.0, 10, "2025-12"),
        ("small cells", [1, 2, 3, 4], 3.0, 10, "2025-10"),
        ("no minimum", [1, 2, 3], 6.0, 0, None),
        ("large cells", [1, 2], 900.0, 10, "2025-11"),
    ]
    for seed, (name, offices, size, min_n, through) in enumerate(cases):
        rows = _rows(seed, offices, size)
        grid = Grid(tuple(sorted(offices)), MONTHS, dict(INDEX_GRID), min_n, through)
        out.append((name, protect(rows, grid), protect(rows, grid)))
    empty = Grid((1, 2), MONTHS, dict(INDEX_GRID), 10, "2025-10")
    out.append(("empty", protect([], empty), protect([], empty)))
    return out


PERIODS = [MONTHS, MONTHS[-12:], MONTHS[3:5], MONTHS[11:14], MONTHS[-6:], MONTHS[-1:]]


@pytest.mark.parametrize("case", range(6))
def test_the_item_means_of_every_office_at_once_are_those_office_by_office(case: int) -> None:
    """`_item_means` against the loop it replaces (`index_parts` and `_item_mean` of each
    office alone), to the bit; an office the grid does not hold has no parts."""
    name, table, _ = _tables()[case]
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
    name, alone, together = _tables()[case]
    offices = [*alone.grid.offices, 99]
    for months in PERIODS:
        found = together.matrix(INDEX_ITEM, [[o] for o in offices], months)
        for i, office in enumerate(offices):
            assert np.array_equal(found[i], alone.counts(INDEX_ITEM, [office], months)), name
            for code in INDEX_ITEMS:
                found_item = together.counts(code, [office], months)
                assert np.array_equal(found_item, alone.counts(code, [office], months)), code
            assert together.index_noise([office], months) == alone.index_noise([office], months)
