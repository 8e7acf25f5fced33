"""What a dashboard page would otherwise work out again on every view: per process, bounded.

A protected table whose months are all rolled up (`rollup_count`) is made of counts that
never change: responses are counted on the day they arrive, a month is rolled up once it is
over, and the rollup is never updated afterwards (only an erasure deletes a job centre's rows,
and with them its offices, which are part of the key). So the table, and the version note of
a period that is over, are kept here under everything they are made from: the comparison
group's offices, the items, the months, the filter, the minimum, the last published month,
the office the page details and the last rolled-up month. A cached table is the very object
`disclosure.protect` made for these inputs, and `protect` is deterministic, so a page shows
the same figures whether it came from here or not (tests/integration/test_dashboard_cache.py).
Nothing that depends on who asks (visible offices, language) is part of a cached value.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import io
import pickle
import sys
import threading
import types
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from contextvars import ContextVar
from typing import Any, ParamSpec, Protocol, TypeVar

import anyio
import anyio.to_thread

P = ParamSpec("P")
T = TypeVar("T")

MAX_ENTRIES = 4096
MAX_BYTES = 256 * 2**20
"""Bounds of one process's cache (tables of a 20-office network are about 0.1 MB when put,
up to a few MB with the figures worked out from them, which they count as they keep them:
`put_growing`). 64 MB was the bound while a table counted only what it held when put; such a
cache held about 300 MB on a walk of distinct views (c39, docs/benchmarks.md), and 64 MB
counted honestly kept 29 tables instead of 226 there, with 37 % more CPU for the walk."""
MEMO_BYTES = 16 * 2**20
"""Bound of the keys and values one `by_value` memo keeps. Its 4,096 entries alone were no
bound: a statistic of one view of the demo's 29-office network is 7-20 kB (its pickled
counts and the structs worked out from them), and a walk of distinct overviews added 7.5 MB
to the memos every 200 views (m38, docs/benchmarks.md)."""


class Growing(Protocol):
    """A value that keeps more after it is put: a protected table keeps the figures worked
    out from it (survey/dashboard/disclosure.py's `ProtectedTable`)."""

    def watch(self, grown: Callable[[], None]) -> None: ...
    def unwatch(self, grown: Callable[[], None]) -> None: ...
    def recount(self) -> int: ...


class BoundedCache:
    """A least-recently-used map with a bound on entries and on the bytes of the values; safe
    to use from the worker threads figures are worked out in (`worked_out`).

    A value put with `put_growing` is counted at what it holds now, again after it grew (it
    tells the cache, which counts it again at its next `get` or `put` and drops the least
    recently used entries if it is over): so the bound holds but for what the values in use
    kept since the last `get` or `put`."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._watched: dict[Hashable, Callable[[], None]] = {}
        self._grown: set[Hashable] = set()
        """Keys of growing values that told they grew (from any thread: `set.add`)."""
        self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._items)

    @property
    def nbytes(self) -> int:
        """The bytes the cache counts its values at (growth told but not counted yet aside)."""
        return self._bytes

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            if self._grown:
                self._recount()
            found = self._items.get(key)
            if found is None:
                self.misses += 1
                return None
            self.hits += 1
            self._items.move_to_end(key)
            return found[0]

    def put(self, key: Hashable, value: Any, size: int = 1024) -> None:
        if size > self.max_bytes:
            return
        with self._lock:
            self._put(key, value, size)

    def put_growing(self, key: Hashable, value: Growing) -> None:
        """`put` of a value counted at its `recount()`, now and whenever it tells it grew."""
        grown = functools.partial(self._grown.add, key)
        value.watch(grown)
        size = value.recount()
        with self._lock:
            if size > self.max_bytes:
                value.unwatch(grown)
                return
            self._put(key, value, size)
            self._watched[key] = grown

    def _put(self, key: Hashable, value: Any, size: int) -> None:
        old = self._items.pop(key, None)
        if old is not None:
            self._bytes -= old[1]
            self._forget(key, old[0])
        self._items[key] = (value, size)
        self._bytes += size
        if self._grown:
            self._recount()
        self._shrink()

    def _recount(self) -> None:
        while self._grown:
            key = self._grown.pop()
            found = self._items.get(key)
            if found is None or key not in self._watched:
                continue
            value, size = found
            now = value.recount()
            self._items[key] = (value, now)  # (an existing key keeps its place)
            self._bytes += now - size
        self._shrink()

    def _shrink(self) -> None:
        while len(self._items) > self.max_entries or self._bytes > self.max_bytes:
            key, (value, dropped) = self._items.popitem(last=False)
            self._bytes -= dropped
            self._forget(key, value)

    def _forget(self, key: Hashable, value: Any) -> None:
        grown = self._watched.pop(key, None)
        if grown is not None:
            value.unwatch(grown)

    def clear(self) -> None:
        with self._lock:
            for key, (value, _) in self._items.items():
                self._forget(key, value)
            self._items.clear()
            self._grown.clear()
            self._bytes = 0


WORKERS = 2
"""Threads a process works out requested views' figures in at once (`worked_out`)."""
BACKGROUND: ContextVar[bool] = ContextVar("dashboard_background", default=False)
"""True while the warming works (survey/dashboard/warm.py): its figures take one thread of
their own, never the requests'."""
_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[bool, anyio.CapacityLimiter]]
_limiters = weakref.WeakKeyDictionary()


async def worked_out(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`function(*args, **kwargs)`, the pure CPU work of a view on what it has read already
    (statistics, charts, the protection of counts), in a worker thread: meanwhile the event
    loop answers the requests that arrive (a respondent's submission, another page, the
    health check) instead of waiting for all of it (r25: a new view is 0.1-0.4 s of CPU, a
    fresh one up to 2 s). At most WORKERS threads for requests and one for the warming
    (`BACKGROUND`). What runs here reads no database and writes only the caches of this
    module (locked) and functools' (thread-safe)."""
    loop = asyncio.get_running_loop()
    limiters = _limiters.get(loop)
    if limiters is None:
        limiters = {False: anyio.CapacityLimiter(WORKERS), True: anyio.CapacityLimiter(1)}
        _limiters[loop] = limiters
    call = functools.partial(function, *args, **kwargs)
    return await anyio.to_thread.run_sync(call, limiter=limiters[BACKGROUND.get()])


_MEMOS: list[BoundedCache] = []


def key_bytes(value: object) -> bytes:
    """`value` pickled without pickle's memo, as a key: the same bytes for equal values
    whether or not they share objects (pickle writes an object met twice as a reference to
    the first, so a key holding one string twice, as the warming's "de" for both the
    language filter and the staff language, pickled otherwise than a request's two equal
    strings, and the request missed what the warming kept)."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=5)
    pickler.fast = True  # no memo (keys hold no cycles)
    pickler.dump(value)
    return buffer.getvalue()


def memo(max_entries: int, max_bytes: int = 2**62) -> BoundedCache:
    """A per-process cache of at most `max_entries` values (and `max_bytes`, as its `put`s
    size them) that `forget_values` empties."""
    kept = BoundedCache(max_entries=max_entries, max_bytes=max_bytes)
    _MEMOS.append(kept)
    return kept


_NOT_HELD = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType)


def deep_size(value: object) -> int:
    """Bytes of `value` and of every object it holds, each counted once (`sys.getsizeof`; a
    numpy array that owns its data counts the data); types, modules and functions are not
    followed."""
    seen: set[int] = set()
    stack = [value]
    total = 0
    while stack:
        item = stack.pop()
        if id(item) in seen or isinstance(item, _NOT_HELD):
            continue
        seen.add(id(item))
        total += sys.getsizeof(item)
        stack.extend(gc.get_referents(item))
    return total


def by_value(function: Callable[P, T], max_bytes: int = MEMO_BYTES) -> Callable[P, T]:
    """`function` kept per process for the pickled value of its arguments: for the pure
    statistics of published counts (frozen results), which a page asks again and again for the
    same counts while its months stay closed. At most 4,096 results and `max_bytes` of keys
    and results (`deep_size`), the least recently used dropped first."""
    kept = memo(4096, max_bytes)

    @functools.wraps(function)
    def remembered(*args: P.args, **kwargs: P.kwargs) -> T:
        key = key_bytes((args, sorted(kwargs.items())))
        found = kept.get(key)
        if found is None:
            found = (function(*args, **kwargs),)
            kept.put(key, found, sys.getsizeof(key) + deep_size(found[0]))
        return found[0]

    return remembered


def forget_values() -> None:
    """Empty every memo (`by_value`'s and learning from the best's; for a cold measurement
    and for tests)."""
    for kept in _MEMOS:
        kept.clear()


async def once(state: Any, key: Hashable, make: Callable[[], Awaitable[T]]) -> T:
    """`make()`, or the result of the same `make` already under way for `key` in this
    process: the views a page reads at once (the client-mix adjustment's single-filter views
    share their filter's value rows; a benchmark's own table is the adjustment's) and
    requests that arrive together for a view not yet kept read it once. The work goes on
    when one of those waiting for it is cancelled (shield), for the others."""
    pending: dict[Hashable, asyncio.Future[Any]] = state.dashboard_pending if getattr(
        state, "dashboard_pending", None) is not None else {}  # fmt: skip
    state.dashboard_pending = pending
    task = pending.get(key)
    if task is None or task.get_loop() is not asyncio.get_running_loop():
        task = asyncio.ensure_future(make())
        pending[key] = task
        task.add_done_callback(lambda done: pending.pop(key, None) if pending.get(key) is done
                               else None)  # fmt: skip
    return await asyncio.shield(task)
