"""From a request and a user's scope to a plan (variables, published cells, row count) and
from there to chunks of columns, ready for any of the four formats."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import msgspec
import numpy as np

from survey.auth.schemas import Scope
from survey.errors import BadRequest, Forbidden, not_one_of, refuse, worded
from survey.export import kanon
from survey.export.queries import (
    MONTHS,
    OfficeInfo,
    Reader,
    RowQuery,
    VersionInfo,
    offices_by_id,
    offices_of,
    versions,
    vocabulary_coded,
)
from survey.export.queries import version_ids as every_version_id
from survey.export.schemas import (
    NOT_ANSWERED,
    NOT_ASKED,
    OTHER_LANGUAGE_CODE,
    WITHHELD,
    Accounting,
    Anonymization,
    ExportRequest,
    Text,
    Variable,
    VariableCounts,
)
from survey.export.shuffle import Shuffle
from survey.i18n import N_, RESPOND_LOCALES, language_name, translations
from survey.questionnaire import (
    KIND_NAMES,
    LOCAL_ZONE,
    MODE_NAMES,
    MODES,
    SERVICE_NAMES,
    SERVICE_TYPES,
)

QUASI_IDENTIFIERS = ["jobcentre", "office", "service_type", "language", "mode", "month"]
MISSING = {
    NOT_ANSWERED: Text("keine Angabe", "not answered"),
    NOT_ASKED: Text("nicht gefragt (nicht in dieser Fragebogenversion)",
                    "not asked (not in this questionnaire version)"),
    WITHHELD: Text("zurückgehalten (Anonymisierung)", "withheld (anonymization)"),
}  # fmt: skip
MIN_ITEM_BITS = 4
"""Bits per item in the row query's packed columns (more where a scale goes above 14)."""
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
MONTH_PATTERN = r"^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])$"
"""What `_month` accepts, for the OpenAPI schema."""


def _t(message: str) -> Text:
    return Text(translations("de", "staff").gettext(message), message)


def last_complete_month(today: dt.date | None = None) -> str:
    today = today or dt.datetime.now(LOCAL_ZONE).date()
    first = today.replace(day=1) - dt.timedelta(days=1)
    return f"{first.year:04d}-{first.month:02d}"


MONTH_FIELDS = {"from": N_("From (month)"), "to": N_("To (month)")}
"""The export page's labels of its month parameters."""


def _month(raw: str | None, name: str) -> str | None:
    if raw is None or raw == "":
        return None
    match = _MONTH.fullmatch(raw)
    if not match or not 1 <= int(match[2]) <= 12:
        raise worded(BadRequest, f"{name} must be a month like 2026-03, got {raw[:40]!r}",
                     N_("%(field)s must be a month like 2026-03; got %(got)s."),
                     translate=("field",), field=MONTH_FIELDS.get(name, name),
                     got=repr(raw[:40]))  # fmt: skip
    if not 2000 <= int(match[1]) <= 2100:
        raise BadRequest(N_("The period must lie between the years 2000 and 2100."))
    return raw


def month_range(month: str) -> tuple[dt.date, dt.date]:
    year, mon = int(month[:4]), int(month[5:7])
    nxt = dt.date(year + mon // 12, mon % 12 + 1, 1)
    return dt.date(year, mon, 1), nxt - dt.timedelta(days=1)


class Codes(msgspec.Struct):
    """Numeric codes of the categorical variables (the same in every format)."""

    service_type: dict[str, int]
    language: dict[str, int]
    mode: dict[str, int]


def codes_for(cells: Sequence[kanon.Cell]) -> Codes:
    """Fixed codes for the known values; values found only in the data are appended."""

    def numbered(known: Sequence[str], found: set[str]) -> dict[str, int]:
        values = list(known) + sorted(found - set(known))
        return {v: i + 1 for i, v in enumerate(values)}

    language = numbered(RESPOND_LOCALES, {c.language for c in cells})
    language[kanon.OTHER_LANGUAGE] = OTHER_LANGUAGE_CODE
    return Codes(
        service_type=numbered(SERVICE_TYPES, {c.service_type for c in cells}),
        language=language,
        mode=numbered(MODES, {c.mode for c in cells}),
    )


def _language_name(code: str, lang: str) -> str:
    if code == kanon.OTHER_LANGUAGE:
        return "andere (verallgemeinert)" if lang == "de" else "other (generalized)"
    return language_name(code, lang)


class CellKey(msgspec.Struct, frozen=True):
    """One int64 per true cell, from the integer columns the row query gives."""

    services: int
    languages: int
    modes: int

    def of(self, office: Any, service: Any, language: Any, mode: Any, month: Any) -> Any:
        """Works alike on ints and on numpy arrays (office ids stay below 2**31)."""
        key = (office * self.services + service) * self.languages + language
        return (key * self.modes + mode) * MONTHS + month


def month_index(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:7]) - 1


class Plan(msgspec.Struct):
    request: ExportRequest
    variables: list[Variable]
    cell_keys: np.ndarray
    """Sorted keys (`CellKey.of`) of the true cells this export includes ..."""
    cell_codes: np.ndarray
    """... and, row by row, their published codes (jobcentre, office, office_type?, service
    type, language, mode, year, quarter, month?)."""
    cell_key: CellKey
    query: RowQuery
    rows: int
    anonymization: Anonymization
    jobcentres: list[str]
    period_from: str
    period_to: str
    versions: list[VersionInfo]
    item_codes: list[str]
    office_types: bool
    layout: RowQuery
    """The columns of the rows read (`query`'s, or where they were read with the cells, the
    packed items of every questionnaire version)."""
    prefetched: Shuffle | None = None
    """The rows, read already (with the cells, on SQLite): the export reads nothing more."""

    def close(self) -> None:
        if self.prefetched is not None:
            self.prefetched.close()


def _items(version_infos: Sequence[VersionInfo]) -> tuple[list[str], dict[str, Any]]:
    """Scale items of all versions, in the order they first appear, and their definitions."""
    order: list[str] = []
    found: dict[str, Any] = {}
    for v in version_infos:
        scales = v.definition.get("scales", {})
        for item in v.definition.get("items", []):
            if item.get("type") != "scale":
                continue
            if item["code"] not in found:
                order.append(item["code"])
            found[item["code"]] = (item, scales.get(item.get("scale"), {}))
    return order, found


def _item_variable(code: str, item: dict[str, Any], scale: dict[str, Any]) -> Variable:
    text = item.get("text", {})
    labels = scale.get("labels", {})
    low, high = int(scale.get("min", 0)), int(scale.get("max", 0))
    values = {}
    for level in range(low, high + 1):
        de = labels.get("de", {}).get(str(level))
        en = labels.get("en", {}).get(str(level))
        if de or en:
            values[level] = Text(de or en or str(level), en or de or str(level))
    question = Text(text.get("de", ""), text.get("en", text.get("de", "")))
    return Variable(
        name=code,
        label=question,
        kind="item",
        values=values,
        missing={NOT_ANSWERED: MISSING[NOT_ANSWERED], NOT_ASKED: MISSING[NOT_ASKED]},
        question=question,
        scale=item.get("scale"),
        levels=list(range(low, high + 1)),
        dtype="int16",
        measure="ordinal",
    )


def _variables(
    offices: Sequence[OfficeInfo],
    codes: Codes,
    version_infos: Sequence[VersionInfo],
    item_codes: Sequence[str],
    item_defs: Mapping[str, Any],
    office_types: bool,
    grain: str,
) -> list[Variable]:
    withheld = {WITHHELD: MISSING[WITHHELD]}
    jobcentres = {o.jobcentre: Text(o.jobcentre_name, o.jobcentre_name) for o in offices}
    out = [
        Variable("jobcentre", _t(N_("Job centre")), "identifier", jobcentres, dtype="int32"),
        Variable(
            "office",
            _t(N_("Office")),
            "identifier",
            {o.id: Text(f"{o.code} {o.name}", f"{o.code} {o.name}") for o in offices},
            withheld,
            dtype="int32",
        ),
    ]
    if office_types:
        types = {
            o.office_type: _t(KIND_NAMES[o.office_type_name])
            if o.office_type_name in KIND_NAMES
            else Text(o.office_type_name or "", o.office_type_name or "")
            for o in offices
            if o.office_type is not None
        }
        out.append(
            Variable(
                "office_type", _t(N_("Office type")), "identifier", types, withheld, dtype="int32"
            )
        )
    services = {
        c: _t(SERVICE_NAMES[v]) if v in SERVICE_NAMES else Text(v, v)
        for v, c in codes.service_type.items()
    }
    modes = {c: _t(MODE_NAMES[v]) if v in MODE_NAMES else Text(v, v) for v, c in codes.mode.items()}
    languages = {
        c: Text(_language_name(v, "de"), _language_name(v, "en")) for v, c in codes.language.items()
    }
    out += [
        Variable("service_type", _t(N_("Service type")), "identifier", services, withheld),
        Variable("language", _t(N_("Language of the response")), "identifier", languages, withheld),
        Variable("mode", _t(N_("Mode")), "identifier", modes, withheld),
        Variable(
            "version",
            _t(N_("Questionnaire version")),
            "identifier",
            {
                v.id: Text(f"{v.questionnaire} v{v.number}", f"{v.questionnaire} v{v.number}")
                for v in version_infos
            },
            dtype="int32",
        ),
        Variable("year", _t(N_("Year")), "period", measure="scale"),
        Variable("quarter", _t(N_("Quarter")), "period", measure="ordinal"),
    ]
    if grain == "month":
        out.append(Variable("month", _t(N_("Month")), "period", {}, withheld, measure="ordinal"))
    for code in item_codes:
        item, scale = item_defs[code]
        out.append(_item_variable(code, item, scale))
    return out


class ScopeOutcome(msgspec.Struct):
    """The anonymization of every response of some job centres up to a month."""

    counts: dict[kanon.Cell, int]
    version_ids: frozenset[int]
    outcome: kanon.Outcome
    codes: Codes


CACHED_SCOPES = 4
CACHED_CELLS = 200_000
"""At most this many cells kept in all (the newest scope always): a million responses of two
job centres made 90,000 cells, which took 43 MB kept."""
_decided: OrderedDict[tuple[Any, ...], tuple[tuple[Any, ...], ScopeOutcome]] = OrderedDict()
"""(database, offices, k, grain, last month) -> (data stamp, outcome): the last few scopes."""


class Prefetch:
    """An export's rows to read in the pass that counts the cells, if that pass is made."""

    def __init__(self, query: RowQuery) -> None:
        self.query = query
        self.shuffle: Shuffle | None = None

    def start(self, rows: int) -> Shuffle:
        self.shuffle = Shuffle(2 + len(self.query.item_groups), rows)
        return self.shuffle


async def scope_outcome(
    reader: Reader,
    offices: Sequence[OfficeInfo],
    last: str,
    *,
    k: int,
    grain: str,
    prefetch: Prefetch | None = None,
) -> ScopeOutcome:
    """Count the cells of these offices' responses up to `last` and generalize them; kept
    and reused while the data stamp of the responses (Reader.stamp: count, ids, and on
    PostgreSQL the newest row version) and the offices (job centre, type) are unchanged.
    Complete months change only when responses are deleted (retention) or imported, and
    either changes the stamp; a page view then costs one index scan instead of a count of
    every response and the whole generalization."""
    ids = [o.id for o in offices]
    _, last_day = month_range(last)
    key = (reader.identity, tuple(offices), k, grain, last)
    stamp = await reader.stamp(ids, last_day)
    found = _decided.get(key)
    if found is not None and found[0] == stamp:
        _decided.move_to_end(key)
        return found[1]
    counts: dict[kanon.Cell, int] = defaultdict(int)
    version_ids: set[int] = set()
    if prefetch is not None and getattr(reader, "reads_rows_with_counts", False):
        sink = prefetch.start(int(stamp[0][0] or 0))  # the responses counted: count(*)
        cells = await reader.cell_counts(ids, last_day, rows=(prefetch.query, sink.add))
    else:
        cells = await reader.cell_counts(ids, last_day)
    for office, service, language, mode, month, version, n in cells:
        counts[kanon.Cell(office, service, language, mode, month)] += n
        version_ids.add(version)
    outcome = await asyncio.to_thread(
        kanon.generalize,
        counts,
        {o.id: o.jobcentre for o in offices},
        kanon.Ladder(k=k, grain=grain, last_month=last),
        {o.id: o.office_type for o in offices if o.office_type is not None},
    )
    decided = ScopeOutcome(dict(counts), frozenset(version_ids), outcome, codes_for(list(counts)))
    _decided[key] = (stamp, decided)
    while len(_decided) > 1 and (
        len(_decided) > CACHED_SCOPES
        or sum(len(d.counts) for _, d in _decided.values()) > CACHED_CELLS
    ):
        _decided.popitem(last=False)
    return decided


async def _visible_jobcentres(scope: Scope) -> dict[int, set[int]]:
    """Job centre -> the offices of it the user may export."""
    out: dict[int, set[int]] = defaultdict(set)
    if scope.exportable:
        for office in await offices_by_id(sorted(scope.exportable)):
            out[office[1]].add(office[0])
    return out


async def make_plan(
    reader: Reader,
    scope: Scope,
    request: ExportRequest,
    *,
    k: int,
    grain: str,
    today: dt.date | None = None,
    prefetch: bool = False,
) -> Plan:
    """Check the request against the scope, decide the anonymization, count the rows.

    `prefetch`: where the cells of the scope must be counted (not kept from an earlier
    export) and the reader can, read the export's rows in the same pass (Plan.prefetched;
    the caller closes the plan)."""
    started: list[Prefetch] = []
    try:
        return await _make_plan(reader, scope, request, k=k, grain=grain, today=today,
                                prefetch=started if prefetch else None)  # fmt: skip
    except BaseException:
        for early in started:
            if early.shuffle is not None:
                early.shuffle.close()
        raise


def _item_bits(highest: Iterable[int]) -> int:
    return max(MIN_ITEM_BITS, (max(highest, default=0) + 1).bit_length())


def period(request: ExportRequest, today: dt.date | None = None) -> tuple[str | None, str]:
    """The request's first month (None: from the start) and last month (default: the last
    complete one), refused with 400 when the last is later than the last complete month or
    the first after the last. The rows and the comments export ask the same of a period."""
    last = last_complete_month(today)
    first_month = _month(request.date_from, "from")
    last_month = _month(request.date_to, "to") or last
    if first_month and first_month > last:
        raise refuse(
            BadRequest,
            N_(
                "from must not be later than %(last)s, the last complete month: only complete "
                "months are exported, and %(month)s has not ended yet"
            ),
            last=last,
            month=first_month,
        )
    if last_month > last:
        raise refuse(
            BadRequest,
            N_(
                "to must not be later than %(last)s, the last complete month: responses of "
                "the current month are never exported (its counts still change)"
            ),
            last=last,
        )
    if first_month and first_month > last_month:
        raise BadRequest(N_("The period must not end before it starts (from > to)."))
    return first_month, last_month


async def _make_plan(
    reader: Reader,
    scope: Scope,
    request: ExportRequest,
    *,
    k: int,
    grain: str,
    today: dt.date | None,
    prefetch: list[Prefetch] | None,
) -> Plan:
    last = last_complete_month(today)
    first_month, last_month = period(request, today)
    if request.service_type is not None and request.service_type not in SERVICE_TYPES:
        raise not_one_of(f"service_type must be one of {', '.join(SERVICE_TYPES)}",
                         N_("Service type"), SERVICE_TYPES, request.service_type)  # fmt: skip
    if request.mode is not None and request.mode not in MODES:
        raise not_one_of(f"mode must be one of {', '.join(MODES)}", N_("Mode"), MODES,
                         request.mode)  # fmt: skip
    languages = (*RESPOND_LOCALES, kanon.OTHER_LANGUAGE)
    if request.language is not None and request.language not in languages:
        raise not_one_of(f"language must be one of {', '.join(languages)}",
                         N_("Language of the response"), languages, request.language)  # fmt: skip
    visible = await _visible_jobcentres(scope)
    if not visible:
        raise Forbidden(N_("Your role does not include exports."))
    if request.jobcentre is not None and request.jobcentre not in visible:
        raise Forbidden(N_("You may not export the responses of this job centre."))
    exportable = {o for offices in visible.values() for o in offices}
    if request.office is not None and request.office not in exportable:
        raise Forbidden(N_("You may not export the responses of this office."))

    offices = await offices_of(sorted(visible))
    office_types = any(o.office_type is not None for o in offices)
    all_ids = [o.id for o in offices]
    whole = {j for j, mine in visible.items()
             if mine >= {o.id for o in offices if o.jobcentre == j}}  # fmt: skip
    early: Prefetch | None = None
    if prefetch is not None:
        # every version's items: which versions the scope has is known only after the pass
        every_code, every_item = _items(await versions(await every_version_id()))
        early = Prefetch(RowQuery(
            offices=tuple(sorted(exportable & set(all_ids))),
            first_day=month_range(first_month)[0] if first_month else dt.date(1, 1, 1),
            last_day=month_range(last_month)[1],
            items=tuple(every_code),
            service_type=request.service_type,
            mode=request.mode,
            language=request.language if request.language != kanon.OTHER_LANGUAGE else None,
            item_bits=_item_bits(int(scale.get("max", 0)) for _, scale in every_item.values()),
        ))  # fmt: skip
        prefetch.append(early)
    decided = await scope_outcome(reader, offices, last, k=k, grain=grain, prefetch=early)
    counts, outcome, codes = decided.counts, decided.outcome, decided.codes
    version_ids = decided.version_ids
    version_infos = await versions(sorted(version_ids))
    item_codes, item_defs = _items(version_infos)
    variables = _variables(
        offices, codes, version_infos, item_codes, item_defs, office_types, grain
    )

    def included(p: kanon.Published) -> bool:
        return selected(p) and in_period[p.year, p.quarter, p.month]

    def selected(p: kanon.Published) -> bool:
        """All the request asks of a published row but its period."""
        if p.office is None and p.jobcentre not in whole:
            return False
        if p.office is not None and p.office not in exportable:
            return False
        if request.jobcentre is not None and p.jobcentre != request.jobcentre:
            return False
        if request.office is not None and p.office != request.office:
            return False
        for name in ("service_type", "language", "mode"):
            wanted = getattr(request, name)
            if wanted is not None and getattr(p, name) != wanted:
                return False
        return True

    def period_included(year: int, quarter: int, month: int | None) -> bool:
        if month is not None:
            lo = hi = f"{year:04d}-{month:02d}"
        else:
            lo, hi = f"{year:04d}-{quarter * 3 - 2:02d}", f"{year:04d}-{quarter * 3:02d}"
        return (first_month is None or lo >= first_month) and hi <= last_month

    periods = {(p.year, p.quarter, p.month) for p in outcome.published.values()}
    in_period = {period: period_included(*period) for period in periods}
    month_indexes = {c.month: month_index(c.month) for c in counts}

    cell_key = CellKey(
        services=max(codes.service_type.values(), default=0) + 1,
        languages=max(codes.language.values(), default=0) + 1,
        modes=max(codes.mode.values(), default=0) + 1,
    )
    lookup: dict[int, tuple[int, ...]] = {}
    rows = 0
    by_step = dict.fromkeys(kanon.STEPS, 0)
    per_variable = {v: VariableCounts() for v in ("office", "office_type", "service_type",
                                                  "language", "mode", "month")
                    if v != "office_type" or office_types}  # fmt: skip
    classes: dict[tuple[object, ...], int] = defaultdict(int)
    for cell, p in outcome.published.items():
        if not included(p):
            continue
        n = counts[cell]
        code = [p.jobcentre, WITHHELD if p.office is None else p.office]
        if office_types:
            code.append(WITHHELD if p.office_type is None else p.office_type)
        code += [
            WITHHELD if p.service_type is None else codes.service_type[p.service_type],
            WITHHELD if p.language is None else codes.language[p.language],
            WITHHELD if p.mode is None else codes.mode[p.mode],
            p.year,
            p.quarter,
        ]
        if grain == "month":
            code.append(WITHHELD if p.month is None else p.month)
        key = cell_key.of(cell.office, codes.service_type[cell.service_type],
                          codes.language[cell.language], codes.mode[cell.mode],
                          month_indexes[cell.month])  # fmt: skip
        lookup[key] = tuple(code)
        rows += n
        by_step[p.step] += n
        classes[p.key()] += n
        # what the row's columns carry: -3 (withheld) or a coarser code (language "other")
        if p.office is None:
            per_variable["office"].withheld += n
        if office_types and p.office_type is None:
            per_variable["office_type"].withheld += n
        if p.language == kanon.OTHER_LANGUAGE:
            per_variable["language"].generalized += n
        if p.service_type is None:
            per_variable["service_type"].withheld += n
        if p.mode is None:
            per_variable["mode"].withheld += n
        if grain == "month" and p.month is None:
            per_variable["month"].withheld += n

    ladder = [s for s in kanon.STEPS if not (s == "office_type" and not office_types)]
    if grain == "quarter":
        ladder.remove("quarter")
    anonymization = Anonymization(
        k=k,
        period=grain,
        quasi_identifiers=QUASI_IDENTIFIERS if grain == "month" else
        [*QUASI_IDENTIFIERS[:-1], "quarter"],
        ladder=ladder,
        rows_by_step={s: by_step[s] for s in ladder},
        variables=per_variable,
        suppressed_in_scope=sum(outcome.suppressed.values()),
        pending_in_scope=sum(outcome.pending.values()),
        office_types=office_types,
        smallest_class=min(classes.values()) if classes else None,
        accounting=_accounting(
            counts, outcome, request, jobcentre_of={o.id: o.jobcentre for o in offices},
            exported=rows, first_month=first_month, last_month=last_month, last=last,
            in_period=lambda p: in_period[p.year, p.quarter, p.month], exportable=exportable,
        ),
    )  # fmt: skip
    period_from = first_month or min((c.month for c in counts), default=last_month)
    first_day, _ = month_range(period_from)
    _, final_day = month_range(last_month)
    highest = max((level for v in variables if v.kind == "item" for level in v.levels), default=0)
    query = RowQuery(
        offices=tuple(sorted(exportable & set(all_ids))),
        first_day=first_day,
        last_day=final_day,
        items=tuple(item_codes),
        service_type=request.service_type,
        mode=request.mode,
        language=request.language if request.language != kanon.OTHER_LANGUAGE else None,
        service_codes=tuple(codes.service_type.items()),
        language_codes=tuple(
            (v, c) for v, c in codes.language.items() if v != kanon.OTHER_LANGUAGE
        ),
        mode_codes=tuple(codes.mode.items()),
        item_bits=max(MIN_ITEM_BITS, (highest + 1).bit_length()),
        key_sizes=(cell_key.services, cell_key.languages, cell_key.modes),
    )
    layout, prefetched = query, None
    if early is not None and early.shuffle is not None:
        if vocabulary_coded(query):  # the rows read with the cells have this plan's keys
            layout = msgspec.structs.replace(
                query, items=early.query.items, item_bits=early.query.item_bits
            )
            prefetched = early.shuffle
        else:
            early.shuffle.close()
    keys = np.array(sorted(lookup), dtype=np.int64)
    n_codes = len(variables) - len(item_codes) - 1  # all but version and the items
    table = np.array([lookup[k] for k in keys.tolist()], dtype=np.int32).reshape(len(keys), n_codes)
    return Plan(
        request=request,
        variables=variables,
        cell_keys=keys,
        cell_codes=table,
        cell_key=cell_key,
        query=query,
        rows=rows,
        anonymization=anonymization,
        jobcentres=sorted({o.jobcentre_name for o in offices if o.jobcentre in visible}),
        period_from=period_from,
        period_to=last_month,
        versions=version_infos,
        item_codes=item_codes,
        office_types=office_types,
        layout=layout,
        prefetched=prefetched,
    )


def quarter_start(month: str) -> str:
    year, quarter = kanon.quarter_of(month)
    return f"{year:04d}-{quarter * 3 - 2:02d}"


def quarter_end(month: str) -> str:
    year, quarter = kanon.quarter_of(month)
    return f"{year:04d}-{quarter * 3:02d}"


def aligned_period(
    first: str | None, last_month: str, last: str
) -> tuple[list[str], str | None, str]:
    """The complete quarters a period from `first` (None: from the start) to `last_month`
    covers only in part (rows published for one of them are outside the period), and the
    period widened to whole quarters: its end only where that quarter is complete (`last`
    the last complete month); the rows of a running quarter are held back anyway."""
    partial: list[str] = []
    start, end = first and quarter_start(first), last_month
    if start != first:
        partial.append("{}-Q{}".format(*kanon.quarter_of(first or "")))
    if quarter_end(last_month) != last_month and quarter_end(last_month) <= last:
        end = quarter_end(last_month)
        name = "{}-Q{}".format(*kanon.quarter_of(last_month))
        if name not in partial:
            partial.append(name)
    return partial, start, end


def _accounting(
    counts: Mapping[kanon.Cell, int],
    outcome: kanon.Outcome,
    request: ExportRequest,
    *,
    jobcentre_of: Mapping[int, int],
    exported: int,
    first_month: str | None,
    last_month: str,
    last: str,
    in_period: Callable[[kanon.Published], bool],
    exportable: set[int],
) -> Accounting:
    """What became of each response of the period (its true month in it) in the job centres
    the export covers (the `jobcentre` filter, else all the user's), all their offices
    whatever the other filters and the user's offices: left out, held back, published for a
    quarter the period covers only in part, exported (the file's rows), and the rest,
    published for the period but not in this file (filtered out, or outside the user's
    offices). Only `exported` and the rest depend on the filters, and `exported` is the
    file's own row count: counted by the filters' true values, these figures gave exact
    counts of any combination, down to one response (t22's finding 5; docs/exports.md).
    Only the offices the user may export are counted: a user limited to some offices of a
    job centre learns nothing exact of its other offices (r23)."""
    tally = dict.fromkeys(("left_out", "held_back", "partial_quarter"), 0)
    responses = 0
    for cell, n in counts.items():
        if cell.month > last_month or (first_month is not None and cell.month < first_month):
            continue
        if cell.office not in exportable:
            continue
        if request.jobcentre is not None and jobcentre_of[cell.office] != request.jobcentre:
            continue
        responses += n
        p = outcome.published.get(cell)
        if p is None:
            tally["left_out" if cell in outcome.suppressed else "held_back"] += n
        elif not in_period(p):  # its month is in the period, its published quarter is not
            tally["partial_quarter"] += n
    rest = responses - exported - sum(tally.values())
    assert rest >= 0, "the rows of the file are published rows of the period"
    partial, start, end = aligned_period(first_month, last_month, last)
    return Accounting(responses=responses, exported=exported, **tally, not_selected=rest,
                      partial_quarters=partial, aligned_from=start, aligned_to=end)  # fmt: skip


def columns(plan: Plan, raw: np.ndarray) -> dict[str, np.ndarray] | None:
    """Rows as read (`plan.layout`) as published columns, one numpy array per variable:
    each row's true cell looked up in the plan's sorted keys (rows of cells the export
    leaves out are dropped), its items unpacked."""
    names = [v.name for v in plan.variables]
    dtypes = {v.name: v.dtype for v in plan.variables}
    if not len(raw) or not len(plan.cell_keys):
        return None
    keys = raw[:, 0]
    at = np.searchsorted(plan.cell_keys, keys)
    at[at == len(plan.cell_keys)] = 0
    kept = plan.cell_keys[at] == keys
    if not kept.any():
        return None
    raw, at = raw[kept], at[kept]
    qi = plan.cell_codes[at]
    version = raw[:, 1]
    layout = plan.layout
    mask = (1 << layout.item_bits) - 1
    items: dict[str, np.ndarray] = {}
    for code in plan.item_codes:
        group, shift = layout.position(code)
        items[code] = ((raw[:, 2 + group] >> shift) & mask) - 1  # 0 -> NOT_ANSWERED
    for v in plan.versions:
        asked = {it["code"] for it in v.definition.get("items", [])}
        absent = [code for code in plan.item_codes if code not in asked]
        if absent:
            of_version = version == v.id
            if of_version.any():
                for code in absent:
                    items[code][of_version] = NOT_ASKED
    columns: dict[str, np.ndarray] = {}
    qi_names = [n for n in names if n not in items and n != "version"]
    for i, name in enumerate(qi_names):
        columns[name] = qi[:, i].astype(dtypes[name])
    columns["version"] = version.astype(dtypes["version"])
    for code in plan.item_codes:
        columns[code] = items[code].astype(dtypes[code])
    return {name: columns[name] for name in names}
