"""The one aggregate query behind each dashboard page, the rollups it reads, and comments.

A page's figures come from one SQL statement over the count tables: whole months and past
days from `rollup_count`, the rest from `daily_count`, never from the answers themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import msgspec
from piccolo.engine.postgres import PostgresEngine

from survey.dashboard.schemas import Filters
from survey.tables import DailyCount, Office, RollupCount

ROLLED = "_rolled"
ALL = "*"


class CountRow(msgspec.Struct, array_like=True, frozen=True, order=True):
    office: int
    item: str
    value: int
    period: int
    """0: previous period, 1: current period, 2: the last 28 days of the current period."""
    month: str
    """YYYY-MM for the trend office in the current period, else ""."""
    n: int


class Rolled(msgspec.Struct, frozen=True):
    """The last day and the first day of the last month that `rollup_count` holds."""

    day: dt.date | None
    month: dt.date | None


def _postgres() -> bool:
    return isinstance(DailyCount._meta.db, PostgresEngine)


def _as_date(value: object) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def first_of_month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


async def rolled() -> Rolled:
    rows = await RollupCount.raw(
        "SELECT grain, MAX(start) AS start FROM rollup_count WHERE item = {} GROUP BY grain",
        ROLLED,
    )
    marks = {r["grain"]: _as_date(r["start"]) for r in rows}
    return Rolled(marks.get("day"), marks.get("month"))


async def ensure_rollups(today: dt.date) -> Rolled:
    """Roll up every day before yesterday and every month that ended before it, once.

    Responses are counted on the day they arrive, so finished days never change. One day of
    lag covers a response dated just before midnight and committed just after it. The work
    goes one month per statement, so a first rollup over years of data never holds SQLite's
    write lock longer than the response writer waits for it. Concurrent callers insert the
    same sums, and the unique key lets the second one do nothing.
    """
    horizon = today - dt.timedelta(days=1)
    done = await rolled()
    last_day = horizon - dt.timedelta(days=1)
    if done.day is None:
        first = await DailyCount.raw("SELECT MIN(day) AS day FROM daily_count")
        start = _as_date(first[0]["day"]) if first else None
        if start is None:
            return done
    else:
        start = done.day + dt.timedelta(days=1)
    month_expr = (
        "CAST(date_trunc('month', day) AS date)" if _postgres() else "substr(day, 1, 7) || '-01'"
    )
    insert = (
        "INSERT INTO rollup_count (grain, start, office, service_type, locale, mode, item, "
        "value, n) "
    )
    chunk = start
    while chunk <= last_day:
        chunk_end = min(next_month(first_of_month(chunk)) - dt.timedelta(days=1), last_day)
        await RollupCount.raw(
            insert + "SELECT 'day', day, office, '*', '*', '*', item, value, SUM(n) "
            "FROM daily_count WHERE day >= {} AND day <= {} "
            "GROUP BY day, office, item, value ON CONFLICT DO NOTHING",
            chunk,
            chunk_end,
        )
        await _mark("day", chunk_end)
        chunk = chunk_end + dt.timedelta(days=1)
    last_month = first_of_month(horizon) - dt.timedelta(days=1)  # end of the last full month
    month = next_month(done.month) if done.month else first_of_month(start)
    rolled_months = False
    while month <= last_month:
        month_end = next_month(month) - dt.timedelta(days=1)
        for dims in ("service_type, locale, mode", "'*', '*', '*'"):
            group = "" if dims.startswith("'") else ", service_type, locale, mode"
            await RollupCount.raw(
                insert + f"SELECT 'month', {month_expr}, office, {dims}, item, value, SUM(n) "
                "FROM daily_count WHERE day >= {} AND day <= {} "
                f"GROUP BY {month_expr}, office{group}, item, value ON CONFLICT DO NOTHING",
                month,
                month_end,
            )
        await _mark("month", month)
        rolled_months = True
        month = next_month(month)
    if rolled_months and _postgres():  # fresh statistics: the planner uses the key for ranges
        await RollupCount.raw("ANALYZE rollup_count")
    return await rolled()


async def _mark(grain: str, start: dt.date) -> None:
    await RollupCount.raw(
        "INSERT INTO rollup_count (grain, start, office, service_type, locale, mode, item, "
        "value, n) VALUES ({}, {}, NULL, '*', '*', '*', {}, 0, 0)",
        grain,
        start,
        ROLLED,
    )


class Plan(msgspec.Struct):
    """Which dates come from which table: whole months, rolled-up days, and the rest."""

    months: list[tuple[dt.date, dt.date]]
    days: list[tuple[dt.date, dt.date]]
    daily: list[tuple[dt.date, dt.date]]


def plan(segments: Sequence[tuple[dt.date, dt.date]], done: Rolled, filtered: bool) -> Plan:
    """Split each segment (it must lie in one period) into month, day and daily ranges.

    Day rollups hold no filter dimensions, so filtered queries read those days from the
    count table itself; month rollups hold both.
    """
    out = Plan([], [], [])

    def rest(lo: dt.date, hi: dt.date) -> None:
        if lo > hi:
            return
        cut = done.day if done.day is not None and not filtered else None
        if cut is not None and lo <= cut:
            out.days.append((lo, min(hi, cut)))
            lo = cut + dt.timedelta(days=1)
        if lo <= hi:
            out.daily.append((lo, hi))

    for lo, hi in segments:
        month = first_of_month(lo) if lo.day == 1 else next_month(lo)
        first_full = month
        last_full = None
        while done.month is not None and month <= done.month:
            end = next_month(month) - dt.timedelta(days=1)
            if end > hi:
                break
            last_full = month
            month = next_month(month)
        if last_full is None:
            rest(lo, hi)
            continue
        rest(lo, first_full - dt.timedelta(days=1))
        out.months.append((first_full, last_full))
        rest(next_month(last_full), hi)
    return out


def _filter_sql(filters: Filters, args: list[object], column: str = "") -> str:
    sql = ""
    for name in ("service_type", "locale", "mode"):
        value = getattr(filters, name)
        if value is not None:
            sql += f" AND {column}{name} = {{}}"
            args.append(value)
    return sql


def merged(ranges: Sequence[tuple[dt.date, dt.date]]) -> list[tuple[dt.date, dt.date]]:
    """Adjacent date ranges joined: one index range each (an OR of ranges defeats the index)."""
    out: list[tuple[dt.date, dt.date]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + dt.timedelta(days=1):
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


async def count_rows(
    office_ids: Sequence[int],
    items: Sequence[str],
    filters: Filters,
    done: Rolled,
    *,
    previous: bool = True,
    trend_office: int | None = None,
) -> list[CountRow]:
    """Counts per office × item × value × period (× month for one office), in one query."""
    if not office_ids or not items:
        return []
    filtered = any(getattr(filters, f) for f in ("service_type", "locale", "mode"))
    segments = [(filters.date_from, filters.recent_from - dt.timedelta(days=1)),
                (filters.recent_from, filters.date_to)]  # fmt: skip
    if previous:
        segments.insert(0, (filters.previous_from, filters.previous_to))
    parts = plan([(lo, hi) for lo, hi in segments if lo <= hi], done, filtered)
    month = "to_char(d, 'YYYY-MM')" if _postgres() else "substr(d, 1, 7)"
    args: list[object] = [filters.date_from, filters.recent_from]
    period_sql = "CASE WHEN d >= {} THEN CASE WHEN d >= {} THEN 2 ELSE 1 END ELSE 0 END"
    if trend_office is not None:
        month_sql = f"CASE WHEN office = {{}} AND d >= {{}} THEN {month} ELSE '' END"
        args += [trend_office, filters.date_from]
    else:
        month_sql = "''"
    scope = (
        f" AND office IN ({', '.join('{}' for _ in office_ids)})"
        f" AND item IN ({', '.join('{}' for _ in items)})"
    )
    if trend_office is not None:  # other offices only enter the comparison by their index
        scope += f" AND (item = '_index' OR office = {int(trend_office)})"
    subqueries = []
    for grain, ranges in (("month", parts.months), ("day", parts.days)):
        for lo, hi in merged(ranges):
            sql = (
                "SELECT office, item, value, start AS d, n FROM rollup_count "
                f"WHERE grain = '{grain}' AND start >= {{}} AND start <= {{}}" + scope
            )
            args += [lo, hi, *office_ids, *items]
            if filtered:
                sql += _filter_sql(filters, args)
            else:
                sql += " AND service_type = '*' AND locale = '*' AND mode = '*'"
            subqueries.append(sql)
    for lo, hi in merged(parts.daily):
        sql = (
            "SELECT office, item, value, day AS d, n FROM daily_count WHERE day >= {} AND day <= {}"
        )
        args += [lo, hi, *office_ids, *items]
        subqueries.append(sql + scope + _filter_sql(filters, args))
    sql = (
        f"SELECT office, item, value, {period_sql} AS period, {month_sql} AS month, "
        f"SUM(n) AS n FROM ({' UNION ALL '.join(subqueries)}) AS counts GROUP BY 1, 2, 3, 4, 5"
    )
    rows = await DailyCount.raw(sql, *args)
    return [
        CountRow(r["office"], r["item"], int(r["value"]), int(r["period"]), r["month"] or "",
                 int(r["n"]))
        for r in rows
    ]  # fmt: skip


async def comments(office_id: int, filters: Filters, limit: int = 100) -> list[dict[str, object]]:
    """Free-text answers of the period, newest first (masking happens before display)."""
    args: list[object] = [office_id, filters.date_from, filters.date_to]
    sql = (
        "SELECT r.day AS day, r.locale AS locale, t.text AS text FROM text_answer t "
        "JOIN response r ON r.id = t.response "
        "WHERE r.office = {} AND r.day >= {} AND r.day <= {}"
        + _filter_sql(filters, args, "r.")
        + f" ORDER BY r.submitted_at DESC, t.id DESC LIMIT {int(limit)}"
    )
    rows = await Office.raw(sql, *args)
    return [{"day": _as_date(r["day"]), "locale": r["locale"], "text": r["text"]} for r in rows]
