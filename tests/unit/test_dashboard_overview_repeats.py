"""A new overview without the work it repeated stays the same figures (issue 17, q37): what
is now worked out later, once or not at all gives, bit for bit, what the code of f7fd22a
gave (kept here as the reference)."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest

from survey.dashboard.disclosure import (
    INDEX_GRID,
    INDEX_LEVELS,
    Grid,
    ProtectedTable,
    _index_at_once,
    _moved,
    index_matrices,
    joined,
    protect,
)
from survey.questionnaire import INDEX_ITEM, INDEX_ITEMS
from tests.unit.test_dashboard_figure_work import CASES, MONTHS, _rows
from tests.unit.test_dashboard_mix_stacked import _filtered
from tests.unit.test_dashboard_office_work import _old_moved


def _old_blocks(table: ProtectedTable) -> list[list[tuple[int, int, bool]]]:
    """The blocks `ProtectedTable.__init__` of f7fd22a listed for every table it made."""
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
        assert table._block_lists is None  # made without listing them
        assert table._blocks == _old_blocks(table)
        assert table._blocks is table._blocks  # listed once


def test_the_cases_hold_tables_of_other_blocks() -> None:
    """(else the comparison above could not tell one table's blocks from another's)"""
    tables = [t for case in range(len(CASES)) for t in _case_tables(case)]
    assert len({repr(t._blocks) for t in tables}) > len(CASES)


def _moves(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rows of whole counts with their shares and moves as `retarget_rows` hands them over,
    with the cases a move meets: rows without moves, with more moves than answers on one
    side (levels left empty: gains of −inf), shares that tie (equal gains), one level."""
    rng = np.random.default_rng(seed)
    rows, width = int(rng.integers(1, 60)), int(rng.choice([2, 5, 17]))
    out = np.floor(rng.gamma(0.7, 6.0, (rows, width)) * (rng.random((rows, width)) < 0.7))
    share = out + rng.choice([-0.5, 0.0, 0.25, 0.5], (rows, width))  # ties
    share[rng.random(rows) < 0.3] = rng.random((1, width)) * 5  # others
    count = rng.integers(0, 25, rows) * (rng.random(rows) < 0.8)
    count[rng.random(rows) < 0.1] = int(out.sum(axis=1).max()) + 3  # beyond its answers
    return out, share, count.astype(np.int64), rng.random(rows) < 0.5


@pytest.mark.parametrize("seed", range(40))
def test_the_single_moves_of_every_row_are_those_row_after_row_of_before(seed: int) -> None:
    """`_moved` with the rows by count and a move down's gain the move up's negated moves
    the same answers as f7fd22a's (`retarget_rows`' last step), to the bit."""
    out, share, count, up = _moves(seed)
    before, after = out.copy(), out.copy()
    _old_moved(before, share, count, up)
    _moved(after, share, count, up)
    assert after.tobytes() == before.tobytes()
    assert count.any() == (not np.array_equal(after, out))  # (moves were made)


def test_the_single_moves_on_a_new_overview_s_classes_are_those_of_before() -> None:
    """On the classes a new overview tilts (bench-like: 20 offices, every case's tables)."""
    for case in range(len(CASES)):
        for table in _case_tables(case):
            rows = np.array(table.matrix(INDEX_ITEM, [[o] for o in table.grid.offices],
                                         MONTHS[-8:]), dtype=np.float64)  # fmt: skip
            if not rows.size:
                continue
            rng = np.random.default_rng(case)
            means = rng.uniform(1.0, 5.0, len(rows))
            total = rows.sum(axis=1)
            share = rows + rng.normal(0, 0.4, rows.shape)
            moves = np.rint((means * total - rows @ np.array(INDEX_LEVELS)) / 0.25)
            count = np.minimum(np.abs(moves), total * 17).astype(np.int64)
            before, after = rows.copy(), rows.copy()
            _old_moved(before, share, count, moves > 0)
            _moved(after, share, count, moves > 0)
            assert after.tobytes() == before.tobytes()


def _old_nothing_kept(
    tables: list[ProtectedTable], offices: tuple[int, ...], months: tuple[str, ...]
) -> bool:
    """`_index_at_once`'s test of f7fd22a that no table keeps a figure of theirs yet."""
    items = (INDEX_ITEM, *INDEX_ITEMS)
    for table in tables:
        stores = (table._classes, table._figures)
        if any((code, (o,), months) in store for store in stores for code in items
               for o in offices):  # fmt: skip
            return False
    return True


def test_a_new_view_s_tables_are_worked_out_at_once_only_when_none_keeps_a_figure() -> None:
    """`_index_at_once` looks up the keys once for every table (`isdisjoint`): it works out
    the tables at once exactly when f7fd22a's test found no figure kept, whichever store,
    table, item and office keeps one, and not for another period's or office's."""
    offices, months = (7, 1, 2, 3), MONTHS[-6:]
    cases = [(None, None, None, None)]
    cases += [(t, s, code, o) for t in (0, 2) for s in ("_classes", "_figures")
              for code in (INDEX_ITEM, list(INDEX_ITEMS)[-1]) for o in (7, 3, 5)]  # fmt: skip
    for t, store, code, office in cases:
        tables = _filtered(1, [3, 1, 2, 7, 5], 10)
        if t is not None:
            getattr(tables[t], store)[code, (office,), months] = np.zeros(5)
            getattr(tables[1], store)[code, (office,), MONTHS[:6]] = np.zeros(5)  # another
        expected = _old_nothing_kept(tables, offices, months)
        assert expected == (t is None or office not in offices)
        assert (_index_at_once(tables, offices, months) is not None) == expected


def _old_noise_covariance_each(
    table: ProtectedTable, item: str, offices: tuple[int, ...], months_a: tuple[str, ...],
    months_b: tuple[str, ...],
) -> list[float]:  # fmt: skip
    """`ProtectedTable._noise_covariance_each` of f7fd22a: run by run, office by office."""
    totals = table._totals[item]
    year = table._year.tolist()
    width = totals.shape[2] * totals.itemsize
    out = [0.0] * len(offices)
    runs = []
    for months in (months_a, months_b):
        owner, rows, ends, bases = table._runs_each(offices, months)
        ends_bytes = np.ascontiguousarray(totals[rows, ends]).tobytes()
        bases_bytes = np.ascontiguousarray(totals[rows, np.maximum(bases, 0)]).tobytes()
        per_office: list[list[tuple[int, int, int, bytes, bytes]]] = [[] for _ in offices]
        for k, (i, row, end, base) in enumerate(zip(owner.tolist(), rows.tolist(),
                                                    ends.tolist(), bases.tolist(),
                                                    strict=True)):  # fmt: skip
            at = k * width
            per_office[i].append((row, end, base, ends_bytes[at : at + width],
                                  bases_bytes[at : at + width]))  # fmt: skip
        runs.append(per_office)
    for i in range(len(offices)):
        seen: dict[tuple[int, int, bytes], int] = {}
        signed = []
        for per_office in runs:
            found: dict[tuple[int, int, bytes], float] = defaultdict(float)
            for row, end, base, at_end, at_base in per_office[i]:
                key = (row, year[end], at_end)
                found[key] += 1.0
                seen.setdefault(key, end)
                if base >= 0:
                    key = (row, year[base], at_base)
                    found[key] += -1.0
                    seen.setdefault(key, base)
            signed.append(found)
        out[i] = table._signed_product(item, signed[0], signed[1], seen)
    return out


@pytest.mark.parametrize("case", range(len(CASES)))
def test_the_noise_covariances_of_every_item_at_once_are_those_run_by_run(case: int) -> None:
    """`_noise_covariances_each` (every index item, every office, as array steps) gives each
    item's and office's covariance of f7fd22a's run-by-run sums to the bit: random sets of
    offices (in another order, one the grid does not hold), two periods that overlap, meet,
    lie apart or are the same, on every case's tables, filtered and put together from years
    too; items of two scales (the index's classes and an item) one scale after the other."""
    rng = np.random.default_rng(case)
    items = tuple(INDEX_ITEMS)
    found = []
    for table in _case_tables(case):
        known = [*table.grid.offices, 99]
        for _ in range(10):
            chosen = rng.permutation(known)[: int(rng.integers(1, len(known) + 1))]
            offices = tuple(int(o) for o in chosen)
            first, other = (int(x) for x in rng.integers(0, 23, 2))
            months_a = MONTHS[first : first + int(rng.integers(1, 13))]
            after = MONTHS[first + len(months_a) : first + 2 * len(months_a)]  # they meet
            elsewhere = MONTHS[other : other + int(rng.integers(1, 13))]
            months_b = (months_a, after or months_a, elsewhere)[int(rng.integers(0, 3))]
            each = table._noise_covariances_each(items, offices, months_a, months_b)
            for item in items:
                old = _old_noise_covariance_each(table, item, offices, months_a, months_b)
                assert np.array(each[item]).tobytes() == np.array(old).tobytes()
                found += old
            two = (INDEX_ITEM, items[0])
            mixed = table._noise_covariances_each(two, offices, months_a, months_b)
            for item in two:
                old = _old_noise_covariance_each(table, item, offices, months_a, months_b)
                assert np.array(mixed[item]).tobytes() == np.array(old).tobytes()
    if CASES[case][2]:  # (covariances of both signs among them)
        assert min(found) < 0 < max(found)


def _kept_state(table: ProtectedTable, offices: tuple[int, ...], months: tuple[str, ...]) -> list:
    """What a table keeps of these offices' index figures over these months, as bytes."""
    out = []
    for code in (INDEX_ITEM, *INDEX_ITEMS):
        for store in (table._classes, table._figures):
            out += [(code, o, store[code, (o,), months].tobytes())
                    for o in offices if (code, (o,), months) in store]  # fmt: skip
    return out


def test_the_previous_period_worked_out_with_the_mix_is_what_the_rows_worked_out() -> None:
    """`index_matrices(..., also=[(own table, previous months)])` (the overview's previous
    period in the client mix's steps) returns the same matrices and keeps, in every table and
    for both periods, the same figures to the bit as f7fd22a's steps: the mix's
    `index_matrices` of the period, then the rows' `each_office` of the previous one; the
    rows then find every figure kept. Filtered views of two grids, an office no grid holds,
    periods that meet, lie apart or overlap; a previous period kept already is left to
    `each_office`."""
    offices = (7, 1, 2, 3, 5, 99)
    groups = [[o] for o in offices]
    periods = [(MONTHS[-6:], MONTHS[-12:-6]), (MONTHS[12:15], MONTHS[3:6]),
               (MONTHS[6:18], MONTHS[:12])]  # fmt: skip
    for seed, grid_offices, min_n in ((1, [3, 1, 2, 7], 10), (2, [1, 2, 5], 0)):
        for months, before in periods:
            new, old = _filtered(seed, grid_offices, min_n), _filtered(seed, grid_offices, min_n)
            found = index_matrices(new, groups, months, also=[(new[0], before)])
            expected = index_matrices(old, groups, months)
            old[0].each_office(INDEX_ITEM, offices, before)
            assert [m.tobytes() for m in found] == [m.tobytes() for m in expected]
            for a, b in zip(new, old, strict=True):
                for period in (months, before):
                    assert _kept_state(a, offices, period) == _kept_state(b, offices, period)
            assert _kept_state(new[0], offices, before)  # (worked out in the mix's steps)
            assert not _kept_state(new[1], offices, before)  # (only the page's own table)
            assert new[0]._untilted(offices, before) is None  # nothing left for the rows
            # a previous period kept already: left to `each_office`, the same figures
            again = _filtered(seed, grid_offices, min_n)
            again[0].counts(INDEX_ITEM, [2], before)
            index_matrices(again, groups, months, also=[(again[0], before)])
            again[0].each_office(INDEX_ITEM, offices, before)
            assert _kept_state(again[0], offices, before) == _kept_state(old[0], offices, before)
