"""From count rows to the dashboard figures: filters, verdicts, trends, benchmark, CSV, charts.

Everything here is plain data in, plain data out; the HTTP layer only parses and renders.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any, Literal

import numpy as np

from analysis import (
    CountTable,
    Estimate,
    caterpillar,
    change,
    compare_offices,
    diverging_bars,
    funnel_limits,
    funnel_plot,
    rank_intervals,
    satisfaction_index,
    shrunken_indices,
    top_box,
    trend,
)
from analysis.benchmark import Comparison, Funnel
from survey.auth.schemas import OfficeRef, Scope
from survey.dashboard.queries import CountRow
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
from survey.i18n import N_
from survey.questionnaire import INDEX_SCALE, Definition, load_definition, standard_definition_bytes
from survey.respond.store import INDEX_ITEM

SERVICE_TYPES = ("benefits", "placement", "case_management", "under_25")
MODES = ("personal", "kiosk")
TOP_BOX_ITEM = "overall"
MAX_PERIOD_DAYS = 3 * 366
TOO_FEW = "too few responses"
RANK_DRAWS = 1000
MIN_EFFECT = 0.1
"""A verdict needs |rank-biserial r| ≥ 0.1 (a small effect) besides q < 0.05: in a large
group a trivial difference is significant, and "worse" must mean something to a manager."""
DEFINITION: Definition = load_definition(standard_definition_bytes())
"""Results are compared on the standard questionnaire's item codes and scales."""
SCALE_ITEMS = [i for i in DEFINITION.items if i.type == "scale"]
LOCALES = tuple(DEFINITION.translations)


# ---- filters -------------------------------------------------------------------------------


def _date(params: Mapping[str, str], name: str) -> dt.date | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a date like 2026-01-31, got {raw[:40]!r}") from None
    if not 2000 <= day.year <= 2100:
        raise BadRequest(N_("The period must lie between the years 2000 and 2100."))
    return day


def _choice(params: Mapping[str, str], name: str, allowed: Sequence[str]) -> str | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    if raw not in allowed:
        raise BadRequest(f"{name} must be one of {', '.join(allowed)}; got {raw[:40]!r}")
    return raw


def months_back(day: dt.date, months: int) -> dt.date:
    """The first day of the month `months` before the month of `day`."""
    index = day.year * 12 + day.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


def parse_filters(params: Mapping[str, str], today: dt.date) -> Filters:
    """Period, service type, language and mode of the response.

    Default period: the last 12 months, i.e. this month so far and the 11 before, and the
    previous period the 12 months before those (whole months, so the month rollups serve
    them). A chosen period `from`–`to` is compared with the same number of days just before.
    Raises BadRequest with the reason for an invalid date, period or value.
    """
    date_to = _date(params, "to") or today
    chosen_from = _date(params, "from")
    date_from = chosen_from or months_back(date_to, 11)
    if date_from > date_to:
        raise BadRequest(N_("The period must not end before it starts (from > to)."))
    if (date_to - date_from).days + 1 > MAX_PERIOD_DAYS:
        raise BadRequest(N_("The period may span at most three years."))
    if date_from.year < 2000 or date_to.year > 2100:
        raise BadRequest(N_("The period must lie between the years 2000 and 2100."))
    previous_to = date_from - dt.timedelta(days=1)
    if chosen_from is None:
        previous_from = months_back(date_from, 12)
    else:
        previous_from = previous_to - (date_to - date_from)
    return Filters(
        date_from=date_from,
        date_to=date_to,
        previous_from=previous_from,
        previous_to=previous_to,
        service_type=_choice(params, "service_type", SERVICE_TYPES),
        locale=_choice(params, "language", LOCALES),
        mode=_choice(params, "mode", MODES),
    )


def filter_query(filters: Filters) -> dict[str, str]:
    query = {"from": filters.date_from.isoformat(), "to": filters.date_to.isoformat()}
    for key, value in (
        ("service_type", filters.service_type),
        ("language", filters.locale),
        ("mode", filters.mode),
    ):
        if value:
            query[key] = value
    return query


# ---- personal data in comments -------------------------------------------------------------

MASKS = {
    "email": "[E-Mail]",
    "customer": "[Kundennummer]",
    "phone": "[Telefon]",
    "name": "[Name]",
}
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_CUSTOMER = re.compile(r"(?<!\w)\d{3}[\s-]?[A-Za-z][\s-]?\d{3}[\s-]?\d{3}(?!\w)")
"""123D456789, also written 123-D-456789 or 123 D 456 789."""
_PHONE = re.compile(r"(?<!\w)(?:\+|00)?\d(?:[ /()-]{0,2}\d){5,}(?!\w)")
"""Six or more digits, optionally separated by spaces, slashes, dashes or brackets (not
dots, so dates such as 24.11.2026 stay)."""
_DEGREE = (
    r"(?:Prof\.|Dr\.|Dipl\.-?\s?[^\W\d_]+\.|PD|(?:med|dent|vet|phil|jur|rer\.\s?nat|h\.\s?c)\.)"
)
_NAME = re.compile(
    rf"\b(?P<title>(?:(?i:frau|herrn?)|[Hh]r|[Ff]r)\b\.?)(?P<degrees>(?:\s+{_DEGREE})*)"
    r"(?=(?P<tail>(?:\s+[^\W\d_][\w'-]*){1,6}))"
)
"""A title in any case (Frau, Herr, Herrn, Hr, Fr, with or without dot) and degrees; the
words after it are looked at by _name_length."""
_WORD = re.compile(r"\s+[^\W\d_][\w'-]*")
PARTICLES = frozenset({"von", "van", "de", "der", "den", "del", "della", "di", "da", "du",
                       "dos", "zu", "zum", "zur", "ten", "ter", "la", "le", "al", "el", "ibn",
                       "bin", "bint", "abu"})  # fmt: skip
"""Lowercase name particles: "Frau von der Heide", "Herr al-Hassan"."""


def _name_length(tail: str) -> int:
    """How many characters of `tail` are a name: up to two capitalised words, each possibly
    after lowercase particles ("Anna von der Heide", "de Vries", "al-Hassan")."""
    words = _WORD.findall(tail)
    end = i = 0
    for _ in range(2):
        j = i
        while j < len(words) and words[j].strip() in PARTICLES:
            j += 1
        if j < len(words) and _is_name_word(words[j].strip()):
            end = i = j + 1
        else:
            break
    return sum(len(w) for w in words[:end])


def _is_name_word(word: str) -> bool:
    """A capitalised word, or one joined to a particle: "al-Hassan", "d'Angelo"."""
    if word[0].isupper():
        return True
    joined = re.match(r"([^\W\d_]+)[-'](.)", word)
    return joined is not None and joined[1] in PARTICLES | {"d", "o"} and joined[2].isupper()


def _mask_names(text: str, label: str) -> str:
    out, pos = [], 0
    while match := _NAME.search(text, pos):
        length = _name_length(match["tail"])
        out.append(text[pos : match.end()] if not length else text[pos : match.start()])
        if length:
            out.append(f"{match['title']}{match['degrees']} {label}")
        pos = match.end() + length
    out.append(text[pos:])
    return "".join(out)


def mask_personal_data(text: str, masks: Mapping[str, str] = MASKS) -> str:
    """Replace e-mail addresses, customer numbers (123D456789), phone numbers and the names
    after Frau/Herr/Herrn/Hr/Fr in any case (titles and degrees kept, particles masked).

    Order matters: e-mail addresses and customer numbers before phone numbers.
    """
    text = _EMAIL.sub(masks["email"], text)
    text = _CUSTOMER.sub(masks["customer"], text)
    text = _PHONE.sub(masks["phone"], text)
    return _mask_names(text, masks["name"])


# ---- counts --------------------------------------------------------------------------------


class Counts:
    """Count rows as vectors: per (office, item, period) and per month of the trend office."""

    def __init__(self, rows: Iterable[CountRow]) -> None:
        self.cells: dict[tuple[int, str, int], dict[int, int]] = defaultdict(dict)
        self.months: dict[tuple[str, str], dict[int, int]] = defaultdict(dict)
        self.index_values: set[int] = {INDEX_SCALE, 5 * INDEX_SCALE}
        for r in rows:
            periods = (0,) if r.period == 0 else (1, 2) if r.period == 2 else (1,)
            for p in periods:
                cell = self.cells[(r.office, r.item, p)]
                cell[r.value] = cell.get(r.value, 0) + r.n
            if r.month:
                cell = self.months[(r.month, r.item)]
                cell[r.value] = cell.get(r.value, 0) + r.n
            if r.item == INDEX_ITEM:
                self.index_values.add(r.value)

    def index_levels(self) -> list[int]:
        return sorted(self.index_values)

    def vector(self, office: int, item: str, period: int, levels: Sequence[int]) -> list[int]:
        cell = self.cells.get((office, item, period), {})
        return [cell.get(v, 0) for v in levels]

    def matrix(
        self, groups: Sequence[Sequence[int]], item: str, period: int, levels: Sequence[int]
    ) -> np.ndarray:
        """One row per group of offices (an office, or all offices of a job centre)."""
        out = np.zeros((len(groups), len(levels)))
        for g, offices in enumerate(groups):
            for office in offices:
                out[g] += self.vector(office, item, period, levels)
        return out


def _scale_levels(code: str) -> list[int]:
    item = DEFINITION.item(code)
    assert item is not None
    scale = DEFINITION.scale_of(item)
    return list(range(scale.min, scale.max + 1))


def _index_table(counts: Counts, groups: Sequence[Sequence[int]], period: int) -> CountTable:
    levels = counts.index_levels()
    matrix = counts.matrix(groups, INDEX_ITEM, period, levels)
    return CountTable(
        [str(i) for i in range(len(groups))], [v / INDEX_SCALE for v in levels], matrix
    )


def _r(x: float | None, digits: int = 2) -> float | None:
    return None if x is None or not math.isfinite(x) else round(x, digits)


HIDDEN_UNIT = "hidden: would reveal a single office or job centre"
HIDDEN_FEW = "hidden: would reveal fewer than the minimum number of responses"


def pooled_figure_hidden(
    scope: Scope,
    pooled: Collection[int],
    known: Iterable[Collection[int]],
    n_of: Mapping[int, int],
    min_n: int,
) -> str | None:
    """Why a pooled figure (job centre, network, comparison group, benchmark target) must not
    be shown, or None.

    Take away from `pooled` every block of offices whose figure the user already sees (a
    visible office shown with its index, a pooled row shown); the rest is what subtraction
    reveals. Hidden when the rest has fewer than `min_n` responses, or is one office, or its
    offices the user may not see are one office or one whole job centre.
    """
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


def hidden_pools(scope: Scope, counts: Counts, min_n: int) -> dict[frozenset[int], str | None]:
    """Every pooled figure a page may show (the job centres of the visible offices, then the
    whole group) with the reason to hide it, decided once so that pages, CSV and API agree
    and no two of them together reveal what one hides."""
    levels = counts.index_levels()
    n_of = {o.id: sum(counts.vector(o.id, INDEX_ITEM, 1, levels)) for o in scope.group}
    known: list[frozenset[int]] = [
        frozenset({o.id}) for o in scope.visible_offices if n_of[o.id] >= min_n
    ]
    by_org: dict[int, set[int]] = defaultdict(set)
    for o in scope.group:
        by_org[o.organization_id].add(o.id)
    pools = [
        frozenset(by_org[org]) for org in sorted({o.organization_id for o in scope.visible_offices})
    ]
    pools.append(frozenset(o.id for o in scope.group))
    decisions: dict[frozenset[int], str | None] = {}
    for pool in pools:
        if pool in decisions:
            continue
        decisions[pool] = pooled_figure_hidden(scope, pool, known, n_of, min_n)
        if decisions[pool] is None:
            known.append(pool)
    return decisions


def _office_rows(
    scope: Scope, counts: Counts, filters: Filters, min_n: int, today: dt.date
) -> tuple[list[OfficeRow], Comparison]:
    group = list(scope.group)
    groups = [[o.id] for o in group]
    comparison = compare_offices(_index_table(counts, groups, 1), min_n, min_effect=MIN_EFFECT)
    levels = [v / INDEX_SCALE for v in counts.index_levels()]
    prev = _index_table(counts, groups, 0).counts
    cur = _index_table(counts, groups, 1).counts
    recent = _index_table(counts, groups, 2).counts.sum(axis=1)
    tb_levels = _scale_levels(TOP_BOX_ITEM)
    rows: list[OfficeRow] = []
    for g, (office, comp) in enumerate(zip(group, comparison.offices, strict=True)):
        if office.id not in scope.visible:
            continue
        enough = comp.n >= min_n
        tb = top_box(counts.vector(office.id, TOP_BOX_ITEM, 1, tb_levels), 2)
        tb_ok = enough and tb.n >= min_n
        prev_n = int(prev[g].sum())
        ch = change(prev[g], cur[g], levels) if enough and prev_n >= min_n else None
        needed = needed_by = None
        if not enough:
            needed = min_n - comp.n
            rate = float(recent[g]) / filters.recent_days
            if rate > 0:
                needed_by = today + dt.timedelta(days=math.ceil(needed / rate))
        rows.append(
            OfficeRow(
                office_id=office.id,
                office=office.name,
                organization=office.organization,
                n=comp.n,
                index=_r(comp.index),
                index_low=_r(comp.index_low),
                index_high=_r(comp.index_high),
                top_box=_r(tb.value) if tb_ok else None,
                top_box_low=_r(tb.ci_low) if tb_ok else None,
                top_box_high=_r(tb.ci_high) if tb_ok else None,
                previous_n=prev_n,
                change=_r(ch.difference) if ch else None,
                change_low=_r(ch.ci_low) if ch else None,
                change_high=_r(ch.ci_high) if ch else None,
                change_pvalue=_r(ch.pvalue, 4) if ch else None,
                verdict=comp.verdict,
                qvalue=_r(comp.qvalue, 4),
                effect_size=_r(comp.effect_size, 3),
                needed=needed,
                needed_by=needed_by,
            )
        )
    return rows, comparison


SortKey = Callable[[OfficeRow], Any]
SORTS: dict[str, SortKey] = {
    "office": lambda r: (r.organization, r.office),
    "n": lambda r: r.n,
    "index": lambda r: (r.index is not None, r.index or 0.0),
    "top_box": lambda r: (r.top_box is not None, r.top_box or 0.0),
    "change": lambda r: (r.change is not None, r.change or 0.0),
    "verdict": lambda r: (
        ["worse", "no clear difference", "better", TOO_FEW].index(r.verdict),
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
    scope: Scope,
    rows: Iterable[CountRow],
    filters: Filters,
    min_n: int,
    today: dt.date,
    sort: str | None = None,
) -> Overview:
    key, descending = parse_sort(sort)
    counts = Counts(rows)
    office_rows, comparison = _office_rows(scope, counts, filters, min_n, today)
    office_rows.sort(key=SORTS[key], reverse=descending)
    total = comparison.overall_index
    hidden = hidden_pools(scope, counts, min_n)[frozenset(o.id for o in scope.group)]
    return Overview(
        filters=filters,
        min_responses=min_n,
        group=scope.group_name,
        group_n=total.n,
        group_index=_r(total.value) if total.n >= min_n and hidden is None else None,
        rows=office_rows,
        group_hidden=hidden,
    )


def _pooled(counts: Counts, offices: Sequence[int], min_n: int) -> tuple[int, Any]:
    levels = counts.index_levels()
    vec = counts.matrix([offices], INDEX_ITEM, 1, levels)[0]
    est = satisfaction_index(vec, [v / INDEX_SCALE for v in levels])
    return est.n, est if est.n >= min_n else None


def office_result(
    scope: Scope,
    office_id: int,
    rows: Iterable[CountRow],
    filters: Filters,
    min_n: int,
    today: dt.date,
    comments: Sequence[Mapping[str, Any]],
    *,
    locale: str = "de",
    masks: Mapping[str, str] = MASKS,
) -> OfficeResult:
    counts = Counts(rows)
    office_rows, _ = _office_rows(scope, counts, filters, min_n, today)
    row = next(r for r in office_rows if r.office_id == office_id)
    office = next(o for o in scope.group if o.id == office_id)
    items = []
    for item in SCALE_ITEMS:
        levels = _scale_levels(item.code)
        vec = counts.vector(office_id, item.code, 1, levels)
        n = sum(vec)
        ok = n >= min_n
        items.append(
            ItemResult(
                item=item.code,
                text=DEFINITION.text(item.text, locale),
                n=n,
                levels=levels,
                counts=vec if ok else None,
                index=_r(satisfaction_index(vec, levels).value) if ok else None,
                top_box=_r(top_box(vec, 2).value) if ok else None,
            )
        )
    index_levels = counts.index_levels()
    lv = [v / INDEX_SCALE for v in index_levels]
    points = []
    for month in months_between(filters.date_from, filters.date_to):
        cell = counts.months.get((month, INDEX_ITEM), {})
        vec = [cell.get(v, 0) for v in index_levels]
        est = satisfaction_index(vec, lv)
        ok = est.n >= min_n
        points.append(
            TrendPoint(
                month,
                est.n,
                _r(est.value) if ok else None,
                _r(est.ci_low) if ok else None,
                _r(est.ci_high) if ok else None,
            )
        )
    comparison = [
        ComparisonRow("office", office.name, row.n, row.index, row.index_low, row.index_high)
    ]
    levels_of: list[tuple[Literal["organization", "network"], str, list[int]]] = [
        (
            "organization",
            office.organization,
            [o.id for o in scope.group if o.organization_id == office.organization_id],
        ),
    ]
    if len(scope.organizations) > 1 or len(scope.group) > len(levels_of[0][2]):
        levels_of.append(("network", scope.group_name, [o.id for o in scope.group]))
    hidden_pool = hidden_pools(scope, counts, min_n)
    for level, name, ids in levels_of:
        reason = hidden_pool[frozenset(ids)]
        n, pooled = _pooled(counts, ids, min_n)
        shown = None if reason else pooled
        comparison.append(
            ComparisonRow(
                level,
                name,
                n,
                _r(shown.value) if shown else None,
                _r(shown.ci_low) if shown else None,
                _r(shown.ci_high) if shown else None,
                hidden=reason,
            )
        )
    hidden = row.n < min_n
    return OfficeResult(
        filters=filters,
        min_responses=min_n,
        office=row,
        items=items,
        trend=points,
        comparison=comparison,
        comments=[]
        if hidden
        else [
            Comment(c["day"], c["locale"], mask_personal_data(str(c["text"]), masks))
            for c in comments
        ],
        comments_hidden=hidden,
    )


def months_between(start: dt.date, end: dt.date) -> list[str]:
    out = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


class BenchmarkParts:
    """The benchmark struct plus what the charts need (analysis results of visible units)."""

    def __init__(
        self, result: Benchmark, comparison: Comparison, funnel: Funnel, names: dict[str, str]
    ) -> None:
        self.result = result
        self.comparison = comparison
        self.funnel = funnel
        self.names = names


def benchmark(
    scope: Scope,
    rows: Iterable[CountRow],
    filters: Filters,
    min_n: int,
    level: Literal["office", "organization"] = "office",
) -> BenchmarkParts:
    """Every office (or job centre) of the group, ranked with intervals; visible ones shown.

    Group statistics (target, funnel limits, shrinkage, ranks) use the whole comparison group;
    a unit outside the user's scope never appears with its own figures.
    """
    counts = Counts(rows)
    units: list[tuple[int, str, list[int]]] = []
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
    levels = counts.index_levels()
    table = CountTable(
        labels,
        [v / INDEX_SCALE for v in levels],
        counts.matrix([ids for _, _, ids in units], INDEX_ITEM, 1, levels),
    )
    comparison = compare_offices(table, min_n, min_effect=MIN_EFFECT)
    funnel = funnel_limits(table, measure="index", min_n=min_n)
    shrinkage = shrunken_indices(table, min_n=min_n)
    ranking = rank_intervals(table, RANK_DRAWS, 0, min_n=min_n)
    pools = hidden_pools(scope, counts, min_n)
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
        out.append(
            BenchmarkRow(
                id=uid,
                name=name,
                n=comp.n,
                index=_r(comp.index) if ok else None,
                index_low=_r(comp.index_low) if ok else None,
                index_high=_r(comp.index_high) if ok else None,
                shrunken=_r(sh.value) if ok else None,
                shrunken_low=_r(sh.ci_low) if ok else None,
                shrunken_high=_r(sh.ci_high) if ok else None,
                rank=rk.rank,
                rank_low=rk.rank_low,
                rank_high=rk.rank_high,
                of=ranking.of,
                verdict=comp.verdict,
                qvalue=_r(comp.qvalue, 4),
                funnel=fp.position,
                hidden=hidden[comp.label],
            )
        )
    out.sort(key=lambda r: (r.shrunken is None, -(r.shrunken or 0.0), r.name))
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
    return BenchmarkParts(result, comparison, funnel, dict(zip(labels, labels, strict=True)))


def _unique_labels(names: Sequence[str]) -> list[str]:
    seen: dict[str, int] = defaultdict(int)
    out = []
    for name in names:
        seen[name] += 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


# ---- charts --------------------------------------------------------------------------------


def office_charts(result: OfficeResult, lang: Literal["de", "en"]) -> dict[str, Any]:
    """The trend, and one answer chart per scale ("items-<scale>") so that every item is
    drawn with the words its own answer levels have (agree, satisfied, ...)."""
    charts: dict[str, Any] = {}
    for scale, items in _items_by_scale(result.items).items():
        labels = _level_labels(scale, lang)
        if labels is None:  # a scale that labels only its ends (0-10) stays in the table
            continue
        charts[f"items-{scale}"] = diverging_bars(
            [i.text for i in items],
            [i.counts or [0] * len(labels) for i in items],
            labels,
            lang=lang,
            min_n=result.min_responses,
        )
    estimates = [satisfaction_estimate(p) for p in result.trend]
    line = trend([p.month for p in result.trend], estimates, lang=lang, min_n=result.min_responses)
    return {"trend": _band_without_gaps(line), **charts}


def _items_by_scale(items: Iterable[ItemResult]) -> dict[str, list[ItemResult]]:
    """Items grouped by the code of their scale, scales in questionnaire order."""
    out: dict[str, list[ItemResult]] = defaultdict(list)
    for i in items:
        item = DEFINITION.item(i.item)
        if item is not None and item.scale is not None:
            out[item.scale].append(i)
    return dict(out)


def _band_without_gaps(fig: Any) -> Any:
    """Split the interval band at months without a value.

    plotly's fill="tonexty" joins a band across gaps into a wrong shape, so each run of
    months with values gets its own pair of band traces (the analysis figure keeps one pair).
    """
    high, low, *rest = (dict(t.to_plotly_json()) for t in fig.data)
    runs: list[list[int]] = [[]]
    for i, (a, b) in enumerate(zip(high["y"], low["y"], strict=True)):
        if a is None or b is None:
            runs.append([])
        else:
            runs[-1].append(i)
    traces = []
    for k, run in enumerate(r for r in runs if r):
        xs = [high["x"][i] for i in run]
        traces.append(high | {"x": xs, "y": [high["y"][i] for i in run]})
        traces.append(low | {"x": xs, "y": [low["y"][i] for i in run], "showlegend": k == 0})
    fig.data = []
    for trace in [*traces, *rest]:
        fig.add_trace(trace)
    return fig


def satisfaction_estimate(point: TrendPoint) -> Any:
    return Estimate(point.index, point.index_low, point.index_high, point.n)


def _level_labels(scale: str, lang: str) -> list[str] | None:
    """The questionnaire's word for every level of `scale` in `lang` (else its source
    language), or None when some level has no word."""
    defined = DEFINITION.scales[scale]
    words = defined.labels.get(lang) or defined.labels.get(DEFINITION.source_locale, {})
    labels = [words.get(str(v)) for v in range(defined.min, defined.max + 1)]
    return None if None in labels else [str(label) for label in labels]


def benchmark_charts(parts: BenchmarkParts, lang: Literal["de", "en"]) -> dict[str, Any]:
    charts = {
        "funnel": funnel_plot(parts.funnel, lang=lang, labels=True),
        "caterpillar": caterpillar(parts.comparison.offices, lang=lang),
    }
    for fig in charts.values():  # keep the legend clear of the x-axis title
        fig.update_layout(legend={"y": -0.3}, margin={"b": 90})
    return charts


# ---- CSV -----------------------------------------------------------------------------------


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]], too_few: str) -> bytes:
    """UTF-8 with BOM (Excel), comma-separated, decimal point.

    None is a figure withheld below the minimum number of responses and becomes `too_few`;
    pass "" for a cell that is empty for other reasons.
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(
            [too_few if v is None else v.isoformat() if isinstance(v, dt.date) else v for v in row]
        )
    return ("\ufeff" + buf.getvalue()).encode()
