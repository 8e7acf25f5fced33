"""The one aggregate query behind each dashboard page, the rollups it reads, and comments.

A page's figures come from one SQL statement over the count tables, by office × month ×
item × value for one filter: finished months from `rollup_count`, the rest from
`daily_count`, never from the answers themselves. The rows carry the sums of the record
keys the disclosure control needs (survey/dashboard/disclosure.py).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import itertools
import re
import sqlite3
import weakref
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

import msgspec
import numpy as np
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from survey.dashboard.schemas import Filters
from survey.db import SQLITE_BUSY_TIMEOUT_S
from survey.questionnaire import INDEX_ITEM, INDEX_ITEMS
from survey.tables import DailyCount, MixCount, Office, RollupCount, TextAnswer

ROLLED = "_rolled"
INDEX_CLASS = "CASE WHEN item = '_index' THEN ((4 * value + 210) / 420) * 105 ELSE value END"
"""A composite index (420 × mean) rounded to its quarter-point class (105 × the class number,
integer division of non-negative numbers on both engines): the grid's index levels, so a page
reads 17 rows per office and month instead of up to a hundred. `rollup_count` keeps the index
in these classes (a class's value gives itself again); `daily_count` keeps the raw value."""
RESPONSES = "_n"
"""The item of `rollup_count`'s rows (value 0) that hold, per office × month × view, the
responses with an index: the sum of its `_index` rows, which a filtered view's blocks need
for every value of its filter (`dimension_rows`)."""
ALL = "*"


ROLLUP_DIMENSIONS = (
    ("'*', '*', '*'", ""),
    ("service_type, '*', '*'", ", service_type"),
    ("'*', locale, '*'", ", locale"),
    ("'*', '*', mode", ", mode"),
)
"""The rows `rollup_count` keeps per office × month × item × value (the index in its classes,
`INDEX_CLASS`, and per office × month one row of item `RESPONSES`): summed over every filter,
and per value of each single filter with the other two summed ('*'). A page narrows by at most
one filter, so its rows are one range of the table's key (grain, service_type, locale, mode,
start, …) whatever the filter."""


class CountRow(msgspec.Struct, array_like=True, frozen=True, order=True):
    office: int
    item: str
    value: int
    month: str
    """YYYY-MM."""
    n: int
    key_sum: int
    """Sum of the record keys of the responses counted in the row."""


class CountColumns:
    """Count rows as columns (numpy arrays of equal length), as a page's first view reads
    them: tens of thousands of rows, which `disclosure.protect` takes in a few array
    operations instead of a Python loop over `CountRow`s.

    Items and months are kept as whole numbers (`item_no` into the names `items`;
    `month_no`, year × 12 + month − 1, or −1 for a name that is no month): `protect` sorted
    tens of thousands of strings per table to find them (about half its time); `item` and
    `month` give the names."""

    __slots__ = ("item_no", "items", "key_sum", "month_no", "n", "office", "value")

    def __init__(self, office: Any, item: Any, value: Any, month: Any, n: Any,
                 key_sum: Any) -> None:  # fmt: skip
        names, item_no = np.unique(np.asarray(item, dtype=str), return_inverse=True)
        months, month_of = np.unique(np.asarray(month, dtype=str), return_inverse=True)
        numbers = np.array([month_number(m) for m in months.tolist()], dtype=np.int64)
        self._set(office, tuple(names.tolist()), item_no.reshape(-1), value,
                  numbers[month_of.reshape(-1)], n, key_sum)  # fmt: skip

    def _set(self, office: Any, items: tuple[str, ...], item_no: Any, value: Any,
             month_no: Any, n: Any, key_sum: Any) -> None:  # fmt: skip
        self.office = np.asarray(office, dtype=np.int64)
        self.items = items
        self.item_no = np.asarray(item_no, dtype=np.int64)
        self.value = np.asarray(value, dtype=np.int64)
        self.month_no = np.asarray(month_no, dtype=np.int64)
        self.n = np.asarray(n, dtype=np.int64)
        self.key_sum = np.asarray(key_sum, dtype=np.int64)
        """Key sums stay far below 2**63 (a million keys below 2**31)."""

    @classmethod
    def numbered(cls, office: Any, items: Sequence[str], item_no: Any, value: Any,
                 month_no: Any, n: Any, key_sum: Any) -> CountColumns:  # fmt: skip
        found = cls.__new__(cls)
        found._set(office, tuple(items), item_no, value, month_no, n, key_sum)
        return found

    @property
    def item(self) -> np.ndarray:
        names: np.ndarray = np.array(self.items or ("",), dtype=str)[self.item_no]
        return names

    @property
    def month(self) -> np.ndarray:
        """YYYY-MM."""
        numbers, month_of = np.unique(self.month_no, return_inverse=True)
        names = np.array([month_name(m) for m in numbers.tolist()] or [""], dtype=str)
        found: np.ndarray = names[month_of.reshape(-1)]
        return found

    def __len__(self) -> int:
        return int(self.office.size)

    @property
    def nbytes(self) -> int:
        """Memory of the columns (for the bound of a cache)."""
        columns = (self.office, self.item_no, self.value, self.month_no, self.n, self.key_sum)
        return sum(int(c.nbytes) for c in columns)

    @classmethod
    def of(cls, rows: CountColumns | Iterable[CountRow]) -> CountColumns:
        if isinstance(rows, CountColumns):
            return rows
        rows = list(rows)
        return cls.from_tuples([(r.office, r.item, r.value, r.month, r.n, r.key_sum) for r in rows])

    @classmethod
    def from_tuples(cls, rows: Sequence[Sequence[Any]]) -> CountColumns:
        """From (office, item, value, month, n, key_sum) tuples."""
        if not rows:
            return cls([], [], [], [], [], [])
        office, item, value, month, n, key_sum = zip(*rows, strict=True)
        return cls(office, item, value, month, n, key_sum)

    @classmethod
    def from_codes(cls, rows: Sequence[Sequence[int]], items: Sequence[str]) -> CountColumns:
        """From (office, item number in `items`, value, month number, n, key_sum) tuples of
        whole numbers (the month number is year × 12 + month − 1): one conversion to an
        array (`count_columns`: a cold page's tens of thousands of rows took 12 ms per
        20,000 as strings, 7 as numbers)."""
        if not rows:
            return cls.from_tuples([])
        found = _whole_numbers(rows, 6)
        if len(set(items)) < len(items):  # a name twice: by the names
            return cls(found[:, 0], np.array(items, dtype=str)[found[:, 1]], found[:, 2],
                       [month_name(m) for m in found[:, 3].tolist()], found[:, 4],
                       found[:, 5])  # fmt: skip
        return cls.numbered(found[:, 0], items, found[:, 1], found[:, 2], found[:, 3],
                            found[:, 4], found[:, 5])  # fmt: skip

    @classmethod
    def from_packed(
        cls, rows: Sequence[Sequence[int]], items: Sequence[str], first_month: int
    ) -> CountColumns:
        """From (code, n, key_sum) tuples, the code packing office, month (from month
        number `first_month` on), item number in `items` and value (`count_columns`)."""
        if not rows:
            return cls.from_tuples([])
        found = _whole_numbers(rows, 3)
        code = found[:, 0]
        value = code % VALUE_CODES - VALUE_CODES // 2
        code = code // VALUE_CODES
        item_no, code = code % ITEM_CODES, code // ITEM_CODES
        month_no, office = code % MONTH_CODES + first_month, code // MONTH_CODES
        if len(set(items)) < len(items):  # a name twice: by the names
            return cls(office, np.array(items, dtype=str)[item_no], value,
                       [month_name(m) for m in month_no.tolist()], found[:, 1],
                       found[:, 2])  # fmt: skip
        return cls.numbered(office, items, item_no, value, month_no, found[:, 1], found[:, 2])

    def where(self, keep: Any) -> CountColumns:
        return CountColumns.numbered(self.office[keep], self.items, self.item_no[keep],
                                     self.value[keep], self.month_no[keep], self.n[keep],
                                     self.key_sum[keep])  # fmt: skip

    def rows(self) -> list[CountRow]:
        columns = (self.office, self.item, self.value, self.month, self.n, self.key_sum)
        return [CountRow(*r) for r in zip(*(c.tolist() for c in columns), strict=True)]


def _whole_numbers(rows: Sequence[Sequence[int]], width: int) -> np.ndarray:
    """Rows of `width` whole numbers as an array (through one flat iterator: half the time
    of np.array on the tuples)."""
    flat = itertools.chain.from_iterable(rows)
    return np.fromiter(flat, dtype=np.int64, count=width * len(rows)).reshape(-1, width)


@functools.lru_cache(maxsize=4096)
def month_number(month: str) -> int:
    """Year × 12 + month − 1 of a YYYY-MM month, −1 for anything else."""
    digits = month[:4] + month[5:]
    if len(month) != 7 or month[4] != "-" or not (digits.isascii() and digits.isdigit()):
        return -1
    number = int(month[5:])
    return int(month[:4]) * 12 + number - 1 if 1 <= number <= 12 else -1


def month_name(number: int) -> str:
    """YYYY-MM of a month number (`month_number`; "" for −1)."""
    return "" if number < 0 else f"{number // 12:04d}-{number % 12 + 1:02d}"


class Rolled(msgspec.Struct, frozen=True):
    """The first day of the last month that `rollup_count` holds."""

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


def month_start(month: str) -> dt.date:
    return dt.date(int(month[:4]), int(month[5:7]), 1)


def month_end(month: str) -> dt.date:
    return next_month(month_start(month)) - dt.timedelta(days=1)


async def rolled() -> Rolled:
    rows = await RollupCount.raw(
        "SELECT MAX(start) AS start FROM rollup_count WHERE item = {} AND grain = 'month'",
        ROLLED,
    )
    return Rolled(_as_date(rows[0]["start"]) if rows else None)


async def _roll_months(
    done: Rolled, today: dt.date, roll: Callable[[dt.date, dt.date], Awaitable[None]]
) -> bool:
    """Call `roll(first day, last day)` for every month after `done` that ended before
    yesterday (from the first day in `daily_count` when nothing is rolled up yet), one month
    at a time; True when it rolled any.

    Responses are counted on the day they arrive, so finished months never change. One day
    of lag covers a response dated just before midnight and committed just after it. The
    work goes one month per statement, so a first rollup over years of data never holds
    SQLite's write lock longer than the response writer waits for it. Concurrent callers
    insert the same sums, and the unique keys let the second one do nothing.
    """
    if done.month is None:
        first = await DailyCount.raw("SELECT MIN(day) AS day FROM daily_count")
        start = _as_date(first[0]["day"]) if first else None
        if start is None:
            return False
        month = first_of_month(start)
    else:
        month = next_month(done.month)
    last_month = first_of_month(today - dt.timedelta(days=1)) - dt.timedelta(days=1)
    rolled_any = False
    while month <= last_month:
        await roll(month, next_month(month) - dt.timedelta(days=1))
        rolled_any = True
        month = next_month(month)
    return rolled_any


def _month_expr() -> str:
    """The first day of a `daily_count` row's month, in this engine's SQL."""
    return "CAST(date_trunc('month', day) AS date)" if _postgres() else "substr(day, 1, 7) || '-01'"


KEY_ORDER = "ORDER BY 4, 5, 6, 2, 3, 7, 8"
"""The rollup statements insert their rows in the order of `rollup_count`'s unique key (grain,
service_type, locale, mode, start, office, item, value: these positions of their SELECT), so
that two processes rolling up the same month at once wait for each other instead of
deadlocking (PostgreSQL: each would hold rows the other waits for, in a different order)."""


async def ensure_rollups(today: dt.date) -> Rolled:
    """Roll up `rollup_count` for every month that ended before yesterday, once
    (`_roll_months`)."""
    month_expr = _month_expr()
    insert = (
        "INSERT INTO rollup_count (grain, start, office, service_type, locale, mode, item, "
        "value, n, key_sum) "
    )

    async def roll(month: dt.date, end: dt.date) -> None:
        for dims, group in ROLLUP_DIMENSIONS:
            await RollupCount.raw(
                insert + f"SELECT 'month', {month_expr}, office, {dims}, item, {INDEX_CLASS}, "
                "SUM(n), SUM(key_sum) FROM daily_count WHERE day >= {} AND day <= {} "
                f"GROUP BY {month_expr}, office{group}, item, {INDEX_CLASS} "
                f"{KEY_ORDER} ON CONFLICT DO NOTHING",
                month,
                end,
            )
        await RollupCount.raw(  # the responses of each view: the sum of its index rows
            insert + f"SELECT grain, start, office, service_type, locale, mode, '{RESPONSES}', "
            "0, SUM(n), SUM(key_sum) FROM rollup_count WHERE grain = 'month' AND item = '_index' "
            "AND start = {} GROUP BY grain, start, office, service_type, locale, mode "
            f"{KEY_ORDER} ON CONFLICT DO NOTHING",
            month,
        )
        await _mark("month", month)

    if await _roll_months(await rolled(), today, roll) and _postgres():
        # fresh statistics: the planner uses the key for ranges
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


def rollup_split(done: Rolled, lo: dt.date, hi: dt.date) -> dt.date:
    """The first day of `lo`–`hi` read from the daily counts: the days before it come from
    the rollup (through `done`'s month), and it is the day after `hi` when all of them do."""
    split = next_month(done.month) if done.month is not None else lo
    return min(max(split, lo), next_month(hi))


def _filter_sql(filters: Filters, args: list[object], column: str = "") -> str:
    if filters.dimension is None:
        return ""
    args.append(filters.value)
    return f" AND {column}{filters.dimension} = {{}}"


async def count_columns(
    office_ids: Sequence[int],
    items: Sequence[str],
    filters: Filters,
    done: Rolled,
    first_month: str,
    last_month: str,
    *,
    detail_office: int | None = None,
) -> CountColumns:
    """Counts and key sums per office × item × value × month of `first_month`–`last_month`
    for the filter, in one query (index values in their quarter-point classes). With
    `detail_office`, the other offices only give their index (item `_index`, and its index
    items, whose mean it is): they enter the page as comparison figures only."""
    if not office_ids or not items:
        return CountColumns.from_tuples([])
    lo, hi = month_start(first_month), month_end(last_month)
    split = rollup_split(done, lo, hi)  # months before `split` come from the rollup
    scope = (
        f" AND office IN ({', '.join('{}' for _ in office_ids)})"
        f" AND item IN ({', '.join('{}' for _ in items)})"
    )
    if detail_office is not None:
        index = ", ".join(f"'{code}'" for code in (INDEX_ITEM, *INDEX_ITEMS))
        scope += f" AND (item IN ({index}) OR office = {int(detail_office)})"
    items = list(items)
    args: list[object] = [*items]  # the item's number in `items`: the outer CASE
    subqueries = []
    if split > lo:
        month = _month_number("start")
        sql = (
            f"SELECT office, item, value, {month} AS month, n, key_sum FROM rollup_count "
            "WHERE grain = 'month' AND start >= {} AND start < {}" + scope
        )
        args += [lo, split, *office_ids, *items]
        for dimension in ("service_type", "locale", "mode"):
            if dimension == filters.dimension:
                sql += f" AND {dimension} = {{}}"
                args.append(filters.value)
            else:
                sql += f" AND {dimension} = '*'"
        subqueries.append(sql)
    if split <= hi:
        month = _month_number("day")
        sql = (
            f"SELECT office, item, value, {month} AS month, n, key_sum FROM daily_count "
            "WHERE day >= {} AND day <= {}" + scope
        )
        args += [split, hi, *office_ids, *items]
        subqueries.append(sql + _filter_sql(filters, args))
    number = " ".join(f"WHEN {{}} THEN {k}" for k in range(len(items)))
    if split > hi:  # rolled-up months alone: one row per office, item, class and month
        # already (the rollup's key); summing them again sorted every row (SQLite: about
        # 40 % of the statement's time)
        sql = (
            f"SELECT office, CASE item {number} END AS item_no, {INDEX_CLASS} AS value, month, "
            f"n, key_sum FROM ({subqueries[0]}) AS counts"
        )
    else:
        sql = (
            # the sums as BIGINT: PostgreSQL's sum of a bigint is numeric (a Decimal per row)
            f"SELECT office, CASE item {number} END AS item_no, {INDEX_CLASS} AS value, month, "
            "CAST(SUM(n) AS BIGINT) AS n, CAST(SUM(key_sum) AS BIGINT) AS key_sum "
            f"FROM ({' UNION ALL '.join(subqueries)}) AS counts GROUP BY 1, 2, 3, 4"
        )
    base = month_number(first_month)
    if not _packable(office_ids, items, base, month_number(last_month)):
        return CountColumns.from_codes(await _tuples(sql, args), items)
    packed = (  # office, month, item and value in one number: half the values to read
        f"SELECT ((CAST(office AS BIGINT) * {MONTH_CODES} + month - {base}) * {ITEM_CODES} "
        f"+ item_no) * {VALUE_CODES} + value + {VALUE_CODES // 2} AS code, n, key_sum "
        f"FROM ({sql}) AS found WHERE value >= {-VALUE_CODES // 2} AND value < {VALUE_CODES // 2}"
    )
    return CountColumns.from_packed(await _tuples(packed, args), items, base)


MONTH_CODES, ITEM_CODES, VALUE_CODES = 2**10, 2**6, 2**16
"""The packed rows of `count_columns`: months of a read, items and answer values (from
−2**15) that one 63-bit number holds with an office id below 2**31 (no answer value of any
scale, nor an index class, lies outside)."""


def _packable(office_ids: Sequence[int], items: Sequence[str], first: int, last: int) -> bool:
    return (
        0 <= first <= last < first + MONTH_CODES
        and len(items) <= ITEM_CODES
        and all(0 <= int(o) < 2**31 for o in office_ids)
    )


def _month_number(column: str) -> str:
    """Year × 12 + month − 1 of a date column, in this engine's SQL."""
    if _postgres():
        year, month = f"EXTRACT(YEAR FROM {column})", f"EXTRACT(MONTH FROM {column})"
    else:
        year, month = f"substr({column}, 1, 4)", f"substr({column}, 6, 2)"
    return f"CAST({year} AS INTEGER) * 12 + CAST({month} AS INTEGER) - 1"


READS_AT_ONCE = 4
"""Count statements one process runs at once (a cold page reads up to 15 independent ones):
enough for two cores and the database's own, and it leaves PostgreSQL connections of the
pool to the response writer."""
_READS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def _reads() -> asyncio.Semaphore:
    """The running event loop's bound on concurrent count statements (`READS_AT_ONCE`)."""
    loop = asyncio.get_running_loop()
    found = _READS.get(loop)
    if found is None:
        found = _READS[loop] = asyncio.Semaphore(READS_AT_ONCE)
    return found


async def _tuples(sql: str, args: Sequence[object]) -> list[tuple[Any, ...]]:
    """The rows of a raw query (Piccolo's `{}` placeholders) as tuples, read by the engine's
    driver itself: for the tens of thousands of count rows of a page's first (cold) view,
    Piccolo's dict per row took about as long as the query (SQLite: 170-280 → 100-110 ms for
    the 21,000 rows of an office page at the million). At most `READS_AT_ONCE` at a time."""
    async with _reads():
        return await _read_tuples(sql, args)


async def _read_tuples(sql: str, args: Sequence[object]) -> list[tuple[Any, ...]]:
    engine = DailyCount._meta.db
    if isinstance(engine, PostgresEngine) and engine.pool is not None:
        marks = iter(range(1, len(args) + 1))
        numbered = re.sub(r"\{\}", lambda _: f"${next(marks)}", sql)
        async with engine.pool.acquire() as conn:
            return [tuple(r) for r in await conn.fetch(numbered, *args)]
    if isinstance(engine, SQLiteEngine):
        path = engine.path
        params = [a.isoformat() if isinstance(a, dt.date) else a for a in args]

        def read() -> list[tuple[Any, ...]]:
            conn = sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_S)
            try:
                return conn.execute(sql.replace("{}", "?"), params).fetchall()
            finally:
                conn.close()

        return await asyncio.to_thread(read)
    return [tuple(r.values()) for r in await DailyCount.raw(sql, *args)]


async def dimension_rows(
    office_ids: Sequence[int],
    dimension: str,
    done: Rolled,
    first_month: str,
    last_month: str,
) -> dict[str, CountColumns]:
    """Numbers of responses (index rows, all classes in one row: value 0, key sum 0) per
    office × month of `first_month`–`last_month` for every value of the filter `dimension`
    (service_type, locale or mode), by value: what the blocks of a filtered view need
    (rolled-up months from `rollup_count`'s `RESPONSES` rows, one per office, month and
    value)."""
    if dimension not in ("service_type", "locale", "mode"):
        raise ValueError(f"not a filter dimension: {dimension}")
    if not office_ids:
        return {}
    lo, hi = month_start(first_month), month_end(last_month)
    split = rollup_split(done, lo, hi)
    offices = f" AND office IN ({', '.join('{}' for _ in office_ids)})"
    pg = _postgres()
    args: list[object] = []
    subqueries = []
    if split > lo:
        month = "to_char(start, 'YYYY-MM')" if pg else "substr(start, 1, 7)"
        others = " AND ".join(f"{d} = '*'" for d in ("service_type", "locale", "mode")
                              if d != dimension)  # fmt: skip
        subqueries.append(
            f"SELECT office, {dimension} AS value, {month} AS month, n FROM rollup_count "
            f"WHERE grain = 'month' AND item = '{RESPONSES}' AND start >= {{}} AND start < {{}}"
            + offices
            # SQLite compares bytes, and the values are codes that sort after '*' (letters):
            # a range of the index, where "<> '*'" read every index row of the months
            # (92 -> 46 ms); PostgreSQL's collation may order punctuation otherwise
            + f" AND {dimension} {'<>' if pg else '>'} '*' AND {others}"
        )
        args += [lo, split, *office_ids]
    if split <= hi:
        month = "to_char(day, 'YYYY-MM')" if pg else "substr(day, 1, 7)"
        subqueries.append(
            f"SELECT office, {dimension} AS value, {month} AS month, n FROM daily_count "
            "WHERE day >= {} AND day <= {} AND item = '_index'" + offices
        )
        args += [split, hi, *office_ids]
    sql = (
        f"SELECT value, office, month, CAST(SUM(n) AS BIGINT) AS n "
        f"FROM ({' UNION ALL '.join(subqueries)}) AS counts GROUP BY 1, 2, 3 ORDER BY 1"
    )
    found: dict[str, list[tuple[Any, ...]]] = {}
    for value, office, month, n in await _tuples(sql, args):
        found.setdefault(value, []).append((office, "_index", 0, month, n, 0))
    return {value: CountColumns.from_tuples(rows) for value, rows in found.items()}


class CommentRow(msgspec.Struct, frozen=True):
    id: int
    month: str
    text: str


async def comments(office_id: int, filters: Filters, limit: int = 5000) -> list[CommentRow]:
    """Free-text answers of the office in the period (not hidden by an admin), by month;
    in no meaningful order (ordering, masking and withholding happen before display)."""
    month = "to_char(r.day, 'YYYY-MM')" if _postgres() else "substr(r.day, 1, 7)"
    period = [office_id, month_start(filters.first_month), month_end(filters.last_month)]
    args: list[object] = [*period, *period]
    # the flagged responses are taken out by their ids (few, from the partial index
    # response_flagged) rather than by reading each response's row: the office's responses
    # then come from the (office, day) index alone (SQLite: 120 → 28 ms for 27,000 responses)
    sql = (
        f"SELECT t.id AS id, {month} AS month, t.text AS text FROM response r "
        "JOIN text_answer t ON t.response = r.id "
        "WHERE r.office = {} AND r.day >= {} AND r.day <= {} AND NOT t.hidden "
        "AND r.id NOT IN (SELECT f.id FROM response f "
        "WHERE f.office = {} AND f.day >= {} AND f.day <= {} AND f.flagged)"
        + _filter_sql(filters, args, "r.")
        + f" LIMIT {int(limit)}"
    )
    # read by the driver itself (`_tuples`): Piccolo's dict per row took about as long as the
    # statement (SQLite at the million, an office's 3,217 comments of 12 months: 48 → 27 ms)
    return [CommentRow(int(i), month, text) for i, month, text in await _tuples(sql, args)]


async def flagged_count(office_id: int, filters: Filters, last_month: str) -> int:
    """Responses of the office in the period up to `last_month` that came faster than a
    person can answer (stored, flagged, and counted in no figure)."""
    if last_month < filters.first_month:
        return 0
    args: list[object] = [office_id, month_start(filters.first_month), month_end(last_month)]
    sql = (
        "SELECT COUNT(*) AS n FROM response r "
        "WHERE r.office = {} AND r.day >= {} AND r.day <= {} AND r.flagged"
        + _filter_sql(filters, args, "r.")
    )
    rows = await Office.raw(sql, *args)
    return int(rows[0]["n"]) if rows else 0


async def office_comment_ids(office_id: int) -> list[int]:
    """Ids of the office's comments not yet hidden (to find the one an admin hides)."""
    rows = await TextAnswer.raw(
        "SELECT t.id AS id FROM text_answer t JOIN response r ON r.id = t.response "
        "WHERE r.office = {} AND NOT t.hidden",
        office_id,
    )
    return [int(r["id"]) for r in rows]


async def hide_comment(comment_id: int) -> None:
    await TextAnswer.update({TextAnswer.hidden: True}).where(TextAnswer.id == comment_id)
    await mark_comments_changed()


COMMENTS_CHANGED = "comments changed"
"""The `heartbeat` row whose time says when a comment was last hidden or deleted: a process
that keeps the comments of closed months (survey/dashboard/comments.py) reads it on every
view and reads the comments again when it moved, whichever process changed them."""


async def comments_changed() -> object:
    """When a comment was last hidden or deleted (None: never)."""
    rows = await TextAnswer.raw("SELECT at FROM heartbeat WHERE name = {}", COMMENTS_CHANGED)
    return rows[0]["at"] if rows else None


async def set_mark(name: str) -> None:
    """Set the `heartbeat` row `name` to now (a mark that readers in every process compare)."""
    await TextAnswer.raw(
        "INSERT INTO heartbeat (name, at) VALUES ({}, {}) "
        "ON CONFLICT (name) DO UPDATE SET at = excluded.at",
        name,
        dt.datetime.now(dt.UTC),
    )


async def mark_comments_changed() -> None:
    """Call after a comment was hidden or deleted (committed): kept comment lists are stale.
    The lists kept in the database (survey/dashboard/stored.py) are deleted too: they are no
    longer read under the new mark, and must not keep a hidden or deleted comment's text."""
    await set_mark(COMMENTS_CHANGED)
    await TextAnswer.raw("DELETE FROM dashboard_figure WHERE kind = 'comments'")


MIX_ROLLED = "_rolled"


class MixRow(msgspec.Struct, array_like=True, frozen=True, order=True):
    """Responses (with an index) of the offices asked for, in one cell of the adjusters."""

    service_type: str
    locale: str
    mode: str
    n: int
    key_sum: int


async def ensure_mix_rollups(today: dt.date) -> Rolled:
    """Roll up `mix_count` (responses per office × month × service type × language × mode,
    from `daily_count`'s index rows) for every month that ended before yesterday, once, as
    `ensure_rollups` does for `rollup_count` (`_roll_months`)."""
    month_expr = _month_expr()

    async def roll(month: dt.date, end: dt.date) -> None:
        await MixCount.raw(
            "INSERT INTO mix_count (start, office, service_type, locale, mode, n, key_sum) "
            f"SELECT {month_expr}, office, service_type, locale, mode, SUM(n), SUM(key_sum) "
            "FROM daily_count WHERE item = '_index' AND day >= {} AND day <= {} "
            f"GROUP BY {month_expr}, office, service_type, locale, mode "
            "ORDER BY 1, 2, 3, 4, 5 ON CONFLICT DO NOTHING",  # in the key's order, as KEY_ORDER
            month,
            end,
        )
        await MixCount.raw(
            "INSERT INTO mix_count (start, office, service_type, locale, mode, n, key_sum) "
            "VALUES ({}, NULL, '', '', {}, 0, 0)",
            month,
            MIX_ROLLED,
        )

    await _roll_months(await _mix_rolled(), today, roll)
    return await _mix_rolled()


async def _mix_rolled() -> Rolled:
    rows = await MixCount.raw(
        "SELECT MAX(start) AS start FROM mix_count WHERE mode = {}", MIX_ROLLED
    )
    return Rolled(_as_date(rows[0]["start"]) if rows else None)


async def mix_rows(
    office_ids: Sequence[int], done: Rolled, first_month: str, last_month: str
) -> list[MixRow]:
    """Responses with an index of these offices in `first_month`–`last_month` per service
    type × language × mode, summed over the offices and months: rolled-up months from
    `mix_count`, the rest from `daily_count`."""
    lo, hi = month_start(first_month), month_end(last_month)
    if not office_ids or hi < lo:
        return []
    split = rollup_split(done, lo, hi)
    offices = f" AND office IN ({', '.join('{}' for _ in office_ids)})"
    args: list[object] = []
    parts = []
    if split > lo:
        parts.append(
            "SELECT service_type, locale, mode, n, key_sum FROM mix_count "
            "WHERE start >= {} AND start < {}" + offices
        )
        args += [lo, split, *office_ids]
    if split <= hi:
        parts.append(
            "SELECT service_type, locale, mode, n, key_sum FROM daily_count "
            "WHERE item = '_index' AND day >= {} AND day <= {}" + offices
        )
        args += [split, hi, *office_ids]
    sql = (
        "SELECT service_type, locale, mode, SUM(n) AS n, SUM(key_sum) AS key_sum "
        f"FROM ({' UNION ALL '.join(parts)}) AS cells GROUP BY 1, 2, 3"
    )
    rows = await MixCount.raw(sql, *args)
    return [
        MixRow(r["service_type"], r["locale"], r["mode"], int(r["n"]), int(r["key_sum"]))
        for r in rows
    ]


async def first_month(office_ids: Sequence[int]) -> str | None:
    """The month (YYYY-MM) of the offices' first response, or None without any."""
    if not office_ids:
        return None
    marks = ", ".join("{}" for _ in office_ids)
    rows = await Office.raw(f"SELECT MIN(day) AS day FROM response WHERE office IN ({marks})",
                            *office_ids)  # fmt: skip
    first = _as_date(rows[0]["day"]) if rows else None
    return None if first is None else first.isoformat()[:7]
