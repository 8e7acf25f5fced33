"""The rolled-up months' counts of a comparison group, held in memory (issue 17).

A page's first view (a period, filter or scope nobody asked for yet) reads ten count tables
of some 23,000 rows each at the million (its own and the client-mix adjustment's nine
single-filter views), about half of its time. Those rows come from `rollup_count`, which
never changes once a month is rolled up (responses are counted on the day they arrive, and
a month is rolled up only after it ended, with a day of lag: survey/dashboard/queries.py).
So each process reads a group's rolled-up rows once, as columns (`Held`), and takes every
view's rows from them with array masks: the same rows the statement of `queries.
count_columns` and `queries.dimension_rows` returns for those months (tested on both
engines); months not rolled up are read from `daily_count` as before.

What is held is keyed by everything that could change it: the group's offices, the last
rolled-up month (`queries.rolled()`; a month's rollup moves it) and the mark of the last
erasure (`stored.FORGOTTEN`, read once per request, `stored.read_once`: an erasure in any
process deletes a job centre's rows, and SQLite may give a later office the id of an erased
one). At most `MAX_ROWS` rows per group and `MAX_BYTES` per process (least recently used first
out): a group above it is read from the database as before. At the bench's million (20 offices, 24
months) a group holds 341,000 rows, 16 MB, read in about 1.2 s of CPU (1 s of it SQLite's);
the warming reads each group's after start-up. Each worker process holds its own.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from survey.dashboard import queries
from survey.dashboard.cache import BoundedCache, once, worked_out
from survey.dashboard.queries import (
    RESPONSES,
    CountColumns,
    Rolled,
    month_name,
    month_number,
)
from survey.dashboard.schemas import Filters
from survey.questionnaire import INDEX_ITEM, INDEX_ITEMS
from survey.tables import Heartbeat

MAX_ROWS = 2_000_000
"""Rows held for one comparison group at most (96 MB: six whole numbers of 8 bytes a row)."""
MAX_BYTES = 256 * 2**20
"""Bytes held by one process at most, over all groups."""
DIMENSIONS = ("service_type", "locale", "mode")
View = tuple[str | None, str | None]
"""A view of the counts: (dimension, value) of its one filter, or `WHOLE`."""
WHOLE: View = (None, None)
"""The view of no filter (every dimension summed, '*')."""


class Held:
    """One group's rolled-up rows (`rollup_count`, grain month, through `through`), as
    columns per view: (dimension, value), or `WHOLE`."""

    def __init__(
        self, through: int, items: tuple[str, ...], views: dict[View, dict[str, np.ndarray]]
    ) -> None:
        self.through = through
        """The month number of the last month held."""
        self.items = items
        self.views = views
        self.responses = items.index(RESPONSES) if RESPONSES in items else -1

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for v in self.views.values() for a in v.values())

    def columns(
        self,
        office_ids: Sequence[int],
        items: Sequence[str],
        view: View,
        first: int,
        last: int,
        *,
        detail_office: int | None = None,
        packed: bool = True,
    ) -> CountColumns:
        """The rows of months `first`–`last` (month numbers) as `queries.count_columns`
        reads them from `rollup_count`: items numbered by their place in `items`, the index
        in its classes, rows of other offices and items left out; with `detail_office`,
        the other offices' index and index items only; `packed`: values the packed read
        leaves out (none of any scale) left out too."""
        found = self.views.get(view)
        if found is None:
            return CountColumns.from_tuples([])
        number = np.full(len(self.items) + 1, -1, dtype=np.int64)
        for k, code in reversed(list(enumerate(items))):  # the first of a name, as CASE
            if code in self.items:
                number[self.items.index(code)] = k
        item_no = number[found["item"]]
        keep = (item_no >= 0) & (found["month"] >= first) & (found["month"] <= last)
        keep &= np.isin(found["office"], np.asarray(office_ids, dtype=np.int64))
        if detail_office is not None:
            index = [self.items.index(c) for c in (INDEX_ITEM, *INDEX_ITEMS) if c in self.items]
            keep &= np.isin(found["item"], index) | (found["office"] == int(detail_office))
        if not keep.any():
            return CountColumns.from_tuples([])
        value = found["value"][keep]
        item_no = item_no[keep]
        if INDEX_ITEM in items:  # queries.INDEX_CLASS (a class gives itself again)
            classed = np.isin(item_no, [k for k, c in enumerate(items) if c == INDEX_ITEM])
            scaled = 4 * value + 210
            whole = np.sign(scaled) * (np.abs(scaled) // 420) * 105  # SQL: towards zero
            value = np.where(classed, whole, value)
        columns = CountColumns.numbered(found["office"][keep], items, item_no, value,
                                        found["month"][keep], found["n"][keep],
                                        found["key_sum"][keep])  # fmt: skip
        if packed:
            half = queries.VALUE_CODES // 2
            inside = (columns.value >= -half) & (columns.value < half)
            if not inside.all():
                columns = columns.where(inside)
        return columns

    def responses_of(
        self, office_ids: Sequence[int], dimension: str, first: int, last: int
    ) -> dict[str, CountColumns]:
        """`queries.dimension_rows` of months `first`–`last` (month numbers): per value of
        the dimension with any, its `RESPONSES` rows as index rows (value 0, key sum 0)."""
        out: dict[str, CountColumns] = {}
        offices = np.asarray(office_ids, dtype=np.int64)
        for (name, value), found in sorted(self.views.items(), key=lambda v: str(v[0])):
            if name != dimension or value is None:
                continue
            keep = (found["item"] == self.responses) & (found["month"] >= first)
            keep &= (found["month"] <= last) & np.isin(found["office"], offices)
            if keep.any():
                size = int(keep.sum())
                out[value] = CountColumns.numbered(
                    found["office"][keep], (INDEX_ITEM,), np.zeros(size, np.int64),
                    np.zeros(size, np.int64), found["month"][keep], found["n"][keep],
                    np.zeros(size, np.int64))  # fmt: skip
        return out


def _store(state: Any) -> BoundedCache:
    if getattr(state, "rolled_counts", None) is None:
        state.rolled_counts = BoundedCache(max_entries=64, max_bytes=MAX_BYTES)
    return state.rolled_counts  # type: ignore[no-any-return]


YEAR_TABLES_BYTES = 64 * 2**20
"""Bytes of protected tables of calendar years one process holds at most (a year of a
20-office group's overview is about 0.1 MB)."""


def year_tables(state: Any) -> BoundedCache:
    """The protected tables of calendar years this process holds (survey/dashboard/routes.py,
    `_of_years`), with the rolled-up counts they are made of: keyed the same way (offices,
    last rolled-up month, last erasure) and dropped with them."""
    if getattr(state, "year_tables", None) is None:
        state.year_tables = BoundedCache(max_bytes=YEAR_TABLES_BYTES)
    return state.year_tables  # type: ignore[no-any-return]


def forget(state: Any) -> None:
    """Drop what this process holds (a fresh process; for tests and the bench)."""
    state.rolled_counts = None
    state.year_tables = None


async def held(state: Any, office_ids: Sequence[int], done: Rolled) -> Held | None:
    """The group's rolled-up rows through `done`, read once (None: nothing rolled up, or
    more than MAX_ROWS)."""
    if done.month is None or not office_ids:
        return None
    mark = await erased(state)
    group = tuple(sorted({int(o) for o in office_ids}))
    key = ("rolled counts", group, done.month, mark)
    found = _store(state).get(key)
    if found is not None:
        return found[0]  # type: ignore[no-any-return]

    async def load() -> tuple[Held | None]:
        assert done.month is not None
        loaded = (await _load(group, done.month),)
        _store(state).put(key, loaded, loaded[0].nbytes if loaded[0] else 1024)
        return loaded

    return (await once(state, key, load))[0]


MixCells = dict[int, dict[tuple[str, str, str], list[int]]]
"""Per month number, the responses and key sums per service type × locale × mode."""


async def mix_rows(
    state: Any, office_ids: Sequence[int], done: Rolled, first_month: str, last_month: str
) -> list[queries.MixRow]:
    """`queries.mix_rows` (the client-mix cross-tab's rows of a period), the months of
    `mix_count` rolled up through `done` (its own mark, `casemix.mix_rolled`) summed from the
    group's rows held per month (`_mix_cells`, read once with the same key as the counts:
    offices, last rolled-up month, last erasure) instead of a statement over a period's
    rows (about 25 ms of CPU for a year at the million); whole numbers, so the same sums."""
    lo, hi = queries.month_start(first_month), queries.month_end(last_month)
    if not office_ids or hi < lo or done.month is None:
        return await queries.mix_rows(office_ids, done, first_month, last_month)
    split = queries.rollup_split(done, lo, hi)
    if split <= lo:
        return await queries.mix_rows(office_ids, done, first_month, last_month)
    mark = await erased(state)
    group = tuple(sorted({int(o) for o in office_ids}))
    key = ("mix counts", group, done.month, mark)

    async def load() -> tuple[MixCells]:
        assert done.month is not None
        loaded = (await _mix_cells(group, queries.next_month(done.month)),)
        _store(state).put(key, loaded, 64 * sum(len(c) for c in loaded[0].values()) + 1024)
        return loaded

    kept = _store(state).get(key)
    found: tuple[MixCells] = kept if kept is not None else await once(state, key, load)
    cells: dict[tuple[str, str, str], list[int]] = {}
    for month in range(month_number(first_month), month_number(split.isoformat()[:7])):
        for cell, (n, key_sum) in found[0].get(month, {}).items():
            summed = cells.setdefault(cell, [0, 0])
            summed[0] += n
            summed[1] += key_sum
    if split <= hi:
        rest = await queries.mix_rows(office_ids, Rolled(None), split.isoformat()[:7],
                                      last_month)  # fmt: skip
        for r in rest:
            summed = cells.setdefault((r.service_type, r.locale, r.mode), [0, 0])
            summed[0] += r.n
            summed[1] += r.key_sum
    return [queries.MixRow(*cell, n, key_sum) for cell, (n, key_sum) in cells.items()]


async def _mix_cells(group: tuple[int, ...], before: dt.date) -> MixCells:
    """The group's `mix_count` rows of months before `before`, summed per month and cell."""
    marks = ", ".join("{}" for _ in group)
    sql = (
        f"SELECT {queries._month_number('start')}, service_type, locale, mode, n, key_sum "
        f"FROM mix_count WHERE start < {{}} AND office IN ({marks})"
    )
    out: MixCells = {}
    for month, service_type, locale, mode, n, key_sum in await queries._tuples(
        sql, [before, *group]
    ):
        summed = out.setdefault(int(month), {}).setdefault((service_type, locale, mode), [0, 0])
        summed[0] += int(n)
        summed[1] += int(key_sum)
    return out


async def erased(state: Any) -> object:
    """When a job centre was last erased, in any process (`stored.FORGOTTEN`; None: never):
    part of the key of what a process keeps of counts, since SQLite may give a new office
    the id of an erased one. One read for the calls that ask at once (a page's tables), and
    one per request (`stored.read_once`)."""
    from survey.dashboard.stored import FORGOTTEN, read_once  # stored imports queries, as this does

    async def read() -> object:
        rows = await Heartbeat.raw("SELECT at FROM heartbeat WHERE name = {}", FORGOTTEN)
        return rows[0]["at"] if rows else None

    return await read_once("erased", lambda: once(state, ("erased",), read))


async def _load(group: tuple[int, ...], through: dt.date) -> Held | None:
    """Every month row of `rollup_count` of the group's offices through `through` (the
    month as its number, the item as its number in the items found), by view: item and view
    in one text, office and month in one number (fewer values to convert)."""
    marks = ", ".join("{}" for _ in group)
    kind = (
        "CASE WHEN service_type <> '*' THEN 's' || service_type WHEN locale <> '*' "
        "THEN 'l' || locale WHEN mode <> '*' THEN 'm' || mode ELSE '' END || ' ' || item"
    )
    place = f"CAST(office AS BIGINT) * {MONTHS} + {queries._month_number('start')}"
    sql = (
        f"SELECT {kind}, {place}, value, n, key_sum FROM rollup_count WHERE grain = 'month' "
        f"AND start <= {{}} AND office IN ({marks}) AND item <> {{}} LIMIT {MAX_ROWS + 1}"
    )
    rows = await queries._tuples(sql, [through, *group, queries.ROLLED])
    if not rows or len(rows) > MAX_ROWS:
        return None
    return await worked_out(_held, rows, through)


def _held(rows: Sequence[Sequence[Any]], through: dt.date) -> Held:
    """`_load`'s arrays from its rows: pure CPU (about 0.6 s at a million responses), so it
    runs in a worker thread (`worked_out`)."""
    found: dict[str, int] = {}
    kind_no = np.array([found.setdefault(r[0], len(found)) for r in rows], dtype=np.int64)
    place_at, value, n, key_sum = (
        np.fromiter(map(operator.itemgetter(k), rows), dtype=np.int64, count=len(rows))
        for k in range(1, 5)
    )
    items = tuple(sorted({k.split(" ", 1)[1] for k in found}))
    item_of = np.array([items.index(k.split(" ", 1)[1]) for k in found], dtype=np.int64)
    view_of = [WHOLE if not k.split(" ", 1)[0] else (_DIMENSION[k[0]], k.split(" ", 1)[0][1:])
               for k in found]  # fmt: skip
    out: dict[View, dict[str, np.ndarray]] = {}
    for view in dict.fromkeys(view_of):
        mine = np.isin(kind_no, [k for k, v in enumerate(view_of) if v == view])
        out[view] = {"item": item_of[kind_no[mine]], "office": place_at[mine] // MONTHS,
                     "month": place_at[mine] % MONTHS, "value": value[mine], "n": n[mine],
                     "key_sum": key_sum[mine]}  # fmt: skip
    return Held(month_number(through.isoformat()[:7]), items, out)


MONTHS = 2**20
"""Office and month number in one whole number (months up to the year 87,000)."""
_DIMENSION = {"s": "service_type", "l": "locale", "m": "mode"}


def _split(done: Rolled, first_month: str, last_month: str) -> tuple[bool, int, bool]:
    """As `queries.count_columns`: whether any month comes from the rollup, the number of
    the first month read from `daily_count` (the months before it come from the rollup),
    and whether any month does."""
    lo, hi = queries.month_start(first_month), queries.month_end(last_month)
    split = queries.rollup_split(done, lo, hi)
    return split > lo, month_number(split.isoformat()[:7]), split <= hi


async def count_columns(
    state: Any,
    office_ids: Sequence[int],
    items: Sequence[str],
    filters: Filters,
    done: Rolled,
    first_month: str,
    last_month: str,
    *,
    detail_office: int | None = None,
) -> CountColumns:
    """`queries.count_columns`, the rolled-up months taken from what the process holds."""
    rolled_any, split, daily = _split(done, first_month, last_month)
    found = None
    if office_ids and items and rolled_any and len(set(items)) == len(items):
        found = await held(state, office_ids, done)
    if found is None:
        return await queries.count_columns(office_ids, items, filters, done, first_month,
                                           last_month, detail_office=detail_office)  # fmt: skip
    first, last = month_number(first_month), month_number(last_month)
    view = (filters.dimension, filters.value) if filters.dimension is not None else WHOLE
    packed = queries._packable(office_ids, items, first, last)
    rolled = found.columns(office_ids, items, view, first, split - 1,
                           detail_office=detail_office, packed=packed)  # fmt: skip
    if not daily:
        return rolled
    rest = await queries.count_columns(office_ids, items, filters, Rolled(None),
                                       month_name(split), last_month,
                                       detail_office=detail_office)  # fmt: skip
    return _joined(rolled, rest)


async def dimension_rows(
    state: Any,
    office_ids: Sequence[int],
    dimension: str,
    done: Rolled,
    first_month: str,
    last_month: str,
) -> dict[str, CountColumns]:
    """`queries.dimension_rows`, the rolled-up months taken from what the process holds."""
    rolled_any, split, daily = _split(done, first_month, last_month)
    found = None
    if office_ids and dimension in DIMENSIONS and rolled_any:
        found = await held(state, office_ids, done)
    if found is None:
        return await queries.dimension_rows(office_ids, dimension, done, first_month, last_month)
    rolled = found.responses_of(office_ids, dimension, month_number(first_month), split - 1)
    if not daily:
        return rolled
    rest = await queries.dimension_rows(office_ids, dimension, Rolled(None), month_name(split),
                                        last_month)  # fmt: skip
    out = dict(rolled)
    for value, columns in rest.items():
        out[value] = _joined(out[value], columns) if value in out else columns
    return out


def _joined(a: CountColumns, b: CountColumns) -> CountColumns:
    """The rows of both, of disjoint months (no row of one sums with one of the other), with
    the items of `a` (both were read for the same items)."""
    if not len(b):
        return a
    if not len(a):
        return b
    if a.items != b.items:
        raise ValueError("count columns of other items")
    return CountColumns.numbered(
        np.concatenate([a.office, b.office]), a.items,
        *(np.concatenate([x, y]) for x, y in ((a.item_no, b.item_no), (a.value, b.value),
          (a.month_no, b.month_no), (a.n, b.n), (a.key_sum, b.key_sum))),
    )  # fmt: skip
