"""The filters of every dashboard page and results API route: whole months and one filter.

A period is a range of whole calendar months; the previous period is the same number of
months just before. The month in progress may be asked for, but its figures appear once it
is over (`published_through`, from the second day of the next month); the default period is
the last 12 months that are published. At
most one of service type, language and mode narrows the responses: every figure is then a
sum of cells of the fixed grid (office × month × one filter value), which is what the
disclosure control protects.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Mapping
from typing import Annotated, Any

import msgspec
from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from survey.auth.schemas import Scope
from survey.dashboard.schemas import Filters
from survey.errors import BadRequest, not_one_of
from survey.i18n import N_
from survey.questionnaire import LOCAL_ZONE, MODES, SERVICE_TYPES, load_definition
from survey.questionnaire import standard_definition_bytes as _standard
from survey.settings import Settings

LOCALES = tuple(load_definition(_standard()).translations)
MAX_MONTHS = 36
DEFAULT_MONTHS = 12
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})(?:-([0-9]{2}))?")


class PeriodError(BadRequest):
    """A period that cannot be shown (not whole months, reversed, too long, in the future):
    400 like any bad filter, but a page shows it next to its From and To and keeps the rest."""


def today() -> dt.date:
    """The real local date (the monthly rollup goes by it, whatever the publication day)."""
    return dt.datetime.now(LOCAL_ZONE).date()


def publication_day(settings: Settings) -> dt.date:
    """The day that decides which months are published: the real date, or RESONANZ_TODAY in
    a demo or test (`resonanz serve` refuses that setting)."""
    return settings.today or today()


def published_through(on: dt.date) -> str:
    """The last month any figure counts on day `on`: the last month that ended before
    yesterday, like the monthly rollup (queries.ensure_rollups). A response is counted on the
    day it is received; one received just before midnight and committed just after it still
    joins its month, so a month is published on the second day after it, never earlier."""
    yesterday = on - dt.timedelta(days=1)
    return month_name(yesterday.year * 12 + yesterday.month - 2)


def month_index(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:7]) - 1


def month_name(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def months_between(first: str, last: str) -> list[str]:
    return [month_name(i) for i in range(month_index(first), month_index(last) + 1)]


def _month(params: Mapping[str, str | None], name: str, end: bool) -> int | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    match = _MONTH.fullmatch(raw)
    if match is None or not 1 <= int(match[2]) <= 12:
        raise PeriodError(
            N_("The period is made of whole months: give from and to as a month like 2026-03.")
        )
    year, month = int(match[1]), int(match[2])
    if not 2000 <= year <= 2100:
        raise PeriodError(N_("The period must lie between the years 2000 and 2100."))
    if match[3] is not None:  # a day is accepted only where it is the edge of its month
        day = int(match[3])
        edge = calendar.monthrange(year, month)[1] if end else 1
        if day != edge:
            raise PeriodError(
                N_(
                    "The period is made of whole months: a period may start on the first day "
                    "of a month and end on the last, or give the months like 2026-03."
                )
            )
    return year * 12 + month - 1


def _choice(params: Mapping[str, str | None], name: str, allowed: tuple[str, ...]) -> str | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    if raw not in allowed:
        N_("%(field)s must be one of %(allowed)s; got %(got)s.")  # errors.NOT_ONE_OF
        detail = f"{name} must be one of {', '.join(allowed)}; got {raw[:40]!r}"
        raise not_one_of(detail, PARAM_NAMES.get(name, name), allowed, raw)  # pages: the label
    return raw


FILTER_PARAMS = ("service_type", "language", "mode")
PARAM_NAMES = {
    "service_type": N_("Service type"),
    "language": N_("Language"),
    "mode": N_("Mode"),
    "adjust": N_("Adjustment"),
}
"""The query parameters a page's filter form sets, named as the page names them."""
ADJUST = ("mix", "none")
"""`adjust=`: verdicts, funnel and ranks on the client-mix adjusted index, or the observed."""


def _with_filter(params: Mapping[str, str | None]) -> dict[str, str | None]:
    """`filter=language:ar` (the pages' one select) read as `language=ar`."""
    out = dict(params)
    raw = (out.pop("filter", None) or "").strip()
    if raw:
        name, _, value = raw.partition(":")
        if name not in FILTER_PARAMS or not value:
            exc = BadRequest(f"filter must be one of {', '.join(FILTER_PARAMS)}:VALUE")
            exc.msgid = N_("The filter must be one of %(allowed)s, a colon and a value.")
            exc.params = {"allowed": ", ".join(FILTER_PARAMS)}
            raise exc
        if (out.get(name) or value) != value:
            raise BadRequest(N_("Choose one filter at a time: service type, language or mode."))
        out[name] = value
    return out


def parse_filters(params: Mapping[str, str | None], on: dt.date) -> Filters:
    """Months `from`–`to` (default: the 12 months up to the last published one) and one
    filter.

    Raises BadRequest with the reason for a period that is not whole months, ends after the
    current month, starts after it ends or spans more than 36 months, for an unknown filter
    value, and for two filters at once.
    """
    params = _with_filter(params)
    current = on.year * 12 + on.month - 1
    last = _month(params, "to", end=True)
    first = _month(params, "from", end=False)
    last = month_index(published_through(on)) if last is None else last
    first = last - DEFAULT_MONTHS + 1 if first is None else first
    if last > current:
        raise PeriodError(N_("The period must not end after the current month."))
    if first > last:
        raise PeriodError(N_("The period must not end before it starts (from > to)."))
    if last - first + 1 > MAX_MONTHS:
        raise PeriodError(N_("The period may span at most three years."))
    service_type = _choice(params, "service_type", SERVICE_TYPES)
    locale = _choice(params, "language", LOCALES)
    mode = _choice(params, "mode", MODES)
    if sum(v is not None for v in (service_type, locale, mode)) > 1:
        raise BadRequest(
            N_("Choose one filter at a time: service type, language or mode."),
        )
    adjust = _choice(params, "adjust", ADJUST) or "mix"
    length = last - first + 1
    return Filters(
        first_month=month_name(first),
        last_month=month_name(last),
        previous_first_month=month_name(first - length),
        previous_last_month=month_name(first - 1),
        service_type=service_type,
        locale=locale,
        mode=mode,
        adjust="none" if adjust == "none" else "mix",
    )


def filter_query(filters: Filters) -> dict[str, str]:
    """The query string that gives these filters again (links, CSV downloads)."""
    query = {"from": filters.first_month, "to": filters.last_month}
    if filters.dimension is not None:
        query[{"locale": "language"}.get(filters.dimension, filters.dimension)] = str(filters.value)
    if filters.adjust != "mix":  # the default is left out of links
        query["adjust"] = filters.adjust
    return query


FromMonth = Annotated[
    str | None,
    QueryParameter(
        name="from",
        required=False,
        description="First month (YYYY-MM); default: 11 months before `to`",
    ),
]
ToMonth = Annotated[
    str | None,
    QueryParameter(
        name="to", required=False, description="Last month (YYYY-MM); default: the current month"
    ),
]
ServiceType = Annotated[
    str | None,
    QueryParameter(required=False, description="Service type: " + ", ".join(SERVICE_TYPES)),
]
Language = Annotated[
    str | None,
    QueryParameter(required=False, description="Language of the response: " + ", ".join(LOCALES)),
]
Mode = Annotated[
    str | None, QueryParameter(required=False, description="Mode: " + ", ".join(MODES))
]
AdjustFor = Annotated[
    str | None,
    QueryParameter(
        required=False,
        description="mix (default): verdicts, funnel and ranks on the index adjusted for "
        "service type, language group and mode; none: on the observed index",
    ),
]
OneFilter = Annotated[
    str | None,
    QueryParameter(
        required=False,
        description="The pages' single filter: service_type:VALUE, language:VALUE or mode:VALUE",
    ),
]


async def provide_filters(
    staff: NamedDependency[Scope],
    state: State,
    date_from: FromMonth = None,
    date_to: ToMonth = None,
    service_type: ServiceType = None,
    language: Language = None,
    mode: Mode = None,
    filter: OneFilter = None,
    adjust: AdjustFor = None,
) -> Filters:
    """The Litestar dependency behind every dashboard page and results route (one filter at
    a time: service type, language or mode).

    It takes `staff` (the signed-in user) only so that Litestar resolves it first: a request
    without credentials gets 401 (or the sign-in page) before its period is looked at."""
    del staff
    params = {"from": date_from, "to": date_to, "service_type": service_type,
              "language": language, "mode": mode, "filter": filter, "adjust": adjust}  # fmt: skip
    return parse_filters(params, publication_day(state.settings))


TYPED_MAX = 20
"""At most this much of a From or To that could not be shown is shown again in its box (a
month is 7 characters, a date 10; r27 sent 60 kB)."""


class AskedPeriod(msgspec.Struct, frozen=True):
    """A page's period that could not be shown: the reason and the From and To as typed."""

    error: PeriodError
    first: str
    last: str


async def provide_page_filters(
    request: Request[Any, Any, Any],
    staff: NamedDependency[Scope],
    state: State,
    date_from: FromMonth = None,
    date_to: ToMonth = None,
    service_type: ServiceType = None,
    language: Language = None,
    mode: Mode = None,
    filter: OneFilter = None,
    adjust: AdjustFor = None,
) -> Filters:
    """`provide_filters` for the dashboard pages: a period that cannot be shown gives the
    default period with the other choices kept, and leaves the reason and the months as
    typed in `request.state.asked_period`, for the page to show at its filter form (with
    status 400) instead of an error page that drops the filter."""
    del staff
    params = {"from": date_from, "to": date_to, "service_type": service_type,
              "language": language, "mode": mode, "filter": filter, "adjust": adjust}  # fmt: skip
    on = publication_day(state.settings)
    try:
        return parse_filters(params, on)
    except PeriodError as exc:
        typed = [(month or "")[:TYPED_MAX] for month in (date_from, date_to)]  # shown again
        request.state.asked_period = AskedPeriod(exc, typed[0], typed[1])
        return parse_filters(params | {"from": None, "to": None}, on)


def asked_period(request: Request[Any, Any, Any]) -> AskedPeriod | None:
    found = getattr(request.state, "asked_period", None)
    return found if isinstance(found, AskedPeriod) else None
