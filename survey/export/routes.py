"""Research exports: the export page (/export) and the API (/api/v1/exports)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter
from litestar.response import Stream, Template

from survey.auth import guard
from survey.auth.schemas import Scope
from survey.downloads import file_headers, file_response
from survey.errors import BadRequest, DomainError, in_words, not_one_of
from survey.export import codebook as codebook_module
from survey.export import microdata
from survey.export.schemas import Codebook, ExportRequest
from survey.export.stream import open_comments, open_export, plan_only
from survey.i18n import N_, RESPOND_LOCALES, translations
from survey.questionnaire import MODE_NAMES, MODES, SERVICE_NAMES, SERVICE_TYPES
from survey.settings import Settings

STAFF_HEADERS = {"cache-control": "no-store"}

Str = Annotated[str | None, QueryParameter(required=False)]


def _int(raw: str | None, name: str) -> int | None:
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
        raise BadRequest(f"{name} must be a number (the code in the codebook)")
    return int(raw)


def export_request(params: dict[str, Any]) -> ExportRequest:
    """The query string of the page and the API, read the same way."""

    def text(name: str) -> str | None:
        value = params.get(name)
        return value if isinstance(value, str) and value else None

    sep = text("sep") or ","
    return ExportRequest(
        format=text("format") or "csv",
        date_from=text("from"),
        date_to=text("to"),
        service_type=text("service_type"),
        language=text("language"),
        mode=text("mode"),
        office=_int(text("office"), "office"),
        jobcentre=_int(text("jobcentre"), "jobcentre"),
        lang=text("labels") or "de",
        sep={"semicolon": ";", "comma": ","}.get(sep, sep),
    )


async def export_scope(request: Request[Any, Any, Any], state: State) -> Scope:
    """A signed-in user (session or token) whose roles include exports; 403 for the others."""
    scope = await guard.signed_in(request, state)
    if not scope.may_export:
        from survey.errors import Forbidden

        raise Forbidden(N_("Your role does not include exports."))
    return scope


def _settings(state: State) -> Settings:
    return state.settings  # type: ignore[no-any-return]


async def _stream(state: State, staff: Scope, params: dict[str, Any], via: str) -> Stream:
    export = await open_export(_settings(state), staff, export_request(params), via=via)
    return Stream(
        export.body(),
        media_type=export.media_type,
        headers=file_headers(export.filename) | {"x-resonanz-rows": str(export.plan.rows)},
    )


async def _comments(state: State, staff: Scope, params: dict[str, Any], via: str) -> Stream:
    name, body = await open_comments(_settings(state), staff, export_request(params), via=via)
    return Stream(
        body,
        media_type="text/csv",
        headers=file_headers(name),
    )


async def _codebook(state: State, staff: Scope, params: dict[str, Any]) -> Response[bytes]:
    request = export_request(params)
    kind = params.get("as") or "json"
    if kind not in ("json", "md"):
        raise not_one_of("as must be json or md", "as", ("json", "md"), str(kind))
    book = await plan_only(_settings(state), staff, request)
    if kind == "json":
        body = codebook_module.to_json(book)
        media = "application/json"
    else:
        body = codebook_module.to_markdown(book, request.lang).encode()
        media = "text/markdown"
    return file_response(body, media, f"resonanz-codebook.{kind}")


def _partial_quarters(book: Codebook | None, params: dict[str, Any]) -> dict[str, Any] | None:
    """The quarters a period starts or ends in the middle of, and a link to the same export
    over whole quarters: rows generalized to a quarter are outside such a period."""
    if book is None or not book.anonymization.accounting.partial_quarters:
        return None
    acc = book.anonymization.accounting
    names = []
    for quarter in acc.partial_quarters:
        year, q = quarter.split("-Q")
        first = microdata.quarter_start(f"{year}-{int(q) * 3:02d}")
        names.append(f"Q{q} {year} ({first} – {year}-{int(q) * 3:02d})")
    widened = {k: v for k, v in params.items() if v and k not in ("from", "to")}
    widened |= {"to": acc.aligned_to} | ({"from": acc.aligned_from} if acc.aligned_from else {})
    return {
        "quarters": ", ".join(names),
        "rows": acc.partial_quarter,
        "aligned": f"{acc.aligned_from or book.period_from} – {acc.aligned_to}",
        "href": "/export?" + urlencode(widened),
    }


def _page_defaults(params: dict[str, Any], locale: str) -> dict[str, Any]:
    """What the export page chooses unless told otherwise: labels in its language and, in
    German, semicolons (German Excel puts a comma-separated line into one cell). Its links
    carry both, so the comments file follows the page's choice; the API keeps commas."""
    params.setdefault("labels", locale)
    params.setdefault("sep", "semicolon" if locale == "de" else "comma")
    return params


class ExportController(Controller):
    """The researcher's export page; downloads go through the same code as the API."""

    path = "/export"
    include_in_schema = False
    dependencies = {"staff": Provide(export_scope)}  # noqa: RUF012

    @get("/", cache_control=None)
    async def page(
        self, request: Request[Any, Any, State], state: State, staff: NamedDependency[Scope]
    ) -> Template:
        locale = guard.staff_locale(request, staff)
        gettext = translations(locale, "staff").gettext
        params = _page_defaults(dict(request.query_params), locale)
        error = None
        book = None
        try:
            book = await plan_only(_settings(state), staff, export_request(params))
        except DomainError as exc:
            if exc.status_code == 403:
                raise
            error = in_words(exc, gettext)
        settings = _settings(state)
        context = guard.page_context(request, staff, locale) | {
            "book": book,
            "partial": _partial_quarters(book, params),
            "error": error,
            "params": params,
            "last_month": microdata.last_complete_month(),
            "k": settings.export_k,
            "grain": settings.export_period,
            "service_types": [(v, gettext(SERVICE_NAMES[v])) for v in SERVICE_TYPES],
            "modes": [(v, gettext(MODE_NAMES[v])) for v in MODES],
            "response_languages": [
                (v, microdata._language_name(v, locale)) for v in RESPOND_LOCALES
            ],
            "may_comment": bool(staff.readable),
            "query": urlencode({k: v for k, v in params.items() if k != "format" and v}),
            "step_names": {
                step: text.de if locale == "de" else text.en
                for step, text in codebook_module.STEP_TEXT.items()
            },
            "base_url": settings.public_url,
        }
        status = 400 if error else 200  # a refused choice is no success, for scripts too
        return Template(
            "export/page.html", context=context, headers=STAFF_HEADERS, status_code=status
        )

    @get("/responses")
    async def responses(
        self, request: Request[Any, Any, State], state: State, staff: NamedDependency[Scope]
    ) -> Stream:
        return await _stream(state, staff, dict(request.query_params), "page")

    @get("/codebook")
    async def codebook(
        self, request: Request[Any, Any, State], state: State, staff: NamedDependency[Scope]
    ) -> Response[bytes]:
        return await _codebook(state, staff, dict(request.query_params))

    @get("/comments")
    async def comments(
        self, request: Request[Any, Any, State], state: State, staff: NamedDependency[Scope]
    ) -> Stream:
        locale = guard.staff_locale(request, staff)
        return await _comments(
            state, staff, _page_defaults(dict(request.query_params), locale), "page"
        )


FORMAT = Annotated[str, QueryParameter(description="csv, parquet, sav (SPSS) or dta (Stata)")]
FROM = Annotated[
    str | None,
    QueryParameter(name="from", required=False, description="First month, YYYY-MM"),
]
TO = Annotated[
    str | None,
    QueryParameter(
        name="to", required=False, description="Last month, YYYY-MM (at most the last complete)"
    ),
]


class ExportApiController(Controller):
    """Anonymized microdata; session cookie or `Authorization: Bearer <token>`."""

    path = "/api/v1/exports"
    tags = ("exports",)
    dependencies = {"staff": Provide(export_scope)}  # noqa: RUF012

    @get("/responses")
    async def responses(
        self,
        request: Request[Any, Any, State],
        state: State,
        staff: NamedDependency[Scope],
        format: FORMAT = "csv",
        date_from: FROM = None,
        date_to: TO = None,
        service_type: Str = None,
        language: Str = None,
        mode: Str = None,
        office: Str = None,
        jobcentre: Str = None,
        labels: Annotated[
            str | None, QueryParameter(required=False, description="language of labels: de or en")
        ] = None,
        sep: Annotated[
            str | None, QueryParameter(required=False, description="CSV: comma or semicolon")
        ] = None,
    ) -> Stream:
        """One row per response, k-anonymous; streamed. The codebook: `/codebook`."""
        return await _stream(state, staff, dict(request.query_params), "api")

    @get("/codebook")
    async def codebook(
        self,
        request: Request[Any, Any, State],
        state: State,
        staff: NamedDependency[Scope],
        date_from: FROM = None,
        date_to: TO = None,
        as_: Annotated[
            str | None, QueryParameter(name="as", required=False, description="json or md")
        ] = None,
    ) -> Response[bytes]:
        """The codebook of the export with the same parameters (JSON or Markdown)."""
        return await _codebook(state, staff, dict(request.query_params))

    @get("/comments")
    async def comments(
        self,
        request: Request[Any, Any, State],
        state: State,
        staff: NamedDependency[Scope],
        date_from: FROM = None,
        date_to: TO = None,
    ) -> Stream:
        """Free-text answers, masked, by office and month (roles that may read comments)."""
        return await _comments(state, staff, dict(request.query_params), "api")
