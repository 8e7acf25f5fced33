"""A new overview without the work it repeated stays the same figures (issue 17, q37): what
is now worked out later, once or not at all gives, bit for bit, what the code of f7fd22a
gave (kept here as the reference)."""

from __future__ import annotations

import pytest

from survey.dashboard.disclosure import INDEX_GRID, Grid, ProtectedTable, joined, protect
from tests.unit.test_dashboard_figure_work import CASES, MONTHS, _rows


def _old_blocks(table: ProtectedTable) -> list[list[tuple[int, int, bool]]]:
    """The blocks `ProtectedTable.__init__` of f7fd22a listed for every table it made."""
    import numpy as np

    first, last, shown = table._first, table._last, table._shown
    blocks: list[list[tuple[int, int, bool]]] = [[] for _ in table.grid.offices]
    rows, ends = np.nonzero(last == np.arange(len(table.grid.months))[None, :])
    for row, begin, end, ok in zip(rows.tolist(), first[rows, ends].tolist(), ends.tolist(),
                                   shown[rows, ends].tolist(), strict=True):  # fmt: skip
        blocks[row].append((begin, end, ok))
    return blocks


def _case_tables(case: int) -> list[ProtectedTable]:
    """Of case `case`: the table, a filtered view (of a rarer value: blocks it does not show)
    and both
    put together from their years' tables (`joined`)."""
    _, offices, size, min_n, through = CASES[case]
    rows = _rows(case, offices, size) if size else []
    other = _rows(case + 50, offices, size / 10) if size else []
    grid = Grid(tuple(sorted(offices)), MONTHS, dict(INDEX_GRID), min_n, through)
    years = [Grid(grid.offices, tuple(m for m in MONTHS if m[:4] == y), dict(INDEX_GRID), min_n,
                  through) for y in ("2024", "2025")]  # fmt: skip
    out = []
    for view, values in ((rows, None), (other, {"a": rows, "b": other})):
        out.append(protect(view, grid, values))
        out.append(joined(grid, [protect(view, g, values) for g in years]))
    return out


@pytest.mark.parametrize("case", range(len(CASES)))
def test_a_table_lists_its_blocks_when_read_as_it_listed_them_when_made(case: int) -> None:
    """The blocks are listed on the first read (`_walked`, `_spread_of`), not when the table
    is made: the same lists, office by office, as f7fd22a made in every table."""
    tables = _case_tables(case)
    for table in tables:
        assert table._listed is None  # made without listing them
        assert table._blocks == _old_blocks(table)
        assert table._blocks is table._blocks  # listed once


def test_the_cases_hold_tables_of_other_blocks() -> None:
    """(else the comparison above could not tell one table's blocks from another's)"""
    tables = [t for case in range(len(CASES)) for t in _case_tables(case)]
    assert len({repr(t._blocks) for t in tables}) > len(CASES)
