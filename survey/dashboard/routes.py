"""Dashboards for managers (/dashboard) and the results API (/api/v1/results)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from babel.dates import format_date
from babel.numbers import format_decimal
from litestar import Controller, Request, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, QueryParameter
from litestar.response import Template
from markupsafe import Markup

from survey.auth import guard
from survey.auth import queries as auth_queries
from survey.auth.schemas import Scope
from survey.dashboard import figures, queries
from survey.dashboard.schemas import Benchmark, Filters, OfficeResult, Overview
from survey.errors import BadRequest
from survey.i18n import N_, translations
from survey.respond.store import INDEX_ITEM, LOCAL_ZONE
from survey.settings import Settings

VERDICTS = {
    "better": (N_("better"), "better"),
    "worse": (N_("worse"), "worse"),
    "no clear difference": (N_("no clear difference"), "none"),
    "too few responses": (N_("too few responses"), "few"),
}
SERVICE_NAMES = {
    "benefits": N_("Benefits"),
    "placement": N_("Placement"),
    "case_management": N_("Case management"),
    "under_25": N_("Under 25"),
}
MODE_NAMES = {"personal": N_("Personal (QR code or link)"), "kiosk": N_("Kiosk (tablet)")}
MASK_LABELS = {
    "email": N_("[e-mail]"),
    "customer": N_("[customer number]"),
    "phone": N_("[phone]"),
    "name": N_("[name]"),
}
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
"""plotly.js sets style attributes on the SVG it draws (and a <style> for its toolbar), which a
strict style-src blocks; scripts stay 'self' only. Staff pages only, never respondent pages."""
STAFF_HEADERS = {"cache-control": "no-store", "content-security-policy": CSP}

Text = Annotated[str | None, QueryParameter(required=False)]


def _today() -> dt.date:
    return dt.datetime.now(LOCAL_ZONE).date()


def _settings(state: State) -> Settings:
    return state.settings  # type: ignore[no-any-return]


async def _rolled(state: State) -> queries.Rolled:
    """Roll up past days once per process and day; later calls only read the marks."""
    today = _today()
    if getattr(state, "rolled_on", None) != today:
        state.rolled = await queries.ensure_rollups(today)
        state.rolled_on = today
    return state.rolled  # type: ignore[no-any-return]


def _filters(params: dict[str, Any]) -> Filters:
    return figures.parse_filters({k: v for k, v in params.items() if isinstance(v, str)}, _today())


def _lang(locale: str) -> Literal["de", "en"]:
    return "en" if locale == "en" else "de"


def figure_json(fig: Any) -> Markup:
    """Plotly JSON safe inside <script type="application/json"> (no "</script>" can end it)."""
    raw = fig.to_json()
    return Markup(raw.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def _view(request: Request[Any, Any, Any], staff: Scope, filters: Filters) -> dict[str, Any]:
    locale = guard.staff_locale(request, staff)
    gettext = translations(locale, "staff").gettext

    def num(value: float | None, digits: int = 1) -> str:
        if value is None:
            return ""
        return format_decimal(
            value, format="#,##0." + "0" * digits if digits else "#,##0", locale=locale
        )

    def date(value: dt.date | None) -> str:
        return "" if value is None else format_date(value, format="medium", locale=locale)

    def verdict(value: str) -> tuple[str, str]:
        text, css = VERDICTS[value]
        return gettext(text), css

    query = figures.filter_query(filters)
    return guard.page_context(request, staff, locale) | {
        "num": num,
        "date": date,
        "verdict": verdict,
        "filters": filters,
        "filter_query": query,
        "service_types": [(v, gettext(SERVICE_NAMES[v])) for v in figures.SERVICE_TYPES],
        "modes": [(v, gettext(MODE_NAMES[v])) for v in figures.MODES],
        "languages_of_responses": [(v, v) for v in figures.LOCALES],
        "qs": lambda **extra: _qs(query | {k: str(v) for k, v in extra.items() if v}),
    }


def _qs(query: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return "?" + urlencode(query)


def _csv(request: Request[Any, Any, Any], staff: Scope, name: str, body: bytes) -> Response[bytes]:
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="{name}"',
            "cache-control": "no-store",
        },
    )


async def _export(staff: Scope, what: str, filters: Filters, **detail: Any) -> None:
    await auth_queries.audit(
        "export",
        user_id=staff.user_id,
        username=staff.username,
        what=what,
        filters={k: str(v) for k, v in figures.filter_query(filters).items()},
        **detail,
    )


async def _overview(
    state: State, staff: Scope, filters: Filters, min_n: int, sort: str | None
) -> Overview:
    figures.parse_sort(sort)
    rows = await queries.count_rows(
        [o.id for o in staff.group],
        [INDEX_ITEM, figures.TOP_BOX_ITEM],
        filters,
        await _rolled(state),
    )
    return figures.overview(staff, rows, filters, min_n, _today(), sort)


async def _office(
    state: State,
    staff: Scope,
    office_id: int,
    filters: Filters,
    min_n: int,
    locale: str,
) -> OfficeResult:
    guard.require_office(staff, office_id)
    gettext = translations(locale, "staff").gettext
    rows = await queries.count_rows(
        [o.id for o in staff.group],
        [INDEX_ITEM, *(i.code for i in figures.SCALE_ITEMS)],
        filters,
        await _rolled(state),
        trend_office=office_id,
    )
    comments = await queries.comments(office_id, filters)
    return figures.office_result(
        staff,
        office_id,
        rows,
        filters,
        min_n,
        _today(),
        comments,
        locale=locale,
        masks={k: gettext(v) for k, v in MASK_LABELS.items()},
    )


def _level(raw: str | None) -> Literal["office", "organization"]:
    if raw in (None, "", "office"):
        return "office"
    if raw == "organization":
        return "organization"
    raise BadRequest("level must be office or organization")


async def _benchmark(
    state: State, staff: Scope, filters: Filters, min_n: int, level: str | None
) -> figures.BenchmarkParts:
    unit = _level(level)
    rows = await queries.count_rows(
        [o.id for o in staff.group], [INDEX_ITEM], filters, await _rolled(state), previous=False
    )
    return figures.benchmark(staff, rows, filters, min_n, unit)


class DashboardController(Controller):
    path = "/dashboard"
    include_in_schema = False
    dependencies = {"staff": Provide(guard.dashboard_scope)}  # noqa: RUF012

    @get("/", cache_control=None)
    async def overview_page(
        self, request: Request[Any, Any, State], state: State, staff: NamedDependency[Scope]
    ) -> Template:
        filters = _filters(dict(request.query_params))
        sort = request.query_params.get("sort")
        result = await _overview(state, staff, filters, _settings(state).min_responses, sort)
        view = _view(request, staff, filters)
        context = view | {"result": result, "sort": sort or "office"}
        return Template("dashboard/overview.html", context=context, headers=STAFF_HEADERS)

    @get("/overview.csv")
    async def overview_csv(
        self, request: Request[Any, Any, State], state: State, staff: NamedDependency[Scope]
    ) -> Response[bytes]:
        filters = _filters(dict(request.query_params))
        result = await _overview(
            state, staff, filters, _settings(state).min_responses, request.query_params.get("sort")
        )
        await _export(staff, "overview", filters)
        locale = guard.staff_locale(request, staff)
        gettext = translations(locale, "staff").gettext
        header = [
            "office_id",
            "office",
            "organization",
            "n",
            "index",
            "index_low",
            "index_high",
            "top_box",
            "top_box_low",
            "top_box_high",
            "previous_n",
            "change",
            "change_low",
            "change_high",
            "verdict",
            "qvalue",
            "needed",
            "needed_by",
        ]
        body = figures.to_csv(
            header,
            (
                [
                    r.office_id,
                    r.office,
                    r.organization,
                    r.n,
                    r.index,
                    r.index_low,
                    r.index_high,
                    r.top_box,
                    r.top_box_low,
                    r.top_box_high,
                    r.previous_n,
                    r.change,
                    r.change_low,
                    r.change_high,
                    gettext(VERDICTS[r.verdict][0]),
                    r.qvalue,
                    "" if r.needed is None else r.needed,
                    "" if r.needed_by is None else r.needed_by,
                ]
                for r in result.rows
            ),
            gettext("too few responses"),
        )
        return _csv(request, staff, "overview.csv", body)

    @get("/offices/{office_id:int}", cache_control=None)
    async def office_page(
        self,
        request: Request[Any, Any, State],
        state: State,
        staff: NamedDependency[Scope],
        office_id: FromPath[int],
    ) -> Template:
        filters = _filters(dict(request.query_params))
        view = _view(request, staff, filters)
        result = await _office(
            state, staff, office_id, filters, _settings(state).min_responses, view["locale"]
        )
        charts = figures.office_charts(result, _lang(view["locale"]))
        context = view | {
            "result": result,
            "charts": {k: figure_json(v) for k, v in charts.items()},
        }
        return Template("dashboard/office.html", context=context, headers=STAFF_HEADERS)

    @get("/offices/{office_id:int}/{table:str}")
    async def office_csv(
        self,
        request: Request[Any, Any, State],
        state: State,
        staff: NamedDependency[Scope],
        office_id: FromPath[int],
        table: FromPath[str],
    ) -> Response[bytes]:
        if table not in ("items.csv", "trend.csv", "comparison.csv"):
            raise BadRequest("The table must be items.csv, trend.csv or comparison.csv.")
        filters = _filters(dict(request.query_params))
        locale = guard.staff_locale(request, staff)
        gettext = translations(locale, "staff").gettext
        result = await _office(
            state, staff, office_id, filters, _settings(state).min_responses, locale
        )
        too_few = gettext("too few responses")
        if table == "items.csv":
            levels = sorted({v for i in result.items for v in i.levels})
            header = ["item", "text", "n", "index", "top_box", *(f"n_{v}" for v in levels)]
            rows: Any = (
                [
                    i.item,
                    i.text,
                    i.n,
                    i.index,
                    i.top_box,
                    *(
                        (
                            ""
                            if v not in i.levels
                            else None
                            if i.counts is None
                            else i.counts[i.levels.index(v)]
                        )
                        for v in levels
                    ),
                ]
                for i in result.items
            )
        elif table == "trend.csv":
            header = ["month", "n", "index", "index_low", "index_high"]
            rows = ([p.month, p.n, p.index, p.index_low, p.index_high] for p in result.trend)
        else:
            header = ["level", "name", "n", "index", "index_low", "index_high"]
            hidden = gettext("not shown: it would reveal a single office or job centre")
            rows = (
                [c.level, c.name, c.n, c.index, c.index_low, c.index_high]
                if not c.hidden
                else [c.level, c.name, c.n, hidden, hidden, hidden]
                for c in result.comparison
            )
        await _export(staff, f"office {table}", filters, office=office_id)
        name = f"office-{office_id}-{table}"
        return _csv(request, staff, name, figures.to_csv(header, rows, too_few))

    @get("/benchmark", cache_control=None)
    async def benchmark_page(
        self, request: Request[Any, Any, State], state: State, staff: NamedDependency[Scope]
    ) -> Template:
        filters = _filters(dict(request.query_params))
        parts = await _benchmark(
            state, staff, filters, _settings(state).min_responses, request.query_params.get("level")
        )
        view = _view(request, staff, filters)
        charts = figures.benchmark_charts(parts, _lang(view["locale"]))
        context = view | {
            "result": parts.result,
            "charts": {k: figure_json(v) for k, v in charts.items()},
            "level": parts.result.level,
        }
        return Template("dashboard/benchmark.html", context=context, headers=STAFF_HEADERS)

    @get("/benchmark.csv")
    async def benchmark_csv(
        self, request: Request[Any, Any, State], state: State, staff: NamedDependency[Scope]
    ) -> Response[bytes]:
        filters = _filters(dict(request.query_params))
        parts = await _benchmark(
            state, staff, filters, _settings(state).min_responses, request.query_params.get("level")
        )
        locale = guard.staff_locale(request, staff)
        gettext = translations(locale, "staff").gettext
        header = [
            "id",
            "name",
            "n",
            "index",
            "index_low",
            "index_high",
            "shrunken",
            "shrunken_low",
            "shrunken_high",
            "rank",
            "rank_low",
            "rank_high",
            "of",
            "verdict",
            "qvalue",
            "funnel",
        ]
        body = figures.to_csv(
            header,
            (
                [
                    r.id,
                    r.name,
                    r.n,
                    r.index,
                    r.index_low,
                    r.index_high,
                    r.shrunken,
                    r.shrunken_low,
                    r.shrunken_high,
                    r.rank,
                    r.rank_low,
                    r.rank_high,
                    r.of,
                    gettext(VERDICTS[r.verdict][0]),
                    r.qvalue,
                    r.funnel,
                ]
                for r in parts.result.rows
            ),
            gettext("too few responses"),
        )
        await _export(staff, "benchmark", filters, level=parts.result.level)
        return _csv(request, staff, "benchmark.csv", body)


FROM = Annotated[
    str | None,
    QueryParameter(
        name="from",
        required=False,
        description="First day (YYYY-MM-DD); default: 12 months before `to`",
    ),
]
TO = Annotated[
    str | None,
    QueryParameter(name="to", required=False, description="Last day (YYYY-MM-DD); default: today"),
]
SERVICE = Annotated[
    str | None,
    QueryParameter(required=False, description="Service type: " + ", ".join(figures.SERVICE_TYPES)),
]
LANGUAGE = Annotated[
    str | None,
    QueryParameter(
        required=False, description="Language of the response: " + ", ".join(figures.LOCALES)
    ),
]
MODE = Annotated[str | None, QueryParameter(required=False, description="Mode: personal or kiosk")]


def _api_filters(
    date_from: str | None,
    date_to: str | None,
    service_type: str | None,
    language: str | None,
    mode: str | None,
) -> Filters:
    """The API's filter parameters, read as the pages read their query string."""
    params = {"from": date_from, "to": date_to, "service_type": service_type,
              "language": language, "mode": mode}  # fmt: skip
    return _filters({k: v for k, v in params.items() if v is not None})


class ResultsApiController(Controller):
    """The dashboards' figures as JSON; session cookie or `Authorization: Bearer <token>`."""

    path = "/api/v1/results"
    tags = ("results",)
    dependencies = {"staff": Provide(guard.dashboard_scope)}  # noqa: RUF012

    @get("/overview", cache_control=None)
    async def overview(
        self,
        state: State,
        staff: NamedDependency[Scope],
        date_from: FROM = None,
        date_to: TO = None,
        service_type: SERVICE = None,
        language: LANGUAGE = None,
        mode: MODE = None,
        sort: Annotated[
            str | None,
            QueryParameter(
                required=False,
                description="office, n, index, top_box, change or verdict; prefix - for descending",
            ),
        ] = None,
    ) -> Overview:
        """Every office the caller may see: n, index, top-box share, change, verdict."""
        filters = _api_filters(date_from, date_to, service_type, language, mode)
        return await _overview(state, staff, filters, _settings(state).min_responses, sort)

    @get("/offices/{office_id:int}", cache_control=None)
    async def office(
        self,
        state: State,
        staff: NamedDependency[Scope],
        office_id: FromPath[int],
        date_from: FROM = None,
        date_to: TO = None,
        service_type: SERVICE = None,
        language: LANGUAGE = None,
        mode: MODE = None,
        lang: Annotated[
            str | None, QueryParameter(required=False, description="de or en: item texts and masks")
        ] = None,
    ) -> OfficeResult:
        """One office: item distributions, monthly trend, comparison, masked comments."""
        filters = _api_filters(date_from, date_to, service_type, language, mode)
        locale = "en" if lang == "en" else "de"
        return await _office(
            state, staff, office_id, filters, _settings(state).min_responses, locale
        )

    @get("/benchmark", cache_control=None)
    async def benchmark(
        self,
        state: State,
        staff: NamedDependency[Scope],
        date_from: FROM = None,
        date_to: TO = None,
        service_type: SERVICE = None,
        language: LANGUAGE = None,
        mode: MODE = None,
        level: Annotated[
            str | None,
            QueryParameter(required=False, description="office (default) or organization"),
        ] = None,
    ) -> Benchmark:
        """Offices (or job centres) with shrunken index, rank interval and funnel position."""
        filters = _api_filters(date_from, date_to, service_type, language, mode)
        parts = await _benchmark(state, staff, filters, _settings(state).min_responses, level)
        return parts.result
