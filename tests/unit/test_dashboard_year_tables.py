"""A protected table put together from tables of its calendar years (`disclosure.joined`) is
the table `protect` makes for the whole grid: for every grid a view can ask (from a January
through any month), filtered or not, with months that close no block, blocks open at the
grid's end and months after the last published one."""

from __future__ import annotations

import numpy as np
import pytest

from survey.dashboard.disclosure import Grid, joined, protect
from survey.dashboard.filters import months_between
from survey.dashboard.queries import CountRow

SCALE = (1.0, 2.0, 3.0, 4.0, 5.0)
LEVELS = {"respect": SCALE, "overall": SCALE}
OFFICES = (3, 1, 7, 4)
YEARS = (2024, 2025, 2026)
PUBLISHED = "2026-08"
VALUES = ("de", "en", "ar")


def _rows(seed: int) -> tuple[list[CountRow], dict[str, list[CountRow]]]:
    """Sparse counts (0–6 a month and level, many empty months: blocks of several months,
    blocks still open at a year's end) of two items, and the responses of each value of a
    filter's dimension (the view's own is the first)."""
    rng = np.random.default_rng(seed)
    rows: list[CountRow] = []
    dimension: dict[str, list[CountRow]] = {v: [] for v in VALUES}
    for office in OFFICES:
        busy = rng.uniform(0.2, 0.9)
        for month in months_between(f"{YEARS[0]}-01", f"{YEARS[-1]}-12"):
            if rng.random() > busy:
                continue
            for item in LEVELS:
                for level in range(1, 6):
                    n = int(rng.integers(0, 3))
                    if n:
                        key = int(rng.integers(0, 2**31, n).sum())
                        rows.append(CountRow(office, item, level, month, n, key))
            for value in VALUES:
                n = int(rng.integers(0, 8))
                if n:
                    dimension[value].append(CountRow(office, "respect", 0, month, n, 0))
    return rows, dimension


def _grid(first: str, last: str) -> Grid:
    return Grid(OFFICES, tuple(months_between(first, last)), LEVELS, min_n=10,
                published_through=PUBLISHED)  # fmt: skip


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("filtered", [False, True])
def test_a_table_of_year_tables_is_the_table_protect_makes(seed: int, filtered: bool) -> None:
    rows, dimension = _rows(seed)
    values = dimension if filtered else None
    years = {y: protect(rows, _grid(f"{y}-01", f"{y}-12"), values) for y in YEARS}
    compared = opened = 0
    for start in YEARS:
        for last in months_between(f"{start}-01", f"{YEARS[-1]}-12"):
            grid = _grid(f"{start}-01", last)
            whole = protect(rows, grid, values)
            parts = [years[y] for y in YEARS if start <= y <= int(last[:4])]
            made = joined(grid, parts)
            assert made.fingerprint() == whole.fingerprint(), (start, last)
            for months in (grid.months[-3:], grid.months[:5], grid.months):
                for office in OFFICES:
                    for item in LEVELS:
                        assert np.array_equal(made.counts(item, [office], months),
                                              whole.counts(item, [office], months))  # fmt: skip
                        assert made.noise_variance(item, [office], months) == \
                            whole.noise_variance(item, [office], months)  # fmt: skip
            compared += 1
            # a block the full year's table closes after the grid's last month
            whole_year = years[int(last[:4])]
            take = len(months_between(last[:4] + "-01", last))
            opened += int((whole_year._last[:, :take] >= take).sum())
    assert compared == 36 + 24 + 12
    assert opened > 0, "some grids end inside a block that closes later"


def test_parts_of_another_grid_are_refused() -> None:
    rows, _ = _rows(3)
    year = protect(rows, _grid("2025-01", "2025-12"))
    with pytest.raises(ValueError, match="other months"):
        joined(_grid("2024-01", "2025-03"), [year])
    with pytest.raises(ValueError, match="short"):
        joined(_grid("2025-01", "2026-03"), [year])
    other = Grid(OFFICES[:2], year.grid.months, LEVELS, min_n=10, published_through=PUBLISHED)
    with pytest.raises(ValueError, match="another grid"):
        joined(other, [year])
