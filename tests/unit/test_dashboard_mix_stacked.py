"""The client mix's tables worked out as one stacked computation stay the same figures (issue
17, q32): `index_matrices` of a new view (`_index_at_once`: every table's runs, sums, item
means and tilt at once) returns and keeps, bit for bit, what it returned and kept table by
table before (the code of cf6e656, kept here as the reference), and `_runs_at_once` gives
the runs `_walked` gives office by office."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from survey.dashboard import casemix
from survey.dashboard.disclosure import (
    INDEX_GRID,
    Grid,
    ProtectedTable,
    _index_at_once,
    _kept,
    _runs_at_once,
    _runs_of_tables,
    _Unsummed,
    _Untilted,
    index_matrices,
    noise_variances_each,
    nonnegative_rows,
    protect,
    retarget_rows,
)
from survey.questionnaire import INDEX_ITEM, INDEX_ITEMS
from tests.unit.test_dashboard_figure_work import MONTHS, _rows


def _old_index_matrices(
    tables: Sequence[ProtectedTable], groups: Sequence[Iterable[int]], months: Iterable[str]
) -> list[np.ndarray]:
    """`index_matrices` of cf6e656: table by table in each step."""
    months = tuple(months)
    units = [tuple(g) for g in groups]
    if not units or any(len(g) != 1 for g in units):
        return [table.matrix(INDEX_ITEM, units, months) for table in tables]
    offices = tuple(g[0] for g in units)
    unsummed: dict[tuple[float, ...], list[tuple[ProtectedTable, _Unsummed]]] = {}
    for table in tables:
        for levels, raw in table._unsummed(INDEX_ITEM, offices, months).items():
            unsummed.setdefault(levels, []).append((table, raw))
    for levels, each in unsummed.items():
        rows = nonnegative_rows(np.concatenate([sums for _, raw in each
                                                for _, _, sums in raw]), levels)  # fmt: skip
        at = 0
        for table, raw in each:
            size = sum(len(missing) for _, missing, _ in raw)
            table._keep_summed(raw, months, rows[at : at + size])
            at += size
    by_levels: dict[tuple[float, ...], list[tuple[ProtectedTable, _Untilted]]] = {}
    for table in tables:
        found = table._untilted(offices, months)
        if found is not None:
            by_levels.setdefault(found.levels, []).append((table, found))
    for levels, some in by_levels.items():
        rows = retarget_rows(np.concatenate([found.classes for _, found in some]), levels,
                             [t for _, found in some for t in found.targets])  # fmt: skip
        at = 0
        for table, found in some:
            table._keep_tilted(found, rows[at : at + len(found.tilted)])
            at += len(found.tilted)
    return [
        np.array(
            [_kept(table._figures, (INDEX_ITEM, g, months), table._count) for g in units]
        ).reshape(len(units), len(table.levels(INDEX_ITEM)))
        for table in tables
    ]


def _filtered(seed: int, offices: list[int], min_n: int) -> list[ProtectedTable]:
    """Three equal filtered views (blocks a view does not show among them), one grid."""
    rows, other = _rows(seed, offices, 12.0), _rows(seed + 50, offices, 4.0)
    grid = Grid(tuple(sorted(offices)), MONTHS, dict(INDEX_GRID), min_n, "2025-11")
    return [protect(rows, grid, {"a": rows, "b": other}) for _ in range(3)]


def _state(table: ProtectedTable, offices: Sequence[int], months: tuple[str, ...]) -> list:
    """What a table keeps of these offices and months, as bytes."""
    out = []
    for code in (INDEX_ITEM, *INDEX_ITEMS):
        for store in (table._classes, table._figures):
            out += [(code, o, store[code, (o,), months].tobytes())
                    for o in offices if (code, (o,), months) in store]  # fmt: skip
    out += [(key[0], value.tobytes()) for key, value in table._rows.items()]
    out += [a.tobytes() for a in table._runs.get((tuple(offices), months), ())]
    return out


def test_the_index_of_new_tables_at_once_is_what_it_was_table_by_table() -> None:
    """Filtered views (of two grids: tables whose grid lacks an office, min_n 0 and 10),
    new views of five periods; and a table with figures kept already takes the path before."""
    sets = [_filtered(1, [3, 1, 2, 7], 10), _filtered(2, [1, 2, 5], 0)]
    stacked = [t[0] for t in sets]
    before = [t[1] for t in sets]
    alone = [t[2] for t in sets]
    offices = (7, 1, 2, 3, 5, 99)  # not in the grids' order; 99 in none
    periods = [MONTHS[-6:], MONTHS[11:14], MONTHS]
    for months in periods:
        found = _index_at_once(stacked, offices, months)
        assert found is not None, "a new view: every table at once"
        expected = _old_index_matrices(before, [[o] for o in offices], months)
        assert [m.tobytes() for m in found] == [m.tobytes() for m in expected]
        for a, b in zip(stacked, before, strict=True):
            assert _state(a, offices, months) == _state(b, offices, months)
            assert all(m.flags.writeable for m in found)
    # a period kept in part (one office's index asked alone): the path before, the same figures
    months = MONTHS[12:18]
    for table in alone:
        table.counts(INDEX_ITEM, [2], months)
    assert _index_at_once(alone, offices, months) is None
    found = index_matrices(alone, [[o] for o in offices], months)
    expected = _old_index_matrices(before, [[o] for o in offices], months)
    assert [m.tobytes() for m in found] == [m.tobytes() for m in expected]


def _random_table(seed: int) -> ProtectedTable:
    """A table of six offices with random blocks of one to four months inside each year,
    each shown or not."""
    rng = np.random.default_rng(seed)
    offices, size = (2, 4, 6, 8, 10, 12), len(MONTHS)
    first = np.zeros((len(offices), size), dtype=np.int64)
    last = np.zeros_like(first)
    for row in range(len(offices)):
        for start in (0, 12):
            m = start
            while m < start + 12:
                end = min(m + int(rng.integers(1, 5)), start + 12) - 1
                first[row, m : end + 1], last[row, m : end + 1] = m, end
                m = end + 1
    shown = rng.uniform(0, 1, first.shape) > 0.25
    grid = Grid(offices, MONTHS, {"overall": INDEX_ITEMS["overall"]}, 10, None)
    totals = {"overall": np.zeros((len(offices), size, len(INDEX_ITEMS["overall"])))}
    return ProtectedTable(grid, totals, first, last, shown)


def test_the_runs_of_every_office_at_once_are_those_walked_office_by_office() -> None:
    """Random blocks, shown or not; periods across a year's end, of one month, outside the
    grid; offices in the grid's order, in another, some the grid lacks, none; one table alone
    and six of one grid at once (`_runs_of_tables`)."""
    periods = [MONTHS, MONTHS[-12:], MONTHS[3:5], MONTHS[10:15], MONTHS[-1:], MONTHS[5:6],
               ("2023-05", *MONTHS[:3]), ("2026-01",)]  # fmt: skip
    choices = [(2, 4, 6, 8, 10, 12), (12, 4, 2, 8), (99, 6, 1, 10), (99,), ()]
    seen: set[tuple[int, int, int, int]] = set()
    tables = [_random_table(seed) for seed in range(6)]
    for months in periods:
        for offices in choices:
            _runs_of_tables(tables, offices, months)  # all six at once
            for table in tables:
                expected = table._runs_made(offices, months)
                for found in (_runs_at_once(table, offices, months), table._runs[offices, months]):
                    assert [(a.dtype, a.tolist()) for a in found] == [
                        (a.dtype, a.tolist()) for a in expected
                    ]
                seen.update(zip(*(a.tolist() for a in expected), strict=True))
    owners = [owner for owner, _, _, _ in seen]
    assert any(base == -1 for *_, base in seen) and any(base >= 0 for *_, base in seen)
    assert max(owners.count(o) for o in set(owners)) > 1, "offices with several runs"


def _views(seed: int) -> list[ProtectedTable]:
    """A page's view and two single-filter views of one grid (blocks each does not show)."""
    offices = [2, 5, 9]
    grid = Grid(tuple(offices), MONTHS, dict(INDEX_GRID), 10, "2025-11")
    parts = [_rows(seed + k, offices, size) for k, size in enumerate((6.0, 2.0))]
    everyone = [row for part in parts for row in part]
    by_value = {str(k): part for k, part in enumerate(parts)}
    return [protect(everyone, grid), *(protect(part, grid, by_value) for part in parts)]


def test_the_noise_of_every_view_at_once_is_each_view_s() -> None:
    """`noise_variances_each` against each table's `noise_variance_each` (and `figure_noise`
    against the code before, table by table), to the bit, kept as each keeps it; after a new
    view's index (its runs kept) and without; offices the grid lacks; kept already: the path
    before."""
    stacked, before = _views(7), _views(7)
    offices = (9, 2, 5, 99)
    for months in (MONTHS[-6:], MONTHS[10:15]):
        if months == MONTHS[-6:]:
            index_matrices(stacked, [[o] for o in offices], months)
        found = noise_variances_each(stacked, INDEX_ITEM, offices, months)
        expected = [t.noise_variance_each(INDEX_ITEM, offices, months) for t in before]
        assert found == expected and any(v > 0 for each in found for v in each)
        for a, b in zip(stacked, before, strict=True):
            assert a._variances == b._variances
            assert (
                a._variance_arrays[INDEX_ITEM].tobytes() == b._variance_arrays[INDEX_ITEM].tobytes()
            )
        again = casemix.figure_noise(stacked, offices, months)  # kept: the path before
        assert again == tuple(max(each) for each in zip(*expected, strict=True))
