"""A page's own table serves its client-mix adjustment (issue 17, q33): the overview's and the
office page's tables (more items, both periods) publish the same index figures of the period
as the table of the index alone that the adjustment read before, so the index of every
office is worked out once, for the adjustment and the rows alike."""

from __future__ import annotations

import numpy as np

from survey.dashboard.disclosure import INDEX_GRID, Grid, index_matrices, joined, protect
from survey.dashboard.queries import CountRow
from survey.questionnaire import INDEX_ITEM, INDEX_ITEMS
from tests.unit.test_dashboard_figure_work import MONTHS, _rows

OFFICES = [1, 2, 3, 5]
EXTRA = "recommend"  # another item of the page's table: its cells are protected apart


def _with_extra(seed: int) -> list[CountRow]:
    rng = np.random.default_rng(seed + 100)
    extra = [CountRow(o, EXTRA, v, m, int(rng.integers(1, 9)), int(rng.integers(0, 2**40)))
             for o in OFFICES for m in MONTHS for v in range(0, 11, 3)]  # fmt: skip
    return _rows(seed, OFFICES, 25.0) + extra


def test_the_page_s_own_table_publishes_the_index_figures_of_the_index_s_table() -> None:
    rows = _with_extra(7)
    levels = {**INDEX_GRID, EXTRA: tuple(float(v) for v in range(11))}
    year = tuple(m for m in MONTHS if m.startswith("2025"))
    # the page's: two years of every item, put together from its years' tables as the
    # routes do; the index's: the period's year of the index and its items only
    page_grid = Grid(tuple(OFFICES), MONTHS, levels, 10, "2025-11")
    parts = [protect(rows, Grid(tuple(OFFICES), tuple(m for m in MONTHS if m[:4] == y), levels,
                                10, "2025-11")) for y in ("2024", "2025")]  # fmt: skip
    page = joined(page_grid, parts)
    alone = protect(rows, Grid(tuple(OFFICES), year, dict(INDEX_GRID), 10, "2025-11"))
    fresh = protect(rows, Grid(tuple(OFFICES), year, dict(INDEX_GRID), 10, "2025-11"))
    groups = [[o] for o in [*OFFICES, 99]]
    for months in (year[5:11], year[:6], year[9:10]):
        # the adjustment's work on the page's table, then the rows' reads of the same table
        (mixed,) = index_matrices([page], groups, months)
        (before,) = index_matrices([alone], groups, months)
        assert np.array_equal(mixed, before)
        assert np.array_equal(page.matrix(INDEX_ITEM, groups, months),
                              fresh.matrix(INDEX_ITEM, groups, months))  # fmt: skip
        offices = [g[0] for g in groups]
        assert page.index_noise_each(offices, months) == alone.index_noise_each(offices, months)
        for code in (INDEX_ITEM, *INDEX_ITEMS):
            assert page.noise_variance_each(code, offices, months) == \
                alone.noise_variance_each(code, offices, months)  # fmt: skip
            for o in offices:
                assert np.array_equal(page.counts(code, [o], months),
                                      alone.counts(code, [o], months))  # fmt: skip
        assert page.index_noise(OFFICES, months) == alone.index_noise(OFFICES, months)
