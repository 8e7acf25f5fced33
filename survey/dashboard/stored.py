"""A dashboard view's figures kept in the database once every month of it is closed, so that
a restarted server's (or another process's) first view reads them instead of working them
out again (issue 17).

A view whose months are all rolled up is made of counts that never change (see cache.py):
its figures are a function of the key alone. The key names everything they are made of:
the code and data of this release (`CODE`: every file of `survey/` and `analysis/` and the
versions of numpy, scipy and plotly), the comparison group (its offices with their names
and job centres, the group's name) and the offices the user may see, the filters, the
minimum, the last published month, the last rolled-up month of the counts and of the
client-mix cross-tab, and what each page adds (sort order, level, language, the items of
its targets, the office's own questions). A change to any of them is another key; the row
of the old key is never read again. What an admin changes without changing the key is not
kept here but read on every view: comments (an admin may hide one), targets, kinds of
office, the version note and the flagged count. Erasing a job centre deletes every row
(`forget`), since the group's figures were made with its responses.

Rows are written on a view's first computation (by a request, after its answer; by the warming,
survey/dashboard/warm.py, before it goes on); `prune` deletes those of an earlier rolled-up
month or another release and keeps at most MAX_ROWS: the default views of the last published
month first (the warming marks their rows, `default_for`; the views opened most), then the
newest (r25: by ids alone the warming, which writes the default views first, pruned them first
once a deployment kept more than MAX_ROWS, from about 550 offices).

A row never outlives what it was made of: a computation reads the marks of the last hidden or
deleted comment and of the last erasure (`_marks`, rows of `heartbeat`; in the statement that
looked for its row) before it reads any count, and deletes its own row again when either moved
before its write was done (an erasure or a retention deletion while the warming or a view was
working: the row would hold what was deleted). `forget` moves its mark and then deletes every
row, after the erasure has committed, so a row written in between is deleted by one or the
other.

The values are pickled and sealed with an HMAC of the server's secret key: a row is
unpickled only when its seal is right, so neither a forged row nor a backup of another
server is ever run as code (a row that does not open is replaced).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import logging
import pickle
import weakref
import zlib
from collections.abc import Awaitable, Callable, Coroutine, Hashable
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from survey import memory
from survey.dashboard.cache import BACKGROUND, BoundedCache, deep_size, key_bytes, once
from survey.dashboard.filters import publication_day, published_through
from survey.dashboard.queries import COMMENTS_CHANGED, _postgres, set_mark
from survey.tables import DashboardFigure

log = logging.getLogger("resonanz.dashboard")
T = TypeVar("T")
MAX_ROWS = 50_000
"""Rows kept at most (the newest); a view's figures are 1–5 kB compressed, an office's
comments of a year some 50–90 kB (at the bench's million). The warming of every view the
pages' controls offer keeps about 90 rows an office (1,801 rows, 5.2 MB for the bench's 20
offices): room for some 500 offices' besides the views users ask for."""
PRUNE_EVERY = 500
"""Writes of a process between two `prune`s: the table stays bounded however many views a
month's users ask for, between the warmings (which prune too)."""
_written = [0]
FORGOTTEN = "figures forgotten"
"""The `heartbeat` row whose time says when every kept figure was last deleted (`forget`)."""
SEAL = 32
"""Bytes of a row's HMAC-SHA256 seal, before its compressed pickle."""
DEFAULT_FOR: ContextVar[str] = ContextVar("default_for", default="")
"""While the warming works out (or reads) the default views: the last published month they
are the default views of ('' otherwise). Their rows are marked with it (`default_for`)."""
_marked: set[str] = set()
"""Keys whose rows this process marked for the last published month (`unmark` empties it:
each warming marks again what another process or a request may have written unmarked)."""


def code_version() -> str:
    """A digest of every file of `survey/` and `analysis/` and of the versions of the
    numerical and masking libraries: figures made by another release are never read."""
    from importlib.metadata import version

    root = Path(__file__).resolve().parents[2]
    digest = hashlib.blake2b(digest_size=16)
    # the numerical libraries, and those the comments are masked with (name lists, IBANs)
    for package in ("numpy", "scipy", "plotly", "faker", "python-stdnum"):
        digest.update(f"{package} {version(package)} ".encode())
    for folder in ("survey", "analysis"):
        for path in sorted((root / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(path.relative_to(root).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


CODE = code_version()


def key_of(kind: str, made_of: Hashable) -> str:
    return hashlib.blake2b(key_bytes((CODE, kind, made_of)), digest_size=32).hexdigest()


async def kept(
    cache: BoundedCache,
    state: Any,
    kind: str,
    made_of: Hashable,
    rolled: str,
    make: Callable[[], Awaitable[T]],
) -> T:
    """The figures of a closed view: from this process's `cache`, else from the database,
    else `make()`, kept in both. `rolled`: the last rolled-up month they are made with.

    A request does not wait for the row's write: its figures are in this process's cache
    at once, and the row is written after the answer (`_keep`, a task of its own; the
    warming waits for its own). A write that fails loses nothing but the row: the next
    process to ask works the figures out again."""
    key = key_of(kind, made_of)
    secret = state.settings.secret_key.encode()
    default_for = DEFAULT_FOR.get() if secret else ""
    found = cache.get(("stored", key))
    if found is not None:
        if default_for:
            await _mark(key, default_for)
        return found[0]  # type: ignore[no-any-return]

    async def read_or_make() -> T:
        if not secret:  # nothing to seal rows with: kept in this process only
            return await make()
        value, before = await _read(key, secret)  # the marks before any count is read
        if value is None:
            value = (await make(),)
            blob = zlib.compress(pickle.dumps(value, protocol=5), 1)
            write = _keep(state, key, kind, rolled, _sealed(secret, blob), default_for, before)
            if BACKGROUND.get():  # the warming: its rows written (and marked) before it goes on
                await write
            else:
                _later(key, write)
        return value[0]  # type: ignore[no-any-return]

    value = await once(state, ("stored", key), read_or_make)
    # what it holds (0.24 ms, 0.7 at most, for the demo's overviews; 4 × its compressed
    # pickle counted a third of it: c39, docs/benchmarks.md)
    cache.put(("stored", key), (value,), deep_size(value))
    if default_for:  # read, or made by a request that asked first
        await _mark(key, default_for)
    return value


_writing_by_loop: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[str, asyncio.Task[None]]
] = weakref.WeakKeyDictionary()
"""The rows being written after their requests' answers (`_later`), by key, per event loop
(a test's loop ends with its app; another's tasks are never awaited here)."""


def _writing() -> dict[str, asyncio.Task[None]]:
    loop = asyncio.get_running_loop()
    found = _writing_by_loop.get(loop)
    if found is None:
        found = _writing_by_loop[loop] = {}
    return found


class _Answering:
    """The rows a request made, to be written once its answer is sent (`after_answer`), and
    what it read once for all its parts (`read_once`)."""

    __slots__ = ("read", "rows", "sent")

    def __init__(self) -> None:
        self.rows: list[tuple[str, Coroutine[Any, Any, None]]] = []
        self.sent = False
        self.read: dict[str, object] = {}


_ANSWERING: ContextVar[_Answering | None] = ContextVar("answering", default=None)


def after_answer(app: ASGIApp) -> ASGIApp:
    """`app`, writing the rows each request made (`_later`) once its answer is sent: their
    statements (the write and its check of the marks, some 0.4 ms of CPU each on
    PostgreSQL) no longer take turns with the rest of the answer in the event loop (k30).
    Then, once per process, the objects its first figures made are frozen out of the full
    collections (`memory.freeze_with_statistics`: a collection of the young generations, a
    few ms, after the answer)."""

    async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        answering = _Answering()
        token = _ANSWERING.set(answering)
        try:
            await app(scope, receive, send)
        finally:
            _ANSWERING.reset(token)
            answering.sent = True  # a write made later (a view shared with another request
            for key, write in answering.rows:  # that outlived this one) starts at once
                _start(key, write)
            memory.freeze_with_statistics()

    return asgi


async def read_once(name: str, read: Callable[[], Awaitable[object]]) -> object:
    """`await read()`, once per request (`after_answer`; outside a request, every time): a
    mark a request's parts each ask for (the erasure's, part of every table's key: up to
    three reads a new view before, one after another, q33) is read by the first of them
    and the rest of the request goes by what it read."""
    answering = _ANSWERING.get()
    if answering is None:
        return await read()
    if name not in answering.read:
        answering.read[name] = await read()
    return answering.read[name]


def _later(key: str, write: Coroutine[Any, Any, None]) -> None:
    answering = _ANSWERING.get()
    if answering is not None and not answering.sent:
        answering.rows.append((key, write))
        return
    _start(key, write)


def _start(key: str, write: Coroutine[Any, Any, None]) -> None:
    writing = _writing()
    earlier = writing.get(key)
    if earlier is not None and not earlier.done():  # r28: made again meanwhile (the process
        write = _after(earlier, write)  # cache let it go): the one task `settled` waits for
    task = asyncio.ensure_future(write)
    writing[key] = task
    task.add_done_callback(lambda done: writing.pop(key, None) if writing.get(key) is done
                           else None)  # fmt: skip


async def _after(earlier: asyncio.Task[None], write: Coroutine[Any, Any, None]) -> None:
    await asyncio.wait([earlier])
    await write


async def settled() -> None:
    """Wait until every row this process is writing after an answer is written (or failed):
    before the process stops, and in tests. A time limit around it cancels no write
    (`asyncio.wait`; r28: `gather` cancelled them with it, between a row's write and its check
    of the marks)."""
    writing = _writing()
    while writing:
        await asyncio.wait(list(writing.values()))


async def _keep(
    state: Any, key: str, kind: str, rolled: str, sealed: bytes, default_for: str,
    before: tuple[object, object],
) -> None:  # fmt: skip
    """Write a row made from what the marks `before` said, and delete it again when either
    mark moved before its write was done (deleted or hidden meanwhile); prune now and then."""
    try:
        if not await _write(key, kind, rolled, sealed, default_for, before):
            return
        if default_for:
            _marked.add(f"{default_for} {key}")
        # the write itself is refused when a mark moved before it; on PostgreSQL an erasure
        # committed while it ran deletes every row but this one, which it did not see yet
        if await _marks() != before:  # deleted or hidden while it was made
            await DashboardFigure.raw("DELETE FROM dashboard_figure WHERE key = {}", key)
    except Exception:  # the next process to ask works it out again
        log.warning("a kept dashboard figure could not be checked; deleted", exc_info=True)
        try:  # r28: a row whose check failed is not kept
            await DashboardFigure.raw("DELETE FROM dashboard_figure WHERE key = {}", key)
        except Exception:
            log.warning("an unchecked dashboard figure could not be deleted", exc_info=True)
        return
    _written[0] += 1
    if _written[0] % PRUNE_EVERY == 0:
        try:
            await prune(rolled, _published(state))
        except Exception:  # the next one tries again
            log.warning("the kept dashboard figures could not be pruned", exc_info=True)


async def _mark(key: str, default_for: str) -> None:
    """Mark `key`'s row as one of the default views of `default_for` (once per warming)."""
    if f"{default_for} {key}" in _marked:
        return
    writing = _writing().get(key)
    if writing is not None:  # a request's row, written after its answer: mark it once there
        await asyncio.wait([writing])
        if f"{default_for} {key}" in _marked:
            return
    _marked.add(f"{default_for} {key}")
    try:
        await DashboardFigure.raw(
            "UPDATE dashboard_figure SET default_for = {} WHERE key = {} AND default_for <> {}",
            default_for,
            key,
            default_for,
        )
    except Exception:  # pruned a little sooner, nothing else
        log.warning("a kept dashboard figure could not be marked", exc_info=True)


def unmark() -> None:
    """Forget which rows this process marked (the warming then marks its default views again)."""
    _marked.clear()


def _published(state: Any) -> str:
    return published_through(publication_day(state.settings))


async def _marks() -> tuple[object, object]:
    """When a comment was last hidden or deleted, and when every kept figure was last
    deleted (None: never); read as `_read` reads them (the same types on each engine)."""
    return (await _row(""))[1]


async def _row(key: str) -> tuple[bytes | None, tuple[object, object]]:
    """The sealed value of `key`'s row (None: none) and the marks, in one statement."""
    rows = await DashboardFigure.raw(
        "SELECT (SELECT value FROM dashboard_figure WHERE key = {}) AS value, "
        "(SELECT at FROM heartbeat WHERE name = {}) AS comments, "
        "(SELECT at FROM heartbeat WHERE name = {}) AS forgotten",
        key,
        COMMENTS_CHANGED,
        FORGOTTEN,
    )
    found = rows[0]
    value = found["value"]
    return (None if value is None else bytes(value)), (found["comments"], found["forgotten"])


def _sealed(secret: bytes, blob: bytes) -> bytes:
    return hmac.digest(secret, blob, "sha256") + blob


async def _read(key: str, secret: bytes) -> tuple[Any, tuple[object, object]]:
    """The figures of `key`'s row (None when there is none or it does not open) and the
    marks (`_marks`), in one statement."""
    sealed, marks = await _row(key)
    if sealed is None:
        return None, marks
    seal, blob = sealed[:SEAL], sealed[SEAL:]
    if hmac.compare_digest(seal, hmac.digest(secret, blob, "sha256")):
        try:  # sealed by this server
            return pickle.loads(zlib.decompress(blob)), marks
        except Exception:  # another release's classes: worked out again
            pass
    log.warning("a stored dashboard figure could not be opened; working it out again")
    await DashboardFigure.raw("DELETE FROM dashboard_figure WHERE key = {}", key)
    return None, marks


async def _write(
    key: str, kind: str, rolled: str, blob: bytes, default_for: str,
    before: tuple[object, object],
) -> bool:  # fmt: skip
    """Write `key`'s row, only while both marks are still what they were `before` the counts
    were read (r28: a check after the write alone was lost when the process stopped between
    them). False: not written (a mark moved, or the write failed)."""
    same = "IS NOT DISTINCT FROM" if _postgres() else "IS"  # either may be NULL: never moved
    try:
        await DashboardFigure.raw(
            "INSERT INTO dashboard_figure (key, kind, code, rolled, made_at, value, default_for) "
            "SELECT {}, {}, {}, {}, {}, {}, {} "
            f"WHERE (SELECT at FROM heartbeat WHERE name = {{}}) {same} {{}} "
            f"AND (SELECT at FROM heartbeat WHERE name = {{}}) {same} {{}} "
            "ON CONFLICT (key) DO NOTHING",
            key,
            kind,
            CODE,
            rolled,
            dt.datetime.now(dt.UTC),
            blob,
            default_for,
            COMMENTS_CHANGED,
            before[0],
            FORGOTTEN,
            before[1],
        )
    except Exception:  # the page is shown all the same; the next view tries again
        log.warning("a dashboard figure could not be stored", exc_info=True)
        return False
    return True


async def prune(rolled: str | None, published: str | None = None) -> None:
    """Delete the rows of another rolled-up month than `rolled` or of another release, and
    all but MAX_ROWS: the default views of `published` (the last published month) first,
    then the newest."""
    await DashboardFigure.raw(
        "DELETE FROM dashboard_figure WHERE key NOT IN (SELECT key FROM dashboard_figure "
        "WHERE rolled = {} AND code = {} "
        "ORDER BY CASE WHEN default_for = {} THEN 0 ELSE 1 END, id DESC LIMIT {})",
        rolled or "",
        CODE,
        published or "",
        MAX_ROWS,
    )


async def forget() -> None:
    """Delete every row (a job centre's data was erased: its group's figures held it). Call
    it after the erasure has committed: the mark first, so that a figure being made from the
    data before tells that it is stale (`kept`), then the rows."""
    await set_mark(FORGOTTEN)
    await DashboardFigure.raw("DELETE FROM dashboard_figure")
