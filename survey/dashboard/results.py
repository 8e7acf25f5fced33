"""From the protected table to the structs of the pages, CSV and JSON: overview, office,
benchmark. Every figure here is computed from published (protected) counts only."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, Literal

from analysis import (
    CountTable,
    Estimate,
    change,
    compare_offices,
    funnel_limits,
    net_promoter,
    rank_intervals,
    satisfaction_index,
    shrunken_indices,
    top_box,
)
from analysis.benchmark import Comparison, Funnel
from survey.auth.schemas import OfficeRef, Scope
from survey.dashboard.disclosure import INDEX_LEVELS, ProtectedTable, hidden_pools
from survey.dashboard.filters import months_between
from survey.dashboard.schemas import (
    Benchmark,
    BenchmarkRow,
    Comment,
    ComparisonRow,
    Filters,
    ItemResult,
    OfficeResult,
    OfficeRow,
    Overview,
    TrendPoint,
)
from survey.errors import BadRequest
from survey.questionnaire import INDEX_ITEM, Definition, load_definition, standard_definition_bytes

TOP_BOX_ITEM = "overall"
TOO_FEW: Literal["too few responses"] = "too few responses"
WITHHELD: Literal["withheld"] = "withheld"
"""The verdict against a comparison group whose own figure is withheld."""
RANK_DRAWS = 1000
MIN_EFFECT = 0.1
"""A verdict needs |rank-biserial r| ≥ 0.1 (a small effect) besides q < 0.05: in a large
group a trivial difference is significant, and "worse" must mean something to a manager."""
DEFINITION: Definition = load_definition(standard_definition_bytes())
"""Results are compared on the standard questionnaire's item codes and scales."""
SCALE_ITEMS = [i for i in DEFINITION.items if i.type == "scale"]


def scale_levels(code: str) -> tuple[float, ...]:
    item = DEFINITION.item(code)
    assert item is not None
    scale = DEFINITION.scale_of(item)
    return tuple(float(v) for v in range(scale.min, scale.max + 1))


def grid_levels(items: Sequence[str]) -> dict[str, tuple[float, ...]]:
    """The answer levels of each item in the grid (the index in half-point classes)."""
    return {i: INDEX_LEVELS if i == INDEX_ITEM else scale_levels(i) for i in items}


def current_months(filters: Filters) -> list[str]:
    return months_between(filters.first_month, filters.last_month)


def previous_months(filters: Filters) -> list[str]:
    return months_between(filters.previous_first_month, filters.previous_last_month)


def _r(x: float | None, digits: int = 2) -> float | None:
    return None if x is None or not math.isfinite(x) else round(x, digits)


NPS_LEVELS = tuple(float(v) for v in range(11))
"""The 0–10 scale of a "would you recommend" item, the one the Net Promoter Score is made of."""


def _nps(counts: Any) -> list[float | None]:
    """Net Promoter Score with its 95% interval, from the protected counts of a 0–10 item."""
    est = net_promoter(counts)
    return [_r(est.value, 1), _r(est.ci_low, 1), _r(est.ci_high, 1)]


def _p(x: float | None) -> float | None:
    """A p- or q-value to three significant digits: 0.000032 stays 3.2e-05, never 0.0 (a
    spreadsheet would read 0.0 as certainty where the page says < 0.001)."""
    return None if x is None or not math.isfinite(x) else float(f"{x:.3g}")


def _index_table(table: ProtectedTable, groups: Sequence[Sequence[int]], months: list[str],
                 labels: Sequence[str] | None = None) -> CountTable:  # fmt: skip
    matrix = table.matrix(INDEX_ITEM, groups, months)
    names = list(labels) if labels is not None else [str(i) for i in range(len(groups))]
    return CountTable(names, list(INDEX_LEVELS), matrix)


def office_rows(
    scope: Scope, table: ProtectedTable, filters: Filters, min_n: int
) -> tuple[list[OfficeRow], Comparison]:
    group = list(scope.group)
    groups = [[o.id] for o in group]
    cur_months, prev_months = current_months(filters), previous_months(filters)
    comparison = compare_offices(
        _index_table(table, groups, cur_months), min_n, min_effect=MIN_EFFECT
    )
    prev = table.matrix(INDEX_ITEM, groups, prev_months)
    cur = table.matrix(INDEX_ITEM, groups, cur_months)
    # an office is compared with the rest of the group: against a withheld group, its
    # effect size, q and verdict would give the group back (issue 10, red team)
    against = hidden_pools(scope, table, cur_months, min_n)[frozenset(o.id for o in group)]
    rows: list[OfficeRow] = []
    for g, (office, comp) in enumerate(zip(group, comparison.offices, strict=True)):
        if office.id not in scope.visible:
            continue
        enough = comp.n >= min_n
        tb = top_box(table.counts(TOP_BOX_ITEM, [office.id], cur_months), 2)
        tb_ok = enough and tb.n >= min_n
        prev_n = int(prev[g].sum())
        prev_ok = enough and prev_n >= min_n
        ch = change(prev[g], cur[g], list(INDEX_LEVELS)) if prev_ok else None
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
                change=_r(ch.difference) if ch else None,
                change_low=_r(ch.ci_low) if ch else None,
                change_high=_r(ch.ci_high) if ch else None,
                change_pvalue=_p(ch.pvalue) if ch else None,
                verdict=WITHHELD if against and enough else comp.verdict,
                qvalue=None if against else _p(comp.qvalue),
                effect_size=None if against else _r(comp.effect_size, 3),
            )
        )
    return rows, comparison


SortKey = Callable[[OfficeRow], Any]
SORTS: dict[str, SortKey] = {
    "office": lambda r: (r.organization, r.office),
    "n": lambda r: (r.n is not None, r.n or 0),
    "index": lambda r: (r.index is not None, r.index or 0.0),
    "top_box": lambda r: (r.top_box is not None, r.top_box or 0.0),
    "change": lambda r: (r.change is not None, r.change or 0.0),
    "verdict": lambda r: (
        ["worse", "no clear difference", "better", WITHHELD, TOO_FEW].index(r.verdict),
        r.qvalue if r.qvalue is not None else 2.0,
    ),
}


def parse_sort(raw: str | None) -> tuple[str, bool]:
    raw = (raw or "office").strip()
    key, descending = raw.removeprefix("-"), raw.startswith("-")
    if key not in SORTS:
        raise BadRequest(f"sort must be one of {', '.join(SORTS)} (prefix - for descending)")
    return key, descending


def overview(
    scope: Scope, table: ProtectedTable, filters: Filters, min_n: int, sort: str | None = None
) -> Overview:
    key, descending = parse_sort(sort)
    rows, comparison = office_rows(scope, table, filters, min_n)
    rows.sort(key=SORTS[key], reverse=descending)
    total = comparison.overall_index
    hidden = hidden_pools(scope, table, current_months(filters), min_n)[
        frozenset(o.id for o in scope.group)
    ]
    shown = total.n >= min_n and hidden is None
    return Overview(
        filters=filters,
        min_responses=min_n,
        group=scope.group_name,
        group_n=total.n if shown else None,
        group_index=_r(total.value) if shown else None,
        rows=rows,
        group_hidden=hidden,
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
) -> OfficeResult:
    """One office: its row, item distributions, trend, comparison and comments.

    `comments` gets the months whose cell of the office has at least `min_n` responses and
    returns the comments to show; `item_text` picks an item's text in the page's language.
    """
    cur_months = current_months(filters)
    rows, _ = office_rows(scope, table, filters, min_n)
    row = next(r for r in rows if r.office_id == office_id)
    office = next(o for o in scope.group if o.id == office_id)
    items = []
    for item in SCALE_ITEMS:
        levels = scale_levels(item.code)
        vec = table.counts(item.code, [office_id], cur_months)
        n = int(vec.sum())
        ok = n >= min_n
        items.append(
            ItemResult(
                item=item.code,
                text=item_text(item.text),
                n=n if ok else None,
                levels=[int(v) for v in levels],
                counts=[int(c) for c in vec] if ok else None,
                index=_r(satisfaction_index(vec, levels).value) if ok else None,
                top_box=_r(top_box(vec, 2).value) if ok else None,
                nps=_nps(vec) if ok and levels == NPS_LEVELS else None,
            )
        )
    points = []
    shown_months = []
    for month in cur_months:
        est = satisfaction_index(table.counts(INDEX_ITEM, [office_id], [month]), INDEX_LEVELS)
        ok = est.n >= min_n
        if ok:
            shown_months.append(month)
        points.append(
            TrendPoint(
                month,
                est.n if ok else None,
                _r(est.value) if ok else None,
                _r(est.ci_low) if ok else None,
                _r(est.ci_high) if ok else None,
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
    hidden = hidden_pools(scope, table, cur_months, min_n)
    for level, name, ids in pools:
        reason = hidden[frozenset(ids)]
        est = satisfaction_index(table.counts(INDEX_ITEM, ids, cur_months), INDEX_LEVELS)
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
    return OfficeResult(
        filters=filters,
        min_responses=min_n,
        office=row,
        items=items,
        trend=points,
        comparison=comparison,
        comments=comments(shown_months),
        comments_withheld=[m for m in cur_months if m not in shown_months],
    )


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
) -> BenchmarkParts:
    """Every office (or job centre) of the group, ranked with intervals; visible ones shown.

    Group statistics (target, funnel limits, shrinkage, ranks) use the whole comparison
    group; a unit outside the user's scope never appears with its own figures. When the
    target would reveal a unit by subtraction, it is withheld and so are the shrunken indices
    and ranks (both are computed from it, and two shrunken values give it back).
    """
    months = current_months(filters)
    if level == "office":
        units = [(o.id, o.name, [o.id]) for o in scope.group]
        visible = {o.id for o in scope.group if o.id in scope.visible}
    else:
        by_org: dict[int, list[OfficeRef]] = defaultdict(list)
        for o in scope.group:
            by_org[o.organization_id].append(o)
        units = [
            (org, offices[0].organization, [o.id for o in offices])
            for org, offices in by_org.items()
        ]
        visible = {org for org, _, ids in units if all(i in scope.visible for i in ids)}
    labels = _unique_labels([name for _, name, _ in units])
    table_ = _index_table(table, [ids for _, _, ids in units], months, labels)
    comparison = compare_offices(table_, min_n, min_effect=MIN_EFFECT)
    funnel = funnel_limits(table_, measure="index", min_n=min_n)
    shrinkage = shrunken_indices(table_, min_n=min_n)
    ranking = rank_intervals(table_, RANK_DRAWS, 0, min_n=min_n)
    pools = hidden_pools(scope, table, months, min_n)
    target_hidden = pools[frozenset(o.id for o in scope.group)]
    hidden = {
        labels[i]: pools.get(frozenset(ids)) if level == "organization" else None
        for i, (_, _, ids) in enumerate(units)
    }
    out = []
    for (uid, name, _), comp, fp, sh, rk in zip(
        units, comparison.offices, funnel.offices, shrinkage.index, ranking.offices, strict=True
    ):
        if uid not in visible:
            continue
        ok = comp.n >= min_n and hidden[comp.label] is None
        ranked = ok and target_hidden is None
        out.append(
            BenchmarkRow(
                id=uid,
                name=name,
                n=comp.n if ok else None,
                index=_r(comp.index) if ok else None,
                index_low=_r(comp.index_low) if ok else None,
                index_high=_r(comp.index_high) if ok else None,
                shrunken=_r(sh.value) if ranked else None,
                shrunken_low=_r(sh.ci_low) if ranked else None,
                shrunken_high=_r(sh.ci_high) if ranked else None,
                rank=rk.rank if ranked else None,
                rank_low=rk.rank_low if ranked else None,
                rank_high=rk.rank_high if ranked else None,
                of=ranking.of if ranked else None,
                verdict=(comp.verdict if ranked else WITHHELD) if ok else TOO_FEW,
                qvalue=_p(comp.qvalue) if ranked else None,
                funnel=(fp.position if ranked else WITHHELD) if ok else TOO_FEW,
                hidden=hidden[comp.label],
            )
        )
    out.sort(key=lambda r: (r.shrunken is None, -(r.shrunken or 0.0), r.index is None,
                            -(r.index or 0.0), r.name))  # fmt: skip
    shown = {labels[i] for i, (uid, _, _) in enumerate(units) if uid in visible}
    result = Benchmark(
        filters=filters,
        min_responses=min_n,
        level=level,
        group=scope.group_name,
        target=None if target_hidden else _r(funnel.target),
        rows=out,
        target_hidden=target_hidden,
    )
    comparison = replace(
        comparison,
        offices=tuple(
            replace(o, index=None, index_low=None, index_high=None) if hidden[o.label] else o
            for o in comparison.offices
            if o.label in shown
        ),
    )
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
