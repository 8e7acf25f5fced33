"""The protected table made faster stays the same table: `protect` on count columns (the
dashboards' first views read rows as numpy columns) publishes exactly what the loop over
`CountRow`s published before, noise, blocks and filter rule included.

The fingerprints below are `ProtectedTable.fingerprint()` (grid, perturbed running totals,
blocks, shown blocks) of these seeded scenarios, computed with the row-by-row `_cells` and
`_true_n` of commit eb31c87, before the columns."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from survey.dashboard.disclosure import INDEX_GRID, Grid, nonnegative, nonnegative_rows, protect
from survey.dashboard.queries import CountColumns, CountRow
from survey.questionnaire import INDEX_ITEM

MONTHS = tuple(f"{y}-{m:02d}" for y in (2024, 2025) for m in range(1, 13))
SCALE = (1.0, 2.0, 3.0, 4.0, 5.0)
LEVELS = {**INDEX_GRID, "respect": SCALE, "overall": SCALE}


def _rows(seed: int, offices: list[int], items: list[str], stray: bool = True) -> list[CountRow]:
    """Random count rows; with `stray`, also rows the grid does not hold (an office, a month
    and an item outside it, answer values outside the scale), which `protect` leaves out."""
    rng = np.random.default_rng(seed)
    out = []
    for o in offices + ([99] if stray else []):
        for month in MONTHS + (("2026-01",) if stray else ()):
            for item in items + (["stray"] if stray else []):
                if item == INDEX_ITEM:
                    values = range(7 * 60, 36 * 60, 60)  # 420 × the mean of 7 answers
                else:
                    values = range(0, 7) if stray else range(1, 6)
                for v in values:
                    n = int(rng.poisson(rng.choice([0.3, 3, 12])))
                    if n:
                        keys = int(rng.integers(0, 2**31, n).sum())
                        out.append(CountRow(o, item, int(v), month, n, keys))
    rng.shuffle(out)  # type: ignore[arg-type]
    return out


Scenario = tuple[list[CountRow], Grid, dict[str, list[CountRow]] | None]


def _dimension() -> dict[str, list[CountRow]]:
    return {
        value: [
            CountRow(r.office, INDEX_ITEM, 0, r.month, r.n, 0)
            for r in _rows(10 + i, [1, 2, 3], [INDEX_ITEM], stray=False)
        ]
        for i, value in enumerate(("de", "en", "ar"))
    }


SCENARIOS: dict[str, Callable[[], Scenario]] = {
    "plain": lambda: (
        _rows(1, [3, 1, 2], [INDEX_ITEM, "respect", "overall"]),
        Grid((1, 2, 3), MONTHS, LEVELS, 10, "2025-10"),
        None,
    ),
    "every month": lambda: (
        _rows(2, [5, 7], [INDEX_ITEM, "respect"]),
        Grid((5, 7), MONTHS, LEVELS, 0, None),
        None,
    ),
    "filtered": lambda: (
        _rows(3, [1, 2, 3], [INDEX_ITEM]),
        Grid((1, 2, 3), MONTHS, INDEX_GRID, 10, "2025-12"),
        _dimension(),
    ),
    "no index": lambda: (
        _rows(4, [1, 2], ["respect"]),
        Grid((1, 2), MONTHS[:12], {"respect": SCALE}, 10, "2024-11"),
        None,
    ),
    "empty": lambda: ([], Grid((1, 2), MONTHS, LEVELS, 10, "2025-10"), None),
}
"""Each scenario's rows, grid and filter dimension, built when a test asks for it: a test
builds its own scenario only (all five took 0.54 s of CPU, most of this file's time, in each
of its seven tests before; each scenario's rows come from its own seed, so they are the
same rows)."""


BEFORE = {
    # 2026-11-29 (issue 10): a table of the index holds its index items, so the grids of
    # "plain", "every month", "filtered" and "empty" name more items: new fingerprints of the
    # same running totals of the index, "respect" and "overall" (checked against the old code)
    "plain": "759338e467c74d1cb3bc35bfffa4e099",
    "every month": "02b2781f568c63ea8cd4e23e2cd0ede0",
    "filtered": "69ad15f7d6e066b085143ecee1268710",
    "no index": "8c5307221432db4df7f33cb2c6fb93dc",
    "empty": "f206bd1e61ef5e22f202cfce063f5613",
}


@pytest.mark.parametrize("name", list(BEFORE))
def test_it_publishes_what_the_row_by_row_table_published(name: str) -> None:
    rows, grid, dimension = SCENARIOS[name]()
    assert protect(rows, grid, dimension).fingerprint().hex() == BEFORE[name]
    columns = {v: CountColumns.of(r) for v, r in (dimension or {}).items()}
    table = protect(CountColumns.of(rows), grid, columns if dimension is not None else None)
    assert table.fingerprint().hex() == BEFORE[name]


def test_it_turns_columns_back_into_the_same_rows() -> None:
    rows = _rows(5, [1, 2], [INDEX_ITEM, "respect"])
    assert CountColumns.of(rows).rows() == rows
    assert CountColumns.from_tuples([]).rows() == []
    assert len(CountColumns.of(rows).where(np.arange(len(rows)) < 7)) == 7


@pytest.mark.parametrize("name", ["plain", "filtered"])
def test_each_office_s_figures_worked_out_at_once_are_those_worked_out_one_by_one(
    name: str,
) -> None:
    """`matrix` of single offices sums every office's blocks at once (`each_office`); the
    figures are those of `counts` office by office on a table that never did."""
    rows, grid, dimension = SCENARIOS[name]()
    columns = {v: CountColumns.of(r) for v, r in (dimension or {}).items()} or None
    one_by_one, at_once = (protect(CountColumns.of(rows), grid, columns) for _ in range(2))
    offices = [*grid.offices, 99]  # one the grid does not hold: no figure
    for months in (grid.months, grid.months[-12:], grid.months[3:5], grid.months[11:14]):
        for item in grid.levels:
            expected = np.array([one_by_one.counts(item, [o], months) for o in offices])
            found = at_once.matrix(item, [[o] for o in offices], months)
            assert np.array_equal(found, expected), (item, months)
            assert [at_once.counts(item, [o], months).tolist() for o in offices] == (
                expected.tolist()
            )


def test_the_rows_made_non_negative_at_once_are_each_row_made_non_negative() -> None:
    rng = np.random.default_rng(3)
    levels = (1.0, 2.0, 3.0, 4.0, 5.0)
    counts = rng.integers(-3, 9, (400, 5)).astype(float)
    counts[:40] = 0.0  # nobody
    counts[40:80] = np.clip(counts[40:80], 0, None)  # no negative count
    counts[80:90] = -1.0  # a negative total
    expected = np.array([nonnegative(row, levels) for row in counts])
    assert np.array_equal(nonnegative_rows(counts, levels), expected)
