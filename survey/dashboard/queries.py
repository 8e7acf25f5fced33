"""The one aggregate query behind each dashboard page, and the comments of an office."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import msgspec
from piccolo.engine.postgres import PostgresEngine

from survey.dashboard.schemas import Filters
from survey.tables import DailyCount, Office


class CountRow(msgspec.Struct, array_like=True, frozen=True):
    office: int
    item: str
    value: int
    period: int
    """0: previous period, 1: current period, 2: the last 28 days of the current period."""
    month: str
    """YYYY-MM for the trend office in the current period, else ""."""
    n: int


def _filter_sql(filters: Filters, args: list[object], column: str = "") -> str:
    sql = ""
    for name in ("service_type", "locale", "mode"):
        value = getattr(filters, name)
        if value is not None:
            sql += f" AND {column}{name} = {{}}"
            args.append(value)
    return sql


async def count_rows(
    office_ids: Sequence[int],
    items: Sequence[str],
    filters: Filters,
    *,
    previous: bool = True,
    trend_office: int | None = None,
) -> list[CountRow]:
    """Counts per office × item × value × period (× month for one office), in one query.

    Reads the count table (kept in the same transaction as each response), never the answers.
    """
    if not office_ids or not items:
        return []
    postgres = isinstance(DailyCount._meta.db, PostgresEngine)
    month = "to_char(day, 'YYYY-MM')" if postgres else "substr(day, 1, 7)"
    period_sql = "CASE WHEN day >= {} THEN CASE WHEN day >= {} THEN 2 ELSE 1 END ELSE 0 END"
    args: list[object] = [filters.date_from, filters.recent_from]
    if trend_office is not None:
        month_sql = f"CASE WHEN office = {{}} AND day >= {{}} THEN {month} ELSE '' END"
        args += [trend_office, filters.date_from]
    else:
        month_sql = "''"
    start = filters.previous_from if previous else filters.date_from
    args += [start, filters.date_to, *office_ids, *items]
    sql = (
        f"SELECT office, item, value, {period_sql} AS period, {month_sql} AS month, "
        "SUM(n) AS n FROM daily_count "
        "WHERE day >= {} AND day <= {} "
        f"AND office IN ({', '.join('{}' for _ in office_ids)}) "
        f"AND item IN ({', '.join('{}' for _ in items)})"
        + _filter_sql(filters, args)
        + " GROUP BY 1, 2, 3, 4, 5"
    )
    rows = await DailyCount.raw(sql, *args)
    return [
        CountRow(
            r["office"], r["item"], int(r["value"]), int(r["period"]), r["month"] or "", int(r["n"])
        )
        for r in rows
    ]


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
    return [
        {
            "day": r["day"] if isinstance(r["day"], dt.date) else dt.date.fromisoformat(r["day"]),
            "locale": r["locale"],
            "text": r["text"],
        }
        for r in rows
    ]
