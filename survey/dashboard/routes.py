"""Dashboards for managers (/dashboard) and the results API (/api/v1/results).

Every handler reads the same way: filters (one dependency) → count rows (queries) →
protected table (disclosure) → figures (results) → charts → template, CSV or JSON.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hashlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template
from markupsafe import Markup

from analysis import spec_json
from survey.auth import guard
from survey.auth import queries as auth_queries
from survey.auth.schemas import Scope
from survey.dashboard import (
    best,
    casemix,
    charts,
    comments,
    disclosure,
    queries,
    results,
    rolled_counts,
    steering,
    stored,
    words,
)
from survey.dashboard.cache import BoundedCache, key_bytes, once, worked_out
from survey.dashboard.cells import Cells
from survey.dashboard.csv import (
    FORECAST_COLUMNS,
    FUNNEL_WORDS,
    about_rows,
    columns,
    file_name,
    forecast_columns,
    to_csv,
    to_xlsx,
)
from survey.dashboard.filters import (
    LOCALES,
    asked_period,
    filter_query,
    months_between,
    provide_filters,
    provide_page_filters,
    publication_day,
    published_through,
    today,
)
from survey.dashboard.schemas import (
    Benchmark,
    BenchmarkRow,
    Comment,
    ComparisonRow,
    Filters,
    Learning,
    OfficeResult,
    OfficeRow,
    Overview,
    TrendPoint,
)
from survey.downloads import file_response
from survey.errors import BadRequest, Forbidden, NotFound, in_words
from survey.i18n import N_, language_name, translations
from survey.manage.questionnaires import VersionUsed, versions_in_period
from survey.questionnaire import INDEX_ITEM, MODE_NAMES, MODES, SERVICE_NAMES, SERVICE_TYPES
from survey.settings import Settings

VERDICTS = {
    "better": (N_("better"), "better"),
    "worse": (N_("worse"), "worse"),
    "no clear difference": (N_("no clear difference"), "none"),
    "withheld": (N_("withheld"), "few"),
    "too few responses": (N_("too few responses"), "few"),
}
MODEL_VERDICTS = {
    "above": (N_("clearly above average"), "better"),
    "below": (N_("clearly below average"), "worse"),
    "no clear difference": (N_("no clear difference"), "none"),
    "withheld": (N_("withheld"), "few"),
    "too few responses": (N_("too few responses"), "few"),
    "too few offices": (N_("too few units to compare"), "few"),
}
"""The random-effects model's verdicts (schemas.ModelVerdict): the pages' main verdict."""
MASK_LABELS = {
    "email": N_("[e-mail]"),
    "iban": N_("[IBAN]"),
    "case": N_("[case number]"),
    "customer": N_("[customer number]"),
    "birth_date": N_("[date of birth]"),
    "address": N_("[address]"),
    "phone": N_("[phone]"),
    "name": N_("[name]"),
}
WITHHELD = N_("withheld")
LEVEL_NAMES = {
    "office": N_("This office"),
    "organization": N_("Job centre"),
    "network": N_("Network"),
}
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
"""plotly.js sets style attributes on the SVG it draws (and a <style> for its toolbar), which a
strict style-src blocks; scripts stay 'self' only. Staff pages only, never respondent pages."""
EVERY_ITEM = (INDEX_ITEM, *(i.code for i in results.SCALE_ITEMS))
"""The index (it sets the blocks) and every scale item: the office page's and learning's table."""
T = TypeVar("T")
STAFF_HEADERS = {"cache-control": "no-store", "content-security-policy": CSP}
DEPENDENCIES = {
    "staff": Provide(guard.dashboard_scope),
    "filters": Provide(provide_filters),
}
PAGE_FILTERS = {"filters": Provide(provide_page_filters)}
"""The pages' filters: a period that cannot be shown is reported at the form (`_status`)."""


def _settings(state: State) -> Settings:
    return state.settings  # type: ignore[no-any-return]


async def _rolled(state: State) -> queries.Rolled:
    """Roll up past months once per process and day; later calls only read the mark. By the
    real date, never RESONANZ_TODAY: a month rolled up early would miss its later responses.
    One rollup at a time in the process (`cache.once`): the reads of a cold page all ask at once,
    and concurrent rollups inserting the same keys deadlocked on PostgreSQL."""
    day = today()
    if getattr(state, "rolled_on", None) != day:
        rolled = await once(state, ("rolled", day), lambda: queries.ensure_rollups(day))
        state.rolled, state.rolled_on = rolled, day
    return state.rolled  # type: ignore[no-any-return]


async def protected_table(
    state: State,
    staff: Scope,
    filters: Filters,
    items: Sequence[str],
    months: Sequence[str],
    *,
    detail_office: int | None = None,
) -> disclosure.ProtectedTable:
    """The protected table of the user's comparison group for these items and months (from
    the January of the first, where blocks start; the month in progress is left out). A
    table of the index holds its index items too: its figures are their mean."""
    offices = [o.id for o in staff.group]
    published = published_through(publication_day(_settings(state)))
    grid, last = results.view_grid(offices, items, months[0], months[-1],
                                   _settings(state).min_responses, published)  # fmt: skip
    items, span = tuple(grid.levels), grid.months
    if last < span[0]:
        return disclosure.protect([], grid)
    done = await _rolled(state)
    # the last erasure too: SQLite may give a new office of the group an erased one's id
    erased = await rolled_counts.erased(state)
    key = (grid.offices, grid.months, grid.min_n, published, tuple(items), filters.dimension,
           filters.value, detail_office, done.month, erased)  # fmt: skip
    closed = done.month is not None and last <= done.month.isoformat()[:7]
    cached = _cache(state).get(key) if closed else None  # all rolled up: never changes
    if cached is not None:
        return cached  # type: ignore[no-any-return]

    async def make() -> disclosure.ProtectedTable:
        if closed and await rolled_counts.held(state, offices, done) is not None:
            table = await _of_years(state, grid, filters, done, erased, detail_office)
        else:
            table = await _protect(state, grid, filters, done, erased, last, closed,
                                   detail_office)  # fmt: skip
        if closed:
            _cache(state).put_growing(key, table)
        return table

    return await once(state, key, make)  # kept only when closed; shared while under way


async def _protect(
    state: State, grid: disclosure.Grid, filters: Filters, done: queries.Rolled, erased: object,
    last: str, closed: bool, detail_office: int | None,
) -> disclosure.ProtectedTable:  # fmt: skip
    """`disclosure.protect` of the grid's count rows through `last`."""
    offices, items, first = list(grid.offices), tuple(grid.levels), grid.months[0]
    if last < first:
        return disclosure.protect([], grid)
    read = rolled_counts.count_columns(state, offices, items, filters, done, first, last,
                                       detail_office=detail_office)  # fmt: skip
    values = None
    if filters.dimension is None:
        rows = await read
    else:  # the blocks need every value of the dimension: read at once
        rows, values = await asyncio.gather(read, _dimension_rows(
            state, offices, filters.dimension, done, first, last, closed, erased))  # fmt: skip
    return await worked_out(disclosure.protect, rows, grid, values)


async def _of_years(
    state: State, grid: disclosure.Grid, filters: Filters, done: queries.Rolled, erased: object,
    detail_office: int | None,
) -> disclosure.ProtectedTable:  # fmt: skip
    """The table of a view whose months are all rolled up, put together from the protected
    tables of its calendar years (`disclosure.joined`), each worked out once per process
    and held with the group's rolled-up counts (`rolled_counts.year_tables`): a view of
    another period, or the client-mix adjustment's single-filter views of it, protect no
    count again. A year whose published months are not all rolled up yet (the last, when
    the period ends before the last published month) is protected for the grid's months."""
    assert done.month is not None
    rolled = done.month.isoformat()[:7]
    published = grid.published_through or grid.months[-1]
    years = sorted({m[:4] for m in grid.months})

    async def year(name: str) -> disclosure.ProtectedTable:
        months = tuple(months_between(name + "-01", name + "-12"))
        whole = replace(grid, months=months)
        last = min(months[-1], published)
        if last > rolled:  # not all rolled up: only the grid's months of the year
            part = replace(grid, months=tuple(m for m in grid.months if m[:4] == name))
            return await _protect(state, part, filters, done, erased, min(part.months[-1], last),
                                  False, detail_office)  # fmt: skip
        key = ("year table", whole.offices, name, whole.min_n, published, tuple(whole.levels),
               filters.dimension, filters.value, detail_office, done.month, erased)  # fmt: skip
        found = rolled_counts.year_tables(state).get(key)
        if found is not None:
            return found  # type: ignore[no-any-return]

        async def make() -> disclosure.ProtectedTable:
            table = await _protect(state, whole, filters, done, erased, last, True,
                                   detail_office)  # fmt: skip
            rolled_counts.year_tables(state).put_growing(key, table)
            return table

        return await once(state, key, make)

    parts = await asyncio.gather(*(year(name) for name in years))
    if len(grid.offices) * len(grid.months) * sum(map(len, grid.levels.values())) <= JOIN_HERE:
        return disclosure.joined(grid, parts)
    return await worked_out(disclosure.joined, grid, parts)


JOIN_HERE = 250_000
"""Count cells (offices × months × levels) up to which a view's table is put together from its
years' tables in the event loop itself (`_of_years`; some 0.3 ms for the bench's 20 offices
and two years of every item): a worker thread's round trip cost about as much, and the eleven
tables of a new view (its own and the client-mix adjustment's ten) waited for their turns in
the threads one after the other before the figure work could begin (k30)."""


async def _dimension_rows(
    state: State, offices: list[int], dimension: str, done: queries.Rolled, first: str,
    last: str, closed: bool, erased: object,
) -> dict[str, queries.CountColumns]:  # fmt: skip
    """queries.dimension_rows, kept with the protected tables when every month is rolled up:
    the views of one filter (the client-mix adjustment asks for four service types, at once)
    share them."""
    key = ("dimension", tuple(offices), dimension, first, last, done.month, erased)
    found = _cache(state).get(key) if closed else None
    if found is not None:
        return found  # type: ignore[no-any-return]

    async def read() -> dict[str, queries.CountColumns]:
        found = await rolled_counts.dimension_rows(state, offices, dimension, done, first, last)
        if closed:
            _cache(state).put(key, found, sum(v.nbytes for v in found.values()))
        return found

    return await once(state, key, read)


def _cache(state: State) -> BoundedCache:
    """The process's cache of protected tables and version notes (survey/dashboard/cache.py)."""
    if getattr(state, "dashboard_cache", None) is None:
        state.dashboard_cache = BoundedCache()
    return state.dashboard_cache  # type: ignore[no-any-return]


async def _mix(
    state: State,
    staff: Scope,
    filters: Filters,
    own: Awaitable[disclosure.ProtectedTable] | None = None,
    previous: bool = False,
) -> casemix.Mix | None:
    """What the page adjusts for client mix with (None: not adjusted; survey/dashboard/
    casemix.py): the index figures of every single-filter view of the period, and the
    group's cross-tab of the adjusters. `own`: the page's own table (of the index and the
    period at least, from the same counts), read for the page's own view instead of a table
    of the index alone: the index figures the adjustment works out for every office are
    then those the page's rows read, worked out once (the same counts: each item's cells
    are protected alone); with `previous` (the overview, whose rows read every office's
    index of the previous period too), those of the previous period in the same steps."""
    if filters.adjust != "mix" or filters.dimension is not None:
        return None
    months = results.current_months(filters)

    async def table_for(view: Filters) -> disclosure.ProtectedTable:
        if own is not None and view == filters:
            return await own
        return await protected_table(state, staff, view, [INDEX_ITEM], months)

    done = await casemix.mix_rolled(state, today())
    published = published_through(publication_day(_settings(state)))

    async def read_mix(*args: Any) -> list[queries.MixRow]:
        return await rolled_counts.mix_rows(state, *args)

    before = results.previous_months(filters) if previous and own is not None else []
    return await casemix.group_mix(
        table_for, [o.id for o in staff.group], filters, months, done, published, read_mix,
        previous=before,
    )  # fmt: skip


def _both_periods(filters: Filters) -> list[str]:
    return results.previous_months(filters) + results.current_months(filters)


async def _closed_marks(state: State, filters: Filters) -> tuple[Any, ...] | None:
    """What a view's figures are made of besides the page's own inputs when every month of
    it is rolled up (so they never change: survey/dashboard/stored.py), or None (a month of
    the view is still open: nothing is kept)."""
    settings = _settings(state)
    published = published_through(publication_day(settings))
    last = min(filters.last_month, published)
    done = await _rolled(state)
    if done.month is None or last > done.month.isoformat()[:7]:
        return None
    mix_month = None
    if filters.adjust == "mix" and filters.dimension is None:
        mix = await casemix.mix_rolled(state, today())
        if mix.month is None or last > mix.month.isoformat()[:7]:
            return None
        mix_month = mix.month
    return (published, done.month, mix_month, settings.min_responses)


async def _stored(
    state: State,
    staff: Scope,
    filters: Filters,
    kind: str,
    made_of: tuple[Any, ...],
    make: Callable[[], Any],
) -> Any:
    """`await make()`, kept in the process and the database when every month of the view is
    closed (survey/dashboard/stored.py), under everything it is made of: the user's group and
    visible offices, the filters, the marks of `_closed_marks` and the page's `made_of`."""
    marks = await _closed_marks(state, filters)
    if marks is None:
        return await make()
    group = (staff.group, tuple(sorted(staff.visible)), staff.group_name)
    rolled = marks[1].isoformat()[:7]
    return await stored.kept(_cache(state), state, kind, (group, filters, marks, made_of),
                             rolled, make)  # fmt: skip


def _overview_items(plan: SteeringPlan | None) -> list[str]:
    """The overview's items, with those `plan` needs (its targets and office types are judged
    on the same table)."""
    return sorted({INDEX_ITEM, results.TOP_BOX_ITEM, results.NPS_ITEM,
                   *(plan.items if plan else ())})  # fmt: skip


async def _overview(
    state: State, staff: Scope, filters: Filters, sort: str | None, plan: SteeringPlan | None = None
) -> Overview:
    """The overview (kept once its months are closed, in the group's order: each order the
    page's column headings offer is the same figures sorted on the way out)."""
    results.parse_sort(sort)
    items = _overview_items(plan)

    async def make() -> Overview:
        page = asyncio.ensure_future(
            protected_table(state, staff, filters, items, _both_periods(filters))
        )
        table, mix = await asyncio.gather(page, _mix(state, staff, filters, page, previous=True))
        min_n = _settings(state).min_responses
        return await worked_out(results.unsorted_overview, staff, table, filters, min_n, mix=mix)

    found: Overview = await _stored(state, staff, filters, "overview", (tuple(items),), make)
    return results.sorted_overview(found, sort)


def _item_text(locale: str) -> Any:
    return lambda texts: results.DEFINITION.text(texts, locale)


def _office_table(
    state: State, staff: Scope, office_id: int, filters: Filters, every_item: bool
) -> Awaitable[disclosure.ProtectedTable]:
    """The office page's protected table: every item of the office, the index of the others
    (what the office's targets need as well); `every_item`: every item of every office, for
    learning from the best."""
    return protected_table(state, staff, filters, EVERY_ITEM, _both_periods(filters),
                           detail_office=None if every_item else office_id)  # fmt: skip


async def _office(
    state: State,
    staff: Scope,
    office_id: int,
    filters: Filters,
    locale: str,
    *,
    every_item: bool = False,
) -> OfficeResult:
    """The office page's figures (kept once its months are closed) with its comments (read
    on every view: an admin may hide one)."""
    guard.require_office(staff, office_id)
    readable = staff.reads_comments_of(office_id)  # the job centre's own staff only
    filtered = filters.dimension is not None  # comments only in the view without a filter
    if readable and not filtered:
        arranged, own_items = await asyncio.gather(  # independent reads: at once
            _arranged_comments(state, office_id, filters, locale),
            _own_items(state, office_id, filters),
        )
    else:
        arranged, own_items = [], await _own_items(state, office_id, filters)

    async def make() -> OfficeResult:
        page = asyncio.ensure_future(_office_table(state, staff, office_id, filters, every_item))
        table, mix = await asyncio.gather(page, _mix(state, staff, filters, page))
        own = None
        if own_items:
            own_table = await protected_table(state, staff, filters, (INDEX_ITEM, *own_items),
                                              results.current_months(filters),
                                              detail_office=office_id)  # fmt: skip
            own = (own_table, own_items)
        return await worked_out(
            results.office_result,
            staff,
            office_id,
            table,
            filters,
            _settings(state).min_responses,
            item_text=_item_text(locale),
            comments=lambda months: [],  # added below, on every view
            mix=mix,
            own=own,
        )

    result: OfficeResult = await _stored(
        state, staff, filters, "office", (office_id, locale, every_item, own_items), make
    )
    withheld = set(result.comments_withheld)  # a month's comments need its figures shown
    found = [c for c in arranged if c.month not in withheld]
    return msgspec.structs.replace(
        result, comments=found, comments_readable=readable, comments_filtered=filtered
    )


async def _arranged_comments(
    state: State, office_id: int, filters: Filters, locale: str
) -> list[Comment]:
    """The office's comments of every month of the period, masked and in their order
    (comments.arrange; the page leaves out the months whose figures are withheld): kept in
    the process and the database once the period is closed, under the mark of the last
    hidden or deleted comment (queries.comments_changed), which is read on every view."""
    gettext = translations(locale, "staff").gettext
    masks = {k: gettext(v) for k, v in MASK_LABELS.items()}
    secret = _settings(state).secret_key
    months = results.current_months(filters)
    done = await _rolled(state)
    if done.month is None or filters.last_month > done.month.isoformat()[:7]:
        listing = await comments.listing(_cache(state), office_id, filters, False)
        return listing.arrange(months, secret, masks)

    async def make() -> list[Comment]:
        listing = await comments.listing(_cache(state), office_id, filters, True)
        return listing.arrange(months, secret, masks)

    changed = await queries.comments_changed()
    keyed = hashlib.sha256(secret.encode()).hexdigest()  # the secret orders them
    made_of = (office_id, filters.first_month, filters.last_month, filters.service_type,
               filters.locale, filters.mode, str(changed), keyed,
               tuple(sorted(masks.items())))  # fmt: skip
    found: list[Comment] = await stored.kept(_cache(state), state, "comments", made_of,
                                             done.month.isoformat()[:7], make)  # fmt: skip
    return found


async def _overview_table(
    state: State, staff: Scope, filters: Filters, plan: SteeringPlan
) -> disclosure.ProtectedTable | None:
    """The overview's protected table when its steering block needs it (targets, or more than
    one kind of office), else None."""
    if not plan.needs_table:
        return None
    return await protected_table(state, staff, filters, _overview_items(plan),
                                 _both_periods(filters))  # fmt: skip


async def _office_page(
    state: State, staff: Scope, office_id: int, filters: Filters, locale: str
) -> tuple[OfficeResult, dict[str, Markup], Learning]:
    """The office page's figures, charts and learning from the best (the charts and the
    learning kept once its months are closed, as the figures are)."""

    # the page's figures, read once: the charts are drawn from them too (`extras`)
    figures_read = asyncio.ensure_future(
        _office(state, staff, office_id, filters, locale, every_item=True)
    )

    async def extras() -> tuple[dict[str, Markup], Learning]:
        result, table = await asyncio.gather(  # the figures' own table: read while they are made
            asyncio.shield(figures_read), _office_table(state, staff, office_id, filters, True)
        )
        min_n = _settings(state).min_responses
        unpublished = _unpublished_period(state, filters)

        def draw() -> tuple[dict[str, Markup], Learning]:
            return office_figures(state, result, locale, unpublished), best.learning(
                staff, table, filters, min_n, "office", _item_text(locale)
            )

        return await worked_out(draw)

    async def kept_extras() -> tuple[dict[str, Markup], Learning]:
        own_items = await _own_items(state, office_id, filters)  # in the figures drawn
        found: tuple[dict[str, Markup], Learning] = await _stored(
            state, staff, filters, "office page", (office_id, locale, own_items), extras
        )
        return found

    try:
        result, (figures, learning) = await asyncio.gather(figures_read, kept_extras())
    finally:
        figures_read.cancel()  # only when the page failed before it was read
    return result, figures, learning


async def _own_items(state: State, office_id: int, filters: Filters) -> tuple[str, ...]:
    """The item bank's items beyond the standard questionnaire (`results.BANK_ITEMS`) that a
    questionnaire version answered at the office in the period asks, in the order of the newest
    version that asks them, in its published months (`_published_days`), from the versions
    used (`_versions_used`: kept once the period is over)."""
    days = _published_days(state, filters)
    if days is None:
        return ()
    start, end = days
    versions = await _versions_used(state, [office_id], start, end)
    asked = [code for v in reversed(versions) for code in v.items]
    return tuple(dict.fromkeys(code for code in asked if code in results.BANK_ITEMS))


async def _best(
    state: State, staff: Scope, filters: Filters, level: str | None, locale: str
) -> Learning:
    """Learning from the best (kept once its months are closed, as a page's figures are)."""
    unit = _level(level)

    async def make() -> Learning:
        table = await protected_table(
            state, staff, filters, EVERY_ITEM, results.current_months(filters)
        )
        min_n = _settings(state).min_responses
        return await worked_out(best.learning, staff, table, filters, min_n, unit,
                                _item_text(locale))  # fmt: skip

    found: Learning = await _stored(state, staff, filters, "learning", (unit, locale), make)
    return found


@dataclass(frozen=True, slots=True)
class SteeringPlan:
    """What a page's steering block (issue 11) needs from the page's protected table."""

    targets: dict[tuple[int, str], float]
    kinds: dict[int, str]

    @property
    def items(self) -> set[str]:
        return {item for _, item in self.targets}

    @property
    def needs_table(self) -> bool:
        return bool(self.targets) or len(set(self.kinds.values())) > 1


async def _targets_of(
    state: State, staff: Scope, filters: Filters, office_id: int | None
) -> dict[tuple[int, str], float]:
    """(office, item) -> target on the publication day: of the visible offices, or of one."""
    found = await steering.targets_of(staff, filters, publication_day(_settings(state)))
    return {k: v for k, v in found.items() if office_id in (None, k[0])}


async def _steering_plan(
    state: State, staff: Scope, filters: Filters, office_id: int | None = None
) -> SteeringPlan:
    """Targets of the visible offices (of one office on its page; targets are only set on
    the index and the scale items, which the office page's table holds) and, on the
    overview, the kinds of office to compare."""
    day = publication_day(_settings(state))
    return SteeringPlan(*await steering.targets_and_kinds(staff, filters, day, office_id))


async def _steering(
    state: State,
    staff: Scope,
    filters: Filters,
    plan: SteeringPlan,
    office_id: int | None = None,
    *,
    locale: str | None = None,
    noted: tuple[steering.VersionNote | None] | None = None,
) -> dict[str, Any]:
    """Targets, outreach points against main offices, and the version note (issue 11), on
    the page's own protected table (`_judged`). `office_id`: one office's page (its targets
    and versions); the note names items by their text in `locale` (None, as warming the
    caches: by code); `noted`: the note already read (`_version_note`, at once with the
    page's other reads)."""
    offices = [office_id] if office_id is not None else sorted(staff.visible)
    if noted is None:  # independent: at once
        judged, note = await asyncio.gather(
            _judged(state, staff, filters, plan, office_id),
            _version_note(state, offices, filters),
        )
    else:
        judged, (note,) = await _judged(state, staff, filters, plan, office_id), noted
    return {
        "targets": judged[0],
        "kinds": judged[1],
        "versions": note.labelled(_item_text(locale)) if note and locale else note,
    }


async def _judged(
    state: State, staff: Scope, filters: Filters, plan: SteeringPlan, office_id: int | None
) -> tuple[list[steering.TargetRow], list[steering.KindRow]]:
    """The targets and the kinds of office of `plan` judged on the page's protected table
    (the overview's, or the office page's for `office_id`), kept as the page's figures are
    once its months are closed (`_stored`), under the plan: the targets and kinds are read
    on every view (an admin may change them), the table is not read again for them (a
    restarted server's first overview of the demo read and protected it: 270-460 ms)."""
    if not plan.needs_table:
        return [], []

    async def make() -> tuple[list[steering.TargetRow], list[steering.KindRow]]:
        if office_id is None:
            table = await _overview_table(state, staff, filters, plan)
        else:
            table = await _office_table(state, staff, office_id, filters, True)
        assert table is not None, "the plan needs the table"
        min_n = _settings(state).min_responses

        def judge() -> tuple[list[steering.TargetRow], list[steering.KindRow]]:
            return (steering.judge_targets(staff, table, filters, min_n, plan.targets),
                    steering.compare_kinds(staff, table, filters, min_n, plan.kinds))  # fmt: skip

        return await worked_out(judge)

    made_of = (office_id, sorted(plan.targets.items()), sorted(plan.kinds.items()))
    found: tuple[list[steering.TargetRow], list[steering.KindRow]] = await _stored(
        state, staff, filters, "steering", made_of, make
    )
    return found


async def _version_note(
    state: State, offices: list[int], filters: Filters
) -> steering.VersionNote | None:
    """steering.version_note of the period's published months (`_published_days`), from the
    versions used (`_versions_used`: kept once the period is over)."""
    days = _published_days(state, filters)
    if days is None:
        return None
    start, end = days
    return steering.version_note(await _versions_used(state, offices, start, end))


def _published_days(state: State, filters: Filters) -> tuple[dt.date, dt.date] | None:
    """The period's days up to the end of its last published month (None: none published).
    Which questionnaire versions were answered is read from the responses themselves: in the
    month in progress, a version's first answer would tell that one client just answered
    through that link, so its notes, like every figure, wait for the month to be published."""
    start, end = steering.period_days(filters)
    published = published_through(publication_day(_settings(state)))
    end = min(end, queries.month_end(published))
    return (start, end) if start <= end else None


async def _versions_used(
    state: State, offices: list[int], start: dt.date, end: dt.date
) -> list[VersionUsed]:
    """versions_in_period, read once for the office page's own questions and its version
    note when both ask at once; kept in the database once the period is over (no response
    can join it then), like the figures of its closed months."""

    def read() -> Awaitable[list[VersionUsed]]:
        return once(state, ("versions used", tuple(offices), start, end),
                    lambda: versions_in_period(offices, start, end))  # fmt: skip

    done = await _rolled(state)
    if end >= today() - dt.timedelta(days=1) or done.month is None:  # a day of lag
        return await read()
    found: list[VersionUsed] = await stored.kept(
        _cache(state), state, "versions", (tuple(offices), start, end),
        done.month.isoformat()[:7], read,
    )  # fmt: skip
    return found


async def _targets(
    state: State, staff: Scope, filters: Filters, office_id: int | None
) -> list[steering.TargetRow]:
    """The targets of the visible offices (or of one office) judged on the period; 400 in a
    view with a filter (a target is for all of an office's clients: the CSV and the API
    alike, as the pages judge none there)."""
    if filters.dimension is not None:
        raise BadRequest("targets are judged in the view without a filter only")
    if office_id is not None:
        guard.require_office(staff, office_id)
    found = await _targets_of(state, staff, filters, office_id)
    if not found:
        return []
    items = sorted({INDEX_ITEM, *(item for _, item in found)})
    table = await protected_table(state, staff, filters, items, _both_periods(filters))
    return steering.judge_targets(staff, table, filters, _settings(state).min_responses, found)


def _level(raw: str | None) -> Literal["office", "organization"]:
    if raw in (None, "", "office"):
        return "office"
    if raw == "organization":
        return "organization"
    raise BadRequest("level must be office or organization")


async def _benchmark(
    state: State, staff: Scope, filters: Filters, level: str | None
) -> results.BenchmarkParts:
    """The benchmark (kept once its months are closed)."""
    unit = _level(level)

    async def make() -> results.BenchmarkParts:
        table, mix = await asyncio.gather(  # independent reads (the same table: read once)
            protected_table(state, staff, filters, [INDEX_ITEM], results.current_months(filters)),
            _mix(state, staff, filters),
        )
        return await worked_out(results.benchmark, staff, table, filters,
                                _settings(state).min_responses, unit, mix)  # fmt: skip

    found: results.BenchmarkParts = await _stored(state, staff, filters, "benchmark", (unit,),
                                                  make)  # fmt: skip
    return found


async def _benchmark_page(
    state: State, staff: Scope, filters: Filters, level: str | None, locale: str
) -> tuple[results.BenchmarkParts, dict[str, Markup]]:
    """The benchmark and its charts (kept as the benchmark is)."""
    unit = _level(level)  # a wrong level: 400 before anything is read

    async def charts() -> dict[str, Markup]:
        parts = await _benchmark(state, staff, filters, level)
        unpublished = _unpublished_period(state, filters)
        return await worked_out(benchmark_figures, state, parts, locale, unpublished)

    parts, figures = await asyncio.gather(
        _benchmark(state, staff, filters, level),
        _stored(state, staff, filters, "benchmark charts", (unit, locale), charts),
    )
    return parts, figures


def about(count: int) -> int | None:
    """A count shown only roughly (to the nearest 5), None below 5: whether one response of
    a small group came too fast is not told (0 against 1 would be exact)."""
    return 5 * round(count / 5) if count >= 5 else None


async def _flagged(office_id: int, filters: Filters, last: str) -> int:
    """The office's too-fast responses, in the view without a filter only: a filter's
    group can be a few clients, and the note would tell whether one of them sent one."""
    if filters.dimension is not None:
        return 0
    return await queries.flagged_count(office_id, filters, last)


def _lang(locale: str) -> Literal["de", "en"]:
    return "en" if locale == "en" else "de"


def _drawn(
    state: State, made_of: tuple[Any, ...], draw: Callable[[], dict[str, Any]]
) -> dict[str, Markup]:
    """A page's charts as JSON, kept per process under everything they are drawn from (its
    published figures and the language, pickled whole): plotly takes longer to build a
    figure than the page takes to work out its figures from a cached protected table."""
    key = ("charts", hashlib.sha256(key_bytes(made_of)).digest())
    found = _cache(state).get(key)
    if found is None:
        found = {k: figure_json(v) for k, v in draw().items()}
        _cache(state).put(key, found, sum(len(v) for v in found.values()))
    return found


def _unpublished_period(state: State, filters: Filters) -> bool:
    """No month of the period is published yet (its figures are none for that reason)."""
    return filters.first_month > published_through(publication_day(_settings(state)))


def _staff_words(locale: str, unpublished: bool) -> Callable[[str], str]:
    """The staff catalog's gettext, saying "not published yet" where `unpublished`."""
    gettext = translations(locale, "staff").gettext
    return _unpublished(gettext) if unpublished else gettext


def office_figures(
    state: State, result: OfficeResult, locale: str, unpublished: bool = False
) -> dict[str, Markup]:
    gettext = _staff_words(locale, unpublished)
    return _drawn(
        state,
        ("office charts", locale, unpublished, result.items, result.trend),
        lambda: charts.office_charts(result, _lang(locale), gettext),
    )


def benchmark_figures(
    state: State, parts: results.BenchmarkParts, locale: str, unpublished: bool = False
) -> dict[str, Markup]:
    gettext = _staff_words(locale, unpublished)
    return _drawn(
        state,
        ("benchmark charts", locale, unpublished, parts.result.level, parts.funnel,
         parts.comparison.offices),
        lambda: charts.benchmark_charts(parts, _lang(locale), gettext),
    )  # fmt: skip


def figure_json(fig: Any) -> Markup:
    """Plotly JSON safe inside <script type="application/json"> (no "</script>" can end it)."""
    raw = spec_json(fig)
    return Markup(raw.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


MINUS = "\u2212"


def _status(request: Request[Any, Any, Any]) -> int:
    """400 for a page whose period could not be shown (it shows the default period)."""
    return 200 if asked_period(request) is None else 400


NOT_PUBLISHED = N_("not published yet")
UNPUBLISHED_WORDS = {
    "too few responses": NOT_PUBLISHED,
    "too few responses in the previous period": NOT_PUBLISHED,
    "too few units to compare": NOT_PUBLISHED,
    "Not adjusted for client mix: fewer than three units have enough responses. The verdicts "
    "use the observed index.": N_(
        "Not adjusted for client mix: no month of this period is published yet."
    ),
}
"""A period none of whose months is published has no figure: its cells, verdicts, targets and
method note say why in these words instead of blaming too few responses."""


def _unpublished(gettext: Callable[[str], str]) -> Callable[[str], str]:
    return lambda message: gettext(UNPUBLISHED_WORDS.get(message, message))


@functools.lru_cache(maxsize=8)
def _languages_of_responses(locale: str) -> tuple[tuple[str, str], ...]:
    """The filter's languages, named in the page's language and sorted by that name (babel
    parses each language's locale data: worked out once per page language, not per view)."""
    return tuple(sorted(((v, language_name(v, locale)) for v in LOCALES), key=lambda p: p[1]))


def _view(request: Request[Any, Any, Any], staff: Scope, filters: Filters) -> dict[str, Any]:
    locale = guard.staff_locale(request, staff)
    gettext = _staff_words(locale, _unpublished_period(request.app.state, filters))
    on = publication_day(_settings(request.app.state))

    def num(value: float | None, digits: int = 1) -> str:
        """A figure as the page writes it: a negative one with a real minus sign (U+2212),
        which the CSV and the API do not use."""
        return words.number(value, locale, digits).replace("-", MINUS)

    def signed(value: float, digits: int = 1) -> str:
        return words.sign(value, digits) + num(value, digits)

    def verdict(value: str) -> tuple[str, str]:
        text, css = VERDICTS[value]
        return gettext(text), css

    def model_verdict(value: str) -> tuple[str, str]:
        text, css = MODEL_VERDICTS[value]
        return gettext(text), css

    query = filter_query(filters)
    asked = asked_period(request)
    cells = Cells(gettext, num, signed, verdict, model_verdict)
    return guard.page_context(request, staff, locale, () if asked is None else ("from", "to")) | {
        "_": gettext,
        "period_error": None if asked is None else in_words(asked.error, gettext),
        "asked_period": asked,
        "published_month": published_through(on),
        "current_month": on.isoformat()[:7],
        "num": num,
        "signed": signed,
        "verdict": verdict,
        "model_verdict": model_verdict,
        "time_to_verdict": lambda forecast: words.time_to_verdict(forecast, gettext, num),
        "filters": filters,
        "filter_query": query,
        "service_types": [(v, gettext(SERVICE_NAMES[v])) for v in SERVICE_TYPES],
        "modes": [(v, gettext(MODE_NAMES[v])) for v in MODES],
        "languages_of_responses": _languages_of_responses(locale),
        "may_hide_comments": bool(staff.administered) and not staff.via_token,
        "qs": lambda **extra: "?" + urlencode(query | {k: str(v) for k, v in extra.items() if v}),
        # the table cells every row repeats (survey/dashboard/cells.py)
        "value_ci": cells.value_ci,
        "verdict_badge": cells.verdict_badge,
        "model_badge": cells.model_badge,
        "rank_test": cells.rank_test,
        "qvalue": cells.qvalue,
        "difference": cells.difference,
        "change": cells.change,
        "nps": cells.nps,
    }


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TABLE_WORDS = {"items": N_("questions"), "trend": N_("trend"), "comparison": N_("comparison")}
"""An office page's tables in the names of their downloads."""
LEVEL_FILE = {"office": N_("Offices"), "organization": N_("Job centres")}


def _download(
    request: Request[Any, Any, Any],
    staff: Scope,
    filters: Filters,
    words: Sequence[str],
    sheet: str,
    rows: Sequence[Any],
    header: Sequence[str],
    convert: Mapping[str, Callable[[Any], Any]] | None = None,
) -> Response[bytes]:
    """A table as CSV or, when the address ends in .xlsx, as an Excel workbook: the same
    columns, headings in the reader's language; named after the page (`words`, msgids or
    numbers), the period and the filter, and the workbook says on a second sheet what the
    table holds (a CSV stays one table: a line above its headings would break its readers)."""
    locale = guard.staff_locale(request, staff)
    gettext = translations(locale, "staff").gettext
    withheld = gettext(WITHHELD)
    name = file_name(words, filters, gettext)
    if request.url.path.endswith(".xlsx"):
        about = about_rows(
            gettext(sheet), filters, staff.group_name, gettext, _value_name(locale, gettext)
        )
        body = to_xlsx(rows, header, gettext(sheet), gettext, withheld, convert, about)
        return file_response(body, XLSX, f"{name}.xlsx")
    body = to_csv(rows, header, locale, gettext, withheld, convert)
    return file_response(body, "text/csv", f"{name}.csv")


def _value_name(locale: str, gettext: Callable[[str], str]) -> Callable[[str, str], str]:
    """A filter's value as the filter form names it."""

    def name(dimension: str, value: str) -> str:
        if dimension == "locale":
            return language_name(value, locale)
        names = SERVICE_NAMES if dimension == "service_type" else MODE_NAMES
        return gettext(names[value]) if value in names else value

    return name


async def _export(staff: Scope, what: str, filters: Filters, **detail: Any) -> None:
    await auth_queries.audit(
        "export",
        user_id=staff.user_id,
        username=staff.username,
        what=what,
        filters=filter_query(filters),
        **detail,
    )


def _verdict_word(gettext: Any) -> Any:
    return lambda v: gettext(VERDICTS[v][0])


def _model_word(gettext: Any) -> Any:
    return lambda v: gettext(MODEL_VERDICTS[v][0])


class DashboardController(Controller):
    path = "/dashboard"
    include_in_schema = False
    dependencies = DEPENDENCIES

    @get("/", cache_control=None, dependencies=PAGE_FILTERS)
    async def overview_page(
        self,
        request: Request[Any, Any, State],
        state: State,
        staff: NamedDependency[Scope],
        filters: NamedDependency[Filters],
    ) -> Template:
        sort = request.query_params.get("sort")
        plan, note = await asyncio.gather(  # independent reads: at once
            _steering_plan(state, staff, filters),
            _version_note(state, sorted(staff.visible), filters),
        )
        result = await _overview(state, staff, filters, sort, plan)
        context = _view(request, staff, filters) | {"result": result, "sort": sort or "office"}
        context["steering"] = await _steering(
            state, staff, filters, plan, locale=context["locale"], noted=(note,)
        )
        return Template(
            "dashboard/overview.html",
            context=context,
            headers=STAFF_HEADERS,
            status_code=_status(request),
        )

    @get(["/overview.csv", "/overview.xlsx"])
    async def overview_csv(
        self,
        request: Request[Any, Any, State],
        state: State,
        staff: NamedDependency[Scope],
        filters: NamedDependency[Filters],
    ) -> Response[bytes]:
        result = await _overview(state, staff, filters, request.query_params.get("sort"))
        await _export(staff, "overview", filters)
        locale = guard.staff_locale(request, staff)
        gettext = translations(locale, "staff").gettext
        rows = [forecast_columns(r, gettext, locale) for r in result.rows]
        return _download(
            request, staff, filters, [N_("Overview")], N_("Overview"), rows,
            [*columns(OfficeRow, ("forecast",)), *FORECAST_COLUMNS],
            {"verdict": _verdict_word(gettext), "model_verdict": _model_word(gettext)},
        )  # fmt: skip

    @get("/targets.csv")
    async def targets_csv(
        self,
        request: Request[Any, Any, State],
        state: State,
        staff: NamedDependency[Scope],
        filters: NamedDependency[Filters],
        office: Annotated[int | None, QueryParameter(required=False, ge=1, le=2**31 - 1)] = None,
    ) -> Response[bytes]:
        """The targets table of the overview (or, with `office`, of one office's page)."""
        rows = await _targets(state, staff, filters, office)
        await _export(staff, "targets", filters, **({} if office is None else {"office": office}))
        locale = guard.staff_locale(request, staff)
        gettext = translations(locale, "staff").gettext
        body = to_csv(
            [steering.csv_row(r) for r in rows],
            steering.CSV_COLUMNS,
            locale,
            gettext,
            gettext(WITHHELD),
            steering.csv_words(gettext),
        )
        words = [N_("Targets")] if office is None else [N_("Office"), str(office), N_("Targets")]
        name = file_name(words, filters, gettext)
        return file_response(body, "text/csv", f"{name}.csv")

    @get("/offices/{office_id:int}", cache_control=None, dependencies=PAGE_FILTERS)
    async def office_page(
        self,
        request: Request[Any, Any, State],
        state: State,
        staff: NamedDependency[Scope],
        filters: NamedDependency[Filters],
        office_id: FromPath[int],
    ) -> Template:
        guard.require_office(staff, office_id)
        view = _view(request, staff, filters)
        last = min(filters.last_month, published_through(publication_day(_settings(state))))
        (result, figures, learning), plan, flagged, note = await asyncio.gather(  # at once
            _office_page(state, staff, office_id, filters, view["locale"]),
            _steering_plan(state, staff, filters, office_id),
            _flagged(office_id, filters, last),
            _version_note(state, [office_id], filters),
        )
        raw_page = request.query_params.get("comments_page") or "1"
        page = int(raw_page) if raw_page.isdigit() and len(raw_page) < 6 else 1
        context = view | {
            "result": result,
            "learning": learning,
            "units_by_id": {u.id: u for u in learning.units},  # not a search per name shown
            "charts": figures,
            "comment_page": comments.page_of(
                result.comments, request.query_params.get("comments_q") or "", page
            ),
            "may_hide_comments": view["may_hide_comments"] and office_id in staff.administered,
            "steering": await _steering(
                state, staff, filters, plan, office_id, locale=view["locale"], noted=(note,)
            ),
            "flagged": about(flagged),
        }
        return Template(
            "dashboard/office.html",
            context=context,
            headers=STAFF_HEADERS,
            status_code=_status(request),
        )

    @get("/offices/{office_id:int}/{table:str}")
    async def office_csv(
        self,
        request: Request[Any, Any, State],
        state: State,
        staff: NamedDependency[Scope],
        filters: NamedDependency[Filters],
        office_id: FromPath[int],
        table: FromPath[str],
    ) -> Response[bytes]:
        name, _, kind = table.rpartition(".")
        if name not in ("items", "trend", "comparison") or kind not in ("csv", "xlsx"):
            raise NotFound(  # no such download: 404, as for any other unknown address
                N_("The table must be items, trend or comparison, ending in .csv or .xlsx.")
            )
        locale = guard.staff_locale(request, staff)
        gettext = translations(locale, "staff").gettext
        result = await _office(state, staff, office_id, filters, locale)
        await _export(staff, f"office {table}", filters, office=office_id)
        file = [N_("Office"), str(office_id), TABLE_WORDS[name]]
        if name == "items":
            levels = sorted({v for i in result.items for v in i.levels})
            header = ["item", "text", "n", "index", "top_box", *(f"n_{v}" for v in levels)]
            rows: list[Any] = [
                {
                    "item": i.item, "text": i.text, "n": i.n, "index": i.index,
                    "top_box": "" if len(i.levels) < 4 else i.top_box,  # none for yes/no
                    **{
                        f"n_{v}": ("" if v not in i.levels else None if i.counts is None
                                   else i.counts[i.levels.index(v)])
                        for v in levels
                    },
                }
                for i in result.items
            ]  # fmt: skip
            return _download(request, staff, filters, file, N_("Answers by question"), rows, header)
        if name == "trend":
            return _download(
                request, staff, filters, file, N_("Index by month"), result.trend,
                columns(TrendPoint), {"first": lambda v: v or ""},  # a month by itself: empty
            )  # fmt: skip
        return _download(
            request, staff, filters, file, N_("Comparison"), result.comparison,
            columns(ComparisonRow, ("hidden",)),
            {"level": lambda v: gettext(LEVEL_NAMES[v])},
        )  # fmt: skip

    @post("/offices/{office_id:int}/comments/hide", status_code=303)
    async def hide_comment(
        self,
        request: Request[Any, Any, State],
        state: State,
        staff: NamedDependency[Scope],
        office_id: FromPath[int],
    ) -> Redirect:
        """An admin hides a comment (personal data the masking missed); audited."""
        guard.require_office(staff, office_id)
        form = await request.form()
        secret = _settings(state).secret_key
        session = guard.read_session(secret, request.cookies.get(guard.SESSION_COOKIE))
        if (
            staff.via_token
            or session is None
            or not guard.csrf_ok(secret, session.nonce, str(form.get("csrf_token") or ""))
        ):
            raise Forbidden(N_("The form has expired. Please load the page again."))
        if office_id not in staff.administered:  # the same answer whether it exists or not
            raise Forbidden(N_("Only an admin of this office's job centre may hide a comment."))
        key = str(form.get("comment") or "")
        found = next(
            (i for i in await queries.office_comment_ids(office_id)
             if comments.comment_key(secret, i) == key),
            None,
        )  # fmt: skip
        if found is None:
            raise NotFound(N_("This comment does not exist or is hidden already."))
        await queries.hide_comment(found)
        await auth_queries.audit(
            "hide comment", user_id=staff.user_id, username=staff.username,
            office=office_id, comment=key,
        )  # fmt: skip
        back = str(form.get("next") or "")
        if not back.startswith(f"/dashboard/offices/{office_id}"):
            back = f"/dashboard/offices/{office_id}"
        return Redirect(back, status_code=303)

    @get("/benchmark", cache_control=None, dependencies=PAGE_FILTERS)
    async def benchmark_page(
        self,
        request: Request[Any, Any, State],
        state: State,
        staff: NamedDependency[Scope],
        filters: NamedDependency[Filters],
    ) -> Template:
        view = _view(request, staff, filters)
        level = request.query_params.get("level")
        parts, figures = await _benchmark_page(state, staff, filters, level, view["locale"])
        context = view | {
            "result": parts.result,
            "charts": figures,
            "level": parts.result.level,
        }
        return Template(
            "dashboard/benchmark.html",
            context=context,
            headers=STAFF_HEADERS,
            status_code=_status(request),
        )

    @get(["/benchmark.csv", "/benchmark.xlsx"])
    async def benchmark_csv(
        self,
        request: Request[Any, Any, State],
        state: State,
        staff: NamedDependency[Scope],
        filters: NamedDependency[Filters],
    ) -> Response[bytes]:
        parts = await _benchmark(state, staff, filters, request.query_params.get("level"))
        gettext = translations(guard.staff_locale(request, staff), "staff").gettext
        await _export(staff, "benchmark", filters, level=parts.result.level)
        return _download(
            request, staff, filters, [N_("Benchmark"), LEVEL_FILE.get(parts.result.level, "")],
            N_("Benchmark"), parts.result.rows,
            columns(BenchmarkRow, ("hidden",)),
            {
                "verdict": _verdict_word(gettext),
                "model_verdict": _model_word(gettext),
                "funnel": lambda v: gettext(FUNNEL_WORDS.get(v, v)),
            },
        )  # fmt: skip

    @get("/best", cache_control=None, dependencies=PAGE_FILTERS)
    async def best_page(
        self,
        request: Request[Any, Any, State],
        state: State,
        staff: NamedDependency[Scope],
        filters: NamedDependency[Filters],
    ) -> Template:
        """Learning from the best: per question, who is clearly better or worse."""
        view = _view(request, staff, filters)
        learning = await _best(
            state, staff, filters, request.query_params.get("level"), view["locale"]
        )
        context = view | {
            "result": learning,
            "level": learning.level,
            "by_id": {u.id: u for u in learning.units},
        }
        return Template(
            "dashboard/best.html",
            context=context,
            headers=STAFF_HEADERS,
            status_code=_status(request),
        )

    @get(["/best.csv", "/best.xlsx"])
    async def best_csv(
        self,
        request: Request[Any, Any, State],
        state: State,
        staff: NamedDependency[Scope],
        filters: NamedDependency[Filters],
    ) -> Response[bytes]:
        locale = guard.staff_locale(request, staff)
        gettext = translations(locale, "staff").gettext
        learning = await _best(state, staff, filters, request.query_params.get("level"), locale)
        await _export(staff, "learning from the best", filters, level=learning.level)
        questions = [i.text for i in learning.items]  # a column per question, in its words
        rows = [
            {"id": u.id, "name": u.name, "organization": u.organization}
            | {text: "" if v is None else gettext(VERDICTS[v][0])
               for text, v in zip(questions, u.verdicts, strict=True)}
            for u in learning.units
        ]  # fmt: skip
        header = ["id", "name", "organization", *questions]
        return _download(
            request, staff, filters,
            [N_("Learning from the best"), LEVEL_FILE.get(learning.level, "")],
            N_("Learning from the best"), rows, header,
        )  # fmt: skip

    @get("/help", cache_control=None)
    async def help_page(
        self, request: Request[Any, Any, State], staff: NamedDependency[Scope]
    ) -> Template:
        """How to read the figures, in words a team lead reads in five minutes."""
        locale = guard.staff_locale(request, staff)
        context = guard.page_context(request, staff, locale)
        return Template("dashboard/help.html", context=context, headers=STAFF_HEADERS)


class ResultsApiController(Controller):
    """The dashboards' figures as JSON; session cookie or `Authorization: Bearer <token>`."""

    path = "/api/v1/results"
    tags = ("results",)
    dependencies = DEPENDENCIES

    @get("/overview", cache_control=None)
    async def overview(
        self,
        state: State,
        staff: NamedDependency[Scope],
        filters: NamedDependency[Filters],
        sort: Annotated[
            str | None,
            QueryParameter(
                required=False,
                description=(
                    "office, n, index, top_box, change, nps or verdict; prefix - for descending"
                ),
            ),
        ] = None,
    ) -> Overview:
        """Every office the caller may see: n, index, top-box share, change, NPS, verdict and
        the time to verdict."""
        return await _overview(state, staff, filters, sort)

    @get("/offices/{office_id:int}", cache_control=None)
    async def office(
        self,
        state: State,
        staff: NamedDependency[Scope],
        filters: NamedDependency[Filters],
        office_id: FromPath[int],
        lang: Annotated[
            str | None, QueryParameter(required=False, description="de or en: item texts and masks")
        ] = None,
    ) -> OfficeResult:
        """One office: item distributions, monthly trend, comparison, masked comments."""
        return await _office(state, staff, office_id, filters, "en" if lang == "en" else "de")

    @get("/targets", cache_control=None)
    async def targets(
        self,
        state: State,
        staff: NamedDependency[Scope],
        filters: NamedDependency[Filters],
        office_id: Annotated[
            int | None,
            QueryParameter(required=False, ge=1, le=2**31 - 1, description="only this office"),
        ] = None,
    ) -> list[steering.TargetRow]:
        """Each target an admin set for a visible office, valid at the end of the period,
        against the office's published index: met, missed, undecided (with about how many
        more responses would decide it) or too few responses."""
        return await _targets(state, staff, filters, office_id)

    @get("/benchmark", cache_control=None)
    async def benchmark(
        self,
        state: State,
        staff: NamedDependency[Scope],
        filters: NamedDependency[Filters],
        level: Annotated[
            str | None,
            QueryParameter(required=False, description="office (default) or organization"),
        ] = None,
    ) -> Benchmark:
        """Offices (or job centres) with shrunken index, rank interval and funnel position."""
        return (await _benchmark(state, staff, filters, level)).result

    @get("/best", cache_control=None)
    async def best(
        self,
        state: State,
        staff: NamedDependency[Scope],
        filters: NamedDependency[Filters],
        level: Annotated[
            str | None,
            QueryParameter(required=False, description="office (default) or organization"),
        ] = None,
        lang: Annotated[
            str | None, QueryParameter(required=False, description="de or en: question texts")
        ] = None,
    ) -> Learning:
        """Learning from the best: per question, which offices (or job centres) are clearly
        better or worse than the rest of the comparison group."""
        return await _best(state, staff, filters, level, "en" if lang == "en" else "de")
