"""From the protected table to the structs of the pages, CSV and JSON: overview, office,
benchmark. Every figure here is computed from published (protected) counts only."""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, Literal

import msgspec
import numpy as np

from analysis import (
    Adjustment,
    CountTable,
    Estimate,
    OfficeEffect,
    OfficeModel,
    change_each,
    compare_offices,
    fit_office_model,
    net_promoter,
    net_promoter_each,
    satisfaction_index,
    satisfaction_index_each,
    time_to_verdict,
    top_box,
    top_box_each,
)
from analysis.benchmark import Comparison, Funnel, FunnelPoint, Position
from analysis.model import index_estimates
from survey.auth.schemas import OfficeRef, Scope
from survey.dashboard.cache import by_value, memo
from survey.dashboard.casemix import Mix, note
from survey.dashboard.disclosure import (
    INDEX_LEVELS,
    Grid,
    ProtectedTable,
    grid_months,
    hidden_pools,
    with_index_items,
)
from survey.dashboard.filters import months_between
from survey.dashboard.schemas import (
    Benchmark,
    BenchmarkRow,
    Comment,
    ComparisonRow,
    Filters,
    Forecast,
    ItemResult,
    ModelVerdict,
    OfficeResult,
    OfficeRow,
    Overview,
    TrendPoint,
)
from survey.errors import not_one_of
from survey.manage.questionnaires import EXTRA_ITEMS, bank_scales
from survey.questionnaire import INDEX_ITEM, Definition, load_definition, standard_definition_bytes

compare_offices = by_value(compare_offices)
change_each = by_value(change_each)
satisfaction_index = by_value(satisfaction_index)
top_box = by_value(top_box)
top_box_each = by_value(top_box_each)
net_promoter = by_value(net_promoter)
net_promoter_each = by_value(net_promoter_each)
"""Pure functions of published counts: worked out once per process for the same counts."""

TOP_BOX_ITEM = "overall"
TOO_FEW: Literal["too few responses"] = "too few responses"
WITHHELD: Literal["withheld"] = "withheld"
"""The verdict against a comparison group whose own figure is withheld."""
RANK_DRAWS = 1000
"""Draws of the model's joint posterior for the rank intervals (seeded: the same page, the
same intervals)."""
FORECAST_DRAWS = 500
"""Simulated datasets per candidate n of the time to verdict (the promise keeps one
simulation SE of margin, analysis.model.responses_for_verdict)."""
FORECAST_MONTHS = (1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 18, 24, 30, 36)
"""The periods the time to verdict tries (months of answers at the office's rate); beyond
the last the page says "not within 3 years"."""
MAX_MONTHS = FORECAST_MONTHS[-1]
TYPICAL_DIFFERENCE = 5.0
"""Index points: the difference the office page also forecasts when its own estimate would
take longer than MAX_MONTHS to become clear."""
MIN_EFFECT = 0.1
"""A verdict needs |rank-biserial r| ≥ 0.1 (a small effect) besides q < 0.05: in a large
group a trivial difference is significant, and "worse" must mean something to a manager."""
DEFINITION: Definition = load_definition(standard_definition_bytes())
"""Results are compared on the standard questionnaire's item codes and scales."""
SCALE_ITEMS = [i for i in DEFINITION.items if i.type == "scale"]


class BankItem(msgspec.Struct, frozen=True):
    """A scale item of the item bank that the standard questionnaire does not ask: a job
    centre's own questionnaire may add it (survey/manage/questionnaires.py, EXTRA_ITEMS), with
    the bank's code and scale, so its answers count the same everywhere."""

    code: str
    text: dict[str, str]
    levels: tuple[float, ...]


def _bank_items() -> dict[str, BankItem]:
    scales = bank_scales()
    return {
        i["code"]: BankItem(
            i["code"],
            dict(i["text"]),
            tuple(
                float(v) for v in range(scales[i["scale"]]["min"], scales[i["scale"]]["max"] + 1)
            ),
        )
        for i in EXTRA_ITEMS
        if i["type"] == "scale" and DEFINITION.item(i["code"]) is None
    }


BANK_ITEMS = _bank_items()
"""The item bank's scale items beyond the standard questionnaire, by code, in bank order."""


@functools.cache
def scale_levels(code: str) -> tuple[float, ...]:
    """An item's answer levels (kept per process: a new view's tables ask some 70 times)."""
    item = DEFINITION.item(code)
    if item is None:
        return BANK_ITEMS[code].levels
    scale = DEFINITION.scale_of(item)
    return tuple(float(v) for v in range(scale.min, scale.max + 1))


def grid_levels(items: Sequence[str]) -> dict[str, tuple[float, ...]]:
    """The answer levels of each item in the grid (the index in quarter-point classes)."""
    return {i: INDEX_LEVELS if i == INDEX_ITEM else scale_levels(i) for i in items}


def month_index(
    table: ProtectedTable, office_id: int, month: str, min_n: int
) -> tuple[Estimate, bool]:
    """An office's published index of one month (a trend point), and whether it is shown: at
    least `min_n` published responses. A month's comments are shown only where it is (the
    office page, the comments export: `survey.dashboard.comments.shown_months`)."""
    counts = table.counts(INDEX_ITEM, [office_id], [month])
    noise = table.index_noise([office_id], [month])
    est = satisfaction_index(counts, INDEX_LEVELS, index_noise=noise)
    return est, est.n >= min_n


def month_indices(
    table: ProtectedTable, office_id: int, months: Sequence[str], min_n: int
) -> list[tuple[Estimate, bool]]:
    """`month_index(table, office_id, month, min_n)` of each of `months` (an office page's
    trend): the counts and noise of every month at once (`ProtectedTable.index_each_month`),
    the indices in one pass (`satisfaction_index_each`): the same bits."""
    if not months:
        return []
    counts, noise = table.index_each_month(office_id, months)
    found = satisfaction_index_each(counts, INDEX_LEVELS, index_noise=noise)
    return [(est, est.n >= min_n) for est in found]


def block_indices(
    table: ProtectedTable, office_id: int, months: Sequence[str], min_n: int
) -> dict[str, tuple[str, Estimate]]:
    """The trend points of the office's blocks of several months (each of them had fewer
    than the minimum of responses) that lie wholly inside `months` and that this view shows:
    by the block's last month, its first month and its published index, of those with at
    least `min_n` published responses. A block's figure is the one a period of exactly its
    months shows (a figure counts the blocks wholly inside its period): the trend shows
    nothing that period could not."""
    at = {month: i for i, month in enumerate(months)}
    spans = [(first, last, list(months[at[first] : at[last] + 1]))
             for first, last, shown in table.office_blocks(office_id)
             if shown and first != last and first in at and last in at]  # fmt: skip
    if not spans:
        return {}
    found = satisfaction_index_each(
        np.array([table.counts(INDEX_ITEM, [office_id], span) for _, _, span in spans]),
        INDEX_LEVELS, index_noise=[table.index_noise([office_id], span) for _, _, span in spans],
    )  # fmt: skip
    return {last: (first, est) for (first, last, _), est in zip(spans, found, strict=True)
            if est.n >= min_n}  # fmt: skip


def _item_shares(
    asked: Sequence[tuple[tuple[float, ...], np.ndarray]], min_n: int
) -> list[tuple[float | None, float | None]]:
    """Of each item's published counts (with its levels), as an office page shows them: the
    index and, on a scale of at least four levels, the top-box share, rounded (None below
    `min_n` answers); the items of the same levels in one pass (`satisfaction_index_each`,
    `top_box_each`: the same bits as `satisfaction_index` and `top_box` of each)."""
    out: list[tuple[float | None, float | None]] = [(None, None)] * len(asked)
    by_levels: dict[tuple[float, ...], list[int]] = defaultdict(list)
    for i, (levels, vec) in enumerate(asked):
        if int(vec.sum()) >= min_n:
            by_levels[levels].append(i)
    for levels, rows in by_levels.items():
        counts = np.array([asked[i][1] for i in rows])
        index = satisfaction_index_each(counts, levels)
        boxes = top_box_each(counts, 2) if len(levels) >= 4 else [None] * len(rows)
        for i, est, box in zip(rows, index, boxes, strict=True):
            out[i] = (_r(est.value), None if box is None else _r(box.value))
    return out


def view_grid(
    offices: Sequence[int], items: Sequence[str], first: str, last: str, min_n: int,
    published: str,
) -> tuple[Grid, str]:  # fmt: skip
    """The grid of a view of `items` (with the index's items: its figures are their mean) over
    `first`–`last` (from the January of the first, where blocks start), and the last month it
    counts (`published` at most; before the grid's first month: nothing to count)."""
    items = with_index_items(items)
    span = grid_months(first, last)
    grid = Grid(tuple(offices), span, grid_levels(items), min_n=min_n, published_through=published)
    return grid, min(span[-1], published)


def current_months(filters: Filters) -> list[str]:
    return months_between(filters.first_month, filters.last_month)


def previous_months(filters: Filters) -> list[str]:
    return months_between(filters.previous_first_month, filters.previous_last_month)


def _r(x: float | None, digits: int = 2) -> float | None:
    # + 0.0: a value that rounds to zero is 0.0, not -0.0 (the JSON and CSV said "-0.0")
    return None if x is None or not math.isfinite(x) else round(x, digits) + 0.0


NPS_LEVELS = tuple(float(v) for v in range(11))
"""The 0–10 scale of a "would you recommend" item, the one the Net Promoter Score is made of."""
NPS_ITEM = next(i.code for i in SCALE_ITEMS if scale_levels(i.code) == NPS_LEVELS)
"""The standard questionnaire's recommend question: the NPS of the overview's rows."""


def _nps(counts: Any, noise: float = 0.0) -> list[float | None]:
    """Net Promoter Score with its 95% interval, from the protected counts of a 0–10 item and
    the variance of their noise."""
    est = net_promoter(counts, noise=noise)
    return [_r(est.value, 1), _r(est.ci_low, 1), _r(est.ci_high, 1)]


def _pooled_nps(table: ProtectedTable, offices: Sequence[int], months: list[str],
                min_n: int) -> list[float | None]:  # fmt: skip
    """The NPS of these offices pooled, or three Nones below the minimum of answers (or when
    the page's table does not hold the recommend question)."""
    if NPS_ITEM not in table.grid.levels:
        return [None, None, None]
    counts = table.counts(NPS_ITEM, offices, months)
    if counts.sum() < min_n:
        return [None, None, None]
    return _nps(counts, table.noise_variance(NPS_ITEM, offices, months))


def _top_box(table: ProtectedTable, office: int, months: list[str]) -> Estimate:
    """The top-box share of one office with the noise of its published counts."""
    return top_box(table.counts(TOP_BOX_ITEM, [office], months), 2,
                   noise=table.noise_variance(TOP_BOX_ITEM, [office], months))  # fmt: skip


def _each_nps(table: ProtectedTable, offices: Sequence[int], months: list[str],
              min_n: int) -> dict[int, list[float | None]]:  # fmt: skip
    """`_pooled_nps(table, [office], months, min_n)` of each office, the NPS of all of them in
    one pass (`net_promoter_each`, its noise from `noise_variance_each`)."""
    if NPS_ITEM not in table.grid.levels or not offices:
        return {o: [None, None, None] for o in offices}
    counts = [table.counts(NPS_ITEM, [o], months) for o in offices]
    enough = [o for o, c in zip(offices, counts, strict=True) if c.sum() >= min_n]
    out: dict[int, list[float | None]] = {o: [None, None, None] for o in offices}
    if enough:
        table_of = dict(zip(offices, counts, strict=True))
        noise = table.noise_variance_each(NPS_ITEM, enough, months)
        found = net_promoter_each(np.array([table_of[o] for o in enough]), noise=noise)
        for o, est in zip(enough, found, strict=True):
            out[o] = [_r(est.value, 1), _r(est.ci_low, 1), _r(est.ci_high, 1)]
    return out


def _p(x: float | None) -> float | None:
    """A p- or q-value to three significant digits: 0.000032 stays 3.2e-05, never 0.0 (a
    spreadsheet would read 0.0 as certainty where the page says < 0.001)."""
    return None if x is None or not math.isfinite(x) else float(f"{x:.3g}")


def _index_table(table: ProtectedTable, groups: Sequence[Sequence[int]], months: list[str],
                 labels: Sequence[str] | None = None) -> CountTable:  # fmt: skip
    matrix = table.matrix(INDEX_ITEM, groups, months)
    names = list(labels) if labels is not None else [str(i) for i in range(len(groups))]
    return CountTable(names, list(INDEX_LEVELS), matrix)


def figure_noise(
    table: ProtectedTable, item: str, groups: Sequence[Sequence[int]], months: Sequence[str]
) -> tuple[float, ...]:
    """Per unit, the variance of the noise in each level count of its published figure of
    `item` over `months` (`ProtectedTable.noise_variance`); of single offices, every office
    at once (`ProtectedTable.noise_variance_each`: the same bits, kept as it keeps them)."""
    units = [tuple(g) for g in groups]
    if units and all(len(g) == 1 for g in units):
        return tuple(table.noise_variance_each(item, [g[0] for g in units], months))
    return tuple(table.noise_variance(item, g, months) for g in units)


def index_noise(
    table: ProtectedTable,
    groups: Sequence[Sequence[int]],
    months: Sequence[str],
    item: str = INDEX_ITEM,
) -> tuple[float, ...]:
    """Per unit, the variance of the noise of its published index of `item` over `months`
    (of the index: the mean of its index items' indices; `ProtectedTable.index_noise`); of
    single offices, every office at once (`ProtectedTable.index_noise_each`)."""
    units = [tuple(g) for g in groups]
    if units and all(len(g) == 1 for g in units):
        return tuple(table.index_noise_each([g[0] for g in units], months, item))
    return tuple(table.index_noise(g, months, item) for g in units)


def model_figures(
    counts: CountTable,
    adjusted: Adjustment | None = None,
    index_noise: Sequence[float] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """n, y, v and σ the model is fitted on: the published index counts' observed indices,
    or with `adjusted` (the client-mix adjustment of the same units) the adjusted indices
    and their variances; v is NaN where σ is 0 (every answer on one level: nothing to model,
    as office_model does).

    With `index_noise` (per unit, the variance of the noise of its published index,
    `index_noise`: the mean of its index items' indices, each with its own noise), an
    observed index's variance also holds it. In a small office it is as large as σ²/n. The
    adjusted variances hold the noise already (analysis.casemix)."""
    n, y, v, sigma = index_estimates(counts)
    if adjusted is not None:
        y = np.array([np.nan if a is None else a for a in adjusted.adjusted])
        v = np.array([np.nan if a is None else a * a for a in adjusted.se_adjusted])
        sigma = adjusted.sigma
    elif index_noise is not None:
        v = v + np.asarray(index_noise, dtype=np.float64)
    if sigma == 0:
        v = np.full_like(v, np.nan)
    return n, y, v, sigma


@by_value
def group_model(
    counts: CountTable,
    min_n: int,
    *,
    benchmark: bool = False,
    adjusted: Adjustment | None = None,
    index_noise: tuple[float, ...] | None = None,
    intervals: bool = True,
) -> OfficeModel:
    """The random-effects model of the units in `counts` (analysis.model) on their published
    index counts: verdicts, shrunken indices and difference intervals; on the benchmark
    also the joint rank intervals and the funnel lines. With `adjusted` (the client-mix
    adjustment of the same units), on the adjusted indices and their variances; else with
    `index_noise`, on the observed indices with their noise in their variances. Without
    `intervals`, the same verdicts without the intervals (`fit_office_model`): for a page
    that shows only the verdicts (learning from the best), about a tenth of the work. No
    page, CSV or API shows the network mean's interval or τ's REML estimate (`mean_low`,
    `mean_high`, `tau_reml`): they are not worked out (None; about 2 ms of a 20-office fit,
    most of it the REML search)."""
    n, y, v, sigma = model_figures(counts, adjusted, index_noise)
    return fit_office_model(
        counts.labels, n, y, v, sigma=sigma, min_n=min_n, draws=RANK_DRAWS if benchmark else 1,
        seed=0, funnel=benchmark, intervals=intervals, summary=False,
    )  # fmt: skip


def too_few_offices(model: OfficeModel, min_n: int) -> bool:
    """Fewer than three offices with enough responses: no office is judged against them."""
    return sum(o.n >= min_n for o in model.offices) < 3


def model_verdict(effect: OfficeEffect, model: OfficeModel, min_n: int) -> ModelVerdict:
    if effect.n < min_n:
        return TOO_FEW
    if too_few_offices(model, min_n):
        return "too few offices"
    return effect.verdict


def effective_n(effect: OfficeEffect, model: OfficeModel) -> float | None:
    """The n at which the funnel's lines (drawn for variances σ²/n) hold the unit's variance
    (its se², with its noise and the client-mix adjustment's uncertainty): σ²/se². Drawn
    there, a point beyond a line is a unit with that verdict (t20 found adjusted units drawn
    at their n beyond the line without the verdict)."""
    if effect.se is None or effect.se <= 0 or not model.sigma:
        return None
    return round(model.sigma**2 / effect.se**2, 2)


def funnel_position(effect: OfficeEffect, model: OfficeModel) -> Position:
    """Where the unit lies against the model's funnel: the funnel's lines are where the
    verdict switches (at 95% and at 99.8%), so the position is the verdict itself, and
    beyond the 99.8% line where the same rule holds at 99.8%."""
    if effect.prob_above is None or effect.difference is None:
        return TOO_FEW
    if effect.verdict == "above":
        strong = effect.prob_above >= (1 + 0.998) / 2
        return "above 99.8%" if strong else "above 95%"
    if effect.verdict == "below":
        strong = 1 - effect.prob_above >= (1 + 0.998) / 2
        return "below 99.8%" if strong else "below 95%"
    return "within"


class Rows:
    """`office_rows` result: the visible offices' rows, and the rank test and the model of
    the whole group they come from (on `counts`, the group's published index counts)."""

    def __init__(self, rows: list[OfficeRow], comparison: Comparison, model: OfficeModel,
                 counts: CountTable, adjusted: Adjustment | None = None,
                 index_noise: tuple[float, ...] | None = None, *,
                 pools: dict[frozenset[int], str | None]) -> None:  # fmt: skip
        self.rows, self.comparison, self.model, self.counts = rows, comparison, model, counts
        self.adjusted, self.index_noise = adjusted, index_noise
        self._forecast_key: tuple[bytes, int, bytes] | None = None
        self.pools = pools
        """`hidden_pools` of the index over the period (the group's, the office page's pools)."""

    def forecast_key(self) -> tuple[bytes, int, bytes]:
        """The group's published index counts, their number of rows and the model's figures
        (y, v and σ, `model_figures`) as `_needed` takes them: the same for every office of
        the group, so worked out once."""
        if self._forecast_key is None:
            matrix = np.ascontiguousarray(self.counts.counts, dtype=np.float64)
            _, y, v, sigma = model_figures(self.counts, self.adjusted, self.index_noise)
            figures = np.concatenate([y, v, [sigma]]).tobytes()
            self._forecast_key = (matrix.tobytes(), matrix.shape[0], figures)
        return self._forecast_key


def _adjusted(adj: Adjustment | None, g: int, shown: bool) -> list[float | None]:
    """A unit's adjusted index with its 95% interval, or three Nones."""
    if adj is None or not shown or adj.adjusted[g] is None or adj.se_adjusted[g] is None:
        return [None, None, None]
    value, se = adj.adjusted[g], adj.se_adjusted[g]
    assert value is not None and se is not None
    return [_r(value), _r(value - 1.96 * se), _r(value + 1.96 * se)]


def office_rows(
    scope: Scope,
    table: ProtectedTable,
    filters: Filters,
    min_n: int,
    only: int | None = None,
    mix: Mix | None = None,
) -> Rows:
    """The rows of the visible offices (of office `only` alone: an office page needs its own
    row, the model and the rank test of the whole group, not the others' change or NPS)."""
    group = list(scope.group)
    groups = [[o.id] for o in group]
    cur_months, prev_months = current_months(filters), previous_months(filters)
    counts = _index_table(table, groups, cur_months)
    each = figure_noise(table, INDEX_ITEM, groups, cur_months)
    own = index_noise(table, groups, cur_months)
    comparison = compare_offices(counts, min_n, min_effect=MIN_EFFECT, noise=each,
                                 index_noise=own)  # fmt: skip
    adj = mix.adjust(groups, counts.counts, counts.labels, min_n) if mix is not None else None
    # the adjusted variances hold the noise already
    noise = None if adj is not None else own
    model = group_model(counts, min_n, adjusted=adj, index_noise=noise)
    cur = counts.counts  # the published index counts of the period, one row per office
    # an office is compared with the rest of the group: against a withheld group, its
    # effect size, q and verdict would give the group back (issue 10, red team)
    pools = hidden_pools(scope, table, cur_months, min_n)  # (the pages read them again: kept)
    against = pools[frozenset(o.id for o in group)]
    rows: list[OfficeRow] = []
    before_noise: dict[int, float] = {}
    top_boxes: dict[int, Estimate] = {}
    npss: dict[int, list[float | None]] = {}
    shares_of: dict[int, float] = {}
    changing: list[tuple[int, np.ndarray, np.ndarray, tuple[float, float, float]]] = []
    if only is None:  # the figures each row reads, of every visible office at once
        shown = [o.id for o in group if o.id in scope.visible]
        table.each_office(INDEX_ITEM, shown, prev_months)
        table.each_office(TOP_BOX_ITEM, shown, cur_months)
        before_noise = dict(zip(shown, table.index_noise_each(shown, prev_months), strict=True))
        if shown:  # the top-box share of every visible office in one pass
            shares = top_box_each(np.array([table.counts(TOP_BOX_ITEM, [o], cur_months)
                                            for o in shown]), 2,
                                  noise=table.noise_variance_each(TOP_BOX_ITEM, shown,
                                                                  cur_months))  # fmt: skip
            top_boxes = dict(zip(shown, shares, strict=True))
        enough_ids = [o.id for o, comp in zip(group, comparison.offices, strict=True)
                      if o.id in scope.visible and comp.n >= min_n]  # fmt: skip
        npss = _each_nps(table, enough_ids, cur_months, min_n)
        # the noise the two periods' indices share, of every office with enough at once
        shared_each = table.index_covariance_each(enough_ids, prev_months, cur_months)
        shares_of = dict(zip(enough_ids, shared_each, strict=True))
    for g, (office, comp, effect) in enumerate(
        zip(group, comparison.offices, model.offices, strict=True)
    ):
        if office.id not in scope.visible or only not in (None, office.id):
            continue
        enough = comp.n >= min_n
        modelled = enough and not against
        tb = top_boxes.get(office.id) or _top_box(table, office.id, cur_months)
        tb_ok = enough and tb.n >= min_n
        prev = table.counts(INDEX_ITEM, [office.id], prev_months)
        prev_n = int(prev.sum())
        prev_ok = enough and prev_n >= min_n
        if prev_ok:  # with each period's noise, and the running totals the two share
            before = before_noise.get(office.id)
            if before is None:
                before = table.index_noise([office.id], prev_months)
            shared = shares_of.get(office.id)
            if shared is None:
                shared = table.index_covariance([office.id], prev_months, cur_months)
            changing.append((len(rows), prev, cur[g], (before, own[g], shared)))
        nps = ((npss[office.id] if office.id in npss
                else _pooled_nps(table, [office.id], cur_months, min_n))
               if enough else [None, None, None])  # fmt: skip
        adjusted = _adjusted(adj, g, modelled)
        rows.append(
            OfficeRow(
                office_id=office.id,
                office=office.name,
                organization=office.organization,
                n=comp.n if enough else None,
                index=_r(comp.index),
                index_low=_r(comp.index_low),
                index_high=_r(comp.index_high),
                top_box=_r(tb.value) if tb_ok else None,
                top_box_low=_r(tb.ci_low) if tb_ok else None,
                top_box_high=_r(tb.ci_high) if tb_ok else None,
                previous_n=prev_n if prev_ok else None,
                change=None,  # below, of every row at once
                change_low=None,
                change_high=None,
                change_pvalue=None,
                verdict=WITHHELD if against and enough else comp.verdict,
                qvalue=None if against else _p(comp.qvalue),
                effect_size=None if against else _r(comp.effect_size, 3),
                model_verdict=(
                    model_verdict(effect, model, min_n) if modelled
                    else WITHHELD if enough else TOO_FEW
                ),
                difference=_r(effect.difference) if modelled else None,
                difference_low=_r(effect.difference_low) if modelled else None,
                difference_high=_r(effect.difference_high) if modelled else None,
                nps=nps[0],
                nps_low=nps[1],
                nps_high=nps[2],
                adjusted=adjusted[0],
                adjusted_low=adjusted[1],
                adjusted_high=adjusted[2],
            )
        )  # fmt: skip
    if changing:  # the change to the previous period of every row at once
        found = change_each(np.array([c[1] for c in changing]),
                            np.array([c[2] for c in changing]), list(INDEX_LEVELS),
                            np.array([c[3] for c in changing]))  # fmt: skip
        for (r, *_), ch in zip(changing, found, strict=True):
            rows[r].change = _r(ch.difference)
            rows[r].change_low = _r(ch.ci_low)
            rows[r].change_high = _r(ch.ci_high)
            rows[r].change_pvalue = _p(ch.pvalue)
    return Rows(rows, comparison, model, counts, adj, noise, pools=pools)


MODEL_ORDER = ["below", "no clear difference", "above", "too few offices", WITHHELD, TOO_FEW]
SortKey = Callable[[OfficeRow], Any]
SORTS: dict[str, SortKey] = {
    "office": lambda r: (r.organization, r.office),
    "n": lambda r: (r.n is not None, r.n or 0),
    "index": lambda r: (r.index is not None, r.index or 0.0),
    "adjusted": lambda r: (r.adjusted is not None, r.adjusted or 0.0),
    "top_box": lambda r: (r.top_box is not None, r.top_box or 0.0),
    "change": lambda r: (r.change is not None, r.change or 0.0),
    "nps": lambda r: (r.nps is not None, r.nps or 0.0),
    "verdict": lambda r: (
        MODEL_ORDER.index(r.model_verdict),
        r.difference if r.difference is not None else 0.0,
    ),
}
"""Sorting by verdict sorts by the model's verdict, then by the estimated difference."""


def parse_sort(raw: str | None) -> tuple[str, bool]:
    raw = (raw or "office").strip()
    key, descending = raw.removeprefix("-"), raw.startswith("-")
    if key not in SORTS:
        raise not_one_of(f"sort must be one of {', '.join(SORTS)} (prefix - for descending)",
                         "sort", tuple(SORTS), raw)  # fmt: skip
    return key, descending


def overview(
    scope: Scope,
    table: ProtectedTable,
    filters: Filters,
    min_n: int,
    sort: str | None = None,
    mix: Mix | None = None,
) -> Overview:
    parse_sort(sort)
    return sorted_overview(unsorted_overview(scope, table, filters, min_n, mix), sort)


def sorted_overview(result: Overview, sort: str | None) -> Overview:
    """`result` with its rows in the order `sort` asks for (a new list; the rows are not
    changed): the figures of every order are those of one."""
    key, descending = parse_sort(sort)
    rows = sorted(result.rows, key=SORTS[key], reverse=descending)
    return msgspec.structs.replace(result, rows=rows)


def unsorted_overview(
    scope: Scope, table: ProtectedTable, filters: Filters, min_n: int, mix: Mix | None = None
) -> Overview:
    """The overview with its rows in the group's order (`sorted_overview` puts them in a
    page's)."""
    found = office_rows(scope, table, filters, min_n, mix=mix)
    rows = found.rows
    total = found.comparison.overall_index
    hidden = found.pools[frozenset(o.id for o in scope.group)]
    shown = total.n >= min_n and hidden is None
    everyone = [o.id for o in scope.group]
    nps: list[float | None] = [None, None, None]
    if shown and NPS_ITEM in table.grid.levels:
        months = current_months(filters)
        if hidden_pools(scope, table, months, min_n, NPS_ITEM)[frozenset(everyone)] is None:
            nps = _pooled_nps(table, everyone, months, min_n)
    _search_rows(scope, rows, found, table, filters)  # the searches side by side
    for row in rows:  # the office page's time to verdict (kept per process: see _needed)
        row.forecast = forecast(scope, row.office_id, row, found, table, filters)
    return Overview(
        filters=filters,
        min_responses=min_n,
        group=scope.group_name,
        group_n=total.n if shown else None,
        group_index=_r(total.value) if shown else None,
        rows=rows,
        group_hidden=hidden,
        group_nps=nps[0],
        group_nps_low=nps[1],
        group_nps_high=nps[2],
        adjustment=note(filters, found.adjusted),
    )


def office_result(
    scope: Scope,
    office_id: int,
    table: ProtectedTable,
    filters: Filters,
    min_n: int,
    *,
    item_text: Callable[[dict[str, str]], str],
    comments: Callable[[list[str]], list[Comment]],
    mix: Mix | None = None,
    own: tuple[ProtectedTable, Sequence[str]] | None = None,
) -> OfficeResult:
    """One office: its row, item distributions, trend, comparison and comments.

    `own`: the protected table of the bank items the office's own questionnaire asked in the
    period (`BANK_ITEMS`, with the index, which sets the blocks) and their codes: listed
    after the standard items, with the index (for a yes/no item the share of "yes") and no
    top-box share where the scale has fewer than four levels.

    `comments` gets the months whose cell of the office has at least `min_n` responses and
    returns the comments to show; `item_text` picks an item's text in the page's language.
    """
    cur_months = current_months(filters)
    found = office_rows(scope, table, filters, min_n, only=office_id, mix=mix)
    row = found.rows[0]
    office = next(o for o in scope.group if o.id == office_id)
    asked = [(table, i.code, i.text) for i in SCALE_ITEMS]
    if own is not None:
        asked += [(own[0], code, BANK_ITEMS[code].text) for code in own[1]]
    items = []
    vectors = [source.counts(code, [office_id], cur_months) for source, code, _ in asked]
    shares = _item_shares([(scale_levels(code), vec) for (_, code, _), vec
                           in zip(asked, vectors, strict=True)], min_n)  # fmt: skip
    for (source, code, texts), vec, (index, box) in zip(asked, vectors, shares, strict=True):
        levels = scale_levels(code)
        n = int(vec.sum())
        ok = n >= min_n
        items.append(
            ItemResult(
                item=code,
                text=item_text(texts),
                n=n if ok else None,
                levels=[int(v) for v in levels],
                counts=[int(c) for c in vec] if ok else None,
                index=index,
                top_box=box,
                nps=(
                    _nps(vec, source.noise_variance(code, [office_id], cur_months))
                    if ok and levels == NPS_LEVELS
                    else None
                ),
            )
        )
    points = []
    shown_months = []  # the months whose comments are shown: each a block of its own
    blocks = block_indices(table, office_id, cur_months, min_n)
    for month, (est, ok) in zip(cur_months, month_indices(table, office_id, cur_months, min_n),
                                strict=True):  # fmt: skip
        first = None
        if ok:
            shown_months.append(month)
        elif month in blocks:  # the last month of a block of several: its point stands here
            (first, est), ok = blocks[month], True
        points.append(
            TrendPoint(
                month,
                est.n if ok else None,
                _r(est.value) if ok else None,
                _r(est.ci_low) if ok else None,
                _r(est.ci_high) if ok else None,
                first,
            )
        )
    comparison = [
        ComparisonRow("office", office.name, row.n, row.index, row.index_low, row.index_high)
    ]
    pools: list[tuple[Literal["organization", "network"], str, list[int]]] = [
        (
            "organization",
            office.organization,
            [o.id for o in scope.group if o.organization_id == office.organization_id],
        ),
    ]
    if len(scope.organizations) > 1 or len(scope.group) > len(pools[0][2]):
        pools.append(("network", scope.group_name, [o.id for o in scope.group]))
    hidden = found.pools
    pooled = satisfaction_index_each(  # the pools' indices in one pass
        np.array([table.counts(INDEX_ITEM, ids, cur_months) for _, _, ids in pools]),
        INDEX_LEVELS, index_noise=[table.index_noise(ids, cur_months) for _, _, ids in pools],
    )  # fmt: skip
    for (level, name, ids), est in zip(pools, pooled, strict=True):
        reason = hidden[frozenset(ids)]
        shown = reason is None and est.n >= min_n
        comparison.append(
            ComparisonRow(
                level,
                name,
                est.n if shown else None,
                _r(est.value) if shown else None,
                _r(est.ci_low) if shown else None,
                _r(est.ci_high) if shown else None,
                hidden=reason,
            )
        )
    row.forecast = forecast(scope, office_id, row, found, table, filters)
    return OfficeResult(
        filters=filters,
        min_responses=min_n,
        office=row,
        items=items,
        trend=points,
        comparison=comparison,
        comments=comments(shown_months),
        comments_withheld=[m for m in cur_months if m not in shown_months],
        forecast=row.forecast,
        adjustment=note(filters, found.adjusted),
    )


def forecast(
    scope: Scope, office_id: int, row: OfficeRow, found: Rows, table: ProtectedTable,
    filters: Filters,
) -> list[Forecast]:  # fmt: skip
    """The time to verdict of an office the model sees no clear difference for yet, at its
    published rate of responses a month (n over the published months of the period), by
    simulation under the model's own rule (`analysis.time_to_verdict`) on the figures the
    verdict is made on (the client-mix adjusted ones with their variances when the page is
    adjusted), trying the n after each of FORECAST_MONTHS: for the model's estimate of its
    difference taken as the true one, and, when that would take longer than MAX_MONTHS,
    for a difference of TYPICAL_DIFFERENCE points in the same direction (how sensitive the
    survey is)."""
    ask = _forecast_ask(scope, office_id, row, found, table, filters)
    if ask is None:
        return []
    key, sign = ask
    assert row.difference is not None  # (`_forecast_ask` asks only then)
    per_month = key[4]
    out: list[Forecast] = []
    for delta in (row.difference, sign * TYPICAL_DIFFERENCE):
        if out and abs(row.difference) >= TYPICAL_DIFFERENCE:
            break  # its own larger difference is not clear in time: 5 points is not either
        needed = None if delta == 0 else _needed(*key[:3], delta, *key[4:])
        months_needed = None if needed is None else math.ceil(needed / per_month)
        out.append(Forecast(_r(delta, 1) or 0.0, per_month, needed, months_needed, MAX_MONTHS))
        if needed is not None:
            break
    return out


_Ask = tuple[bytes, int, int, float, int, int, bytes]
"""`_needed`'s arguments: the group's counts and units, the office's position, the
difference, responses a month, the minimum and the model's figures."""


def _forecast_ask(
    scope: Scope, office_id: int, row: OfficeRow, found: Rows, table: ProtectedTable,
    filters: Filters,
) -> tuple[_Ask, float] | None:  # fmt: skip
    """`_needed`'s arguments for the office's own difference and its sign, or None where
    `forecast` searches nothing: a verdict made, no difference or responses, or fewer than
    one response a month over the published months of the period (no rate to speak of)."""
    if row.model_verdict != "no clear difference" or row.difference is None or not row.n:
        return None
    published = table.grid.published_through
    months = [m for m in current_months(filters) if published is None or m <= published]
    per_month = round(row.n / max(len(months), 1))
    if per_month < 1:
        return None
    position = [o.id for o in scope.group].index(office_id)
    matrix, units, figures = found.forecast_key()
    sign = -1.0 if row.difference < 0 else 1.0
    return (matrix, units, position, row.difference, per_month, found.model.min_n, figures), sign


@functools.lru_cache(maxsize=1024)
def _needed(
    matrix: bytes, units: int, position: int, delta: float, per_month: int, min_n: int,
    figures: bytes,
) -> int | None:  # fmt: skip
    """`time_to_verdict` on the group's published index counts and the model's figures
    (y, v and σ, `model_figures`; seeded, so the same counts give the same answer): kept per
    process, because a closed month's counts never change and the simulation is the
    dearest part of an office page."""
    key = (matrix, units, position, delta, per_month, min_n, figures)
    searched: tuple[int | None] | None = _SEARCHED.get(key)
    if searched is not None:  # an overview's, searched with the others' (`_search_rows`)
        return searched[0]
    values = np.frombuffer(figures, dtype=np.float64)
    return time_to_verdict(
        _group_table(matrix, units), position, delta, min_n=min_n, draws=FORECAST_DRAWS,
        candidates=[per_month * m for m in FORECAST_MONTHS],
        figures=(values[:units], values[units : 2 * units], float(values[-1])), achieved=False,
    ).needed  # fmt: skip


_SEARCHED = memo(1024)
"""`_needed`'s answers found by `_search_rows`, by `_needed`'s arguments: (n,)."""


def _search_rows(
    scope: Scope, rows: list[OfficeRow], found: Rows, table: ProtectedTable, filters: Filters
) -> None:
    """The searches `forecast` makes for the rows of an overview, all of them side by side
    (`analysis.model.times_to_verdict`: each step for every office at once), the n found
    kept for `_needed`: first each office's own difference, then 5 points for those whose
    own is below 5 and not clear in time (as `forecast` asks them)."""
    own = [ask for row in rows
           if (ask := _forecast_ask(scope, row.office_id, row, found, table, filters))]  # fmt: skip
    asks = [key for key, _ in own if key[3] != 0 and _SEARCHED.get(key) is None]
    _search_each(asks)
    asks = [(*key[:3], sign * TYPICAL_DIFFERENCE, *key[4:]) for key, sign in own
            if abs(key[3]) < TYPICAL_DIFFERENCE
            and (key[3] == 0 or _SEARCHED.get(key) == (None,))]  # fmt: skip
    _search_each([key for key in asks if _SEARCHED.get(key) is None])


def _search_each(asks: list[_Ask]) -> None:
    """`_needed` of each key in `asks` (one group's), in one `times_to_verdict`."""
    from analysis.model import times_to_verdict

    if not asks:
        return
    matrix, units, *_, min_n, figures = asks[0]
    values = np.frombuffer(figures, dtype=np.float64)
    forecasts = times_to_verdict(
        _group_table(matrix, units), [(k[2], k[3], [k[4] * m for m in FORECAST_MONTHS])
        for k in asks], min_n=min_n, draws=FORECAST_DRAWS,
        figures=(values[:units], values[units : 2 * units], float(values[-1])), achieved=False,
    )  # fmt: skip
    for key, found in zip(asks, forecasts, strict=True):
        _SEARCHED.put(key, (found.needed,))


@functools.lru_cache(maxsize=8)
def _group_table(matrix: bytes, units: int) -> CountTable:
    """The group's published index counts as a table (read only): one for every forecast of
    the group's offices (about 0.1 ms each to build and check)."""
    counts = np.frombuffer(matrix, dtype=np.float64).reshape(units, len(INDEX_LEVELS))
    return CountTable([str(i) for i in range(units)], list(INDEX_LEVELS), counts)


Unit = tuple[int, str, list[int]]
"""An office or job centre compared: its id, name and offices."""


def comparison_units(
    scope: Scope, level: Literal["office", "organization"]
) -> tuple[list[Unit], set[int]]:
    """The units of the comparison group at `level`, and the ids of those the user may see
    (a job centre when they may see all its offices)."""
    if level == "office":
        return [(o.id, o.name, [o.id]) for o in scope.group], {
            o.id for o in scope.group if o.id in scope.visible
        }
    by_org: dict[int, list[OfficeRef]] = defaultdict(list)
    for o in scope.group:
        by_org[o.organization_id].append(o)
    units = [
        (org, offices[0].organization, [o.id for o in offices]) for org, offices in by_org.items()
    ]
    return units, {org for org, _, ids in units if all(i in scope.visible for i in ids)}


class BenchmarkParts:
    """The benchmark struct plus what the charts need (analysis results of visible units)."""

    def __init__(self, result: Benchmark, comparison: Comparison, funnel: Funnel) -> None:
        self.result = result
        self.comparison = comparison
        self.funnel = funnel


def benchmark(
    scope: Scope,
    table: ProtectedTable,
    filters: Filters,
    min_n: int,
    level: Literal["office", "organization"] = "office",
    mix: Mix | None = None,
) -> BenchmarkParts:
    """Every office (or job centre) of the group, ranked with intervals; visible ones shown.

    Group statistics (target, funnel limits, shrinkage, ranks) use the whole comparison
    group; a unit outside the user's scope never appears with its own figures. When the
    target would reveal a unit by subtraction, it is withheld and so are the shrunken indices
    and ranks (both are computed from it, and two shrunken values give it back).
    """
    months = current_months(filters)
    units, visible = comparison_units(scope, level)
    labels = _unique_labels([name for _, name, _ in units])
    table_ = _index_table(table, [ids for _, _, ids in units], months, labels)
    each = figure_noise(table, INDEX_ITEM, [ids for _, _, ids in units], months)
    own = index_noise(table, [ids for _, _, ids in units], months)
    comparison = compare_offices(table_, min_n, min_effect=MIN_EFFECT, noise=each,
                                 index_noise=own)  # fmt: skip
    adj = (
        mix.adjust([ids for _, _, ids in units], table_.counts, labels, min_n)
        if mix is not None else None
    )  # fmt: skip
    noise = None if adj is not None else own  # the adjusted variances hold it already
    model = group_model(table_, min_n, benchmark=True, adjusted=adj, index_noise=noise)
    pools = hidden_pools(scope, table, months, min_n)
    target_hidden = pools[frozenset(o.id for o in scope.group)]
    hidden = {
        labels[i]: pools.get(frozenset(ids)) if level == "organization" else None
        for i, (_, _, ids) in enumerate(units)
    }
    out = []
    points = []
    drawn: dict[str, list[float | None]] = {}
    """The adjusted index each shown unit has in the caterpillar (when adjusted)."""
    for g, ((uid, name, _), comp, effect) in enumerate(
        zip(units, comparison.offices, model.offices, strict=True)
    ):
        position = funnel_position(effect, model)
        points.append(FunnelPoint(effect.label, effect.n, effect.estimate, None, position,
                                  effective_n(effect, model)))  # fmt: skip
        if uid not in visible:
            continue
        ok = comp.n >= min_n and hidden[comp.label] is None
        ranked = ok and target_hidden is None and effect.value is not None
        verdict = model_verdict(effect, model, min_n)
        adjusted = _adjusted(adj, g, ranked)
        drawn[comp.label] = adjusted
        out.append(
            BenchmarkRow(
                id=uid,
                name=name,
                n=comp.n if ok else None,
                index=_r(comp.index) if ok else None,
                index_low=_r(comp.index_low) if ok else None,
                index_high=_r(comp.index_high) if ok else None,
                shrunken=_r(effect.value) if ranked else None,
                shrunken_low=_r(effect.ci_low) if ranked else None,
                shrunken_high=_r(effect.ci_high) if ranked else None,
                rank=effect.rank if ranked else None,
                rank_low=effect.rank_low if ranked else None,
                rank_high=effect.rank_high if ranked else None,
                of=model.ranks_of if ranked else None,
                verdict=(comp.verdict if target_hidden is None else WITHHELD) if ok else TOO_FEW,
                qvalue=_p(comp.qvalue) if target_hidden is None and ok else None,
                funnel=(position if ranked else WITHHELD if verdict != "too few offices"
                        else verdict) if ok else TOO_FEW,
                hidden=hidden[comp.label],
                model_verdict=(
                    (verdict if target_hidden is None else WITHHELD) if ok else TOO_FEW
                ),
                adjusted=adjusted[0],
                adjusted_low=adjusted[1],
                adjusted_high=adjusted[2],
            )
        )  # fmt: skip
    out.sort(key=lambda r: (r.shrunken is None, -(r.shrunken or 0.0), r.index is None,
                            -(r.index or 0.0), r.name))  # fmt: skip
    shown = {labels[i] for i, (uid, _, _) in enumerate(units) if uid in visible}
    result = Benchmark(
        filters=filters,
        min_responses=min_n,
        level=level,
        group=scope.group_name,
        target=None if target_hidden else _r(model.mean),
        rows=out,
        target_hidden=target_hidden,
        adjustment=note(filters, adj),
    )
    # the caterpillar shows the index the model compared (adjusted for client mix when the
    # adjustment is applied, so its bars never contradict the colours), coloured by the
    # model's verdict; a unit without an adjusted index is left out of an adjusted one
    words: dict[str, Literal["better", "worse"]] = {"above": "better", "below": "worse"}
    if adj is not None:
        comparison = replace(
            comparison,
            offices=tuple(
                replace(o, index=drawn[o.label][0], index_low=drawn[o.label][1],
                        index_high=drawn[o.label][2])
                if o.label in drawn else o
                for o in comparison.offices
            ),
        )  # fmt: skip
    comparison = replace(
        comparison,
        offices=tuple(
            replace(o, index=None, index_low=None, index_high=None) if hidden[o.label]
            else replace(o, verdict=words.get(e.verdict, "no clear difference"))
            if o.verdict != TOO_FEW else o
            for o, e in zip(comparison.offices, model.offices, strict=True)
            if o.label in shown
        ),
    )  # fmt: skip
    funnel = Funnel(
        measure="index", target=model.mean, unit_sd=model.sigma, grid_n=model.funnel_n,
        low95=model.funnel_low95, high95=model.funnel_high95, low998=model.funnel_low998,
        high998=model.funnel_high998, phi=None,
        tau2=None if model.tau is None else model.tau**2, overdispersion_p=None,
        overdispersion="random-effects model", inflated=False, offices=tuple(points),
        reason=model.reason,
    )  # fmt: skip
    if target_hidden:  # a verdict, q or effect size against the hidden target gives it back
        comparison = replace(
            comparison,
            offices=tuple(
                replace(o, verdict=WITHHELD, qvalue=None, pvalue=None, effect_size=None)
                for o in comparison.offices
            ),
        )
    funnel = replace(
        funnel,
        offices=tuple(
            replace(p, value=None) if hidden[p.label] else p
            for p in funnel.offices
            if p.label in shown
        ),
    )
    if target_hidden:  # the limits are centred on the target, the overall line is the pool
        comparison = replace(
            comparison, overall_index=Estimate(None, None, None, 0, reason=target_hidden)
        )
        funnel = replace(funnel, target=None, grid_n=(), low95=(), high95=(), low998=(), high998=())
    return BenchmarkParts(result, comparison, funnel)


def _unique_labels(names: Sequence[str]) -> list[str]:
    seen: dict[str, int] = defaultdict(int)
    out = []
    for name in names:
        seen[name] += 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out
