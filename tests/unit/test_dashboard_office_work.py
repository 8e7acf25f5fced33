"""The office page's work of a new view made cheaper stays the same figures (issue 17, q36):
what it works out now equals, bit for bit, what the code of f7fd22a worked out (kept here as
the reference)."""

from __future__ import annotations

import pickle
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import replace

import numpy as np
import pytest
from plotly.colors import sample_colorscale

from analysis import Estimate, satisfaction_index_each
from analysis.charts import _diverging_palette
from survey.auth.schemas import OfficeRef, Scope
from survey.dashboard import results
from survey.dashboard.disclosure import (
    HIDDEN_FEW,
    HIDDEN_UNIT,
    INDEX_LEVELS,
    MOVES_ROW_BY_ROW,
    ProtectedTable,
    _moved,
    _moved_row,
    _tilt,
    hidden_rest,
    joined,
    pooled_figure_hidden,
    protect,
    retarget,
    seen_blocks,
)
from survey.questionnaire import INDEX_ITEM, INDEX_ITEMS
from tests.unit.test_dashboard_figure_work import CASES, MONTHS, _rows, _table
from tests.unit.test_dashboard_page_work import MONTHS as PAGE_MONTHS
from tests.unit.test_dashboard_page_work import _table as page_table


def _old_palette(n_levels: int) -> list[str]:
    """`analysis.charts._diverging_palette` of f7fd22a."""
    if n_levels == 1:
        return ["#92c5de"]
    return list(sample_colorscale("RdBu", np.linspace(0.05, 0.95, n_levels).tolist()))


def test_the_bars_colours_sampled_once_are_those_sampled_each_time() -> None:
    for n_levels in range(1, 18):
        assert list(_diverging_palette(n_levels)) == _old_palette(n_levels), n_levels
        assert _diverging_palette(n_levels) is _diverging_palette(n_levels)


def _old_month_indices(
    table: ProtectedTable, office_id: int, months: Sequence[str], min_n: int
) -> list[tuple[Estimate, bool]]:
    """`results.month_indices` of f7fd22a: each month's counts and noise asked one by one."""
    if not months:
        return []
    counts = np.array([table.counts(INDEX_ITEM, [office_id], [m]) for m in months])
    noise = [table.index_noise([office_id], [m]) for m in months]
    found = satisfaction_index_each(counts, INDEX_LEVELS, index_noise=noise)
    return [(est, est.n >= min_n) for est in found]


def _kept_state(table: ProtectedTable, offices: Sequence[int], months: Sequence[str]) -> dict:
    """What a table keeps of these offices' single months: figures and classes as bytes,
    noise variances as floats."""
    out: dict[tuple[str, object], object] = {}
    for name, store in (("figures", table._figures), ("classes", table._classes)):
        for key, value in store.items():
            if (
                len(key[1]) == 1
                and key[1][0] in offices
                and len(key[2]) == 1
                and key[2][0] in months
            ):
                out[name, key] = value.tobytes()
    for key, variance in table._variances.items():
        if len(key[1]) == 1 and key[1][0] in offices and len(key[2]) == 1 and key[2][0] in months:
            out["variances", key] = variance.hex()
    return out


def _same(new: list[tuple[Estimate, bool]], old: list[tuple[Estimate, bool]]) -> bool:
    """The same estimates to the bit (repr of a float is exact; NaN equals NaN here)."""
    return repr(new) == repr(old)


TREND_PERIODS = [MONTHS, MONTHS[-12:], MONTHS[3:5], MONTHS[11:14], MONTHS[-6:], MONTHS[-1:]]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_an_office_s_trend_worked_out_at_once_is_its_months_one_by_one(case: int) -> None:
    """`month_indices` (`index_each_month`) against f7fd22a's month by month, to the bit, on
    each table of the figure work's cases (offices of many and of few responses, months
    below the minimum, no minimum, an empty table: a filter that leaves nothing), for
    periods within a year and across its turn, an office the grid does not hold and months
    outside the grid; what the table keeps of each month is what month by month keeps."""
    name, pristine, _ = _table(case)
    kept_once = pickle.dumps(pristine)
    for months in [*TREND_PERIODS, ("2023-11", "2023-12", "2024-01")]:
        # a new table for each period: its months at once, none kept by another period
        table, fresh = pickle.loads(kept_once), pickle.loads(kept_once)
        for office in [*table.grid.offices, 99]:
            new = results.month_indices(table, office, list(months), 10)
            old = _old_month_indices(fresh, office, list(months), 10)
            assert _same(new, old), (name, office, months)
            assert _same(results.month_indices(table, office, list(months), 10), old)
            kept, kept_before = _kept_state(table, [office], months), _kept_state(
                fresh, [office], months)  # fmt: skip
            # the variances of index items without enough answers are kept too (as
            # `index_noise_each` keeps them): everything kept before is kept the same
            assert {k: v for k, v in kept.items() if k in kept_before} == kept_before, name
            assert {k[0] for k in kept} <= {"figures", "classes", "variances"}


def test_a_trend_with_a_month_kept_already_goes_month_by_month() -> None:
    """A month asked alone before (its figures kept): the months one by one, the same bits;
    and the months at once give what one by one gives for every index item too."""
    _, table, fresh = _table(0)
    office = table.grid.offices[0]
    months = list(MONTHS[-6:])
    table.counts(INDEX_ITEM, [office], [months[2]])
    assert _same(results.month_indices(table, office, months, 10),
                 _old_month_indices(fresh, office, months, 10))  # fmt: skip
    _, table, fresh = _table(2)
    counts, noise = table.index_each_month(table.grid.offices[1], MONTHS[:14])
    for i, month in enumerate(MONTHS[:14]):
        assert counts[i].tobytes() == fresh.counts(INDEX_ITEM, [table.grid.offices[1]],
                                                   [month]).tobytes()  # fmt: skip
        assert noise[i].hex() == fresh.index_noise([table.grid.offices[1]], [month]).hex()
        for code in INDEX_ITEMS:
            assert (table.counts(code, [table.grid.offices[1]], [month]).tobytes()
                    == fresh.counts(code, [table.grid.offices[1]], [month]).tobytes())  # fmt: skip
    assert counts.flags.writeable


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_the_trend_of_a_table_of_every_item_is_its_months_one_by_one(seed: int) -> None:
    """The office page's own kind of table (every item, a few months, min_n 10)."""
    offices = [1, 2, 3, 4, 5]
    table, fresh = page_table(seed, offices), page_table(seed, offices)
    for office in offices:
        for months in (list(PAGE_MONTHS), list(PAGE_MONTHS[1:3]), [PAGE_MONTHS[-1]]):
            assert _same(results.month_indices(table, office, months, 10),
                         _old_month_indices(fresh, office, months, 10))  # fmt: skip


def _old_noise_variance(
    table: ProtectedTable, item: str, offices: tuple[int, ...], months: tuple[str, ...]
) -> float:
    """`ProtectedTable._noise_variance` of f7fd22a: run by run, office by office."""
    totals = table._totals[item]
    total = 0.0
    for row, runs in table._walk(offices, months):
        spread = table._spread_of(item, row)
        for base, end in runs:
            if base >= 0 and np.array_equal(totals[row, base], totals[row, end]):
                continue
            total += spread[end] + (spread[base] if base >= 0 else 0.0)
    return total


@pytest.mark.parametrize("case", range(len(CASES)))
def test_a_pool_s_noise_variance_worked_out_at_once_is_run_by_run(case: int) -> None:
    """`noise_variance` of pools (an office page's job centre and network: every office,
    a few, with an office the grid does not hold, one twice) against f7fd22a's loop, to the
    bit, for every index item and the index, over periods within a year, across its turn
    and of two whole years."""
    name, table, fresh = _table(case)
    offices = table.grid.offices
    pools = [offices, offices[:2], (*offices[1:], 99), (offices[0], offices[0]), (99, 98)]
    for months in TREND_PERIODS:
        for pool in pools:
            if len(pool) < 2:
                continue
            for item in (INDEX_ITEM, *INDEX_ITEMS):
                found = table.noise_variance(item, pool, months)
                assert found.hex() == _old_noise_variance(fresh, item, pool, months).hex(), name


def _old_pooled_figure_hidden(
    scope: Scope, pooled: Collection[int], known: Iterable[Collection[int]],
    n_of: Mapping[int, int], min_n: int,
) -> str | None:  # fmt: skip
    """`disclosure.pooled_figure_hidden` of f7fd22a: the blocks seen put in order per pool."""
    rest = set(pooled)
    for block in sorted(map(set, known), key=len, reverse=True):
        if block and block <= rest:
            rest -= block
    rest = {o for o in rest if n_of.get(o, 0) > 0}
    if not rest:
        return None
    if sum(n_of[o] for o in rest) < min_n:
        return HIDDEN_FEW
    unseen = rest - scope.visible
    if len(rest) == 1 or len(unseen) == 1:
        return HIDDEN_UNIT
    organizations = {o.organization_id for o in scope.group if o.id in unseen}
    if len(organizations) == 1:
        (org,) = organizations
        whole = {o.id for o in scope.group if o.organization_id == org and n_of.get(o.id, 0)}
        if unseen == whole:
            return HIDDEN_UNIT
    return None


def test_the_blocks_seen_put_in_order_once_hide_what_each_pool_hid() -> None:
    """`hidden_rest` with one `seen_blocks` for many pools (as learning from the best asks
    every unit's rest of a question) against f7fd22a's `pooled_figure_hidden`, which put the
    blocks in order for each pool: random groups, visible offices, numbers of responses
    (none, below and above the minimum) and blocks seen (offices, job centres, overlapping
    ones of equal size)."""
    rng = np.random.default_rng(36)
    said = set()
    for _ in range(300):
        size = int(rng.integers(2, 9))
        centre = {o: int(rng.integers(1, 4)) for o in range(1, size + 1)}
        group = tuple(OfficeRef(o, f"office {o}", f"O{o}", c, f"centre {c}")
                      for o, c in centre.items())  # fmt: skip
        visible = frozenset(o for o in centre if rng.random() < 0.5)
        scope = Scope(1, "u", "U", "de", ("manager",), visible, group, "network")
        n_of = {o: int(rng.choice([0, 3, 12, 40])) for o in centre}
        known = [frozenset(rng.choice(list(centre), int(rng.integers(1, 3)), replace=False)
                           .tolist()) for _ in range(int(rng.integers(0, 6)))]  # fmt: skip
        blocks = seen_blocks(known)
        everyone = frozenset(centre)
        for ids in [[o] for o in centre] + [[o for o in centre if centre[o] == 1]]:
            rest = everyone - set(ids)
            old = _old_pooled_figure_hidden(scope, rest, known, n_of, 10)
            assert hidden_rest(scope, rest, blocks, n_of, 10) == old
            assert pooled_figure_hidden(scope, rest, known, n_of, 10) == old
            said.add(old)
    assert said == {None, HIDDEN_FEW, HIDDEN_UNIT}


def _old_blocks(table: ProtectedTable) -> list[list[tuple[int, int, bool]]]:
    """`ProtectedTable._blocks` as f7fd22a's constructor made them."""
    blocks: list[list[tuple[int, int, bool]]] = [[] for _ in table.grid.offices]
    first, last, shown = table._first, table._last, table._shown
    rows, ends = np.nonzero(last == np.arange(len(table.grid.months))[None, :])
    for row, begin, end, ok in zip(rows.tolist(), first[rows, ends].tolist(), ends.tolist(),
                                   shown[rows, ends].tolist(), strict=True):  # fmt: skip
        blocks[row].append((begin, end, ok))
    return blocks


@pytest.mark.parametrize("case", range(len(CASES)))
def test_the_blocks_worked_out_on_first_use_are_those_the_constructor_made(case: int) -> None:
    """A table's blocks, worked out when first read, against f7fd22a's constructor; a table
    put together from its years (`joined`) and a filtered view's (blocks it does not show)
    too."""
    name, table, _ = _table(case)
    assert table._block_lists is None
    assert table._blocks == _old_blocks(table), name
    assert table._blocks is table._blocks
    rows = _rows(case, list(table.grid.offices), 12.0)
    other = _rows(case + 50, list(table.grid.offices), 4.0)
    filtered = protect(rows, table.grid, {"a": rows, "b": other})
    assert filtered._blocks == _old_blocks(filtered)
    if case == 0:  # blocks the filtered view does not show among them
        assert any(not ok for blocks in filtered._blocks for _, _, ok in blocks)
    years = [protect(rows, replace(table.grid, months=MONTHS[:12])),
             protect(rows, replace(table.grid, months=MONTHS[12:]))]  # fmt: skip
    whole = joined(table.grid, years)
    assert whole._blocks == _old_blocks(whole) == _old_blocks(protect(rows, table.grid))


@pytest.mark.parametrize("case", range(len(CASES)))
def test_every_office_s_figure_noise_at_once_is_each_office_s(case: int) -> None:
    """`results.figure_noise` of single offices (every office at once) against f7fd22a's,
    office by office (`noise_variance` of each), to the bit: with an office the grid does
    not hold and one twice; groups of several offices as before."""
    name, pristine, _ = _table(case)
    kept_once = pickle.dumps(pristine)
    offices = pristine.grid.offices
    for months in TREND_PERIODS:
        for groups in ([[o] for o in (*offices, 99)], [[offices[0]], [offices[0]]],
                       [list(offices), [offices[0]]]):  # fmt: skip
            table, fresh = pickle.loads(kept_once), pickle.loads(kept_once)
            for item in (INDEX_ITEM, next(iter(INDEX_ITEMS))):
                found = results.figure_noise(table, item, groups, months)
                old = tuple(fresh.noise_variance(item, g, months) for g in groups)
                assert [x.hex() for x in found] == [x.hex() for x in old], name


def _old_moved(out: np.ndarray, share: np.ndarray, count: np.ndarray, up: np.ndarray) -> None:
    """`disclosure._moved` of f7fd22a: numpy steps over every row still moving."""
    rows = np.arange(len(out))
    for k in range(int(count.max(initial=0))):
        at_k = rows[count > k]
        o = out[at_k]
        over = o - share[at_k]
        upward = up[at_k]
        gain_up = np.where(o[:, :-1] > 0, over[:, :-1] - over[:, 1:], -np.inf)
        gain_down = np.where(o[:, 1:] > 0, over[:, 1:] - over[:, :-1], -np.inf)
        at = np.where(upward, gain_up.argmax(axis=1), gain_down.argmax(axis=1))
        out[at_k, np.where(upward, at, at + 1)] -= 1
        out[at_k, np.where(upward, at + 1, at)] += 1


def _old_retarget(counts: np.ndarray, levels: Sequence[float], mean: float) -> np.ndarray:
    """`disclosure.retarget` of f7fd22a: each single move a numpy step over the row."""
    total = round(float(counts.sum()))
    out = np.asarray(counts, dtype=np.float64).copy()
    if total <= 0 or len(levels) < 2:
        return out
    lv = np.asarray(levels, dtype=np.float64)
    mean = min(max(float(mean), float(lv[0])), float(lv[-1]))
    share = total * _tilt(out / out.sum(), levels, mean)
    out = np.floor(share)
    left = total - int(out.sum())
    if left > 0:
        out[np.argsort(-(share - out), kind="stable")[:left]] += 1
    step = float(lv[1] - lv[0])
    moves = round((mean * total - float(out @ lv)) / step)
    for _ in range(min(abs(moves), total * len(lv))):
        over = out - share
        if moves > 0:
            gain = np.where(out[:-1] > 0, over[:-1] - over[1:], -np.inf)
            at = int(np.argmax(gain))
            out[at], out[at + 1] = out[at] - 1, out[at + 1] + 1
        else:
            gain = np.where(out[1:] > 0, over[1:] - over[:-1], -np.inf)
            at = int(np.argmax(gain))
            out[at + 1], out[at] = out[at + 1] - 1, out[at] + 1
    return out


def _moves_case(rng: np.random.Generator, rows: int, levels: int) -> tuple[np.ndarray, ...]:
    """Whole counts (some levels empty, some rows nearly so) with shares of the same total
    near them, and moves of each row (none, a few, many; up and down)."""
    out = np.floor(rng.gamma(0.6, 30.0, (rows, levels)) * (rng.random((rows, levels)) < 0.8))
    share = np.clip(out + rng.normal(0.0, 0.7, out.shape), 0.0, None)
    count = rng.choice([0, 1, 2, 5, 17, 40], rows).astype(np.int64)
    return out, share, count, rng.random(rows) < 0.5


def test_the_single_moves_row_by_row_are_those_of_numpy_s_steps() -> None:
    """`_moved` (row by row where the moves are few against the most of one row, numpy's
    steps where not) against f7fd22a's, to the bit, on random rows of 5, 11 and 17 levels:
    empty levels, moves blocked (every answer on the last level, moving up), ties; and
    `_moved_row` of every row alone as well."""
    rng = np.random.default_rng(17)
    ways = set()
    for rows in (1, 3, 12, 40, 160):
        for levels in (5, 11, 17):
            for _ in range(6):
                out, share, count, up = _moves_case(rng, rows, levels)
                out[0] = 0.0
                out[0, -1] = 3.0  # up: no level holds an answer that can move up
                old = out.copy()
                _old_moved(old, share, count, up)
                new = out.copy()
                _moved(new, share, count, up)
                assert new.tobytes() == old.tobytes(), (rows, levels)
                for r in range(rows):
                    row = out[r].tolist()
                    _moved_row(row, share[r].tolist(), int(count[r]), bool(up[r]))
                    assert np.array(row).tobytes() == old[r].tobytes()
                ways.add(int(count.sum()) < MOVES_ROW_BY_ROW * int(count.max(initial=0)))
    assert ways == {True, False}  # both ways taken


def test_a_retargeted_figure_is_what_it_was_move_by_move_in_numpy() -> None:
    """`retarget` against f7fd22a's, to the bit, on random counts of the index's 17 classes
    and of five levels, to means across and beyond their range."""
    rng = np.random.default_rng(18)
    for levels in (INDEX_LEVELS, (1.0, 2.0, 3.0, 4.0, 5.0)):
        for _ in range(400):
            counts = np.floor(rng.gamma(0.5, 40.0, len(levels)) * (rng.random(len(levels)) < 0.7))
            mean = float(rng.uniform(levels[0] - 0.5, levels[-1] + 0.5))
            new, old = retarget(counts, levels, mean), _old_retarget(counts, levels, mean)
            assert new.tobytes() == old.tobytes()
