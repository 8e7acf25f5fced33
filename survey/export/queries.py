"""What an export reads: offices, questionnaire versions, cell counts, rows and comments.

An export reads through one connection of its own inside one read-only transaction, so the
counts the anonymization is decided on and the rows that are then streamed come from the
same snapshot (the number of rows announced in a SPSS or Stata header is exact). Rows come
in chunks from a server-side cursor: memory stays flat whatever the number of responses.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import re
import sqlite3
from collections import Counter
from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import aclosing
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from survey.export.schemas import OTHER_LANGUAGE_CODE
from survey.i18n import RESPOND_LOCALES
from survey.questionnaire import MODES, OFFICE_KINDS, SERVICE_TYPES
from survey.settings import Settings
from survey.tables import Office, QuestionnaireVersion

CHUNK_ROWS = 50_000
SPLIT_IDS = 2 * CHUNK_ROWS
MAX_CHUNK_IDS = 8 * CHUNK_ROWS
"""SQLite reads at most this many ids in one statement (fewer where they are dense)."""
"""SQLite reads the rows in two halves at once where the ids span at least this many."""
MONTHS = 12 * 2101
"""Month indexes (year * 12 + month - 1) are below this: dates end in 2100."""


class OfficeInfo(msgspec.Struct, frozen=True):
    id: int
    code: str
    name: str
    jobcentre: int
    jobcentre_name: str
    jobcentre_slug: str
    office_type: int | None = None
    office_type_name: str | None = None


class VersionInfo(msgspec.Struct, frozen=True):
    id: int
    questionnaire: str
    number: int
    definition: dict[str, Any]


async def offices_of(jobcentres: Sequence[int]) -> list[OfficeInfo]:
    """Every office of these job centres (also offices outside a user's own scope: the
    anonymization of a job centre is decided on all its responses)."""
    if not jobcentres:
        return []
    rows = await Office.select(
        Office.id,
        Office.code,
        Office.name,
        Office.organization.id.as_alias("jobcentre"),
        Office.organization.name.as_alias("jobcentre_name"),
        Office.organization.slug.as_alias("jobcentre_slug"),
        Office.kind,
    ).where(Office.organization.is_in(list(jobcentres)))
    kinds = list(OFFICE_KINDS) + sorted({r["kind"] for r in rows} - set(OFFICE_KINDS))
    out = []
    for r in rows:
        kind = r.pop("kind") or "main"
        out.append(OfficeInfo(**r, office_type=kinds.index(kind) + 1, office_type_name=kind))
    return sorted(out, key=lambda o: (o.jobcentre_name, o.name, o.id))


async def offices_by_id(ids: Sequence[int]) -> list[tuple[int, int]]:
    """(office, job centre) of these offices."""
    rows = await Office.select(Office.id, Office.organization).where(Office.id.is_in(list(ids)))
    return [(int(r["id"]), int(r["organization"])) for r in rows]


async def version_ids() -> list[int]:
    """Every questionnaire version's id."""
    rows = await QuestionnaireVersion.select(QuestionnaireVersion.id)
    return sorted(int(r["id"]) for r in rows)


async def versions(ids: Sequence[int]) -> list[VersionInfo]:
    if not ids:
        return []
    rows = await QuestionnaireVersion.select(
        QuestionnaireVersion.id,
        QuestionnaireVersion.questionnaire.code.as_alias("questionnaire"),
        QuestionnaireVersion.number,
        QuestionnaireVersion.definition,
    ).where(QuestionnaireVersion.id.is_in(list(ids)))
    out = []
    for r in sorted(rows, key=lambda r: r["id"]):
        definition = r["definition"]
        if isinstance(definition, str | bytes):
            definition = msgspec.json.decode(definition)
        out.append(VersionInfo(r["id"], r["questionnaire"], r["number"], definition))
    return out


class RowQuery(msgspec.Struct, frozen=True):
    offices: tuple[int, ...]
    first_day: dt.date
    last_day: dt.date
    items: tuple[str, ...]
    service_type: str | None = None
    mode: str | None = None
    language: str | None = None
    service_codes: tuple[tuple[str, int], ...] = ()
    language_codes: tuple[tuple[str, int], ...] = ()
    mode_codes: tuple[tuple[str, int], ...] = ()
    """Value -> code of each categorical column, as the rows carry them (others: 0)."""
    item_bits: int = 5
    """Bits per item in a packed column: value + 1 must fit (0 is "not answered")."""
    key_sizes: tuple[int, int, int] = (1, 1, 1)
    """How many codes service type, language and mode each count in a cell key (with 0)."""

    @property
    def item_groups(self) -> list[tuple[str, ...]]:
        """The items of each packed column: as many as fit in 62 bits."""
        per = max(1, 62 // self.item_bits)
        return [self.items[i : i + per] for i in range(0, len(self.items), per)]

    def position(self, item: str) -> tuple[int, int]:
        """The packed column (0 for the first) and the bit an item's answer starts at."""
        per = max(1, 62 // self.item_bits)
        at = self.items.index(item)
        return at // per, (at % per) * self.item_bits


VOCABULARY_SIZES = (len(SERVICE_TYPES) + 1, OTHER_LANGUAGE_CODE + 1, len(MODES) + 1)
"""How many codes service type, language and mode each count in the cell keys SQLite's
cell_counts reads: the codes of the vocabulary (1, 2, ...; 0 for any other value) and, for
the language, room up to the code of "other", as in an export's own keys."""


def vocabulary_coded(query: RowQuery) -> bool:
    """Whether the row query codes its cells as SQLite's cell_counts does."""
    return (
        query.key_sizes == VOCABULARY_SIZES
        and query.service_codes == tuple((v, i + 1) for i, v in enumerate(SERVICE_TYPES))
        and query.language_codes == tuple((v, i + 1) for i, v in enumerate(RESPOND_LOCALES))
        and query.mode_codes == tuple((v, i + 1) for i, v in enumerate(MODES))
    )


class Reader:
    """One connection, one snapshot; `open_reader` picks SQLite or PostgreSQL."""

    placeholder = "?"
    identity: str = ""
    """Which database (a cache must not mix two)."""

    async def fetch(self, sql: str, args: Sequence[object]) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def stream(
        self, sql: str, args: Sequence[object]
    ) -> AsyncGenerator[list[tuple[Any, ...]], None]:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    @property
    def month_sql(self) -> str:
        return "substr(day, 1, 7)"

    def _sql(self, sql: str) -> str:
        """`{}` placeholders as this driver writes them."""
        if self.placeholder == "?":
            return sql.replace("{}", "?")
        parts = sql.split("{}")
        return "".join(p + (f"${i + 1}" if i < len(parts) - 1 else "") for i, p in enumerate(parts))

    reads_rows_with_counts = True
    """Whether cell_counts can read an export's rows in the same pass (`rows`)."""
    plus = ""
    """Put before a column to keep the query off its indexes (SQLite's unary +)."""

    async def cell_counts(
        self,
        offices: Sequence[int],
        last_day: dt.date,
        rows: tuple[RowQuery, Callable[[np.ndarray], None]] | None = None,
    ) -> list[tuple[int, str, str, str, str, int, int]]:
        """(office, service type, language, mode, YYYY-MM, version, n) up to `last_day`, in
        one pass over the responses, counted here: a GROUP BY sorts (SQLite) or hashes every
        response in the database server. A scan in the order of the ids that gives each
        response's cell as one integer (service types, languages and modes of the vocabulary
        coded; others 0), counted with numpy, costs a fraction of that. Values outside the
        vocabulary (the app stores none) are counted by value instead.

        `rows`: a row query and where its rows go. The same scan then reads, for the
        responses the query selects, the packed answers (`row_sql`'s columns with the cell
        key coded as here, VOCABULARY_SIZES), so that a first export of a scope passes over
        the responses once instead of twice. The rows are only of use where the export's own
        keys come out coded the same (`vocabulary_coded`): a value outside the vocabulary
        makes them differ."""
        if not offices:
            return []
        vocabulary = (SERVICE_TYPES, RESPOND_LOCALES, MODES)
        sizes = VOCABULARY_SIZES

        def scan(ids: tuple[int, int] | None) -> tuple[str, list[object]]:
            args: list[object] = []

            def coded(column: str, values: Sequence[str]) -> str:
                args.extend(values)
                whens = " ".join(f"WHEN {{}} THEN {i + 1}" for i in range(len(values)))
                return f"CASE {column} {whens} ELSE 0 END"

            key = self.cell_key_sql(
                sizes,
                coded("r.service_type", SERVICE_TYPES),
                coded("r.locale", RESPOND_LOCALES),
                coded("r.mode", MODES),
            )
            packed = ""
            query = rows[0] if rows is not None else None
            for g in range(len(query.item_groups) if query is not None else 0):
                assert query is not None
                # the answers only of the responses the export reads (-1: not one of them)
                selected = self.row_filter(query, args)
                column = self.packed_column(query, g, args)
                answers = f"(SELECT {column} FROM answer a WHERE a.response = r.id)"
                packed += f", CASE WHEN {selected} THEN {answers} ELSE -1 END AS c{2 + g}"
            marks = ", ".join("{}" for _ in offices)
            args += [*offices, last_day]
            sql = (
                f"SELECT {key} AS c0, CAST(r.version AS BIGINT) AS c1{packed} FROM response r "
                f"WHERE {self.plus}r.office IN ({marks}) AND {self.plus}r.day <= {{}}"
            )
            if ids is not None:
                sql += " AND r.id >= {} AND r.id <= {}"
                args += ids
            return sql, args

        counter = PairCounter()

        def take(block: np.ndarray) -> None:
            counter.add(block[:, :2])
            if rows is not None:
                selected = block[block[:, 2] >= 0]
                if len(selected):
                    rows[1](selected)

        width = 2 + (len(rows[0].item_groups) if rows is not None else 0)
        async with aclosing(self._read_split(scan, width)) as chunks:
            async for block in chunks:
                await asyncio.to_thread(take, block)
        keys, version, n = counter.result()
        rest, month = np.divmod(keys, MONTHS)
        rest, mode = np.divmod(rest, sizes[2])
        rest, language = np.divmod(rest, sizes[1])
        office, service = np.divmod(rest, sizes[0])
        if not (service.all() and language.all() and mode.all()):
            return await self._cell_counts_by_value(offices, last_day)
        names = [["", *values] for values in vocabulary]
        months = {int(m): f"{m // 12:04d}-{m % 12 + 1:02d}" for m in np.unique(month)}
        return [
            (o, names[0][s], names[1][la], names[2][mo], months[m], v, c)
            for o, s, la, mo, m, v, c in zip(
                office.tolist(), service.tolist(), language.tolist(), mode.tolist(),
                month.tolist(), version.tolist(), n.tolist(), strict=True,
            )
        ]  # fmt: skip

    async def _cell_counts_by_value(
        self, offices: Sequence[int], last_day: dt.date
    ) -> list[tuple[int, str, str, str, str, int, int]]:
        """As cell_counts, by a GROUP BY in the database."""
        if not offices:
            return []
        marks = ", ".join("{}" for _ in offices)
        sql = (
            f"SELECT office, service_type, locale, mode, {self.month_sql} AS month, version, "
            f"COUNT(*) FROM response WHERE office IN ({marks}) AND day <= {{}} "
            "GROUP BY office, service_type, locale, mode, month, version"
        )
        found = await self.fetch(sql, [*offices, last_day])
        return [(int(r[0]), r[1], r[2], r[3], r[4], int(r[5]), int(r[6])) for r in found]

    async def stamp(self, offices: Sequence[int], last_day: dt.date) -> tuple[Any, ...]:
        """Changes whenever a response of these offices up to `last_day` is added or deleted:
        their number, highest and summed id (from the (office, day) index alone)."""
        if not offices:
            return ()
        marks = ", ".join("{}" for _ in offices)
        sql = (
            f"SELECT count(*), max(id), sum(id){self.stamp_extra} FROM response "
            f"WHERE office IN ({marks}) AND day <= {{}}"
        )
        return tuple(await self.fetch(sql, [*offices, last_day]))

    stamp_extra = ""

    def cell_key_sql(
        self, sizes: tuple[int, int, int], service: str, language: str, mode: str
    ) -> str:
        """A response's cell as one integer (`microdata.CellKey.of`), from its office, the
        codes of its service type, language and mode, and its month's index."""
        services, languages, modes = sizes
        office = "CAST(r.office AS BIGINT)"
        key = f"(({office} * {services} + {service}) * {languages} + {language})"
        return f"(({key} * {modes} + {mode}) * {MONTHS} + {self.month_index_sql})"

    def rows(self, query: RowQuery) -> AsyncGenerator[np.ndarray, None]:
        """The rows of `row_sql`, chunk by chunk, as (rows, columns) int64 arrays."""
        return self._read_split(lambda ids: self.row_sql(query, ids), 2 + len(query.item_groups))

    def _read_split(
        self, query: Callable[[tuple[int, int] | None], tuple[str, list[object]]], width: int
    ) -> AsyncGenerator[np.ndarray, None]:
        """The rows of `query(ids)` (`width` BIGINT columns named c0, c1, ...; the responses
        with ids in that range, or all) as (rows, width) int64 arrays, chunk by chunk."""
        raise NotImplementedError

    def row_sql(
        self, query: RowQuery, ids: tuple[int, int] | None = None
    ) -> tuple[str, list[object]]:
        """(cell key, version, *packed items) per response, all integers, in the order they
        were stored (shuffle.py hides it). The cell key (`cell_key_sql`) holds office,
        service type, language and mode (as the codes of the query; others 0) and month.
        Each packed column holds the answers of a group of items, item i of the group as
        value + 1 in bits [i * item_bits, (i + 1) * item_bits); 0 is unanswered.

        One aggregate per packed column instead of one per item, and one key instead of five
        columns: SQLite spends its time per aggregate and row, and Python per value it turns
        into an object. `ids`: only responses with ids in this range (inclusive)."""
        args: list[object] = []

        def coded(column: str, codes: tuple[tuple[str, int], ...]) -> str:
            if not codes:
                return "0"
            whens = " ".join(f"WHEN {{}} THEN {int(code)}" for _, code in codes)
            args.extend(value for value, _ in codes)
            return f"CASE {column} {whens} ELSE 0 END"

        service = coded("r.service_type", query.service_codes)
        language = coded("r.locale", query.language_codes)
        mode = coded("r.mode", query.mode_codes)
        packed = "".join(
            f", {self.packed_column(query, g, args)} AS c{2 + g}"
            for g in range(len(query.item_groups))
        )
        join = "LEFT JOIN answer a ON a.response = r.id"
        if ids is not None and not self.plus:
            # PostgreSQL's merge join would otherwise scan the answers from the first id
            join += " AND a.response >= {} AND a.response <= {}"
            args += ids
        where = self.row_filter(query, args)
        if ids is not None:
            where += " AND r.id >= {} AND r.id <= {}"
            args += ids
        sql = (
            f"SELECT {self.cell_key_sql(query.key_sizes, service, language, mode)} AS c0, "
            f"CAST(r.version AS BIGINT) AS c1{packed} FROM response r "
            f"{join} WHERE {where} GROUP BY r.id ORDER BY r.id"
        )
        return sql, args

    def row_filter(self, query: RowQuery, args: list[object]) -> str:
        """The responses of the query: its offices, days and filters (on the true values)."""
        args += [*query.offices, query.first_day, query.last_day]
        marks = ", ".join("{}" for _ in query.offices)
        # SQLite: "+" keeps it off the (office, day) index, whose order would make it sort the
        # whole join for GROUP BY; in rowid order it groups as it goes, in flat memory
        plus = self.plus
        where = f"{plus}r.office IN ({marks}) AND {plus}r.day >= {{}} AND {plus}r.day <= {{}}"
        for column, value in (
            ("service_type", query.service_type),
            ("mode", query.mode),
            ("locale", query.language),
        ):
            if value is not None:
                where += f" AND r.{column} = {{}}"
                args.append(value)
        return where

    def packed_column(self, query: RowQuery, group: int, args: list[object]) -> str:
        """A packed column of the query: the aggregate over the answers `a` of a response."""
        items = query.item_groups[group]
        whens = " ".join(f"WHEN {{}} THEN {i * query.item_bits}" for i in range(len(items)))
        args.extend(items)
        return self.packed_sql(f"CASE a.item {whens} END")

    @property
    def month_index_sql(self) -> str:
        """year * 12 + month - 1 of r.day."""
        return (
            "(CAST(substr(r.day, 1, 4) AS INTEGER) * 12 + CAST(substr(r.day, 6, 2) AS INTEGER) - 1)"
        )

    def packed_sql(self, shift: str) -> str:
        return f"COALESCE(SUM((a.value + 1) << ({shift})), 0)"

    def comments(
        self, offices: Sequence[int], first_day: dt.date, last_day: dt.date
    ) -> AsyncGenerator[list[tuple[Any, ...]], None]:
        """(office, YYYY-MM, item, text), ordered by office, month and text: no order that
        could be matched to the rows of the response export. Not those an admin hid, nor those
        of responses flagged as too fast (the office page shows neither)."""
        marks = ", ".join("{}" for _ in offices)
        month = self.month_sql.replace("day", "r.day")
        sql = (
            f"SELECT r.office, {month} AS month, t.item, t.text FROM text_answer t "
            f"JOIN response r ON r.id = t.response WHERE r.office IN ({marks}) "
            "AND r.day >= {} AND r.day <= {} AND NOT t.hidden AND NOT r.flagged "
            "ORDER BY r.office, month, t.item, t.text"
        )
        return self.stream(sql, [*offices, first_day, last_day])


class SQLiteReader(Reader):
    plus = "+"

    async def _cell_counts_by_value(
        self, offices: Sequence[int], last_day: dt.date
    ) -> list[tuple[int, str, str, str, str, int, int]]:
        marks = ", ".join("{}" for _ in offices)
        sql = (
            "SELECT office, service_type, locale, mode, substr(day, 1, 7), version "
            f"FROM response WHERE +office IN ({marks}) AND +day <= {{}}"
        )
        counts: Counter[tuple[Any, ...]] = Counter()
        async with aclosing(self.stream(sql, [*offices, last_day])) as chunks:
            async for rows in chunks:
                await asyncio.to_thread(counts.update, rows)
        return [(int(k[0]), k[1], k[2], k[3], k[4], int(k[5]), n) for k, n in counts.items()]

    def __init__(self, path: str) -> None:
        self.identity = "sqlite:" + str(Path(path).resolve())
        self.lock = asyncio.Lock()
        self.conn = _read_only(path)
        self.second: sqlite3.Connection | None = None
        """A second reader on the same snapshot, so the row query runs on two cores."""
        self.second_lock = asyncio.Lock()
        try:
            # holding the write lock, no commit can come between the two snapshots
            writer = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=0.2,
                                     isolation_level=None)  # fmt: skip
        except sqlite3.Error:
            writer = None
        try:
            if writer is not None:
                try:
                    writer.execute("BEGIN IMMEDIATE")
                except sqlite3.Error:
                    writer.close()
                    writer = None
            _snapshot(self.conn)  # one snapshot for counts and rows
            if writer is not None:
                second = _read_only(path)
                _snapshot(second)
                self.second = second
        finally:
            if writer is not None:
                writer.execute("ROLLBACK")
                writer.close()

    def _fetch(self, sql: str, args: Sequence[object]) -> list[tuple[Any, ...]]:
        return self.conn.execute(self._sql(sql), [_arg(a) for a in args]).fetchall()

    async def fetch(self, sql: str, args: Sequence[object]) -> list[tuple[Any, ...]]:
        async with self.lock:
            return await asyncio.to_thread(self._fetch, sql, args)

    def stream(
        self, sql: str, args: Sequence[object]
    ) -> AsyncGenerator[list[tuple[Any, ...]], None]:
        return self._stream(self.conn, self.lock, sql, args)

    async def _stream(
        self, conn: sqlite3.Connection, lock: asyncio.Lock, sql: str, args: Sequence[object]
    ) -> AsyncGenerator[list[tuple[Any, ...]], None]:
        async with lock:
            cursor = await asyncio.to_thread(conn.execute, self._sql(sql), [_arg(a) for a in args])
            try:
                while True:
                    rows = await asyncio.to_thread(cursor.fetchmany, CHUNK_ROWS)
                    if not rows:
                        return
                    yield rows
            finally:
                cursor.close()

    async def _read_split(
        self, query: Callable[[tuple[int, int] | None], tuple[str, list[object]]], width: int
    ) -> AsyncGenerator[np.ndarray, None]:
        """The rows of `query(ids)` (the responses with ids in that range; `width` integer
        columns named c0, c1, ...) as int64 arrays, the lower and the upper half of the ids
        read at once, each on its own connection (SQLite works on one core per connection).
        Chunks come as they are ready: not in the stored order (for the response rows,
        shuffle.py hides the order anyway)."""
        lowest, highest = (await self.fetch("SELECT min(id), max(id) FROM response", []))[0]
        if lowest is None:
            return
        if self.second is None or highest - lowest < SPLIT_IDS:
            streams = [self._blocks(self.conn, self.lock, query, width, lowest, highest)]
        else:
            middle = (lowest + highest) // 2
            streams = [
                self._blocks(self.conn, self.lock, query, width, lowest, middle),
                self._blocks(self.second, self.second_lock, query, width, middle + 1, highest),
            ]
        async with aclosing(_merged(streams)) as merged:
            async for block in merged:
                yield block

    async def _blocks(
        self,
        conn: sqlite3.Connection,
        lock: asyncio.Lock,
        query: Callable[[tuple[int, int] | None], tuple[str, list[object]]],
        width: int,
        lowest: int,
        highest: int,
    ) -> AsyncGenerator[np.ndarray, None]:
        """`query` over the ids from `lowest` to `highest`, a range of about CHUNK_ROWS rows
        per statement (the range adapts to how densely the ids hold matching rows)."""
        span = CHUNK_ROWS
        async with lock:
            while lowest <= highest:
                upper = min(highest, lowest + span - 1)
                sql, args = query((lowest, upper))
                block = await asyncio.to_thread(self._block, conn, sql, args, width)
                if len(block) > CHUNK_ROWS:
                    span = max(1, span * CHUNK_ROWS // len(block))
                elif len(block) < CHUNK_ROWS // 2:
                    span = min(MAX_CHUNK_IDS, span * 2)
                lowest = upper + 1
                if len(block):
                    yield block

    def _block(
        self, conn: sqlite3.Connection, sql: str, args: Sequence[object], width: int
    ) -> np.ndarray:
        """The integer rows of one statement as a (rows, width) array. SQLite writes them as
        one text that numpy parses: one step of the statement instead of one per row, so the
        connection works without Python's global lock for the whole chunk (per row, two
        connections in two threads would pass that lock back and forth) and no Python object
        is made per value."""
        columns = " || ',' || ".join(f"c{i}" for i in range(width))
        wrapped = f"SELECT count(*), group_concat({columns}, ',') FROM ({self._sql(sql)})"
        ((n, text),) = conn.execute(wrapped, [_arg(a) for a in args]).fetchall()
        if not n:
            return np.zeros((0, width), dtype=np.int64)
        values = np.fromstring(text, dtype=np.int64, sep=",")
        if values.size != n * width:  # a NULL drops a row from group_concat
            raise ValueError(f"{n} rows of {width} integers expected, got {values.size} values")
        return values.reshape(n, width)

    async def close(self) -> None:
        def close() -> None:
            for conn in (self.conn, self.second):
                if conn is not None:
                    conn.execute("ROLLBACK")
                    conn.close()

        await asyncio.to_thread(close)


def _read_only(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(
        f"file:{path}?mode=ro", uri=True, check_same_thread=False, isolation_level=None
    )
    conn.execute("PRAGMA query_only = ON")
    return conn


def _snapshot(conn: sqlite3.Connection) -> None:
    """Begin a read transaction: in WAL mode its snapshot is taken at the first read."""
    conn.execute("BEGIN")
    conn.execute("SELECT count(*) FROM sqlite_master").fetchall()


async def _merged(
    streams: Sequence[AsyncGenerator[np.ndarray, None]],
) -> AsyncGenerator[np.ndarray, None]:
    """The chunks of several streams, each as soon as it is read."""
    pending = {asyncio.ensure_future(anext(s)): s for s in streams}
    try:
        while pending:
            done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                stream = pending.pop(task)
                try:
                    rows = task.result()
                except StopAsyncIteration:
                    continue
                pending[asyncio.ensure_future(anext(stream))] = stream
                yield rows
    finally:
        # a read under way in a thread cannot be stopped: let it end, then close the streams
        if pending:
            await asyncio.wait(pending)
            for task in pending:
                if not task.cancelled():
                    task.exception()  # retrieved: nothing left unawaited
        for stream in streams:
            await stream.aclose()


class PostgresReader(Reader):
    placeholder = "$"

    # ids restart when a table is emptied with RESTART IDENTITY (the tests do): the newest
    # row version (transaction id) tells two generations of the same ids apart
    stamp_extra = ", max(xmin::text::bigint)"

    def __init__(self, conn: Any, transaction: Any, identity: str = "", second: Any = None) -> None:
        self.conn = conn
        self.transaction = transaction
        self.identity = identity
        self.second = second
        """A second connection in the same snapshot, so the server reads on two cores."""

    @property
    def month_sql(self) -> str:
        return "to_char(day, 'YYYY-MM')"

    @property
    def month_index_sql(self) -> str:
        return "(EXTRACT(YEAR FROM r.day)::int * 12 + EXTRACT(MONTH FROM r.day)::int - 1)"

    def packed_sql(self, shift: str) -> str:
        # SUM of bigint is numeric in PostgreSQL; the bits never overlap, so OR is the sum
        return f"COALESCE(BIT_OR((a.value + 1)::bigint << ({shift})), 0)"

    async def fetch(self, sql: str, args: Sequence[object]) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in await self.conn.fetch(self._sql(sql), *args)]

    async def stream(
        self, sql: str, args: Sequence[object]
    ) -> AsyncGenerator[list[tuple[Any, ...]], None]:
        cursor = await self.conn.cursor(self._sql(sql), *args)
        while True:
            rows = await cursor.fetch(CHUNK_ROWS)
            if not rows:
                return
            yield [tuple(r) for r in rows]

    async def _read_split(
        self, query: Callable[[tuple[int, int] | None], tuple[str, list[object]]], width: int
    ) -> AsyncGenerator[np.ndarray, None]:
        """The rows of `query`, each half of the ids in one COPY on its own connection (one
        snapshot), in PostgreSQL's binary form: rows of fixed width (BIGINT columns) that
        numpy reads as they come, no Python object per value and no cursor round trip per
        chunk."""
        lowest, highest = (await self.fetch("SELECT min(id), max(id) FROM response", []))[0]
        if lowest is None:
            return
        if self.second is None or highest - lowest < SPLIT_IDS:
            streams = [self._copy(self.conn, *query((lowest, highest)), width)]
        else:
            middle = (lowest + highest) // 2
            streams = [
                self._copy(self.conn, *query((lowest, middle)), width),
                self._copy(self.second, *query((middle + 1, highest)), width),
            ]
        async with aclosing(_merged(streams)) as merged:
            async for block in merged:
                yield block

    async def _copy(
        self, conn: Any, sql: str, args: Sequence[object], width: int
    ) -> AsyncGenerator[np.ndarray, None]:
        blocks: asyncio.Queue[np.ndarray | Exception | None] = asyncio.Queue(maxsize=2)
        parser = CopyParser(width)

        async def output(data: bytes) -> None:
            for block in parser.feed(data):
                await blocks.put(block)

        async def copy() -> None:
            try:
                await conn.copy_from_query(self._sql(sql), *args, output=output, format="binary")
                for block in parser.end():
                    await blocks.put(block)
                await blocks.put(None)
            except Exception as error:
                await blocks.put(error)

        task = asyncio.ensure_future(copy())
        try:
            while (block := await blocks.get()) is not None:
                if isinstance(block, Exception):
                    raise block
                yield block
        finally:
            if not task.done():  # the export was left early: stop the COPY
                task.cancel()
                await asyncio.wait([task])

    async def close(self) -> None:
        for conn in (self.conn, self.second):
            if conn is None:
                continue
            try:
                await conn.execute("ROLLBACK")
            except Exception:  # e.g. a COPY stopped in the middle: the connection goes
                conn.terminate()
            else:
                await conn.close()


class CopyParser:
    """PostgreSQL's binary COPY output of rows of `width` non-null BIGINT columns, as
    (rows, width) int64 arrays of about CHUNK_ROWS rows."""

    SIGNATURE = b"PGCOPY\n\xff\r\n\x00"

    def __init__(self, width: int) -> None:
        self.width = width
        fields: list[tuple[str, str]] = [("n", ">i2")]
        for i in range(width):
            fields += [(f"size{i}", ">i4"), (f"value{i}", ">i8")]
        self.row = np.dtype(fields)
        self.buffer = bytearray()
        self.header = False

    def feed(self, data: bytes) -> list[np.ndarray]:
        self.buffer += data
        if len(self.buffer) < CHUNK_ROWS * self.row.itemsize:
            return []
        return self._take(len(self.buffer) // self.row.itemsize)

    def end(self) -> list[np.ndarray]:
        if not self.buffer.endswith(b"\xff\xff"):
            raise ValueError("the COPY ended without its trailer")
        del self.buffer[-2:]
        out = self._take(len(self.buffer) // self.row.itemsize)
        if self.buffer:
            raise ValueError(f"{len(self.buffer)} bytes left over after the COPY's rows")
        return out

    def _take(self, rows: int) -> list[np.ndarray]:
        if not self.header:
            if bytes(self.buffer[:11]) != self.SIGNATURE:
                raise ValueError("not a binary COPY")
            extension = int.from_bytes(self.buffer[15:19], "big")
            del self.buffer[: 19 + extension]
            self.header = True
            rows = len(self.buffer) // self.row.itemsize
        if not rows:
            return []
        records = np.frombuffer(self.buffer, dtype=self.row, count=rows)
        sizes = [records[f"size{i}"] for i in range(self.width)]
        if (records["n"] != self.width).any() or any((s != 8).any() for s in sizes):
            raise ValueError(f"rows of {self.width} non-null BIGINT values expected")
        block = np.stack([records[f"value{i}"].astype(np.int64) for i in range(self.width)], 1)
        del records, sizes
        del self.buffer[: rows * self.row.itemsize]
        return [block]


class PairCounter:
    """How often each (key, version) row occurs, counted chunk by chunk in memory bounded by
    the number of distinct rows (numpy: a Counter of a million tuples costs seconds)."""

    def __init__(self) -> None:
        self.pairs: list[np.ndarray] = []
        self.counts: list[np.ndarray] = []
        self.held = 0

    def add(self, block: np.ndarray) -> None:
        """A (rows, 2) array of keys and versions."""
        versions, at = np.unique(block[:, 1], return_inverse=True)
        width = len(versions)
        if int(block[:, 0].max()) < np.iinfo(np.int64).max // width - 1:
            combined, n = np.unique(block[:, 0] * width + at.reshape(-1), return_counts=True)
            pairs = np.stack([combined // width, versions[combined % width]], axis=1)
        else:
            pairs, n = _collapse(block, np.ones(len(block), dtype=np.int64))
        self.pairs.append(pairs)
        self.counts.append(n)
        self.held += len(pairs)
        if self.held > 4 * CHUNK_ROWS:
            self._collapse()

    def _collapse(self) -> None:
        pairs, n = _collapse(np.concatenate(self.pairs), np.concatenate(self.counts))
        self.pairs, self.counts, self.held = [pairs], [n], len(pairs)

    def result(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Keys, versions and counts."""
        if not self.pairs:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        self._collapse()
        return self.pairs[0][:, 0], self.pairs[0][:, 1], self.counts[0]


def int_array(rows: Sequence[Sequence[Any]], width: int) -> np.ndarray:
    """Rows of integers as a (rows, width) array (np.array on tuples takes twice as long)."""
    flat = itertools.chain.from_iterable(rows)
    return np.fromiter(flat, dtype=np.int64, count=len(rows) * width).reshape(-1, width)


def _collapse(pairs: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.lexsort((pairs[:, 1], pairs[:, 0]))
    pairs, counts = pairs[order], counts[order]
    starts = np.flatnonzero(np.r_[True, np.any(pairs[1:] != pairs[:-1], axis=1)])
    return pairs[starts], np.add.reduceat(counts, starts)


def _arg(value: object) -> object:
    return value.isoformat() if isinstance(value, dt.date) else value


async def open_reader(settings: Settings) -> Reader:
    if settings.is_sqlite:
        return await asyncio.to_thread(SQLiteReader, str(settings.sqlite_path))
    import asyncpg

    conn = await asyncpg.connect(settings.database_url)
    second = None
    try:
        transaction = conn.transaction(isolation="repeatable_read", readonly=True)
        await transaction.start()
        snapshot = await conn.fetchval("SELECT pg_export_snapshot()")
        if re.fullmatch(r"[0-9A-Fa-f-]+", snapshot or ""):
            second = await asyncpg.connect(settings.database_url)
            await second.execute(
                "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; "
                f"SET TRANSACTION SNAPSHOT '{snapshot}'"
            )
    except BaseException:
        for c in (conn, second):
            if c is not None:
                await c.close()
        raise
    return PostgresReader(conn, transaction, settings.database_url, second)
