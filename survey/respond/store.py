"""Storing responses: one writer task commits queued submissions in groups (group commit).

Every request waits until the batch holding its submission is committed, so a 201 means
stored. SQLite gets one persistent connection in one thread (a single writer, IMMEDIATE
transactions, WAL, synchronous=NORMAL); PostgreSQL gets a pooled connection per batch and
relies on the unique submission id, so several app processes can write at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import logging
import os
import secrets
import shutil
import sqlite3
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal, Protocol

import asyncpg
import msgspec
import piccolo.engine.sqlite  # noqa: F401  (registers the sqlite3 adapters Piccolo reads back)
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine

from survey.db import SQLITE_BUSY_TIMEOUT_S, is_connection_lost, is_unavailable
from survey.questionnaire import INDEX_ITEM as INDEX_ITEM  # re-exported: the shared vocabulary
from survey.questionnaire import LOCAL_ZONE as LOCAL_ZONE  # moved to survey.questionnaire
from survey.questionnaire import Checked, Definition, composite_index
from survey.respond.schemas import LinkInfo

log = logging.getLogger(__name__)

Outcome = Literal["created", "duplicate", "conflict"]
DATA_ERRORS: tuple[type[Exception], ...] = (
    sqlite3.IntegrityError,
    sqlite3.DataError,
    sqlite3.InterfaceError,
    asyncpg.exceptions.DataError,
    asyncpg.exceptions.IntegrityConstraintViolationError,
)
"""Errors caused by one submission's data, as opposed to the database being unavailable."""
RECORD_KEY_BITS = 31
"""Record keys are uniform integers in [0, 2**31): they fit PostgreSQL's integer column."""


def new_record_key() -> int:
    """A response's random record key for the cell key method (see survey/dashboard/disclosure)."""
    return secrets.randbits(RECORD_KEY_BITS)


class Submission(msgspec.Struct, frozen=True):
    submission_id: str
    """The client's UUID in its canonical text form, as both databases compare it."""
    digest: str
    link_id: int
    office_id: int
    version_id: int
    service_type: str
    mode: str
    locale: str
    values: dict[str, int]
    texts: dict[str, str]
    index_value: int | None
    day: dt.date
    submitted_at: dt.datetime
    record_key: int = msgspec.field(default_factory=new_record_key)
    flagged: bool = False
    """Sent faster than a person answers: stored, but not counted for the dashboards."""


class BatchStore(Protocol):
    async def commit(self, batch: Sequence[Submission]) -> list[Outcome]: ...

    async def probe(self) -> None: ...

    async def close(self) -> None: ...


def count_rows(subs: Sequence[Submission]) -> list[tuple[object, ...]]:
    """Aggregate the answers of a batch into (day, office, filters, item, value, n, key_sum)
    rows; key_sum is the sum of the record keys of the responses counted in the row.

    Flagged submissions are left out: the dashboards read these counts.
    Sorted, so concurrent writers (several PostgreSQL processes) lock the rows in the same
    order and cannot deadlock each other.
    """
    counts: Counter[tuple[object, ...]] = Counter()
    keys: Counter[tuple[object, ...]] = Counter()
    for s in subs:
        if s.flagged:
            continue
        key = (s.day, s.office_id, s.service_type, s.locale, s.mode)
        cells = [(*key, item, value) for item, value in s.values.items()]
        if s.index_value is not None:
            cells.append((*key, INDEX_ITEM, s.index_value))
        for cell in cells:
            counts[cell] += 1
            keys[cell] += s.record_key
    return [(*k, n, keys[k]) for k, n in sorted(counts.items())]


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


def plan(batch: Sequence[Submission], stored: dict[str, str]) -> tuple[list[Outcome], list[int]]:
    """Outcome per submission and the positions to insert, given digests already stored."""
    seen = dict(stored)
    outcomes: list[Outcome] = []
    new: list[int] = []
    for pos, s in enumerate(batch):
        if s.submission_id in seen:
            outcomes.append("duplicate" if seen[s.submission_id] == s.digest else "conflict")
        else:
            seen[s.submission_id] = s.digest
            outcomes.append("created")
            new.append(pos)
    return outcomes, new


_RESPONSE_COLUMNS = (
    "submission_id, digest, link, office, version, service_type, locale, mode, day, "
    "submitted_at, record_key, flagged"
)
_MARKS_13 = ",".join("?" * 13)
_COUNT_UPSERT = (
    "INSERT INTO daily_count (day, office, service_type, locale, mode, item, value, n, key_sum) "
    "VALUES ({p}) ON CONFLICT (day, office, service_type, locale, mode, item, value) "
    "DO UPDATE SET n = daily_count.n + excluded.n, "
    "key_sum = daily_count.key_sum + excluded.key_sum"
)


def _response_row(s: Submission) -> tuple[object, ...]:
    return (
        s.submission_id,
        s.digest,
        s.link_id,
        s.office_id,
        s.version_id,
        s.service_type,
        s.locale,
        s.mode,
        s.day,
        s.submitted_at,
        s.record_key,
        s.flagged,
    )


MIN_FREE_BYTES = 1024 * 1024
"""Below this much free disk space beside the SQLite file, /readyz says the disk is full."""


class SQLiteStore:
    """The single SQLite writer: one persistent connection, used from the event loop itself.

    A batch is committed synchronously on the loop (a few milliseconds for hundreds of
    responses): handing it to a thread instead makes the two threads trade the GIL for every
    bound row, which under load stretched commits and the p99. WAL checkpoints, the one slow
    part (they sync the file), run in a thread of their own on a second connection, where
    SQLite works without holding the GIL.
    """

    CHECKPOINT_EVERY = 2000
    """Submissions between two background checkpoints."""
    RESTART_FRAMES = 16_000
    """WAL frames (about 64 MB) past which a checkpoint also restarts the log."""
    BUSY_RETRY_S = 0.002

    def __init__(self, path: str) -> None:
        self._path = path
        self._conn: sqlite3.Connection | None = None
        self._checkpointer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="checkpoint")
        self._checkpointing: asyncio.Future[None] | None = None
        self._since_checkpoint = 0

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._path, timeout=0, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA wal_autocheckpoint=0")
        conn.execute("PRAGMA journal_size_limit=67108864")
        return conn

    async def commit(self, batch: Sequence[Submission]) -> list[Outcome]:
        """Commit on the loop; while another connection holds the write lock, wait without
        blocking the loop (that other writer may be a Piccolo query the loop must finish)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SQLITE_BUSY_TIMEOUT_S
        while True:
            try:
                outcomes = self._commit(batch)
                break
            except sqlite3.OperationalError as exc:
                if _is_busy(exc) and loop.time() <= deadline:
                    await asyncio.sleep(self.BUSY_RETRY_S)
                    continue
                if is_unavailable(exc):
                    self._drop_connection()  # read-only, full, gone: the next batch reconnects
                raise
            except sqlite3.DatabaseError as exc:
                if is_unavailable(exc):
                    self._drop_connection()
                raise
        self._since_checkpoint += len(batch)
        if self._since_checkpoint >= self.CHECKPOINT_EVERY and (
            self._checkpointing is None or self._checkpointing.done()
        ):
            self._since_checkpoint = 0
            self._checkpointing = loop.run_in_executor(self._checkpointer, self._checkpoint)
        return outcomes

    def _checkpoint(self) -> None:
        """Copy the WAL into the database beside the writer; restart the log when a passive
        checkpoint cannot keep up under continuous load (the writer then waits briefly)."""
        conn = sqlite3.connect(self._path, timeout=SQLITE_BUSY_TIMEOUT_S, isolation_level=None)
        try:
            _, frames, _ = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            if frames >= self.RESTART_FRAMES:
                conn.execute("PRAGMA wal_checkpoint(RESTART)")
        except sqlite3.OperationalError:
            log.warning("WAL checkpoint skipped: database busy", exc_info=True)
        finally:
            conn.close()

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):
                conn.close()

    async def probe(self) -> None:
        """One real write (the database is reachable, writable, not full), on the writer's
        own connection between two batches; while another connection holds the write lock
        it waits as a batch does. A tiny write can still fit into a disk that has no room
        for a submission (the WAL file keeps its size), so the free space is checked too."""
        free = shutil.disk_usage(os.path.dirname(os.path.abspath(self._path))).free
        if free < MIN_FREE_BYTES:
            raise sqlite3.OperationalError(f"database or disk is full: {free} bytes free")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SQLITE_BUSY_TIMEOUT_S
        while True:
            try:
                if self._conn is None:
                    self._conn = self._connect()
                self._conn.execute(
                    "INSERT INTO heartbeat (name, at) VALUES ('ready', ?) "
                    "ON CONFLICT (name) DO UPDATE SET at = excluded.at",
                    (dt.datetime.now(dt.UTC),),
                )
                return
            except sqlite3.OperationalError as exc:
                if _is_busy(exc) and loop.time() <= deadline:
                    await asyncio.sleep(self.BUSY_RETRY_S)
                    continue
                if is_unavailable(exc):
                    self._drop_connection()
                raise
            except sqlite3.DatabaseError as exc:
                if is_unavailable(exc):
                    self._drop_connection()
                raise

    def _commit(self, batch: Sequence[Submission]) -> list[Outcome]:
        if self._conn is None:
            self._conn = self._connect()
        conn = self._conn
        ids = [s.submission_id for s in batch]
        conn.execute("BEGIN IMMEDIATE")
        try:
            marks = ",".join("?" * len(ids))
            stored = dict(
                conn.execute(
                    f"SELECT submission_id, digest FROM response WHERE submission_id IN ({marks})",
                    ids,
                ).fetchall()
            )
            outcomes, new = plan(batch, stored)
            if new:
                subs = [batch[i] for i in new]
                first_id = conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM response").fetchone()[
                    0
                ]
                conn.executemany(
                    f"INSERT INTO response (id, {_RESPONSE_COLUMNS}) VALUES ({_MARKS_13})",
                    [(first_id + k, *_response_row(s)) for k, s in enumerate(subs)],
                )
                conn.executemany(
                    "INSERT INTO answer (response, item, value) VALUES (?,?,?)",
                    [
                        (first_id + k, item, value)
                        for k, s in enumerate(subs)
                        for item, value in s.values.items()
                    ],
                )
                conn.executemany(
                    "INSERT INTO text_answer (response, item, text) VALUES (?,?,?)",
                    [
                        (first_id + k, item, text)
                        for k, s in enumerate(subs)
                        for item, text in s.texts.items()
                    ],
                )
                conn.executemany(_COUNT_UPSERT.format(p="?,?,?,?,?,?,?,?,?"), count_rows(subs))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):  # a full or failing disk may refuse it
                    conn.execute("ROLLBACK")
            raise
        return outcomes

    async def close(self) -> None:
        if self._checkpointing is not None:
            await self._checkpointing
        self._checkpointer.shutdown(wait=True)
        if self._conn is not None:
            self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            self._conn.close()
            self._conn = None


_PG_BATCH = f"""
WITH b AS (
    SELECT * FROM json_to_recordset($1::json) AS b(
        submission_id uuid, digest text, link_id int, office_id int, version_id int,
        service_type text, locale text, mode text, day date, submitted_at timestamptz,
        record_key int, flagged bool, "values" json, index_value int, texts json)
), ins AS (
    INSERT INTO response ({_RESPONSE_COLUMNS})
    SELECT submission_id, digest, link_id, office_id, version_id, service_type, locale, mode,
        day, submitted_at, record_key, flagged
    FROM b ORDER BY submission_id
    ON CONFLICT (submission_id) DO NOTHING
    RETURNING id, {_RESPONSE_COLUMNS}
), cell AS (
    SELECT b.submission_id, v.key AS item, v.value::int AS value, true AS stored
    FROM b, json_each_text(b."values") AS v
    UNION ALL
    SELECT b.submission_id, '{INDEX_ITEM}', b.index_value, false
    FROM b WHERE b.index_value IS NOT NULL
), answers AS (
    INSERT INTO answer (response, item, value)
    SELECT ins.id, cell.item, cell.value FROM cell JOIN ins USING (submission_id)
    WHERE cell.stored
), texts AS (
    INSERT INTO text_answer (response, item, text)
    SELECT ins.id, t.key, t.value
    FROM b JOIN ins USING (submission_id), json_each_text(b.texts) AS t
), counts AS (
    INSERT INTO daily_count (day, office, service_type, locale, mode, item, value, n, key_sum)
    SELECT ins.day, ins.office, ins.service_type, ins.locale, ins.mode, cell.item, cell.value,
        count(*), sum(ins.record_key)
    FROM cell JOIN ins USING (submission_id)
    WHERE NOT ins.flagged
    GROUP BY 1, 2, 3, 4, 5, 6, 7
    ORDER BY 1, 2, 3, 4, 5, 6, 7
    ON CONFLICT (day, office, service_type, locale, mode, item, value)
    DO UPDATE SET n = daily_count.n + excluded.n, key_sum = daily_count.key_sum + excluded.key_sum
)
SELECT b.submission_id::text AS sid, ins.id IS NOT NULL AS created, r.digest
FROM b LEFT JOIN ins USING (submission_id) LEFT JOIN response r USING (submission_id)
"""
"""One PostgreSQL statement stores a batch: its responses, answers, texts and counts.

The batch goes as one JSON parameter, the submissions as msgspec encodes them: asyncpg
checked every element of the column arrays this statement took before against Python's
abstract base classes, which cost more of a form's POST than the rest of its storing.
A single statement is its own transaction (one round trip, committed before the reply, so
a 303 still means stored). Responses already stored are skipped (`ON CONFLICT DO NOTHING`)
and their digests read back from the statement's snapshot; the counts are summed over the
responses the statement did insert, so a submission counts exactly once. Responses and
count rows are written in key order: concurrent writers (several app processes) lock them
in the same order and cannot deadlock each other. The final SELECT does not see this
statement's own inserts (PostgreSQL's rule for data-modifying WITH), so `r.digest` is the
digest of a response stored before.
"""


def _pg_batch(subs: Sequence[Submission]) -> str:
    """The JSON parameter of `_PG_BATCH`; times must be aware (make_submission's are UTC)."""
    try:
        return _JSON.encode(subs).decode()
    except UnicodeEncodeError as exc:  # a lone surrogate: refused like asyncpg refused it
        raise asyncpg.exceptions.DataError(f"a submission is not valid text: {exc}") from None


_JSON = msgspec.json.Encoder()


class PostgresStore:
    def __init__(self, engine: PostgresEngine) -> None:
        self._engine = engine

    async def commit(self, batch: Sequence[Submission]) -> list[Outcome]:
        pool = self._engine.pool
        assert pool is not None, "the PostgreSQL pool is started in the app's lifespan"
        _, first = plan(batch, {})  # a submission id sent twice in one batch is stored once
        async with pool.acquire() as conn:
            rows = await conn.fetch(_PG_BATCH, _pg_batch([batch[i] for i in first]))
            stored = {r["sid"]: r["digest"] for r in rows if not r["created"]}
            lost = [sid for sid, digest in stored.items() if digest is None]
            if lost:  # another process stored them after this statement's snapshot was taken
                again = await conn.fetch(
                    "SELECT submission_id::text AS sid, digest FROM response "
                    "WHERE submission_id = ANY($1::uuid[])",
                    lost,
                )
                stored.update({r["sid"]: r["digest"] for r in again})
        outcomes, _ = plan(batch, stored)
        return outcomes

    async def probe(self) -> None:
        pool = self._engine.pool
        assert pool is not None, "the PostgreSQL pool is started in the app's lifespan"
        async with pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO heartbeat (name, at) VALUES ('ready', now()) "
                "ON CONFLICT (name) DO UPDATE SET at = excluded.at"
            )

    async def close(self) -> None:
        return None


def make_store(engine: Engine[Any]) -> BatchStore:
    if isinstance(engine, PostgresEngine):
        return PostgresStore(engine)
    return SQLiteStore(engine.path)  # type: ignore[attr-defined]


class WriterMetrics(Protocol):
    """What the writer reports (survey.metrics.Metrics)."""

    @property
    def queue_depth(self) -> Any: ...

    @property
    def store_failures(self) -> Any: ...

    def batch(self, size: int, seconds: float, outcomes: list[str]) -> None: ...


class ResponseWriter:
    """Queue in front of a BatchStore: whatever arrives while a batch commits forms the next."""

    def __init__(
        self, store: BatchStore, max_batch: int = 512, metrics: WriterMetrics | None = None
    ) -> None:
        self._store = store
        self._max_batch = max_batch
        self._metrics = metrics
        self._queue: asyncio.Queue[tuple[Submission, asyncio.Future[Outcome]] | None] = (
            asyncio.Queue()
        )
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="response-writer")

    async def stop(self) -> None:
        """Commit what is queued, then end: a batch in flight is never cancelled."""
        if self._task is not None:
            self._queue.put_nowait(None)
            await self._task
            self._task = None
        await self._store.close()

    async def probe(self) -> None:
        await self._store.probe()

    async def submit(self, submission: Submission) -> Outcome:
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((submission, future))
        if self._metrics is not None:
            self._metrics.queue_depth.set(self._queue.qsize())
        return await future

    async def _run(self) -> None:
        stopping = False
        while not stopping:
            first = await self._queue.get()
            items = [] if first is None else [first]
            stopping = first is None
            while len(items) < self._max_batch and not self._queue.empty():
                item = self._queue.get_nowait()
                if item is None:
                    stopping = True
                else:
                    items.append(item)
            if self._metrics is not None:
                self._metrics.queue_depth.set(self._queue.qsize())
            if items:
                await self._commit(items)

    async def _commit(self, items: list[tuple[Submission, asyncio.Future[Outcome]]]) -> None:
        started = time.perf_counter()
        try:
            outcomes = await self._commit_once_more_if_lost([s for s, _ in items])
        except Exception as exc:
            if self._metrics is not None:
                self._metrics.store_failures.inc()
            if len(items) > 1 and isinstance(exc, DATA_ERRORS):
                # one bad submission must not fail the others: store them one at a time
                for item in items:
                    await self._commit([item])
                return
            if is_unavailable(exc):
                log.warning("storing %d submission(s) failed: %s", len(items), exc)
            else:
                log.exception("storing %d submission(s) failed", len(items))
            for _, future in items:
                if not future.done():
                    future.set_exception(exc)
            return
        if self._metrics is not None:
            self._metrics.batch(len(items), time.perf_counter() - started, list(outcomes))
        for (_, future), outcome in zip(items, outcomes, strict=True):
            if not future.done():
                future.set_result(outcome)

    async def _commit_once_more_if_lost(self, submissions: list[Submission]) -> list[Outcome]:
        """`store.commit`, again on another connection while the one used was lost (after a
        failover or a restart every idle connection of the pool is gone, and each is found
        out only when used), at most LOST_CONNECTION_RETRIES times. Safe to repeat: a
        submission id already stored is answered as such, never stored twice."""
        for attempt in range(LOST_CONNECTION_RETRIES + 1):
            try:
                return list(await self._store.commit(submissions))
            except Exception as exc:
                if attempt == LOST_CONNECTION_RETRIES or not is_connection_lost(exc):
                    raise
                log.warning("connection lost while storing, trying another: %s", exc)
        raise AssertionError("unreachable")


LOST_CONNECTION_RETRIES = 3
"""How often the writer tries another connection when the one it used was lost."""


def make_submission(
    link: LinkInfo,
    submission_id: uuid.UUID,
    locale: str,
    checked: Checked,
    definition: Definition,
    now: dt.datetime | None = None,
    *,
    flagged: bool = False,
) -> Submission:
    """A checked response, ready for the writer.

    The time is kept to the hour only, so a response cannot be matched to an appointment.
    """
    now = now or dt.datetime.now(dt.UTC)
    if now.tzinfo is None:  # a time without zone is UTC, on both engines alike
        now = now.replace(tzinfo=dt.UTC)
    digest = hashlib.sha256(
        msgspec.json.encode([link.token, checked.values, checked.texts], order="sorted")
    ).hexdigest()
    return Submission(
        submission_id=str(submission_id),
        digest=digest,
        link_id=link.id,
        office_id=link.office_id,
        version_id=link.version_id,
        service_type=link.service_type,
        mode=link.mode,
        locale=locale,
        values=checked.values,
        texts=checked.texts,
        index_value=composite_index(definition, checked.values),
        day=now.astimezone(LOCAL_ZONE).date(),
        submitted_at=now.replace(minute=0, second=0, microsecond=0),
        flagged=flagged,
    )
