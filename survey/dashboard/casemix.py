"""Client-mix adjustment on the dashboards, from published figures only.

The adjusted index of a unit (office or job centre) is its observed index moved by what its
mix of clients differs from the group's (`analysis.adjust_from_margins`, the within-office
least squares of O'Malley et al. 2005). It needs

- each unit's published index counts (the page's own protected table) and its published
  index counts under each single value of the adjusters: service type, language group
  (German, Leichte Sprache, other: the other languages are the unit's total minus the two
  German figures, a difference of published figures) and mode. These are the figures of the
  filtered views, from the same protected tables, so the page and its filtered views agree;
- one cross-tabulation of the adjusters over the whole comparison group and period (numbers
  of responses per service type × language group × mode, no answers), from `mix_count`,
  each cell perturbed once by the cell key method and never shown.

What is below the minimum is not used: a unit with fewer responses than the minimum is left
out of the fit (and gets no adjusted index), and an adjuster value of a unit whose published
count is below the minimum is replaced by the unit's remaining responses of that adjuster
(its total minus its published values, a difference of published figures) shared out in the
group's proportions, with the unit's own mean (so it moves neither β nor the unit away from
its observed index). A filtered view is not adjusted: its mix within the filter value would
need cells of two filters at once, which no page publishes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import msgspec
import numpy as np

from analysis import Adjustment, adjust_from_margins
from survey.dashboard import queries
from survey.dashboard.cache import once, worked_out
from survey.dashboard.disclosure import (
    INDEX_LEVELS,
    ProtectedTable,
    index_matrices,
    noise_variances_each,
    perturbed_cells,
)
from survey.dashboard.schemas import Filters, MixAdjustment
from survey.questionnaire import INDEX_ITEM, MODES, SERVICE_TYPES

ADJUSTERS = ("service_type", "language", "mode")
"""What the adjustment allows for. The questionnaire asks no age: there is no age adjuster
(the under-25 team is a service type)."""
GERMAN = ("de", "de-x-ls")
"""The language groups besides "other": German and German in Leichte Sprache."""
OTHER = "other"
MIN_UNITS = 3
"""Units with enough responses the fit needs (as the model's verdicts do)."""
NOT_FILTERED = (
    "not adjusted in a filtered view: the client mix within one filter value is not published"
)
TOO_FEW_UNITS = "not adjusted: fewer than three units with enough responses"


def language_group(locale: str) -> str:
    return locale if locale in GERMAN else OTHER


@dataclass(frozen=True)
class Mix:
    """What a page adjusts with: per office of the group (`offices`, in order) its published
    index counts under each adjuster value (`margins[adjuster][value]`, offices × levels),
    and the group's perturbed cross-tab of the adjusters (`cells`, `cell_n`); `noise`, the
    variance of the noise in each level count of an office's figures, one number or one per
    office (`figure_noise`; the verdicts allow for it)."""

    offices: tuple[int, ...]
    margins: dict[str, dict[str, np.ndarray]]
    cells: dict[str, tuple[str, ...]]
    cell_n: tuple[float, ...]
    noise: float | tuple[float, ...] = 0.0

    def shares(self, adjuster: str) -> dict[str, float]:
        """The group's share of each value of an adjuster (from the cross-tab)."""
        n = np.asarray(self.cell_n)
        total = float(n.sum())
        values = self.margins[adjuster]
        return {
            v: float(n[np.asarray(self.cells[adjuster]) == v].sum()) / total if total else 0.0
            for v in values
        }

    def adjust(
        self, groups: Sequence[Sequence[int]], totals: np.ndarray, labels: Sequence[str],
        min_n: int,
    ) -> Adjustment | None:  # fmt: skip
        """The adjustment of these units (each a list of offices) whose published index
        counts are `totals` (units × levels), or None with fewer than MIN_UNITS units of
        at least `min_n` responses."""
        totals = np.asarray(totals, dtype=np.float64)
        n = totals.sum(axis=1)
        used = n >= min_n
        if int(used.sum()) < MIN_UNITS:
            return None
        totals = np.where(used[:, None], totals, 0.0)
        where = {o: i for i, o in enumerate(self.offices)}
        margins: dict[str, dict[str, np.ndarray]] = {}
        picked = [[where[o] for o in g if o in where] for g in groups]
        single = [p[0] for p in picked if len(p) == 1]
        for adjuster, by_value in self.margins.items():
            if picked and len(single) == len(picked):  # one office each: its own rows
                # + 0.0: as the sum of one row (which turns −0.0 into 0.0)
                summed = {v: m[single] + 0.0 for v, m in by_value.items()}
            else:
                summed = {
                    v: np.array([m[p].sum(axis=0) for p in picked]) for v, m in by_value.items()
                }
            margins[adjuster] = _published(summed, totals, self.shares(adjuster), min_n)
        args = (self.cells, self.cell_n, INDEX_LEVELS)
        each = np.broadcast_to(np.asarray(self.noise, dtype=np.float64), (len(self.offices),))
        # a pooled figure is the sum of its offices' figures: their noise variances add up
        noise = [float(sum(each[where[o]] for o in g if o in where)) for g in groups]
        return adjust_from_margins(labels, totals, margins, *args, noise=noise)


def _published(
    margins: dict[str, np.ndarray], totals: np.ndarray, shares: dict[str, float], min_n: int
) -> dict[str, np.ndarray]:
    """The units' margins of one adjuster with every value below the minimum replaced: the
    unit's responses not in a published value (total minus published values, at least 0)
    shared out over its unpublished values in the group's proportions, each with the unit's
    own distribution of answers."""
    n = totals.sum(axis=1)
    sizes = {v: m.sum(axis=1) for v, m in margins.items()}
    published = {v: sizes[v] >= min_n for v in margins}
    rest = np.clip(n - sum(np.where(published[v], sizes[v], 0.0) for v in margins), 0.0, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        profile = np.where(n[:, None] > 0, totals / n[:, None], 0.0)
    # per unit, the group's share of each value it does not publish, made to sum to one
    unpublished = np.array([[0.0 if published[v][i] else shares[v] for v in margins]
                            for i in range(len(n))]).reshape(len(n), len(margins))  # fmt: skip
    sums = unpublished.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = np.where(sums > 0, unpublished / sums, 0.0)
    out = {}
    for j, (v, m) in enumerate(margins.items()):
        out[v] = np.where(published[v][:, None], m, (rest * weight[:, j])[:, None] * profile)
    return out


async def group_mix(
    table_for: Callable[[Filters], Awaitable[ProtectedTable]],
    offices: Sequence[int],
    filters: Filters,
    months: list[str],
    done: queries.Rolled,
    published: str | None,
    read_mix: Callable[..., Awaitable[list[queries.MixRow]]] = queries.mix_rows,
    previous: Sequence[str] = (),
) -> Mix:
    """The offices' published margins (from the protected tables of the page's view and of
    its single-filter views, `table_for`) and the group's perturbed cross-tab over the
    published `months` (through `published`, the last published month: that of the
    tables' grids). The tables and the cross-tab are independent of each other: they are
    read at once (on a cold view, ten count statements and the cross-tab's). `read_mix`:
    `queries.mix_rows`, or the same from what the process holds (`rolled_counts.mix_rows`).
    `previous`: the months of the page's previous period, whose index figures of every
    office in the page's own table (`table_for(filters)`) are worked out in the same steps
    as the margins and kept there (`index_matrices`' `also`: the overview's rows read them)."""
    views = [
        *(("service_type", "service_type", v) for v in SERVICE_TYPES),
        *(("language", "locale", v) for v in GERMAN),
        *(("mode", "mode", v) for v in MODES),
    ]
    tables, rows = await asyncio.gather(
        asyncio.gather(
            table_for(filters),
            *(table_for(msgspec.structs.replace(filters, **{field: v})) for _, field, v in views),
        ),
        _mix_rows(offices, done, months, published, read_mix),
    )
    return await worked_out(_mix_of, tables, rows, offices, months, views, previous)


def _mix_of(
    tables: Sequence[ProtectedTable], rows: Sequence[queries.MixRow], offices: Sequence[int],
    months: list[str], views: Sequence[tuple[str, str, str]], previous: Sequence[str] = (),
) -> Mix:  # fmt: skip
    """`group_mix`'s figures from what it read: pure CPU (the tables' protection, their
    margins, the cross-tab's perturbation), so it runs in a worker thread (`worked_out`)."""
    groups = [[o] for o in offices]
    also = [(tables[0], previous)] if previous else []
    totals, *each = index_matrices(tables, groups, months, also)
    margins: dict[str, dict[str, np.ndarray]] = {"service_type": {}, "language": {}, "mode": {}}
    for (group, _, v), found in zip(views, each, strict=True):
        margins[group][v] = found
    german = sum(margins["language"].values(), np.zeros_like(totals))
    margins["language"][OTHER] = np.clip(totals - german, 0.0, None)
    grouped: dict[tuple[str, str, str], list[int]] = {}
    for r in rows:
        key = (r.service_type, language_group(r.locale), r.mode)
        cell = grouped.setdefault(key, [0, 0])
        cell[0] += r.n
        cell[1] += r.key_sum
    keys = sorted(grouped)
    n = perturbed_cells([grouped[k][0] for k in keys], [grouped[k][1] for k in keys],
                        ["|".join(k) for k in keys])  # fmt: skip
    cells = {name: tuple(k[j] for k in keys) for j, name in enumerate(ADJUSTERS)}
    return Mix(tuple(offices), margins, cells, tuple(float(x) for x in n),
               noise=figure_noise(tables, offices, months))  # fmt: skip


async def _mix_rows(
    offices: Sequence[int], done: queries.Rolled, months: list[str], published: str | None,
    read: Callable[..., Awaitable[list[queries.MixRow]]],
) -> list[queries.MixRow]:  # fmt: skip
    """The cross-tab's rows of the published months."""
    if not months:
        return []
    last = min(months[-1], published) if published else months[-1]
    return await read(list(offices), done, months[0], last)


def figure_noise(
    tables: Sequence[ProtectedTable], offices: Sequence[int], months: Sequence[str]
) -> tuple[float, ...]:
    """Per office, the variance of the noise in each level count of its index figures of
    these months in these tables (its total and its single-value margins): the largest of
    them, as each table says (`ProtectedTable.noise_variance`: per calendar year touched,
    the running totals at both ends of the period, the year's first with anyone of twice
    the variance; survey/dashboard/disclosure.py, step 4). The other languages (the total
    minus the German figures) carry the noise of three figures; taking the largest single
    one for them too is what bench/coverage.py simulates, and its verdicts keep their
    false-verdict rate. The index figures' means carry less than this gives them (each is
    tilted to the mean of its index items, `ProtectedTable.index_noise`): the adjustment's
    variances are on the safe side."""
    if not tables:
        return tuple(0.0 for _ in offices)
    each = noise_variances_each(tables, INDEX_ITEM, offices, months)
    return tuple(max(found) for found in zip(*each, strict=True))


def note(filters: Filters, adjustment: Adjustment | None) -> MixAdjustment:
    """What the page says about the adjustment."""
    if filters.adjust == "none":
        return MixAdjustment(False, "none", [])
    if filters.dimension is not None:
        return MixAdjustment(False, "mix", [], NOT_FILTERED)
    if adjustment is None:
        return MixAdjustment(False, "mix", [], TOO_FEW_UNITS)
    return MixAdjustment(
        True, "mix", list(ADJUSTERS),
        coefficients={k: round(v, 2) for k, v in adjustment.coefficients.items()},
    )  # fmt: skip


async def mix_rolled(state: object, today: dt.date) -> queries.Rolled:
    """Roll up `mix_count` once per process and day (as the dashboards' `_rolled`): requests
    that ask at once wait for the one rollup under way."""
    if getattr(state, "mix_rolled_on", None) != today:
        rolled = await once(state, ("mix rolled", today),
                            lambda: queries.ensure_mix_rollups(today))  # fmt: skip
        state.mix_rolled, state.mix_rolled_on = rolled, today  # type: ignore[attr-defined]
    return state.mix_rolled  # type: ignore[attr-defined, no-any-return]
