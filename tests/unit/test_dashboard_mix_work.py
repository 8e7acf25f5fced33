"""The disclosure and client-mix work of a new view made cheaper stays the same figures (issue
17, c29): what is now worked out for every row, office or table at once equals, bit for bit,
what the code before worked out one at a time (kept here as the reference)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analysis import Adjustment, adjust_from_margins
from survey.dashboard import casemix, disclosure
from survey.dashboard.disclosure import (
    INDEX_GRID,
    INDEX_LEVELS,
    Grid,
    ProtectedTable,
    _moved,
    _tilt,
    _tilt_rows,
    index_matrices,
    nonnegative,
    nonnegative_rows,
    protect,
)
from survey.dashboard.queries import CountColumns, CountRow
from survey.questionnaire import INDEX_ITEM, INDEX_ITEMS
from tests.unit.test_dashboard_figure_work import MONTHS, PERIODS, _rows, _table, _tables


def _old_moved(out: list[float], share: list[float], count: int, up: bool) -> list[float]:
    """`_moved` before (f. 46e3bff): every gain worked out again at each move."""
    pairs = range(len(out) - 1)
    for _ in range(count):
        over = [o - s for o, s in zip(out, share, strict=True)]
        best, at = -math.inf, 0
        if up:
            for level in pairs:
                if out[level] > 0:
                    gain = over[level] - over[level + 1]
                    if gain > best:
                        best, at = gain, level
            out[at], out[at + 1] = out[at] - 1, out[at + 1] + 1
        else:
            for level in pairs:
                if out[level + 1] > 0:
                    gain = over[level + 1] - over[level]
                    if gain > best:
                        best, at = gain, level
            out[at + 1], out[at] = out[at + 1] - 1, out[at] + 1
    return out


def _shares(seed: int, rows: int, levels: int) -> tuple[np.ndarray, list[float]]:
    """Random distributions (some on one level or none, many with empty levels) and means
    inside, at and outside the levels."""
    rng = np.random.default_rng(seed)
    shares = rng.dirichlet(np.full(levels, 0.7), rows)
    sizes = rng.integers(1, 400, rows).tolist()
    counts = np.array([rng.multinomial(n, s) for n, s in zip(sizes, shares, strict=True)])
    counts = counts * (rng.uniform(0, 1, counts.shape) > 0.3)
    counts[:3] = 0
    counts[3, :] = 0
    counts[3, 2] = 7  # one level only
    counts[4, :] = 0
    counts[4, [0, -1]] = 5  # the two ends
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(counts.sum(axis=1, keepdims=True) > 0,
                     counts / counts.sum(axis=1, keepdims=True), 0.0)  # fmt: skip
    means = rng.uniform(0.5, 5.5, rows).tolist()
    means[5] = 1.0
    means[6] = 5.0
    return p, means


@pytest.mark.parametrize("levels", [INDEX_LEVELS, (1.0, 2.0, 3.0, 4.0, 5.0), tuple(range(11))])
def test_every_row_tilted_at_once_is_each_row_tilted_alone(levels: tuple[float, ...]) -> None:
    """`_tilt_rows` against `_tilt` row by row, to the bit: rows with no, one, two or many
    levels used, means inside, at and outside them (Newton steps that stop at different
    times, steps that leave the bracket)."""
    for seed in range(4):
        p, means = _shares(seed, 300, len(levels))
        scale = np.asarray(levels, dtype=np.float64)
        means = [scale[0] + (scale[-1] - scale[0]) * (m - 0.5) / 5 for m in means]
        found = _tilt_rows(p, levels, means)
        for row, mean, got in zip(p, means, found, strict=True):
            assert got.tobytes() == _tilt(row, levels, mean).tobytes(), (row, mean)


def test_the_moves_of_every_row_at_once_are_those_of_each_row_before() -> None:
    """`_moved` (every row at once, move after move) against the moves of one row before:
    up and down, many moves, ties, empty levels, moves past the end."""
    rng = np.random.default_rng(7)
    for size in (2, 5, 11, 17):
        rows = 600
        out = rng.integers(0, 6, (rows, size)).astype(float)
        out *= rng.uniform(0, 1, out.shape) > 0.3
        share = out + rng.choice([0.0, 0.5, -0.5, 0.25], out.shape) * rng.uniform(0, 1.5, out.shape)
        share[::5] = out[::5]  # ties everywhere
        count = rng.integers(0, 3 * size, rows)
        count[::7] = 0
        up = rng.uniform(0, 1, rows) > 0.5
        before = [_old_moved(o.tolist(), s.tolist(), int(c), bool(u))
                  for o, s, c, u in zip(out, share, count, up, strict=True)]  # fmt: skip
        found = out.copy()
        _moved(found, share, count, up)
        assert found.tolist() == before, size


@pytest.mark.parametrize("case", range(6))
def test_every_office_s_noise_variance_at_once_is_its_own(case: int) -> None:
    """`noise_variance_each` against `noise_variance` office by office on an equal table that
    never worked anything out at once, to the bit; offices the grid does not hold, an office
    twice; and `noise_variance` of one office then reads what was kept."""
    name, table, fresh = _table(case)
    offices = [*table.grid.offices, 99, table.grid.offices[0]]
    for months in PERIODS:
        for item in [INDEX_ITEM, *INDEX_ITEMS]:
            found = table.noise_variance_each(item, offices, months)
            assert found == [fresh.noise_variance(item, [o], months) for o in offices], name
            assert [table.noise_variance(item, [o], months) for o in offices] == found


def _old_blocks(table: ProtectedTable) -> list[list[tuple[int, int, bool]]]:
    """`ProtectedTable._blocks` before: office by office."""
    size = len(table.grid.months)
    return [
        [(int(f[m]), m, bool(ok[m])) for m in np.flatnonzero(la == np.arange(size)).tolist()]
        for f, la, ok in zip(table._first, table._last, table._shown, strict=True)
    ]


@pytest.mark.parametrize("case", range(6))
def test_a_table_s_blocks_are_those_before(case: int) -> None:
    name, table, _ = _table(case)
    assert table._blocks == _old_blocks(table), name
    shown = table._shown.copy()
    shown[:, ::3] = False  # a filtered view that leaves some blocks out
    again = ProtectedTable(table.grid, dict(table._totals), table._first, table._last, shown)
    assert again._blocks == _old_blocks(again), name


def test_the_mix_noise_of_each_office_is_the_largest_of_its_figures_as_before() -> None:
    """`casemix.figure_noise` (each table's offices at once) against the loop before (each
    office's noise read from each table alone)."""
    pairs = [_table(case) for case in range(3)]
    tables = [t for _, t, _ in pairs]
    fresh = [f for _, _, f in pairs]
    offices = sorted({o for t in tables for o in t.grid.offices} | {99})
    for months in PERIODS:
        before = tuple(
            max((t.noise_variance(INDEX_ITEM, [o], months) for t in fresh), default=0.0)
            for o in offices
        )
        assert casemix.figure_noise(tables, offices, months) == before
    assert casemix.figure_noise([], [1, 2], PERIODS[0]) == (0.0, 0.0)


def test_the_index_of_many_tables_tilted_at_once_is_each_table_s() -> None:
    """`index_matrices` (the classes of every table tilted in one `retarget_rows`) against
    `matrix` table by table on equal tables that never worked anything out at once: single
    offices (some kept already, some the grid does not hold), pooled groups, no groups."""
    cases = _tables()
    tables = [t for _, t, _ in cases]
    fresh = [f for _, _, f in cases]
    for months in PERIODS:
        offices = sorted({o for t in tables for o in t.grid.offices} | {99})
        tables[0].matrix(INDEX_ITEM, [[offices[0]]], months)  # one kept already
        for groups in ([[o] for o in offices], [offices[:2], [offices[-1]]], []):
            found = index_matrices(tables, groups, months)
            for got, table in zip(found, fresh, strict=True):
                assert np.array_equal(got, table.matrix(INDEX_ITEM, groups, months))
                assert got.shape == (len(groups), len(INDEX_LEVELS))


@pytest.mark.parametrize("levels", [INDEX_LEVELS, (1.0, 2.0, 3.0, 4.0, 5.0), tuple(range(11))])
def test_rows_with_negative_counts_made_non_negative_at_once_are_each_row_s(
    levels: tuple[float, ...],
) -> None:
    """`nonnegative_rows` (the rows with a negative count tilted by `_tilt_rows`) against
    `nonnegative` row by row, to the bit: small and large counts, the noise of empty levels
    below zero, negative totals, nobody."""
    rng = np.random.default_rng(len(levels))
    size = len(levels)
    counts = rng.poisson(rng.choice([0.3, 2.0, 20.0, 300.0], (600, 1)), (600, size)).astype(float)
    counts += rng.integers(-2, 3, counts.shape) * (rng.uniform(0, 1, counts.shape) > 0.4)
    counts[:20] = 0.0
    counts[20:30] = -1.0
    expected = np.array([nonnegative(row, levels) for row in counts])
    assert np.array_equal(nonnegative_rows(counts, levels), expected)
    assert (counts < 0).any(axis=1).sum() > 100


def _old_totals(rows: list[CountRow], grid: Grid) -> dict[str, np.ndarray]:
    """The noisy running totals `protect` made before (f. 46e3bff): item by item."""
    columns = disclosure._published(CountColumns.of(rows), grid)
    counts, keys = disclosure._cells(columns, grid)
    _, last = disclosure.blocks(disclosure._true_n(columns, grid), grid.months, grid.min_n)
    year = disclosure._year_starts(grid.months)
    where = disclosure._mix(np.array(grid.offices, dtype=np.uint64))[:, None]
    ends = last == np.arange(len(grid.months))[None, :]
    totals: dict[str, np.ndarray] = {}
    for item in grid.levels:
        c, k = disclosure._running(counts[item], year), disclosure._running(keys[item], year)
        first_total = disclosure._first_totals(c.sum(axis=2), ends, year)[:, :, None]
        level = np.arange(c.shape[2], dtype=np.uint64)
        position = disclosure._mix(disclosure._mix(where[:, :, None]
                                                   ^ np.uint64(disclosure._code(item)))
                                   ^ level[None, None, :])  # fmt: skip
        with np.errstate(over="ignore"):
            key_total = k.sum(axis=2, keepdims=True, dtype=np.uint64)
        position = np.broadcast_to(position, k.shape)
        key = disclosure.cell_keys(k, np.broadcast_to(key_total, k.shape), position)
        noise = disclosure.noise_for(key, first_total)
        answered = c.sum(axis=2, keepdims=True) > 0
        totals[item] = np.where(ends[:, :, None], c + np.where(answered, noise, 0), 0.0)
    return totals


@pytest.mark.parametrize("case", range(4))
def test_every_item_protected_at_once_is_each_item_protected_alone(case: int) -> None:
    """`protect` (every item's cells side by side) against the item-by-item loop before, to
    the bit: many offices, large cells, nobody, no minimum."""
    cases: list[tuple[list[int], float, int, str | None]] = [
        ([3, 1, 2, 7], 40.0, 10, "2025-10"),
        ([1, 2], 900.0, 10, None),
        ([1, 2], 0.0, 10, "2025-10"),
        ([4], 6.0, 0, None),
    ]
    offices, size, min_n, through = cases[case]
    rows = _rows(case, offices, size)
    grid = Grid(tuple(sorted(offices)), MONTHS, dict(INDEX_GRID), min_n, through)
    table = protect(rows, grid)
    before = _old_totals(rows, grid)
    assert list(table._totals) == list(before)
    for item, totals in before.items():
        assert table._totals[item].dtype == totals.dtype
        assert table._totals[item].tobytes() == totals.tobytes(), item


def _old_adjust(
    mix: casemix.Mix, groups: list[list[int]], totals: np.ndarray, labels: list[str], min_n: int
) -> Adjustment | None:
    """`Mix.adjust` before (f. 46e3bff): each unit's margins summed from its offices' rows."""
    totals = np.asarray(totals, dtype=np.float64)
    used = totals.sum(axis=1) >= min_n
    if int(used.sum()) < casemix.MIN_UNITS:
        return None
    totals = np.where(used[:, None], totals, 0.0)
    where = {o: i for i, o in enumerate(mix.offices)}
    margins = {}
    for adjuster, by_value in mix.margins.items():
        summed = {
            v: np.array([m[[where[o] for o in g if o in where]].sum(axis=0) for g in groups])
            for v, m in by_value.items()
        }
        margins[adjuster] = casemix._published(summed, totals, mix.shares(adjuster), min_n)
    each = np.broadcast_to(np.asarray(mix.noise, dtype=np.float64), (len(mix.offices),))
    noise = [float(sum(each[where[o]] for o in g if o in where)) for g in groups]
    return adjust_from_margins(labels, totals, margins, mix.cells, mix.cell_n, INDEX_LEVELS,
                               noise=noise)  # fmt: skip


def test_the_adjustment_of_single_offices_is_that_before() -> None:
    """`Mix.adjust` of one office each (its rows taken by index) against the margins summed
    office by office before, to the bit: small values, zeros (−0.0 too), a value below the
    minimum; pooled units and an office the mix does not hold go the old way."""
    rng = np.random.default_rng(5)
    offices = (4, 1, 7, 3, 9, 2)
    size = (len(offices), len(INDEX_LEVELS))

    def counts(scale: float) -> np.ndarray:
        found = rng.poisson(scale, size).astype(float)
        found[found == 0] = -0.0
        return found

    margins = {
        "service_type": {"a": counts(3.0), "b": counts(1.0), "u25": counts(0.2)},
        "language": {"de": counts(3.0), "other": counts(0.5)},
        "mode": {"kiosk": counts(2.0), "link": counts(2.0)},
    }
    cells = {"service_type": ("a", "a", "b", "u25"), "language": ("de", "other", "de", "de"),
             "mode": ("kiosk", "link", "link", "kiosk")}  # fmt: skip
    mix = casemix.Mix(offices, margins, cells, (40.0, 12.0, 9.0, 3.0),
                      noise=tuple(rng.uniform(0.5, 1.5, len(offices)).tolist()))  # fmt: skip
    totals = sum(m for m in margins["mode"].values()) + rng.poisson(1.0, size)
    adjusted = 0
    for groups in ([[o] for o in offices], [[o] for o in offices[::-1]],
                   [[4, 1], [7], [3, 9, 2]], [[4], [1], [7], [99]]):  # fmt: skip
        labels = [str(i) for i in range(len(groups))]
        unit_totals = np.array([sum(totals[offices.index(o)] for o in g if o in offices)
                                + np.zeros(size[1]) for g in groups])  # fmt: skip
        for min_n in (5, 30):
            found = mix.adjust(groups, unit_totals, labels, min_n)
            before = _old_adjust(mix, groups, unit_totals, labels, min_n)
            assert repr(found) == repr(before), (groups, min_n)
            adjusted += found is not None
    assert adjusted >= 4


def _old_noise_covariance(
    table: ProtectedTable, item: str, offices: list[int], months_a: tuple[str, ...],
    months_b: tuple[str, ...],
) -> float:  # fmt: skip
    """`ProtectedTable.noise_covariance` before (f. 46e3bff): each shared running total's
    variance read at the first of its year's block ends with the same counts."""
    totals = table._totals[item]
    year = table._year

    def signed(months: tuple[str, ...]) -> dict[tuple[int, int, bytes], float]:
        out: dict[tuple[int, int, bytes], float] = {}
        for row, runs in table._walk(offices, months):
            for base, end in runs:
                for month, sign in ((end, 1.0), (base, -1.0)):
                    if month >= 0:
                        key = (row, int(year[month]), totals[row, month].tobytes())
                        out[key] = out.get(key, 0.0) + sign
        return out

    a, b = signed(months_a), signed(months_b)
    found = 0.0
    for (row, start, total), coefficient in a.items():
        other = b.get((row, start, total), 0.0)
        if coefficient == 0 or other == 0:
            continue
        spread = table._spread_of(item, row)
        month = next(m for m in spread if year[m] == start
                     and totals[row, m].tobytes() == total)  # fmt: skip
        found += coefficient * other * spread[month]
    return found


@pytest.mark.parametrize("case", range(6))
def test_the_noise_covariance_of_two_periods_is_that_before(case: int) -> None:
    """`noise_covariance` (a shared running total's variance read at any of its months)
    against the first-month lookup before, to the bit: every pair of periods (the same, one
    inside the other, adjacent, apart), every item, single offices and the whole grid."""
    name, table, fresh = _table(case)
    periods = [*PERIODS, MONTHS[-7:-1], MONTHS[5:11], MONTHS[12:18]]
    for offices in [[o] for o in table.grid.offices] + [list(table.grid.offices), [99]]:
        for item in [INDEX_ITEM, *INDEX_ITEMS]:
            for a in periods:
                for b in periods:
                    found = table.noise_covariance(item, offices, a, b)
                    assert found == _old_noise_covariance(fresh, item, offices, a, b), name


def test_a_full_store_still_gives_every_office_s_noise_variance(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """r29: when the kept figures filled up, `noise_variance_each` emptied the store and then
    read back the offices kept before it (KeyError: a 500 on an overview asked after single
    offices' pages). A small store here: the same calls, the same numbers as a fresh table's."""
    monkeypatch.setattr(disclosure, "MAX_FIGURES", 6)
    name, table, fresh = _table(0)
    offices = list(table.grid.offices)
    months = PERIODS[1]
    for i, office in enumerate(offices[:4]):  # single offices' pages first (the store fills)
        table.noise_variance(INDEX_ITEM, [office], PERIODS[i % 3])
    table.noise_variance(INDEX_ITEM, [offices[0]], months)
    expected = [fresh.noise_variance(INDEX_ITEM, [o], months) for o in offices]
    assert table.noise_variance_each(INDEX_ITEM, offices, months) == expected, name
    assert casemix.figure_noise([table], offices, months) == tuple(expected)
    assert table.index_noise_each(tuple(offices), months) == fresh.index_noise_each(
        tuple(offices), months
    )


def test_a_period_without_a_month_of_the_grid_has_nothing_in_it() -> None:
    """r29: no month of the grid (none asked, or only months it does not hold) gave zeros
    before the figures were worked out at once, then a ValueError from a strict zip."""
    _, table, _ = _table(0)
    offices = list(table.grid.offices)[:2]
    for months in ([], ["2019-01"]):
        found = table.matrix(INDEX_ITEM, [[o] for o in offices], months)
        assert found.shape == (2, len(INDEX_LEVELS)) and not found.any()
        assert casemix.figure_noise([table], offices, months) == (0.0, 0.0)
        assert table.noise_variance_each(INDEX_ITEM, offices, months) == [0.0, 0.0]


def test_an_item_without_levels_leaves_the_other_items_as_they_were() -> None:
    """r29: an item with no levels (an empty scale) made `protect` return zeros for every
    item; it has no cells of its own and the others are protected as without it."""
    rows = _rows(3, [1, 2, 3], 40.0)
    levels = dict(INDEX_GRID)
    plain = protect(rows, Grid((1, 2, 3), MONTHS, levels, 10, "2025-10"))
    table = protect(rows, Grid((1, 2, 3), MONTHS, {**levels, "empty": ()}, 10, "2025-10"))
    assert list(table._totals) == [*levels, "empty"]
    assert table._totals["empty"].shape == (3, len(MONTHS), 0)
    assert any(plain._totals[item].any() for item in levels)
    for item in levels:
        assert table._totals[item].tobytes() == plain._totals[item].tobytes(), item


def test_counts_above_2_to_the_53_are_summed_as_each_item_alone_sums_them() -> None:
    """r29: the items' answers summed by one reduceat added in another order than each
    item's own sum; above 2**53 responses that rounds otherwise and picks other noise."""
    grid = Grid((1,), ("2025-01", "2025-02"), {"respect": (1.0, 2.0, 3.0, 4.0, 5.0)}, 0, None)
    for february in ([(2, 1), (3, 1)], [(5, 1), (4, 1), (3, 1)], [(5, 1), (4, 1)]):
        rows = [CountRow(1, "respect", 1, "2025-01", 2**53, 12345)] + [
            CountRow(1, "respect", v, "2025-02", n, 777 + v) for v, n in february
        ]
        before = _old_totals(rows, grid)
        assert protect(rows, grid)._totals["respect"].tobytes() == before["respect"].tobytes()


def test_single_offices_margins_keep_the_sign_of_zero_as_before(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """b394a63's `+ 0.0`: the margins `Mix.adjust` publishes of single offices are, to the
    sign of a zero, those the sums of one row gave (r29: only the adjustment's repr was
    compared, which shows no −0.0 of a margin)."""
    seen: list[list[bytes]] = []
    published = casemix._published

    def spy(summed: dict[str, np.ndarray], *args: object) -> dict[str, np.ndarray]:
        seen.append([np.asarray(m, dtype=np.float64).tobytes() for m in summed.values()])
        return published(summed, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(casemix, "_published", spy)
    offices = (4, 1, 7)
    rng = np.random.default_rng(2)
    size = (len(offices), len(INDEX_LEVELS))
    kiosk, link = rng.poisson(3.0, size).astype(float), rng.poisson(2.0, size).astype(float)
    kiosk[kiosk == 0], link[link == 0] = -0.0, -0.0
    margins = {"mode": {"kiosk": kiosk, "link": link}}
    mix = casemix.Mix(offices, margins, {"mode": ("kiosk", "link", "kiosk", "link")},
                      (40.0, 12.0, 9.0, 3.0), noise=(1.0, 1.0, 1.0))  # fmt: skip
    totals = kiosk + link + 0.0
    groups = [[o] for o in offices]
    mix.adjust(groups, totals, ["a", "b", "c"], 5)
    _old_adjust(mix, groups, totals, ["a", "b", "c"], 5)
    assert len(seen) == 2 and seen[0] == seen[1]
