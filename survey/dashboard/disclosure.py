"""The protected table: the one place where counts become figures staff may see.

Every count on a dashboard page, chart, CSV download and results API answer comes out of
`protect()` and nowhere else:

1. **Grid.** A cell is office × calendar month × (no filter, or one service type, language
   or mode) × item × answer level. No day, nothing finer than a month.
2. **Publication.** A month is published once it is over (`published_through`): the month in
   progress is in no figure, so watching it grow, or sending answers of one's own through
   the office's link and looking again, shows nothing. Responses are counted in the month
   they are received, so a closed month's cells never change afterwards.
3. **Blocks.** Within a calendar year, an office's months are grouped, from January on, into
   blocks of at least the minimum number of responses (`blocks`); a month that has enough on
   its own is a block by itself. A figure counts only the blocks that lie wholly inside its
   period, so no difference of two periods isolates a month with fewer responses than the
   minimum; months at the end of a year that never reach it are not published. In a
   filtered view (say language = ar) a block also needs *every* value of that filter (every
   language) to have none or at least the minimum of responses in it, so all views of one
   filter share their blocks, and no combination of them ("all" − "de" − "tr") isolates
   fewer than the minimum.
4. **Perturbation** (cell key method; Thompson, Broadfoot and Elazar 2013; Giessing and Tent
   2019), once per running total. Every response carries a random record key from the
   moment it is stored; the count tables keep the sum of the keys per row. For each office
   and block, the counts from the start of the calendar year through the block's last
   month (the *running total*, per item and level) get one noise: its key is made from the
   key sums of that level and of all levels of the running total (key sums add up, so they
   are the sums of the month cells' key sums) and its position (office, item, level; not
   the month, not the filter), so it is uniform in [0, 1), changes whenever a response
   joins and otherwise never: the same responses always get the same noise, in every
   period and every filter view that holds exactly them. The key picks a noise from the
   fixed perturbation table `NOISE` (−2..+2, variance 0.5), added to every level count of a
   running total that holds anyone, zero counts included: if a zero stayed zero, a
   difference of figures would show which answers a small group did not give. A figure is,
   per calendar year it touches, the running total at its last whole block minus the one
   just before its first (nothing for a period from January), so its noise does not grow
   with its length: variance 0.5 per level for a period from January, 1 for one inside a
   year, 1.5 for twelve months across a new year (at most 0.5 per year touched plus 0.5).
   Each block is seen through exactly one difference of two running totals (variance 1),
   however many periods hold it; perturbing each published aggregate on its own (as
   TableBuilder does) would give a fresh look at a block with every other start month of a
   period, and the looks averaged would give it back. Running totals may go below zero
   inside the table; an office's published counts are made whole and non-negative with
   their total and their mean kept (`nonnegative`: cut at zero and shared in proportion,
   the noise of empty levels would pull a small office's index towards the middle of the
   scale), and a pooled count is the sum of its offices' published counts.
5. **Suppression.** A figure whose published n is below the minimum is withheld with its n;
   pooled figures also keep the subtraction rule (`pooled_figure_hidden`), and everything
   computed against a withheld pool (effect size, q, verdict, shrinkage, rank, funnel
   position) is withheld with it.
6. The analysis then works on the published counts only, so each page can be reproduced
   from its own numbers.

The composite index of a respondent (420 × the mean of their index items) is published in
quarter-point classes (1, 1.25, …, 5): 17 levels instead of up to a hundred; half points
alone moved 2–3 % of the verdicts (bench/disclosure.py, "classes"). A figure's published
index is the mean of its index items' published indices (those with at least the minimum
of answers): its classes are tilted to that mean (`retarget`), so the index carries the
items' independent noises averaged (`index_noise`) instead of the noise of 17 classes, and
equals the mean of the item rows a page shows. A table that holds the index holds its
index items (`Grid` refuses one without them).
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import math
import operator
import sys
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from survey.auth.schemas import Scope
from survey.dashboard.filters import months_between
from survey.dashboard.queries import CountColumns, CountRow, month_number
from survey.questionnaire import INDEX_ITEM, INDEX_ITEMS, INDEX_SCALE

MAX_NOISE = 2
"""The largest change of one running total's count."""
VARIANCE = 0.5
"""The variance of the noise of one running total's count: a block (the difference of two
running totals) carries variance 1, a figure of one calendar year 0.5 per level."""
CLASSES = 4
"""Classes per point of the composite index (quarter points)."""
INDEX_LEVELS = tuple(1 + k / CLASSES for k in range(4 * CLASSES + 1))
"""Quarter-point classes of a respondent's composite index on the 1–5 scale."""


INDEX_GRID: Mapping[str, tuple[float, ...]] = {INDEX_ITEM: INDEX_LEVELS, **INDEX_ITEMS}
"""The levels of a table of the index: its classes and its index items."""


def with_index_items(items: Iterable[str]) -> tuple[str, ...]:
    """`items`, and the index items after them when they hold the index: what a protected
    table of them must read."""
    items = tuple(items)
    if INDEX_ITEM not in items:
        return items
    return items + tuple(code for code in INDEX_ITEMS if code not in items)


def perturbation_table(max_noise: int = MAX_NOISE, variance: float = VARIANCE) -> np.ndarray:
    """Probabilities of the noises −max_noise..max_noise: zero mean, the given variance and,
    among such distributions, the largest entropy (p(v) ∝ exp(−λv²), λ by bisection), the
    rule of the sdcTools ptable package for noise that does not depend on the count."""
    values = np.arange(-max_noise, max_noise + 1)
    if not 0 < variance < max_noise**2:
        raise ValueError(f"the variance must lie between 0 and {max_noise**2}, got {variance}")
    low, high = -10.0, 50.0
    for _ in range(200):
        lam = (low + high) / 2
        p = np.exp(-lam * values**2.0)
        p /= p.sum()
        if float(p @ values**2.0) > variance:
            low = lam
        else:
            high = lam
    return np.asarray(p, dtype=np.float64)


NOISE = perturbation_table()
"""p(noise = v) for v = −2..2: [0.0105, 0.2080, 0.5630, 0.2080, 0.0105]."""
FIRST_NOISE = perturbation_table(MAX_NOISE, 2 * VARIANCE)
"""The table of a year's first running total that holds anyone (variance 1: [0.0638, 0.2447,
0.3830, 0.2447, 0.0638]): nothing is subtracted from it, so its block is seen with the
variance of every other block (the difference of two running totals), not half of it."""
NOISE_VARIANCE = float(NOISE @ np.arange(-MAX_NOISE, MAX_NOISE + 1) ** 2.0)
FIRST_VARIANCE = float(FIRST_NOISE @ np.arange(-MAX_NOISE, MAX_NOISE + 1) ** 2.0)
"""The variances the two perturbation tables actually give (VARIANCE and twice it, up to the
bisection's precision)."""
_CUMULATIVE = np.cumsum(NOISE)
_FIRST_CUMULATIVE = np.cumsum(FIRST_NOISE)
_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser (Steele, Lea and Flood 2014): a bijection of 64-bit integers
    that turns neighbouring inputs into unrelated outputs."""
    with np.errstate(over="ignore"):
        x = (x + np.uint64(0x9E3779B97F4A7C15)) & _MASK64
        x = ((x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & _MASK64
        x = ((x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & _MASK64
        return x ^ (x >> np.uint64(31))


def cell_keys(
    level_key_sums: np.ndarray, cell_key_sums: np.ndarray, position: np.ndarray
) -> np.ndarray:
    """Cell keys in [0, 1) from the record-key sums of each level and of its whole cell and
    the level's position in the grid (a 64-bit number naming office, month, filter, item
    and level)."""
    a = np.asarray(level_key_sums, dtype=np.uint64)
    b = np.asarray(cell_key_sums, dtype=np.uint64)
    mixed = _mix(_mix(_mix(np.asarray(position, dtype=np.uint64)) ^ b) ^ a)
    return (mixed >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def noise_for(keys: np.ndarray, first: np.ndarray | bool = False) -> np.ndarray:
    """The noise the perturbation table gives each cell key (the lookup of the method); where
    `first`, the table of a year's first running total."""
    plain = np.searchsorted(_CUMULATIVE, keys, side="right")
    wider = np.searchsorted(_FIRST_CUMULATIVE, keys, side="right")
    return np.where(first, wider, plain).clip(0, NOISE.size - 1) - MAX_NOISE


@functools.cache
def index_level(value: int) -> int:
    """The quarter-point class (0..16) of a composite index stored as 420 × mean."""
    top = len(INDEX_LEVELS) - 1
    return min(top, max(0, math.floor(CLASSES * value / INDEX_SCALE + 0.5) - CLASSES))


@dataclass(frozen=True)
class Grid:
    """The axes of a protected table: offices, months (YYYY-MM, consecutive) and the levels
    of each item; `min_n`, the size of a block of months (0: every month is a block of its
    own); `published_through`, the last closed month (None: every month of the grid)."""

    offices: tuple[int, ...]
    months: tuple[str, ...]
    levels: Mapping[str, tuple[float, ...]]
    min_n: int = 0
    published_through: str | None = None

    def __post_init__(self) -> None:
        if INDEX_ITEM in self.levels:
            missing = [c for c, lv in INDEX_ITEMS.items() if self.levels.get(c) != lv]
            if missing:  # its figures could not be tilted to the mean of the items
                raise ValueError(f"a grid with the index needs its index items: {missing}")


def grid_months(first: str, last: str) -> tuple[str, ...]:
    """The months a table for `first`–`last` must hold: from the January of `first`'s year,
    where the blocks of months start, so that a block never depends on the period asked."""
    return tuple(months_between(first[:4] + "-01", last))


def blocks(
    n: np.ndarray, months: Sequence[str], min_n: int, values: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The block of months each month belongs to, as (first, last) month numbers (−1, −1
    for a month in no block), for the true counts `n` (offices × months) of a view.

    Going through each calendar year from January (and from the first month of the grid),
    months are added to the open block until it holds at least `min_n` responses (or none at
    all); then the block closes. For a filtered view, `values` gives the responses of every
    value of the filter's dimension (values × offices × months, the view's own included): a
    block then closes once all of them together are none or at least `min_n` and so are the
    values that have fewer than `min_n` in it, taken together (the remainder that "all"
    minus the shown values would reveal), and no value is on its way (half the minimum or
    more, but not yet the minimum: waiting may show it too; at most `WAIT` months); every
    view of the
    dimension has these blocks, and shows those where its own value has none or at least
    `min_n` (`shown_blocks`). A block still open at the end of a year (or of the grid) is
    in no block: it is never published.
    """
    offices, size = n.shape
    groups = None if values is None else np.asarray(values, dtype=float).reshape(-1, offices, size)
    new_year = [m == 0 or months[m].endswith("-01") for m in range(size)]
    closed = np.zeros((offices, size), dtype=bool)
    first = np.full((offices, size), -1, dtype=np.int64)
    begin = np.zeros(offices, dtype=np.int64)
    inside = np.zeros(offices)
    each = np.zeros((0 if groups is None else groups.shape[0], offices))
    ready = np.full(offices, -1, dtype=np.int64)  # since when the open block could close
    for m in range(size):
        if new_year[m]:  # what is still open at the end of a year is dropped
            begin[:], inside[:], each[:], ready[:] = m, 0.0, 0.0, -1
        first[:, m] = begin
        if groups is None:
            inside += n[:, m]
            closed[:, m] = (inside >= min_n) | (inside == 0)
        else:
            each += groups[:, :, m]
            total = each.sum(axis=0)
            rest = np.where(each < min_n, each, 0.0).sum(axis=0)
            near = ((each >= min_n / 2) & (each < min_n)).any(axis=0)  # worth waiting for
            enough = ((total >= min_n) | (total == 0)) & ((rest == 0) | (rest >= min_n))
            ready = np.where(enough & (ready < 0), m, np.where(enough, ready, -1))
            closed[:, m] = enough & (~near | (m - ready >= WAIT))
        begin[closed[:, m]] = m + 1
        inside[closed[:, m]], each[:, closed[:, m]], ready[closed[:, m]] = 0.0, 0.0, -1
    last = np.full((offices, size), -1, dtype=np.int64)
    end = np.full(offices, -1, dtype=np.int64)
    for m in range(size - 1, -1, -1):
        if m + 1 == size or new_year[m + 1]:
            end[:] = -1
        end = np.where(closed[:, m], m, end)
        last[:, m] = end
    first[last < 0] = -1
    return first, last


def shown_blocks(n: np.ndarray, first: np.ndarray, last: np.ndarray, min_n: int) -> np.ndarray:
    """Whether each month's block (offices × months) may be shown in the view with true
    counts `n`: it holds none or at least `min_n` of the view's responses (a block of a
    filtered view where the view's value is rare is left out of its figures)."""
    if not n.size:
        return np.zeros(n.shape, dtype=bool)
    rows = np.arange(n.shape[0])[:, None]
    # a block's responses as a difference of running sums (whole numbers: exact)
    running = np.concatenate([np.zeros((n.shape[0], 1)), np.cumsum(n, axis=1)], axis=1)
    end = np.where(last >= 0, last, 0)
    inside = running[rows, end + 1] - running[rows, np.where(first >= 0, first, 0)]
    shown: np.ndarray = (last >= 0) & ((inside == 0) | (inside >= min_n))
    return shown


WAIT = 3
"""Months a block of a filtered view that could close waits for a value on its way."""

MAX_FIGURES = 4096
"""Figures a protected table keeps once worked out (then it starts again)."""
V = TypeVar("V")
_Unsummed = list[tuple[str, tuple[int, ...], np.ndarray]]
"""Sums of single offices before `nonnegative`: per item, the offices and their sums."""


_ENTRY = 48
"""Bytes a dict spends on one entry beside its key and value (its slot and hash table: 36-48
from 8 to 4,096 entries, `sys.getsizeof`)."""


def held_bytes(value: object) -> int:
    """About the bytes `value` holds, for what a table keeps (a number, an array, and tuples,
    lists and dicts of them): a numpy array its header and data (a view its share of the
    base's: its own `nbytes`), a small int nothing (Python keeps one of each), a string
    nothing (an item code or a month: the grid's, held anyway)."""
    if isinstance(value, np.ndarray):
        return sys.getsizeof(value) + (value.nbytes if value.base is not None else 0)
    if isinstance(value, tuple | list):
        return sys.getsizeof(value) + sum(held_bytes(v) for v in value)
    if isinstance(value, str | bool) or value is None:
        return 0
    if isinstance(value, int):
        return 0 if -5 <= value <= 256 else 28
    if isinstance(value, dict):
        return sys.getsizeof(value) + sum(held_bytes(k) + held_bytes(v) for k, v in value.items())
    return sys.getsizeof(value)


def _value_bytes(value: object) -> int:
    """`held_bytes` of a figure (an array or a float: at once) or of anything else kept."""
    if isinstance(value, np.ndarray):
        return _ARRAY + value.nbytes
    if type(value) is float:
        return 24
    return held_bytes(value)


_ARRAY = 112
"""Bytes of a numpy array beside its data (`sys.getsizeof` of a one- or two-dimensional
view: 112, 128)."""


class _Growth:
    """The bytes a table's stores hold, and who is told when they grow (`ProtectedTable.watch`):
    once, until the next `ProtectedTable.recount`."""

    __slots__ = ("nbytes", "told", "watchers")

    def __init__(self) -> None:
        self.nbytes = 0
        self.told = False
        self.watchers: list[Callable[[], None]] = []

    def add(self, size: int) -> None:
        self.nbytes += size
        if not self.told and self.watchers:
            self.told = True
            for grown in list(self.watchers):
                grown()


class _Store(dict[Any, Any]):
    """A store of what a table works out once (figures, variances, runs), counting the bytes
    of its keys and values into the table's `_Growth` as they are added (only `store[key] =`
    and `clear()` write to a store)."""

    __slots__ = ("growth", "nbytes")

    def __init__(self, growth: _Growth) -> None:
        super().__init__()
        self.growth = growth
        self.nbytes = 0

    def __setitem__(self, key: Any, value: Any) -> None:
        # (`_value_bytes` written out, and a key sized from its tuples' lengths alone, not
        # walked: this runs for every figure kept; walking a key's months was 20 ms of a view)
        if isinstance(value, np.ndarray):
            size = _ARRAY + value.nbytes
        elif type(value) is float:
            size = 24
        else:
            size = held_bytes(value)
        old = dict.get(self, key)
        if old is not None:
            size -= _value_bytes(old)
        elif type(key) is tuple:
            size += _ENTRY + 40 + 8 * len(key)
            for part in key:
                if type(part) is tuple:
                    size += 40 + 8 * len(part)
        else:
            size += _ENTRY
        dict.__setitem__(self, key, value)
        self.nbytes += size
        growth = self.growth
        growth.nbytes += size
        if not growth.told and growth.watchers:
            growth.add(0)

    def clear(self) -> None:
        dict.clear(self)
        self.growth.nbytes -= self.nbytes
        self.nbytes = 0


def _kept(store: dict[Any, V], key: tuple[Any, ...], make: Callable[..., V]) -> V:
    """`store[key]`, made by `make(*key)` when missing (a figure's counts read-only); the
    store is emptied when it holds MAX_FIGURES."""
    found = store.get(key)
    if found is None:
        if len(store) >= MAX_FIGURES:
            store.clear()
        found = store[key] = make(*key)
        if isinstance(found, np.ndarray):
            found.flags.writeable = False
    return found


class ProtectedTable:
    """The noisy running totals of each office's blocks (per item, offices × months × levels:
    the counts from the start of the year to the end of each block, noise added once, at
    the block's last month), and the blocks of months each office's figures are made of.

    Only `counts()` (differences of two running totals per year, cut at zero) leaves this
    class: nothing else reads the totals (`noise_variance()` reads only which running totals
    hold nobody or just the year's first block, to say how much noise a figure carries).
    """

    def __init__(
        self,
        grid: Grid,
        totals: dict[str, np.ndarray],
        first: np.ndarray,
        last: np.ndarray,
        shown: np.ndarray | None = None,
    ) -> None:
        self.grid = grid
        self._totals = totals
        self._first, self._last = first, last
        self._filtered = shown is not None
        self._shown = np.ones(first.shape, dtype=bool) if shown is None else shown
        self._office = {o: i for i, o in enumerate(grid.offices)}
        self._month = {m: i for i, m in enumerate(grid.months)}
        self._year = _year_starts(grid.months)
        self._block_lists: list[list[tuple[int, int, bool]]] | None = None
        """`_blocks`, once worked out."""
        for array in (*totals.values(), first, last, self._shown):  # many requests may read
            array.flags.writeable = False
        self._growth = growth = _Growth()
        """The bytes of the stores below (and of `_block_lists`), for `nbytes`."""
        self._figures: dict[tuple[str, tuple[int, ...], tuple[str, ...]], np.ndarray]
        self._figures = _Store(growth)
        self._classes: dict[tuple[str, tuple[int, ...], tuple[str, ...]], np.ndarray]
        self._classes = _Store(growth)
        """The index's classes before they are tilted to the item mean (`counts`)."""
        self._walks: dict[tuple[tuple[int, ...], tuple[str, ...]], Any] = _Store(growth)
        """`_walk`'s runs per offices and months."""
        self._runs: dict[tuple[tuple[int, ...], tuple[str, ...]], tuple[np.ndarray, ...]]
        self._runs = _Store(growth)
        """`_runs_each`'s arrays per offices and months."""
        self._variances: dict[tuple[str, tuple[int, ...], tuple[str, ...]], float] = _Store(growth)
        self._spread: dict[tuple[str, int], dict[int, float]] = _Store(growth)
        self._variance_arrays: dict[str, np.ndarray] = _Store(growth)
        """`noise_variance`'s figures and each office's running totals' variances, worked
        out once per table."""
        self._joined: dict[tuple[str, ...], np.ndarray] = _Store(growth)
        """`_side_by_side`'s totals per items."""
        self._rows: dict[tuple[str, tuple[int, ...], tuple[str, ...]], np.ndarray] = _Store(growth)
        """The sums of an item (not the index) `_keep_each` kept for these offices, as one
        matrix: `_each_counts` of the same offices reads them at once."""
        self._fingerprint: bytes | None = None

    @property
    def _blocks(self) -> list[list[tuple[int, int, bool]]]:
        """Per office, its blocks in order: first and last month, and whether this view shows
        it; worked out on first use (a client-mix adjustment's ten single-filter tables read
        their blocks as arrays only: some 0.08 ms each, in the event loop, when its tables
        are put together from their years' tables)."""
        found = self._block_lists
        if found is None:
            found = [[] for _ in self.grid.offices]
            size = len(self.grid.months)
            last, first, shown = self._last, self._first, self._shown
            rows, ends = np.nonzero(last == np.arange(size)[None, :])  # by office, then month
            for row, begin, end, ok in zip(rows.tolist(), first[rows, ends].tolist(),
                                           ends.tolist(), shown[rows, ends].tolist(),
                                           strict=True):  # fmt: skip
                found[row].append((begin, end, ok))
            self._block_lists = found
            self._growth.add(held_bytes(found))
        return found

    def fingerprint(self) -> bytes:
        """A digest of the grid and of everything `counts()` reads: two tables with the same
        fingerprint publish the same figures, so it keys what is computed from a table
        (learning from the best). Computed once per table (about 1 ms for a network page)."""
        if self._fingerprint is None:
            digest = hashlib.blake2b(digest_size=16)
            grid = self.grid
            axes = (grid.offices, grid.months, sorted(grid.levels.items()), grid.min_n,
                    grid.published_through)  # fmt: skip
            digest.update(repr(axes).encode())
            for item in sorted(self._totals):
                digest.update(item.encode())
                digest.update(np.ascontiguousarray(self._totals[item], dtype=np.float64).tobytes())
            digest.update(np.ascontiguousarray(self._first, dtype=np.int64).tobytes())
            digest.update(np.ascontiguousarray(self._last, dtype=np.int64).tobytes())
            digest.update(np.ascontiguousarray(self._shown, dtype=bool).tobytes())
            self._fingerprint = digest.digest()
        return self._fingerprint

    def levels(self, item: str) -> tuple[float, ...]:
        return self.grid.levels[item]

    @property
    def nbytes(self) -> int:
        """Memory of the totals and blocks and of everything worked out from them since and
        kept (the figures, variances, runs: `_Store`), for the bound of a cache, which is
        told when it grows (`watch`)."""
        made = sum(a.nbytes for a in self._totals.values()) + self._first.nbytes * 3
        return made + self._growth.nbytes

    def watch(self, grown: Callable[[], None]) -> None:
        """Call `grown()` when the table keeps more than at the last `recount` (once, from
        the thread that works the figures out; survey/dashboard/cache.py's `BoundedCache`
        then counts it again)."""
        self._growth.watchers.append(grown)

    def unwatch(self, grown: Callable[[], None]) -> None:
        if grown in self._growth.watchers:
            self._growth.watchers.remove(grown)

    def recount(self) -> int:
        """`nbytes`, and the watchers told again at the next growth."""
        self._growth.told = False  # before the count: a growth meanwhile is told once more
        return self.nbytes

    def counts(self, item: str, offices: Iterable[int], months: Iterable[str]) -> np.ndarray:
        """The published counts per level of the figure made of these offices and the
        consecutive `months`: each office's sum over the blocks that lie wholly inside the
        months (per calendar year, the running total at the last such block minus the one
        just before the first), made non-negative (`nonnegative`), then added up (so a
        pooled figure of an item is exactly the sum of its offices' figures).

        The index's classes are then tilted (`retarget`) so that their mean is the figure's
        index: the mean of the indices of its index items (`index_parts`). Their noises are
        independent, so the index carries about 1/19 of the noise variance the 17 classes'
        own mean would (at 50 responses a month; docs/methods.md), and it equals the mean of
        the item rows a page shows. A pooled index's
        classes are the sum of its offices' tilted to the pool's own item mean (the same
        total: n is still the sum). Each figure is worked out once per table."""
        return _kept(self._figures, (item, tuple(offices), tuple(months)), self._count).copy()

    def _count(self, item: str, offices: tuple[int, ...], months: tuple[str, ...]) -> np.ndarray:
        if item != INDEX_ITEM:
            return self._sum(item, offices, months)
        classes = _kept(self._classes, (item, offices, months), self._sum)
        parts = self.index_parts(offices, months)
        if not parts:  # no index item with enough answers: the classes as they are
            return classes.copy()
        levels = self.grid.levels[item]
        target = levels[0] + (levels[-1] - levels[0]) * _item_mean(parts, self.grid) / 100.0
        return retarget(classes, levels, target)

    def index_parts(
        self, offices: Iterable[int], months: Iterable[str]
    ) -> list[tuple[str, np.ndarray]]:
        """The index items a figure's index is the mean of, with their published counts: those
        with at least the minimum of published answers (at least one), so that the index and
        the item rows a page shows give no withheld item's figure back."""
        offices, months = tuple(offices), tuple(months)
        least = max(1, self.grid.min_n)
        parts = []
        for code in INDEX_ITEMS:
            c = self.counts(code, offices, months)
            if c.sum() >= least:
                parts.append((code, c))
        return parts

    def index_noise(
        self, offices: Iterable[int], months: Iterable[str], item: str = INDEX_ITEM
    ) -> float:
        """The variance of the noise of the figure's published index (index points²): the mean
        of k item indices with independent noises, (1/k²) Σ_j ν_j·Σ_l (x_l − ȳ_j)²/n_j²
        (as `analysis.indices.mean_noise`, each item's level noise ν_j as `noise_variance`).
        Without index items (the classes untilted), the classes' own: ν·Σ_l (x_l − ȳ)²/n²
        over the 17 classes. Of another `item`, its own mean's, the same way."""
        offices, months = tuple(offices), tuple(months)
        parts = self.index_parts(offices, months) if item == INDEX_ITEM else []
        if not parts:
            parts = [(item, self.counts(item, offices, months))]
        found = 0.0
        for code, c in parts:
            nu = self.noise_variance(code, offices, months)
            if c.sum() > 0 and nu > 0:
                x, mean, n = _scaled(self.grid.levels[code], c)
                found += nu * _from_left((v - mean) ** 2 for v in x) / (n * n)  # mean_noise
        return found / len(parts) ** 2

    def index_noise_each(
        self, offices: Sequence[int], months: Iterable[str], item: str = INDEX_ITEM
    ) -> list[float]:
        """`index_noise((office,), months, item)` of each office, every office at once: the
        same operations on the same numbers in the same order (each sum from the left as
        `_from_left` adds, the squares by `math.pow` as Python's `**`), so the same bits
        (tests/unit/test_dashboard_figure_work.py compares them)."""
        offices, months = tuple(offices), tuple(months)
        if not offices:
            return []
        found = np.zeros(len(offices))
        parts = np.zeros(len(offices), dtype=np.int64)
        if item == INDEX_ITEM:
            least = max(1, self.grid.min_n)
            codes = tuple(INDEX_ITEMS)
            if len({self.grid.levels[code] for code in codes}) == 1:  # one scale: at once
                stacked = np.stack([self._each_counts(code, offices, months) for code in codes])
                used_each = stacked.sum(axis=2) >= least  # whole numbers: exact in any order
                terms, adds = self._noise_terms(codes, offices, months, stacked, used_each)
                for used, term, add in zip(used_each, terms, adds, strict=True):
                    found = np.where(add, found + term, found)  # in the items' order
                    parts += used
            else:
                for code in codes:
                    counts = self._each_counts(code, offices, months)
                    used = counts.sum(axis=1) >= least  # whole numbers: exact in any order
                    found = self._add_noise(found, code, offices, months, counts, used)
                    parts += used
        alone = parts == 0  # no index item with enough answers (or another item): its own
        if alone.any():
            counts = self._each_counts(item, offices, months)
            found = self._add_noise(found, item, offices, months, counts, alone)
            parts[alone] = 1
        noise: list[float] = (found / parts**2).tolist()
        return noise

    def index_each_month(
        self, office: int, months: Sequence[str]
    ) -> tuple[np.ndarray, list[float]]:
        """`counts(INDEX_ITEM, [office], [month])` (months × levels) and `index_noise([office],
        [month])` of each of `months` (an office page's trend), every month at once when
        none of them is kept yet and the index items share one scale: each month's runs
        (`_walk`, as `counts` reads them), the sums of the classes and of the index items
        side by side, made non-negative in one `nonnegative_rows` each, the item means of
        every month in one pass (`_means_of`), the classes tilted in one `retarget_rows`,
        the items' noise variances as `noise_variance_each` adds them and the noise's terms
        as `index_noise_each` (`_terms_of`): the same operations on the same numbers as
        month by month, each figure kept as `counts`, `index_noise` and `noise_variance`
        keep it (tests/unit/test_dashboard_office_work.py compares them)."""
        months, alone = tuple(months), (office,)
        codes = tuple(INDEX_ITEMS)
        items = (INDEX_ITEM, *codes)
        scales = {self.grid.levels.get(code) for code in codes}
        kept = (self._figures, self._classes, self._variances)
        if (not months or office not in self._office or any(m not in self._month for m in months)
                or len(set(months)) != len(months) or len(scales) != 1 or None in scales
                or INDEX_ITEM not in self.grid.levels
                or any(code not in self._totals for code in items)
                or any((code, alone, (m,)) in store for store in kept for code in items
                       for m in months)):  # fmt: skip
            return (
                np.array([self.counts(INDEX_ITEM, alone, (m,)) for m in months]).reshape(
                    len(months), len(self.levels(INDEX_ITEM))),
                [self.index_noise(alone, (m,)) for m in months],
            )  # fmt: skip
        (scale,) = scales
        assert scale is not None
        levels, width, size = self.grid.levels[INDEX_ITEM], len(scale), len(months)
        owner, rows, ends, bases = [], [], [], []
        for i, month in enumerate(months):  # each month's runs, as `counts` walks them
            for row, runs in self._walk(alone, (month,)):
                for base, end in runs:
                    owner.append(i)
                    rows.append(row)
                    ends.append(end)
                    bases.append(base)
        at = tuple(np.array(a, dtype=np.int64) for a in (owner, rows, ends, bases))
        owner_a, rows_a, ends_a, bases_a = at
        totals = self._side_by_side(items)
        raw = np.zeros((size, totals.shape[2]))
        if owner_a.size:  # as `_summed_runs`
            later = totals[rows_a, ends_a]
            before = np.where((bases_a >= 0)[:, None], totals[rows_a, np.maximum(bases_a, 0)],
                              0.0)  # fmt: skip
            np.add.at(raw, owner_a, later - before)  # whole numbers: any order
        classes = nonnegative_rows(raw[:, : len(levels)], levels)
        counts = nonnegative_rows(
            raw[:, len(levels) :].reshape(size, len(codes), width).transpose(1, 0, 2)
            .reshape(-1, width), scale,
        ).reshape(len(codes), size, width)  # fmt: skip
        classes.flags.writeable = counts.flags.writeable = False
        sums = [(self._classes, INDEX_ITEM, classes)]
        sums += [(self._figures, code, counts[j]) for j, code in enumerate(codes)]
        for store, code, found in sums:  # kept as `_sum` keeps them
            if len(store) + size > MAX_FIGURES:
                store.clear()
            for month, row in zip(months, found, strict=True):
                store[code, alone, (month,)] = row
        # the index: the classes tilted to the mean of the index items (`_count`)
        x = np.array(_index_scale(scale))
        least = max(1, self.grid.min_n)
        means, parts = _means_of(x, counts, least)
        tilted = [i for i, k in enumerate(parts.tolist()) if k > 0]
        index = classes.copy()
        if tilted:
            target = levels[0] + (levels[-1] - levels[0]) * means[tilted] / 100.0
            index[tilted] = retarget_rows(classes[tilted], levels, target.tolist())
        index.flags.writeable = False
        store = self._figures
        if len(store) + size > MAX_FIGURES:
            store.clear()
        for month, row in zip(months, index, strict=True):
            store[INDEX_ITEM, alone, (month,)] = row
        # the noise of each month's index (`index_noise`)
        used = counts.sum(axis=2) >= least  # whole numbers: exact in any order
        nu = np.where(used, self._month_variances(codes, office, months, at), 0.0)
        terms, adds = _terms_of(x, counts, used, nu)
        found = np.zeros(size)
        for term, add in zip(terms, adds, strict=True):
            found = np.where(add, found + term, found)  # in the items' order
        parts = used.sum(axis=0).astype(np.int64)
        own = parts == 0  # no index item with enough answers: the index's own
        if own.any():
            nu_own = np.where(own, self._month_variances((INDEX_ITEM,), office, months, at)[0],
                              0.0)  # fmt: skip
            term, add = _terms_of(np.array(_index_scale(levels)), index[None], own[None],
                                  nu_own[None])  # fmt: skip
            found = np.where(add[0], found + term[0], found)
            parts[own] = 1
        noise: list[float] = (found / parts**2).tolist()
        return index.copy(), noise

    def _month_variances(
        self, codes: tuple[str, ...], office: int, months: tuple[str, ...],
        runs: tuple[np.ndarray, ...],
    ) -> np.ndarray:  # fmt: skip
        """`noise_variance(code, (office,), (month,))` of each of these items and months
        (items × months; `runs`: the months' runs, `index_each_month`), kept as it keeps
        them: each month's terms added from 0.0 in the order of its runs, as
        `noise_variance_each` adds them (`np.add.at` adds in the order given)."""
        owner, rows, ends, bases = runs
        found = np.zeros((len(codes), len(months)))
        for k, code in enumerate(codes):
            term, same = _run_terms(self._totals[code], self._running_variances(code), (rows,),
                                    ends, bases)  # fmt: skip
            np.add.at(found[k], owner[~same], term[~same])
        store = self._variances
        if len(store) + found.size > MAX_FIGURES:
            store.clear()
        for code, figures in zip(codes, found.tolist(), strict=True):
            for month, variance in zip(months, figures, strict=True):
                store[code, (office,), (month,)] = variance
        return found

    def _each_counts(self, item: str, offices: tuple[int, ...], months: tuple[str, ...]
                     ) -> np.ndarray:  # fmt: skip
        """Each office's published counts of `item` (kept figures, read-only), offices × levels."""
        together = self._rows.get((item, offices, months))
        if together is not None:  # the same rows `_keep_each` kept office by office
            return together.copy()
        size = len(self.grid.levels[item])
        return np.array([_kept(self._figures, (item, (o,), months), self._count)
                         for o in offices]).reshape(len(offices), size)  # fmt: skip

    def _add_noise(
        self, found: np.ndarray, item: str, offices: tuple[int, ...], months: tuple[str, ...],
        counts: np.ndarray, used: np.ndarray,
    ) -> np.ndarray:  # fmt: skip
        """`found` plus, where `used`, each office's term of `index_noise` for `item`: ν·Σ_l
        (x_l − ȳ)²/n² (0 without answers or noise), as `_scaled` and `index_noise` work it
        out."""
        nu = np.where(used, self.noise_variance_each(item, offices, months), 0.0)
        x = np.array(_index_scale(self.grid.levels[item]))
        n = counts.sum(axis=1)
        adds = used & (n > 0) & (nu > 0)
        if not adds.any():
            return found
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = _running_sum(x[None, :] * counts) / n
        deviation = (x[None, :] - mean[:, None]).ravel().tolist()
        squares = np.fromiter(map(math.pow, deviation, [2.0] * len(deviation)), np.float64,
                              len(deviation)).reshape(counts.shape)  # fmt: skip
        with np.errstate(divide="ignore", invalid="ignore"):
            term = nu * _running_sum(squares) / (n * n)
        return np.where(adds, found + term, found)

    def _noise_terms(
        self, codes: tuple[str, ...], offices: tuple[int, ...], months: tuple[str, ...],
        counts: np.ndarray, used: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        """`_add_noise`'s terms of items of one scale (items × offices, their counts items ×
        offices × levels) and where it adds them, every item at once: the same operations
        on the same numbers, element by element (each sum from the left along the levels),
        so the same bits as item by item (tests/unit/test_dashboard_noise_stacked.py)."""
        nu = np.where(used, self._noise_variances_items(codes, offices, months), 0.0)
        return _terms_of(np.array(_index_scale(self.grid.levels[codes[0]])), counts, used, nu)

    def _noise_variances_items(
        self, codes: tuple[str, ...], offices: tuple[int, ...], months: tuple[str, ...]
    ) -> np.ndarray:
        """`noise_variance_each(code, offices, months)` of each of these items of one scale
        (items × offices, and kept as it keeps them), every item at once when none is kept
        yet: the runs once, their running totals read side by side (`_side_by_side`), and
        each office's terms added from 0.0 in the order of its runs (`np.add.at` adds in the
        order given), item by item as `noise_variance_each` adds them: the same bits."""
        store = self._variances
        kept = any((code, (o,), months) in store for code in codes for o in offices)
        if kept or len(set(offices)) != len(offices):
            each = [self.noise_variance_each(code, offices, months) for code in codes]
            return np.array(each, dtype=np.float64).reshape(len(codes), len(offices))
        owner, rows, ends, bases = self._runs_each(offices, months)
        k = len(codes)
        joined = self._side_by_side(codes)
        before = np.maximum(bases, 0)
        # the same responses, the same noise: the difference of the two has none
        equal = (joined[rows, before] == joined[rows, ends]).reshape(
            len(rows), k, joined.shape[2] // k
        )
        same = (bases >= 0)[None, :] & equal.all(axis=2).T  # items × runs
        variances = np.stack([self._running_variances(code) for code in codes])
        term = variances[:, rows, ends] + np.where(bases >= 0, variances[:, rows, before], 0.0)
        which = np.broadcast_to(np.arange(k)[:, None], term.shape)
        whose = np.broadcast_to(owner[None, :], term.shape)
        found = np.zeros((k, len(offices)))
        np.add.at(found, (which[~same], whose[~same]), term[~same])
        for code, figures in zip(codes, found.tolist(), strict=True):
            if len(store) + len(offices) > MAX_FIGURES:
                store.clear()
            for office, variance in zip(offices, figures, strict=True):
                store[code, (office,), months] = variance
        return found

    def index_covariance(
        self, offices: Iterable[int], months_a: Iterable[str], months_b: Iterable[str]
    ) -> float:
        """The covariance of the noises of two published indices of the same offices (two
        periods): per index item both are made of, its level noises' covariance
        (`noise_covariance`) through each period's mean, Σ_l (x_l − ȳ_ja)(x_l − ȳ_jb)/(n_ja·
        n_jb); summed and divided by k_a·k_b. Without index items in both, the classes' own,
        the same way (one tilted and one not: 0, their noises have little in common)."""
        offices, months_a, months_b = tuple(offices), tuple(months_a), tuple(months_b)
        a, b = self.index_parts(offices, months_a), self.index_parts(offices, months_b)
        if bool(a) != bool(b):
            return 0.0
        if not a:
            a = [(INDEX_ITEM, self.counts(INDEX_ITEM, offices, months_a))]
            b = [(INDEX_ITEM, self.counts(INDEX_ITEM, offices, months_b))]
        after = dict(b)
        found = 0.0
        for code, ca in a:
            cb = after.get(code)
            if cb is None or ca.sum() <= 0 or cb.sum() <= 0:
                continue
            cov = self.noise_covariance(code, offices, months_a, months_b)
            if cov:
                x, mean_a, n_a = _scaled(self.grid.levels[code], ca)
                _, mean_b, n_b = _scaled(self.grid.levels[code], cb)
                found += cov * sum((v - mean_a) * (v - mean_b) for v in x) / (n_a * n_b)
        return found / (len(a) * len(b))

    def index_covariance_each(
        self, offices: Sequence[int], months_a: Iterable[str], months_b: Iterable[str]
    ) -> list[float]:
        """`index_covariance((office,), months_a, months_b)` of each office, every office at
        once: the index parts of each from the kept counts of all of them (their n whole
        numbers: the same in any order), the noise covariance of each item of every office
        from the runs of all of them, every index item's at once when the first is needed
        (`_noise_covariances_each`), and each office's terms added in the same order with
        the same Python operations, so the same bits (tests/unit/test_dashboard_overview_work.py
        compares them). An office without index items in both periods goes through
        `index_covariance` itself."""
        offices, months_a, months_b = tuple(offices), tuple(months_a), tuple(months_b)
        if not offices:
            return []
        least = max(1, self.grid.min_n)
        parts = []  # per index item: who has it in both periods, and the means of each
        for code in INDEX_ITEMS:
            ca = self._each_counts(code, offices, months_a)
            cb = self._each_counts(code, offices, months_b)
            na, nb = ca.sum(axis=1), cb.sum(axis=1)  # whole numbers: exact in any order
            x = np.array(_index_scale(self.grid.levels[code]))
            with np.errstate(divide="ignore", invalid="ignore"):  # as `_scaled`, from the left
                means_a = (_running_sum(x[None, :] * ca) / na).tolist()
                means_b = (_running_sum(x[None, :] * cb) / nb).tolist()
            parts.append((code, (na >= least).tolist(), (nb >= least).tolist(), means_a,
                          means_b, na.tolist(), nb.tolist(), x.tolist()))  # fmt: skip
        covariances: dict[str, list[float]] = {}
        found = []
        for i, office in enumerate(offices):
            k_a = sum(1 for part in parts if part[1][i])
            k_b = sum(1 for part in parts if part[2][i])
            if not k_a or not k_b:  # none in one of them (0.0) or in both (the classes')
                found.append(self.index_covariance((office,), months_a, months_b))
                continue
            total = 0.0
            for code, in_a, in_b, means_a, means_b, na, nb, scale in parts:
                if not (in_a[i] and in_b[i]):  # (in both: n ≥ 1)
                    continue
                if code not in covariances:  # every index item's at once (one scale)
                    covariances = self._noise_covariances_each(tuple(INDEX_ITEMS), offices,
                                                               months_a, months_b)  # fmt: skip
                cov = covariances[code][i]
                if cov:
                    mean_a, mean_b, n_a, n_b = means_a[i], means_b[i], na[i], nb[i]
                    total += cov * sum((v - mean_a) * (v - mean_b) for v in scale) / (n_a * n_b)
            found.append(total / (k_a * k_b))
        return found

    def _noise_covariances_each(
        self, items: tuple[str, ...], offices: tuple[int, ...], months_a: tuple[str, ...],
        months_b: tuple[str, ...],
    ) -> dict[str, list[float]]:  # fmt: skip
        """`noise_covariance(item, (office,), months_a, months_b)` of each of these items (of
        one scale) and offices, all at once: the runs of each period (`_runs_each`, the
        same for every item) as signed running totals (+1 at a run's end, then −1 just
        before it); a running total named by its item, office, row, calendar year and the
        bits of its counts (`noise_covariance`'s bytes: one noise for the same responses);
        each name's signs summed per period (whole numbers: exact in any order); and per
        item and office the terms a × b × variance of the names period a holds, in the
        order a first meets them, added from 0.0 one after the other, the names with a
        zero sign in either period left out: what `_signed_product` adds office by office,
        in its order, so the same bits (tests/unit/test_dashboard_overview_repeats.py)."""
        out = {item: [0.0] * len(offices) for item in items}
        if len({self._totals[item].shape[2] for item in items}) != 1:
            for item in items:  # (not one scale: item by item)
                out |= self._noise_covariances_each((item,), offices, months_a, months_b)
            return out
        events = []  # per period: each signed running total's office, row, month and sign
        for months in (months_a, months_b):
            owner, rows, ends, bases = self._runs_each(offices, months)
            size = owner.size
            month = np.stack([ends, bases], axis=1).reshape(-1)  # end, then base, per run
            used = np.stack([np.ones(size, dtype=bool), bases >= 0], axis=1).reshape(-1)
            events.append((np.repeat(owner, 2)[used], np.repeat(rows, 2)[used], month[used],
                           np.tile([1.0, -1.0], size)[used]))  # fmt: skip
        in_a, both = events[0][0].size, events[0][0].size + events[1][0].size
        if not in_a or not events[1][0].size:
            return out
        owner, rows, month, sign = (np.concatenate(parts) for parts in zip(*events, strict=True))
        k = len(items)
        counts = np.stack([self._totals[item][rows, month] for item in items])
        names = np.column_stack([np.repeat(np.arange(k), both), np.tile(owner, k),
                                 np.tile(rows, k), np.tile(self._year[month], k),
                                 counts.reshape(k * both, -1).view(np.int64)])  # fmt: skip
        order = np.lexsort(names.T[::-1])  # by item, office, row, year, the counts' bits
        ranked = names[order]
        new = np.ones(len(order), dtype=bool)
        new[1:] = (ranked[1:] != ranked[:-1]).any(axis=1)
        name = np.empty(len(order), dtype=np.intp)
        name[order] = np.cumsum(new) - 1  # one number a name
        many = int(new.sum())
        in_period_a = np.tile(np.arange(both) < in_a, k)
        signs = np.tile(sign, k)
        coefficient_a = np.bincount(name[in_period_a], weights=signs[in_period_a],
                                    minlength=many)  # fmt: skip
        coefficient_b = np.bincount(name[~in_period_a], weights=signs[~in_period_a],
                                    minlength=many)  # fmt: skip
        first = np.full(many, k * both)
        np.minimum.at(first, name[in_period_a], np.flatnonzero(in_period_a))
        met = np.flatnonzero(first < k * both)
        met = met[np.argsort(first[met], kind="stable")]  # item by item, in a's order
        which, event = np.divmod(first[met], both)
        variance = np.stack([self._running_variances(item) for item in items])
        term = (coefficient_a[met] * coefficient_b[met]
                * variance[which, rows[event], month[event]])  # fmt: skip
        counted = (coefficient_a[met] != 0) & (coefficient_b[met] != 0)
        found = [out[item] for item in items]
        for j, i, value in zip(which[counted].tolist(), owner[event][counted].tolist(),
                               term[counted].tolist(), strict=True):  # fmt: skip
            found[j][i] += value
        return out

    def _sum(self, item: str, offices: tuple[int, ...], months: tuple[str, ...]) -> np.ndarray:
        if len(offices) > 1:
            return self._pooled_sum(item, offices, months)
        totals = self._totals[item]
        total = np.zeros(totals.shape[2])
        for row, runs in self._walk(offices, months):
            sums = np.zeros(totals.shape[2])
            for base, end in runs:
                sums += self._between(totals[row], base, end)
            total += nonnegative(sums, self.grid.levels[item])
        return total

    def _pooled_sum(
        self, item: str, offices: tuple[int, ...], months: tuple[str, ...]
    ) -> np.ndarray:
        """`_sum` of several offices: the sum of each office's own (`_sum` adds up its
        offices' sums made non-negative one by one), read from those kept, the missing
        worked out at once (`_sum_each`) and kept. Whole numbers: the same sum in any
        order."""
        store = self._classes if item == INDEX_ITEM else self._figures
        own: dict[int, np.ndarray] = {}
        for office in offices:
            found = store.get((item, (office,), months))
            if found is not None:
                own[office] = found
        missing = tuple(dict.fromkeys(o for o in offices if o not in own))
        if missing:
            own.update(
                self._keep_each(item, missing, months, self._sum_each(item, missing, months))
            )
        total = np.zeros(self._totals[item].shape[2])
        for office in offices:
            total += own[office]
        return total

    def _walk(
        self, offices: Iterable[int], months: Iterable[str]
    ) -> list[tuple[int, list[tuple[int, int]]]]:
        """Per office of the grid among `offices` (its row), the runs of its shown blocks that
        lie wholly inside the consecutive `months`, per calendar year: (base, end), the
        running total just before the run (−1: none, the start of the year) and the one at
        its end. A figure is the sum of their differences (`counts`); its noise is theirs
        (`noise_variance`). The same for every item (an index figure reads eight): worked
        out once per table."""
        return _kept(self._walks, (tuple(offices), tuple(months)), self._walked)

    def _walked(
        self, offices: tuple[int, ...], months: tuple[str, ...]
    ) -> list[tuple[int, list[tuple[int, int]]]]:
        rows = [self._office[o] for o in offices if o in self._office]
        cols = [self._month[m] for m in months if m in self._month]
        if not rows or not cols:
            return []
        low, high = min(cols), max(cols)
        year = self._year
        out = []
        for row in rows:
            runs: list[tuple[int, int]] = []
            before = -1  # the end of the block before, in the same year (−1: none)
            run: list[int] = []  # shown blocks inside the period in a row: [base, end]
            for first, last, shown in self._blocks[row]:
                if first == year[first]:
                    before = -1
                if run and (first == year[first] or not shown or last > high):
                    runs.append((run[0], run[1]))
                    run = []
                if shown and first >= low and last <= high:
                    run = [run[0] if run else before, last]
                before = last
            if run:
                runs.append((run[0], run[1]))
            out.append((row, runs))
        return out

    @staticmethod
    def _between(totals: np.ndarray, base: int, end: int) -> np.ndarray:
        """The blocks after the running total at `base` (−1: the start of the year) through
        the one at `end`: a difference of two running totals, or one."""
        found: np.ndarray = totals[end] - totals[base] if base >= 0 else totals[end]
        return found

    def noise_variance(self, item: str, offices: Iterable[int], months: Iterable[str]) -> float:
        """The variance of the noise in each level count of the figure `counts()` publishes
        for these offices and consecutive months (before `nonnegative`): per office and
        calendar year, the variance of the running total at the end of its blocks inside the
        period plus that of the one just before them (`_walk`, as `counts()`), each the
        variance of the perturbation table it was drawn from (`FIRST_NOISE` for a year's
        first running total with anyone and the later ones holding the same responses,
        `NOISE` for the others, nothing for one that holds nobody; nothing for a difference
        of two running totals with the same responses, whose noise is the same); summed over
        the offices (a pooled figure is the sum of its offices' figures)."""
        return _kept(self._variances, (item, tuple(offices), tuple(months)), self._noise_variance)

    def _noise_variance(self, item: str, offices: tuple[int, ...], months: tuple[str, ...]
                        ) -> float:  # fmt: skip
        totals = self._totals[item]
        if len(offices) > 1:  # a pool (an office page's job centre and network)
            return self._pooled_variance(totals, self._running_variances(item), offices, months)
        total = 0.0
        for row, runs in self._walk(offices, months):
            spread = self._spread_of(item, row)
            for base, end in runs:
                if base >= 0 and np.array_equal(totals[row, base], totals[row, end]):
                    continue  # the same responses, the same noise: the difference has none
                total += spread[end] + (spread[base] if base >= 0 else 0.0)
        return total

    def _pooled_variance(
        self, totals: np.ndarray, variances: np.ndarray, offices: tuple[int, ...],
        months: tuple[str, ...],
    ) -> float:  # fmt: skip
        """`_noise_variance` of several offices: the runs of all of them as arrays
        (`_runs_each`: `_walk`'s runs in its order), which are skipped and each run's term
        (the variances of its two running totals, `_running_variances`, as `_spread_of` reads
        them) worked out at once, the terms then added from 0.0 in the order of the runs, as
        the loop adds them: the same bits (tests/unit/test_dashboard_office_work.py)."""
        _, rows, ends, bases = self._runs_each(offices, months)
        terms, same = _run_terms(totals, variances, (rows,), ends, bases)
        total = 0.0
        for term, skip in zip(terms.tolist(), same.tolist(), strict=True):
            if not skip:
                total += term
        return total

    def noise_variance_each(
        self, item: str, offices: Sequence[int], months: Iterable[str]
    ) -> list[float]:
        """`noise_variance(item, (office,), months)` of each office, every office at once
        (and kept, so that `noise_variance` of one office finds it): the same terms, each
        the variances of a run's two running totals (`_running_variances`), added per office
        in the order of its runs, from 0.0, as `_noise_variance` adds them (so the same
        bits)."""
        offices, months = tuple(offices), tuple(months)
        store = self._variances
        have = {o: store[key] for o in offices if (key := (item, (o,), months)) in store}
        missing = tuple(dict.fromkeys(o for o in offices if o not in have))
        if missing:
            owner, rows, ends, bases = self._runs_each(missing, months)
            terms, same = _run_terms(self._totals[item], self._running_variances(item), (rows,),
                                     ends, bases)  # fmt: skip
            found = [0.0] * len(missing)
            for i, term, skip in zip(owner.tolist(), terms.tolist(), same.tolist(), strict=True):
                if not skip:
                    found[i] += term
            if len(store) + len(missing) > MAX_FIGURES:
                store.clear()  # (the offices kept before are in `have`: r29)
            for office, variance in zip(missing, found, strict=True):
                store[item, (office,), months] = have[office] = variance
        return [have[o] for o in offices]

    def _spread_of(self, item: str, row: int) -> dict[int, float]:
        """The noise variance of each of an office's running totals of `item`, by the month
        of its block's end (`_running_variances`), worked out once."""
        spread = self._spread.get((item, row))
        if spread is None:
            variances = self._running_variances(item)[row]
            spread = self._spread[item, row] = {
                last: float(variances[last]) for _, last, _ in self._blocks[row]
            }
        return spread

    def _running_variances(self, item: str) -> np.ndarray:
        """The noise variance of each running total of `item` (offices × months, at the
        month of its block's end; 0 elsewhere), for every office at once: nothing for one
        that holds nobody, `FIRST_VARIANCE` for the year's first one that holds anyone and
        the later ones equal to it (the same responses), `NOISE_VARIANCE` for the others."""
        found = self._variance_arrays.get(item)
        if found is not None:
            return found
        totals = self._totals[item]
        offices, size = totals.shape[:2]
        ends = self._last == np.arange(size)[None, :]
        anyone = totals.any(axis=2) & ends
        out = np.zeros((offices, size))
        starts = np.flatnonzero(self._year == np.arange(size)).tolist()
        for begin, end in zip(starts, [*starts[1:], size], strict=True):
            some = anyone[:, begin:end]
            first = totals[np.arange(offices), begin + some.argmax(axis=1)]  # levels
            same = (totals[:, begin:end] == first[:, None, :]).all(axis=2)
            out[:, begin:end] = np.where(some, np.where(same, FIRST_VARIANCE, NOISE_VARIANCE),
                                         0.0)  # fmt: skip
        out.flags.writeable = False
        self._variance_arrays[item] = out
        return out

    def noise_covariance(
        self, item: str, offices: Iterable[int], months_a: Iterable[str], months_b: Iterable[str]
    ) -> float:
        """The covariance of the noise in each level count of two figures of the same offices
        (`counts()` over `months_a` and over `months_b`, before `nonnegative`): the running
        totals both are made of, each with its variance (as `noise_variance`), times the sign
        it enters each with (+ at the end of a run, − just before it). Running totals of an
        office holding the same responses in one calendar year are one noise. Two periods
        that meet (a period and the one before it) share the running total at their boundary
        with opposite signs: their covariance is negative. For months_a == months_b this is
        `noise_variance`."""
        totals = self._totals[item]
        offices = list(offices)
        year = self._year.tolist()
        # a running total's variance depends on its counts and its year alone (the same
        # responses, the same noise: `_running_variances`): any of its months says it
        seen: dict[tuple[int, int, bytes], int] = {}

        def signed(months: Iterable[str]) -> dict[tuple[int, int, bytes], float]:
            out: dict[tuple[int, int, bytes], float] = defaultdict(float)
            for row, runs in self._walk(offices, months):
                for base, end in runs:
                    for month, sign in ((end, 1.0), (base, -1.0)):
                        if month >= 0:
                            key = (row, year[month], totals[row, month].tobytes())
                            out[key] += sign
                            seen.setdefault(key, month)
            return out

        a, b = signed(months_a), signed(months_b)
        return self._signed_product(item, a, b, seen)

    def _signed_product(
        self,
        item: str,
        a: dict[tuple[int, int, bytes], float],
        b: dict[tuple[int, int, bytes], float],
        seen: dict[tuple[int, int, bytes], int],
    ) -> float:
        """Σ over the running totals both figures hold of sign in a × sign in b × variance,
        in a's order (`noise_covariance`, of one office or of each: the same sums in the same
        order, so the same bits)."""
        found = 0.0
        for key, coefficient in a.items():
            other = b.get(key, 0.0)
            if coefficient == 0 or other == 0:
                continue
            found += coefficient * other * self._spread_of(item, key[0])[seen[key]]
        return found

    def office_blocks(self, office: int) -> list[tuple[str, str, bool]]:
        """The office's blocks in order: first and last month, and whether this view shows
        it (none for an office outside the grid)."""
        o = self._office.get(office)
        if o is None:
            return []
        months = self.grid.months
        return [(months[first], months[last], shown) for first, last, shown in self._blocks[o]]

    def alone(self, office: int, month: str) -> bool:
        """Whether `month` is a block of its own for the office (its figures may be shown by
        themselves: a trend point, its comments)."""
        o, m = self._office.get(office), self._month.get(month)
        return (o is not None and m is not None and self._first[o, m] == self._last[o, m] == m
                and bool(self._shown[o, m]))  # fmt: skip

    def matrix(
        self, item: str, groups: Sequence[Iterable[int]], months: Iterable[str]
    ) -> np.ndarray:
        months = list(months)
        units = [tuple(g) for g in groups]
        if all(len(g) == 1 for g in units):  # one office each: their sums at once
            self.each_office(item, [g[0] for g in units], months)
        return np.array([self.counts(item, g, months) for g in units]).reshape(
            len(units), len(self.levels(item))
        )

    def each_office(self, item: str, offices: Iterable[int], months: Iterable[str]) -> None:
        """Work out the sums of each of these offices' figures of `item` (of the index: of
        its classes and of its index items) over `months` at once (`_sum_each`) and keep
        them, so that `counts` of one office finds them: what `_sum` gives office by office,
        in a few array operations (a page's client-mix adjustment asks for the index of
        every office in ten tables). The items' sums on the same levels are made
        non-negative together (`nonnegative_rows` works row by row)."""
        months, offices = tuple(months), tuple(offices)
        for levels, found in self._unsummed(item, offices, months).items():
            rows = nonnegative_rows(np.concatenate([sums for _, _, sums in found]), levels)
            self._keep_summed(found, months, rows)
        if item == INDEX_ITEM:
            self._tilt_each(offices, months)

    def _unsummed(
        self, item: str, offices: tuple[int, ...], months: tuple[str, ...]
    ) -> dict[tuple[float, ...], _Unsummed]:
        """What `each_office` makes non-negative, by levels: per item (of the index: its
        classes and its index items), the offices whose sums are not kept yet and their sums
        before `nonnegative`."""
        wanted = [INDEX_ITEM, *INDEX_ITEMS] if item == INDEX_ITEM else [item]
        asked: dict[tuple[int, ...], list[str]] = {}  # the items of each set of missing offices
        for code in wanted:
            store = self._classes if code == INDEX_ITEM else self._figures
            missing = tuple(dict.fromkeys(o for o in offices if (code, (o,), months) not in store))
            if missing:
                asked.setdefault(missing, []).append(code)
        raw: dict[tuple[float, ...], _Unsummed] = {}
        for missing, codes in asked.items():
            for code, sums in zip(codes, self._raws_each(tuple(codes), missing, months),
                                  strict=True):  # fmt: skip
                raw.setdefault(self.grid.levels[code], []).append((code, missing, sums))
        return raw

    def _keep_summed(
        self, found: _Unsummed, months: tuple[str, ...], rows: np.ndarray,
    ) -> None:  # fmt: skip
        """Keep `rows`, the sums of `found` (`_unsummed`) made non-negative, in their order."""
        at = 0
        for code, missing, _ in found:
            self._keep_each(code, missing, months, rows[at : at + len(missing)])
            at += len(missing)

    def _keep_each(
        self, item: str, offices: tuple[int, ...], months: tuple[str, ...], rows: np.ndarray
    ) -> dict[int, np.ndarray]:
        """Keep `rows` (offices × levels, their order) as each office's sums of `item` (what
        `_sum(item, (office,), months)` keeps), read-only; returns them by office."""
        store = self._classes if item == INDEX_ITEM else self._figures
        if len(store) + len(offices) > MAX_FIGURES:
            store.clear()
        kept: dict[int, np.ndarray] = {}
        rows.flags.writeable = False  # and so is each row of it
        for office, sums in zip(offices, rows, strict=True):
            kept[office] = store[item, (office,), months] = sums
        if item != INDEX_ITEM:
            if len(self._rows) >= MAX_FIGURES // 16:
                self._rows.clear()
            self._rows[item, offices, months] = rows
        return kept

    def _tilt_each(self, offices: tuple[int, ...], months: tuple[str, ...]) -> None:
        """`_count(INDEX_ITEM, (office,), months)` of each of these offices not kept yet,
        kept: the classes tilted to the item mean of each office at once (`retarget_rows`),
        the item means (`index_parts`, `_item_mean`) worked out for every office at once,
        term by term in the same order (so the same bits)."""
        pending = self._untilted(offices, months)
        if pending is not None:
            self._keep_tilted(pending, retarget_rows(pending.classes, pending.levels,
                                                     pending.targets))  # fmt: skip

    def _untilted(self, offices: tuple[int, ...], months: tuple[str, ...]) -> _Untilted | None:
        """What `_tilt_each` tilts: of the offices whose index is not kept yet, the classes
        and the item mean of those with index items (None: every index kept already)."""
        kept = self._figures
        missing = tuple(dict.fromkeys(o for o in offices if (INDEX_ITEM, (o,), months) not in kept))
        if not missing:
            return None
        levels = self.grid.levels[INDEX_ITEM]
        classes = [_kept(self._classes, (INDEX_ITEM, (o,), months), self._sum) for o in missing]
        means, parts = self._item_means(missing, months)
        found: dict[int, np.ndarray] = {}
        tilted = [i for i, k in enumerate(parts.tolist()) if k > 0]
        for i, office in enumerate(missing):  # no index item with enough answers: as they are
            if not parts[i]:
                found[office] = classes[i].copy()
        target = levels[0] + (levels[-1] - levels[0]) * means[tilted] / 100.0
        rows = np.array([classes[i] for i in tilted]).reshape(len(tilted), len(levels))
        return _Untilted(months, missing, found, tuple(missing[i] for i in tilted), rows,
                         levels, target.tolist())  # fmt: skip

    def _keep_tilted(self, pending: _Untilted, rows: np.ndarray) -> None:
        """Keep the index of `pending`'s offices: `rows`, its classes tilted, and the others'
        classes as they are."""
        found = pending.found  # (made for this keeping alone)
        found.update(zip(pending.tilted, rows, strict=True))
        for office in pending.missing:
            counts = found[office]
            key = (INDEX_ITEM, (office,), pending.months)
            _kept(self._figures, key, lambda *_: counts)  # noqa: B023

    def _item_means(
        self, offices: tuple[int, ...], months: tuple[str, ...]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Of each office alone: `_item_mean(index_parts((office,), months))` (nan without
        index parts) and the number of its index parts, for every office at once. Each
        item's index is Σ_l x_l·c_l / n summed level by level from the left as `_scaled`
        does, and the items' indices are added in the order of INDEX_ITEMS as `_item_mean`
        does: the same additions in the same order, so the same bits."""
        least = max(1, self.grid.min_n)
        scales = {_index_scale(self.grid.levels[code]) for code in INDEX_ITEMS}
        if len(scales) == 1 and offices:  # every item at once: items × offices × levels
            (scale,) = scales
            counts = np.array([self._each_counts(code, offices, months) for code in INDEX_ITEMS])
            return _means_of(np.array(scale), counts, least)
        total = np.zeros(len(offices))
        parts = np.zeros(len(offices), dtype=np.int64)
        for code in INDEX_ITEMS:
            counts = self._each_counts(code, offices, months)
            n = counts.sum(axis=1)  # whole numbers: exact in any order
            used = n >= least
            x = np.array(_index_scale(self.grid.levels[code]))
            weighted = _running_sum(x[None, :] * counts)  # level by level from the left
            with np.errstate(divide="ignore", invalid="ignore"):
                total = np.where(used, total + weighted / n, total)
            parts += used
        with np.errstate(divide="ignore", invalid="ignore"):
            return total / parts, parts

    def _runs_each(
        self, offices: tuple[int, ...], months: tuple[str, ...]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The runs of `_walk((office,), months)` of each of these offices as arrays: the
        office's place in `offices`, its row, the run's end and its base (−1: the start of
        the year); the same for every item, worked out once per table."""
        owner, rows, ends, bases = _kept(self._runs, (offices, months), self._runs_made)
        return owner, rows, ends, bases

    def _runs_made(self, offices: tuple[int, ...], months: tuple[str, ...]
                   ) -> tuple[np.ndarray, ...]:  # fmt: skip
        owner, rows, ends, bases = [], [], [], []
        walked = self._walked(offices, months)  # none when no month is the grid's (r29)
        known = [i for i, office in enumerate(offices) if office in self._office] if walked else []
        # `_walked` of all of them is `_walk` of each, in their order (those the grid holds)
        for i, (row, runs) in zip(known, walked, strict=True):
            for base, end in runs:
                owner.append(i)
                rows.append(row)
                ends.append(end)
                bases.append(base)
        return tuple(np.array(a, dtype=np.int64) for a in (owner, rows, ends, bases))

    def _raw_each(self, item: str, offices: tuple[int, ...], months: tuple[str, ...]
                  ) -> np.ndarray:  # fmt: skip
        """Each office's sum of its runs' differences of running totals (rows in the order
        of `offices`), before `nonnegative`."""
        return self._summed_runs(self._totals[item], offices, months)

    def _summed_runs(self, totals: np.ndarray, offices: tuple[int, ...],
                     months: tuple[str, ...]) -> np.ndarray:  # fmt: skip
        """Each office's sum of its runs' differences of these running totals."""
        owner, rows, ends, bases = self._runs_each(offices, months)
        sums = np.zeros((len(offices), totals.shape[2]))
        if owner.size:
            later = totals[rows, ends]
            before = np.where((bases >= 0)[:, None], totals[rows, np.maximum(bases, 0)], 0.0)
            # whole numbers: the same sums in any order
            np.add.at(sums, owner, later - before)
        return sums

    def _raws_each(self, items: tuple[str, ...], offices: tuple[int, ...],
                   months: tuple[str, ...]) -> list[np.ndarray]:  # fmt: skip
        """`_raw_each` of each of these items, all at once (their running totals side by
        side, `_side_by_side`)."""
        if len(items) == 1:
            return [self._raw_each(items[0], offices, months)]
        widths = [self._totals[item].shape[2] for item in items]
        sums = self._summed_runs(self._side_by_side(items), offices, months)
        return np.split(sums, np.cumsum(widths)[:-1].tolist(), axis=1)

    def _side_by_side(self, items: tuple[str, ...]) -> np.ndarray:
        """The running totals of these items (offices × months × their levels one after the
        other), put together once per table."""
        found = self._joined.get(items)
        if found is None:
            found = np.concatenate([self._totals[item] for item in items], axis=2)
            found.flags.writeable = False
            self._joined[items] = found
        return found

    def _sum_each(self, item: str, offices: tuple[int, ...], months: tuple[str, ...]) -> np.ndarray:
        """`_sum(item, (office,), months)` for each office (rows in their order)."""
        return nonnegative_rows(self._raw_each(item, offices, months), self.grid.levels[item])

    def n(self, item: str, offices: Iterable[int], months: Iterable[str]) -> int:
        if item == INDEX_ITEM:  # tilting keeps the total: no need to tilt
            key = (item, tuple(offices), tuple(months))
            return int(_kept(self._classes, key, self._sum).sum())
        return int(self.counts(item, offices, months).sum())


@dataclass(frozen=True)
class _Untilted:
    """Index figures of single offices whose classes are still to be tilted (`_untilted`):
    `missing`, the offices whose index is not kept yet; `found`, the index of those without
    index items (their classes as they are); `tilted`, the others, with their `classes`
    (offices × levels) and `targets` (their item means on the levels)."""

    months: tuple[str, ...]
    missing: tuple[int, ...]
    found: dict[int, np.ndarray]
    tilted: tuple[int, ...]
    classes: np.ndarray
    levels: tuple[float, ...]
    targets: list[float]


def _run_terms(
    totals: np.ndarray, variances: np.ndarray, at: tuple[np.ndarray, ...], ends: np.ndarray,
    bases: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Each run's noise variance (the variances of the running totals at its end and just
    before it, `_running_variances`) and whether it is left out: the same responses at both
    ends, the same noise, so the difference of the two has none. `at`: the index of each
    run's row (its table's too where `totals` and `variances` are stacked)."""
    before = np.maximum(bases, 0)
    same = (bases >= 0) & (totals[(*at, before)] == totals[(*at, ends)]).all(axis=1)
    term = variances[(*at, ends)] + np.where(bases >= 0, variances[(*at, before)], 0.0)
    return term, same


def _terms_of(
    x: np.ndarray, counts: np.ndarray, used: np.ndarray, nu: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """`_noise_terms`' terms of items of one scale (on the index scale `x`; counts items ×
    units × levels, `used` and their level noise `nu` items × units) and where they add:
    ν·Σ_l (x_l − ȳ)²/n², each sum from the left along the levels (as `_add_noise`)."""
    n = counts.sum(axis=2)
    adds = used & (n > 0) & (nu > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = (np.cumsum(x * counts, axis=2)[:, :, -1] + 0.0) / n  # as `_running_sum`
    deviation = (x[None, None, :] - mean[:, :, None]).ravel().tolist()
    squares = np.fromiter(map(math.pow, deviation, [2.0] * len(deviation)), np.float64,
                          len(deviation)).reshape(counts.shape)  # fmt: skip
    with np.errstate(divide="ignore", invalid="ignore"):
        term = nu * (np.cumsum(squares, axis=2)[:, :, -1] + 0.0) / (n * n)
    return term, adds


def _means_of(x: np.ndarray, counts: np.ndarray, least: int) -> tuple[np.ndarray, np.ndarray]:
    """`_item_means` of index items of one scale (on the index scale `x`; counts items ×
    units × levels): each unit's mean of the indices of its items with at least `least`
    answers (nan without) and their number."""
    n = counts.sum(axis=2)  # whole numbers: exact in any order
    used = n >= least
    weighted = _running_sum((x[None, None, :] * counts).reshape(-1, len(x)))
    with np.errstate(divide="ignore", invalid="ignore"):
        indices = np.where(used, weighted.reshape(n.shape) / n, 0.0)
    # item after item from the left (adding 0.0 where an item is not used changes
    # nothing: the total is never −0.0)
    total = _running_sum(indices.T)
    parts = used.sum(axis=0).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return total / parts, parts


def index_matrices(
    tables: Sequence[ProtectedTable], groups: Sequence[Iterable[int]], months: Iterable[str],
    also: Sequence[tuple[ProtectedTable, Sequence[str]]] = (),
) -> list[np.ndarray]:  # fmt: skip
    """`table.matrix(INDEX_ITEM, groups, months)` of each table; of single offices, the sums
    of every table made non-negative in one `nonnegative_rows` and their classes tilted in
    one `retarget_rows` (both work row by row: the same counts as table by table), so that a
    page's client-mix adjustment, which reads the index of every office in ten tables, pays
    for their array steps once. `also`: (table, months) whose index figures of the same
    single offices are worked out in the same steps of a new view and kept
    (`_index_at_once`), not returned (an overview's previous period: `office_rows` reads
    them next)."""
    months = tuple(months)
    units = [tuple(g) for g in groups]
    if not units or any(len(g) != 1 for g in units):
        return [table.matrix(INDEX_ITEM, units, months) for table in tables]
    offices = tuple(g[0] for g in units)
    fresh = _index_at_once(tables, offices, months, also)
    if fresh is not None:
        return fresh
    # the sums of every table made non-negative at once (`each_office`)
    unsummed: dict[tuple[float, ...], list[tuple[ProtectedTable, _Unsummed]]] = {}
    for table in tables:
        for levels, raw in table._unsummed(INDEX_ITEM, offices, months).items():
            unsummed.setdefault(levels, []).append((table, raw))
    for levels, each in unsummed.items():
        rows = nonnegative_rows(np.concatenate([sums for _, raw in each
                                                for _, _, sums in raw]), levels)  # fmt: skip
        at = 0
        for table, raw in each:
            size = sum(len(missing) for _, missing, _ in raw)
            table._keep_summed(raw, months, rows[at : at + size])
            at += size
    # then their classes tilted at once (`_tilt_each`)
    by_levels: dict[tuple[float, ...], list[tuple[ProtectedTable, _Untilted]]] = {}
    for table in tables:
        found = table._untilted(offices, months)
        if found is not None:
            by_levels.setdefault(found.levels, []).append((table, found))
    for levels, some in by_levels.items():
        rows = retarget_rows(np.concatenate([found.classes for _, found in some]), levels,
                             [t for _, found in some for t in found.targets])  # fmt: skip
        at = 0
        for table, found in some:
            table._keep_tilted(found, rows[at : at + len(found.tilted)])
            at += len(found.tilted)
    # `matrix`: each office's kept index, copied
    return [
        np.array(
            [_kept(table._figures, (INDEX_ITEM, g, months), table._count) for g in units]
        ).reshape(len(units), len(table.levels(INDEX_ITEM)))
        for table in tables
    ]


def _index_at_once(
    tables: Sequence[ProtectedTable], offices: tuple[int, ...], months: tuple[str, ...],
    also: Sequence[tuple[ProtectedTable, Sequence[str]]] = (),
) -> list[np.ndarray] | None:  # fmt: skip
    """`index_matrices` of single offices when no table has any of their figures yet (a new
    view; None otherwise): every step of every table at once, each the same operations on
    the same numbers as table by table (tests/unit/test_dashboard_mix_stacked.py): each
    table's runs from its block arrays (`_runs_at_once`), the sums of all its items side
    by side (`_summed_runs`), the index classes and the items' sums of every table made
    non-negative in one `nonnegative_rows` each and kept as `each_office` keeps them, the
    item means of every table and office in one pass (`_item_means`' operations), and the
    classes tilted in one `retarget_rows` and kept as `_tilt_each` keeps them. The tables
    with the months of `also` (another table's period, none kept yet either; else they are
    left to `each_office`) are views of the same steps, kept and not returned: each row
    the same numbers as alone (tests/unit/test_dashboard_overview_repeats.py)."""
    items = (INDEX_ITEM, *INDEX_ITEMS)
    views = [(t, months) for t in tables]
    views += [(t, m) for t, m in ((t, tuple(m)) for t, m in also) if m and (t, m) not in views]
    grids = {(t.grid.levels.get(INDEX_ITEM), tuple(t.grid.levels.get(c) for c in INDEX_ITEMS))
             for t, _ in views}  # fmt: skip
    if not tables or not offices or len(set(offices)) != len(offices) or len(grids) != 1:
        return None
    ((levels, item_levels),) = grids
    if levels is None or len(set(item_levels)) != 1 or item_levels[0] is None:
        return None
    width = len(item_levels[0])
    # the keys a figure of theirs is kept under, made once for every table
    keys = [(code, (o,), months) for code in items for o in offices]
    for table in tables:
        if any(code not in table._totals for code in items):
            return None
        if not (table._classes.keys().isdisjoint(keys) and table._figures.keys().isdisjoint(keys)):
            return None
    for table, other in views[len(tables) :]:  # those of `also` kept already: left out
        kept = [(code, (o,), other) for code in items for o in offices]
        if not (table._classes.keys().isdisjoint(kept) and table._figures.keys().isdisjoint(kept)):
            views.remove((table, other))
    size, count = len(offices), len(INDEX_ITEMS)
    for period in dict.fromkeys(m for _, m in views):  # kept: their noise reads them too
        _runs_of_tables([t for t, m in views if m == period], offices, period)
    raw = np.array([table._summed_runs(table._side_by_side(items), offices, period)
                    for table, period in views])  # fmt: skip
    classes = nonnegative_rows(raw[:, :, : len(levels)].reshape(-1, len(levels)), levels)
    classes = classes.reshape(len(views), size, len(levels))
    sums = raw[:, :, len(levels) :].reshape(len(views), size, count, width).transpose(0, 2, 1, 3)
    counts = nonnegative_rows(sums.reshape(-1, width), item_levels[0])
    counts = counts.reshape(len(views), count, size, width)
    for t, (table, period) in enumerate(views):
        table._keep_each(INDEX_ITEM, offices, period, classes[t])
        for j, code in enumerate(INDEX_ITEMS):
            table._keep_each(code, offices, period, counts[t, j])
    # `_item_means` of every table at once
    least = np.array([max(1, t.grid.min_n) for t, _ in views], dtype=np.float64)
    x = np.array(_index_scale(item_levels[0]))
    n = counts.sum(axis=3)  # whole numbers: exact in any order
    used = n >= least[:, None, None]
    weighted = _running_sum((x[None, None, None, :] * counts).reshape(-1, width))
    with np.errstate(divide="ignore", invalid="ignore"):
        indices = np.where(used, weighted.reshape(n.shape) / n, 0.0)
    total = _running_sum(np.ascontiguousarray(indices.transpose(0, 2, 1)).reshape(-1, count))
    parts = used.sum(axis=1).reshape(-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        means = total / parts
    # `_untilted` of every table, tilted at once: the item mean on the levels of those with
    # index items, their classes tilted to it; the others' index their classes as they are
    tilted = [[i for i, k in enumerate(parts[t * size : (t + 1) * size].tolist()) if k > 0]
              for t in range(len(views))]  # fmt: skip
    chosen = np.array([t * size + i for t, some in enumerate(tilted) for i in some], dtype=np.intp)
    target = levels[0] + (levels[-1] - levels[0]) * means[chosen] / 100.0
    rows = retarget_rows(classes.reshape(-1, len(levels))[chosen], levels, target.tolist())
    out, start = [], 0
    for t, (table, period) in enumerate(views):
        # kept as `_keep_tilted` keeps them (nothing was kept: `_kept` would make each)
        index = classes[t].copy()
        index[tilted[t]] = rows[start : start + len(tilted[t])]
        start += len(tilted[t])
        index.flags.writeable = False
        store = table._figures
        if len(store) + size > MAX_FIGURES:
            store.clear()
        for office, row in zip(offices, index, strict=True):
            store[INDEX_ITEM, (office,), period] = row
        if t < len(tables):
            out.append(index.copy())
    return out


def _runs_at_once(
    table: ProtectedTable, offices: tuple[int, ...], months: tuple[str, ...]
) -> tuple[np.ndarray, ...]:
    """`table._runs_made(offices, months)` (`_walked`'s runs of each office as arrays) from
    the table's block arrays, every office at once: a run is a longest stretch of an
    office's shown blocks inside the months, broken where a calendar year begins; its base
    is the end of the block before its first (−1: none, or that block starts a year). In
    `_walked`'s order: by office as in `offices`, then by month. `offices` without repeats."""
    return _stacked_runs([table], offices, months)[0]


def _runs_of_tables(
    tables: Sequence[ProtectedTable], offices: tuple[int, ...], months: tuple[str, ...]
) -> None:
    """Keep `_runs_at_once(table, offices, months)` of each table not keeping them yet, the
    tables of one grid at once (their block arrays stacked; each table's runs in the same
    order as alone), the others one by one."""
    missing = [t for t in tables if (offices, months) not in t._runs]
    grids = {(t.grid.offices, t.grid.months) for t in missing}
    if len(missing) < 2 or len(grids) != 1:
        for table in missing:
            _kept(table._runs, (offices, months), functools.partial(_runs_at_once, table))
        return
    for table, runs in zip(missing, _stacked_runs(missing, offices, months), strict=True):
        _kept(table._runs, (offices, months), lambda *_, runs=runs: runs)


def _stacked_runs(
    tables: Sequence[ProtectedTable], offices: tuple[int, ...], months: tuple[str, ...]
) -> list[tuple[np.ndarray, ...]]:
    """`_runs_at_once` of each of `tables` (one grid), their block arrays stacked: each
    table's runs in the same order as alone (by office, then month)."""
    first = tables[0]
    place = {first._office[o]: i for i, o in enumerate(offices) if o in first._office}
    cols = [first._month[m] for m in months if m in first._month]
    if not place or not cols:
        return [tuple(np.zeros(0, dtype=np.int64) for _ in range(4)) for _ in tables]
    low, high = min(cols), max(cols)
    last = np.stack([t._last for t in tables])
    which, rows, ends = np.nonzero(last == np.arange(last.shape[2]))  # by table, row, month
    begins = np.stack([t._first for t in tables])[which, rows, ends]
    starts_year = begins == first._year[begins]
    shown = np.stack([t._shown for t in tables])[which, rows, ends]
    inside = shown & (begins >= low) & (ends <= high)
    same = np.zeros(rows.size, dtype=bool)
    same[1:] = (rows[1:] == rows[:-1]) & (which[1:] == which[:-1])
    follows = same & ~starts_year  # the block after one of the same office and year
    before = np.where(follows, np.concatenate([[-1], ends[:-1]]), -1)
    goes_on = np.zeros(rows.size, dtype=bool)
    goes_on[1:] = inside[1:] & inside[:-1] & follows[1:]
    start = np.flatnonzero(inside & ~goes_on)
    closing = np.flatnonzero(inside & ~np.concatenate([goes_on[1:], [False]]))
    owner = np.array([place.get(r, -1) for r in rows[start].tolist()], dtype=np.int64)
    wanted = owner >= 0
    table_of = which[start][wanted]
    order = np.lexsort((owner[wanted], table_of))  # by table, then office; stable
    found = [a[wanted][order].astype(np.int64)
             for a in (owner, rows[start], ends[closing], before[start])]  # fmt: skip
    cut = np.searchsorted(table_of[order], np.arange(len(tables) + 1))
    return [tuple(np.ascontiguousarray(a[cut[t] : cut[t + 1]]) for a in found)
            for t in range(len(tables))]  # fmt: skip


def noise_variances_each(
    tables: Sequence[ProtectedTable], item: str, offices: Sequence[int], months: Iterable[str]
) -> list[list[float]]:
    """`table.noise_variance_each(item, offices, months)` of each table (and kept as it
    keeps them), the tables of one grid (a page's client mix: its view and its single-filter
    views) at once: their running totals' variances (`_running_variances_each`), every
    table's runs gathered in one pass, and each office's terms added from 0.0 in the order
    of its runs (`np.add.at` adds in the order given), as `noise_variance_each` adds them:
    the same bits (tests/unit/test_dashboard_mix_stacked.py)."""
    offices, months = tuple(offices), tuple(months)
    shapes = {(t._totals[item].shape, t.grid.months) if item in t._totals else None
              for t in tables}  # fmt: skip
    kept = any((item, (o,), months) in t._variances for t in tables for o in offices)
    repeats = len(set(offices)) != len(offices)
    if len(tables) < 2 or len(shapes) != 1 or None in shapes or kept or repeats:
        return [t.noise_variance_each(item, offices, months) for t in tables]
    totals = np.stack([t._totals[item] for t in tables])
    variances = _running_variances_each(tables, item)
    runs = [t._runs_each(offices, months) for t in tables]
    which = np.concatenate([np.full(r[0].size, t, dtype=np.int64) for t, r in enumerate(runs)])
    owner, rows, ends, bases = (np.concatenate([r[k] for r in runs]) for k in range(4))
    term, same = _run_terms(totals, variances, (which, rows), ends, bases)
    found = np.zeros((len(tables), len(offices)))
    np.add.at(found, (which[~same], owner[~same]), term[~same])
    out = found.tolist()
    for table, each in zip(tables, out, strict=True):
        store = table._variances
        if len(store) + len(offices) > MAX_FIGURES:
            store.clear()
        for office, variance in zip(offices, each, strict=True):
            store[item, (office,), months] = variance
    return out


def _running_variances_each(tables: Sequence[ProtectedTable], item: str) -> np.ndarray:
    """`table._running_variances(item)` of each table (tables × offices × months; kept by
    each as it keeps its own), those not kept yet worked out at once: the same choices of
    the same three variances, per year of the grid (the tables of one grid)."""
    missing = [t for t in tables if item not in t._variance_arrays]
    if missing:
        totals = np.stack([t._totals[item] for t in missing])
        count, offices, size = totals.shape[:3]
        ends = np.stack([t._last for t in missing]) == np.arange(size)
        anyone = totals.any(axis=3) & ends
        out = np.zeros((count, offices, size))
        year = missing[0]._year
        starts = np.flatnonzero(year == np.arange(size)).tolist()
        at = (np.arange(count)[:, None], np.arange(offices)[None, :])
        for begin, end in zip(starts, [*starts[1:], size], strict=True):
            some = anyone[:, :, begin:end]
            first = totals[(*at, begin + some.argmax(axis=2))]  # levels
            same = (totals[:, :, begin:end] == first[:, :, None, :]).all(axis=3)
            out[:, :, begin:end] = np.where(some, np.where(same, FIRST_VARIANCE, NOISE_VARIANCE),
                                            0.0)  # fmt: skip
        for table, found in zip(missing, out, strict=True):
            found.flags.writeable = False
            table._variance_arrays[item] = found
    return np.stack([t._variance_arrays[item] for t in tables])


def _year_starts(months: Sequence[str]) -> np.ndarray:
    """For each month of a grid, the number of the first month of its calendar year in the
    grid (the grid's first month for the first year)."""
    out = np.zeros(len(months), dtype=np.int64)
    for m in range(1, len(months)):
        out[m] = m if months[m].endswith("-01") else out[m - 1]
    return out


def nonnegative(counts: np.ndarray, levels: Sequence[float] | None = None) -> np.ndarray:
    """Whole non-negative counts with the same total (cut at zero) as the perturbed `counts`
    and, given the levels' values, the same mean.

    Cutting each level at zero on its own would add the positive noise of every empty level
    to n (an office with one response would show about four); instead the total is kept and
    shared out over the positive levels. Shared in proportion, the noise cut at zero on the
    empty levels would still move responses onto them and pull the mean towards the middle
    of the scale, the more the smaller the figure (about 3 index points at 30 responses,
    bench/disclosure.py). So the shares are tilted (p_l · exp(θ·x_l), the closest
    distribution in Kullback–Leibler divergence with that mean) until their mean is the
    perturbed counts' own mean, whose noise has mean zero; then they are rounded by largest
    remainder. Everything here is a function of the perturbed counts alone.
    """
    total = max(0, round(float(counts.sum())))
    positive = np.clip(counts, 0, None)
    if total == 0 or positive.sum() <= 0:
        return np.zeros_like(counts, dtype=float)
    share = positive * (total / positive.sum())
    if levels is not None and bool((counts < 0).any()):  # else the shares keep the mean
        share = total * _tilted(positive / positive.sum(), counts, levels)
    out = np.floor(share)
    left = total - int(out.sum())
    if left > 0:
        out[np.argsort(-(share - out), kind="stable")[:left]] += 1
    result: np.ndarray = out
    return result


def nonnegative_rows(counts: np.ndarray, levels: Sequence[float]) -> np.ndarray:
    """`nonnegative(row, levels)` of each row of `counts` (whole numbers), in a few array
    operations: the same arithmetic, element by element (the rows with a negative count
    tilted to their mean by `_tilt_rows`, the others shared in proportion; a stable sort per
    row)."""
    counts = np.asarray(counts, dtype=np.float64)
    out = np.zeros_like(counts)
    if not counts.size:
        return out
    total = np.maximum(0.0, np.round(counts.sum(axis=1)))
    positive = np.clip(counts, 0, None)
    spread = positive.sum(axis=1)
    some = (total > 0) & (spread > 0)
    if not some.any():
        return out
    negative = np.asarray((counts < 0).any(axis=1))[some]
    total, positive, spread = total[some], positive[some], spread[some]
    share = positive * (total / spread)[:, None]
    if negative.any():  # the shares tilted to keep the mean (`_tilted`)
        signed = counts[some][negative]
        lv = np.asarray(levels, dtype=np.float64)
        # whole numbers (and whole multiples of the levels): exact in any order
        means = _running_sum(lv[None, :] * signed) / _running_sum(signed)
        p = positive[negative] / spread[negative][:, None]
        share[negative] = total[negative][:, None] * _tilt_rows(p, levels, means.tolist())
    whole = np.floor(share)
    left = total - whole.sum(axis=1)
    order = np.argsort(-(share - whole), axis=1, kind="stable")
    rank = np.empty_like(order)
    rank[np.arange(len(order))[:, None], order] = np.arange(counts.shape[1])[None, :]
    out[some] = whole + (rank < left[:, None])
    return out


def _tilted(p: np.ndarray, counts: np.ndarray, levels: Sequence[float]) -> np.ndarray:
    """The distribution p · exp(θ·x) / Σ whose mean is that of the signed `counts` (`_tilt`)."""
    signed = counts.tolist()
    mean = sum(float(v) * c for v, c in zip(levels, signed, strict=True)) / sum(signed)
    return _tilt(p, levels, mean)


def _tilt(p: np.ndarray, levels: Sequence[float], mean: float) -> np.ndarray:
    """The distribution p · exp(θ·x) / Σ whose mean on `levels` is `mean` (held inside the
    range p covers), x the levels scaled to −½…½; θ by Newton's method kept inside a bracket
    (the mean grows with θ, its derivative is the variance). Plain floats: a figure has 5 to
    17 levels, too few for numpy to pay."""
    span = float(levels[-1] - levels[0]) or 1.0
    x = [(float(v) - float(levels[0])) / span - 0.5 for v in levels]
    ps = p.tolist()
    on = [xi for xi, pi in zip(x, ps, strict=True) if pi > 0]
    if len(on) < 2:
        return p
    target = (mean - float(levels[0])) / span - 0.5
    target = min(max(target, min(on)), max(on))
    pairs = [(xi, pi) for xi, pi in zip(x, ps, strict=True) if pi > 0]
    low, high, theta = -80.0, 80.0, 0.0
    for _ in range(50):
        w = [pi * math.exp(theta * xi) for xi, pi in pairs]
        total = sum(w)
        mean = sum(wi * xi for wi, (xi, _) in zip(w, pairs, strict=True)) / total
        gap = mean - target
        if abs(gap) < 1e-7:
            break
        if gap < 0:
            low = theta
        else:
            high = theta
        variance = sum(wi * (xi - mean) ** 2 for wi, (xi, _) in zip(w, pairs, strict=True))
        variance /= total
        step = theta - gap / variance if variance > 1e-12 else low - 1.0
        theta = step if low < step < high else (low + high) / 2
    out = np.array([pi * math.exp(theta * xi) for xi, pi in zip(x, ps, strict=True)])
    tilted: np.ndarray = out / out.sum()
    return tilted


def retarget(counts: np.ndarray, levels: Sequence[float], mean: float) -> np.ndarray:
    """Whole counts with the total of the whole non-negative `counts` and, as near as whole
    counts on these equally spaced levels allow (half a step over n), the given `mean`.

    The shares are tilted to the mean (`_tilt`: p_l · exp(θ·x_l), the distribution closest
    to the counts' own in Kullback–Leibler divergence that has it) and rounded by largest
    remainder; what rounding (or a mean outside the levels the counts use) leaves is closed
    by moving single answers to the next level, each time the one whose level is most over
    its share and whose neighbour most under it. A function of the published counts and of
    the published mean alone."""
    total = round(float(counts.sum()))
    out = np.asarray(counts, dtype=np.float64).copy()
    if total <= 0 or len(levels) < 2:
        return out
    lv = np.asarray(levels, dtype=np.float64)
    mean = min(max(float(mean), float(lv[0])), float(lv[-1]))
    share = total * _tilt(out / out.sum(), levels, mean)
    out = np.floor(share)
    left = total - int(out.sum())
    if left > 0:
        out[np.argsort(-(share - out), kind="stable")[:left]] += 1
    step = float(lv[1] - lv[0])
    moves = round((mean * total - float(out @ lv)) / step)
    count = min(abs(moves), total * len(lv))
    if count > 0:  # one answer at a time a level up (from l to l + 1) or down
        row = out.tolist()
        _moved_row(row, share.tolist(), count, moves > 0)
        out = np.array(row)
    result: np.ndarray = out
    return result


def retarget_rows(counts: np.ndarray, levels: Sequence[float], means: Sequence[float]
                  ) -> np.ndarray:  # fmt: skip
    """`retarget(row, levels, mean)` of each row of the whole non-negative `counts` with its
    mean: the tilt row by row (`_tilt`), the rounding and the single moves of every row at
    once, the same arithmetic element by element (a stable sort and the first largest gain
    per row), so the same counts (tests/unit/test_dashboard_index.py compares them)."""
    counts = np.asarray(counts, dtype=np.float64)
    out = counts.copy()
    # whole numbers: the same sums in any order, rounded half to even as `round`
    totals = np.rint(counts.sum(axis=1))
    live = np.flatnonzero(totals > 0)
    if not live.size or len(levels) < 2:
        return out
    lv = np.asarray(levels, dtype=np.float64)
    total = totals[live]
    mean = np.minimum(np.maximum(np.asarray(means, dtype=np.float64)[live], lv[0]), lv[-1])
    used = counts[live]
    # whole numbers: the same sums in any order
    share = total[:, None] * _tilt_rows(used / used.sum(axis=1, keepdims=True), levels, mean)
    whole = np.floor(share)
    left = total - whole.sum(axis=1)  # whole numbers: exact
    order = np.argsort(-(share - whole), axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(len(levels))[None, :], axis=1)
    whole += rank < left[:, None]
    step = float(lv[1] - lv[0])
    # whole counts on levels that are whole multiples of a power of two: `whole @ lv` is
    # exact in any order, so each row's the same as alone
    moves = np.rint((mean * total - whole @ lv) / step).astype(np.int64)
    remaining = np.minimum(np.abs(moves), total.astype(np.int64) * len(lv))
    _moved(whole, share, remaining, moves > 0)
    out[live] = whole
    return out


def _moved_row(out: list[float], share: list[float], count: int, up: bool) -> None:
    """`retarget`'s single moves of one row (in place): `count` of them, up (one answer from
    level l to l + 1) or down (from l + 1 to l), each where the gain (the difference of
    the two neighbours' over = out − share, the one losing an answer holding one) is the
    first largest; the first level when none holds one (as numpy's argmax of −inf). A move
    changes two levels, so only the three gains next to them are worked out again, each
    with the same operations on the same floats as all of them: the same choices (the
    moves were numpy steps over the whole row, some 10 µs a move)."""
    size = len(out) - 1
    over = [o - s for o, s in zip(out, share, strict=True)]

    def gain(at: int) -> float:
        if up:
            return over[at] - over[at + 1] if out[at] > 0 else -math.inf
        return over[at + 1] - over[at] if out[at + 1] > 0 else -math.inf

    gains = [gain(at) for at in range(size)]
    for _ in range(count):
        at = max(range(size), key=gains.__getitem__)  # the first largest
        if up:
            out[at], out[at + 1] = out[at] - 1, out[at + 1] + 1
        else:
            out[at + 1], out[at] = out[at + 1] - 1, out[at] + 1
        over[at], over[at + 1] = out[at] - share[at], out[at + 1] - share[at + 1]
        for near in range(max(at - 1, 0), min(at + 2, size)):
            gains[near] = gain(near)


def _moved(out: np.ndarray, share: np.ndarray, count: np.ndarray, up: np.ndarray) -> None:
    """`retarget`'s single moves of each row of `out` (in place): `count` of them, up (from
    level l to l + 1) or down, every row at once, move after move: the same arithmetic
    (over = out − share, gain = the difference of two neighbours' over) and the same choice
    (the first largest gain among the levels that hold an answer; the first level when none
    does: numpy's argmax of −inf, as `retarget`). Rows whose moves are few against the
    longest's (an office page's trend, one table's offices) go row by row (`_moved_row`,
    the same choices), where numpy's steps over every row still moving cost more. The others go
    by count, the most first, so that those still moving at each step are the first ones
    (views, not copies); a move down's gain is the move up's negated (the same float: IEEE
    subtraction is antisymmetric)."""
    if len(out) and int(count.sum()) < MOVES_ROW_BY_ROW * int(count.max(initial=0)):
        for r in np.flatnonzero(count > 0).tolist():
            row = out[r].tolist()
            _moved_row(row, share[r].tolist(), int(count[r]), bool(up[r]))
            out[r] = row
        return
    chosen = np.flatnonzero(count > 0)
    if not chosen.size:
        return
    chosen = chosen[np.argsort(-count[chosen], kind="stable")]
    rows, part, left = out[chosen], share[chosen], count[chosen].tolist()
    upward, index = up[chosen], np.arange(len(chosen))
    moving = len(left)
    for k in range(left[0]):
        while left[moving - 1] <= k:  # (the first row moves left[0] times: never empty)
            moving -= 1
        o, at_k, rising = rows[:moving], index[:moving], upward[:moving]
        over = o - part[:moving]
        held = o > 0
        step = over[:, :-1] - over[:, 1:]  # the gain of a move up from l; down to l: −step
        gain_up = np.where(held[:, :-1], step, -np.inf)
        gain_down = np.where(held[:, 1:], -step, -np.inf)
        at = np.where(rising, gain_up.argmax(axis=1), gain_down.argmax(axis=1))
        after = at + 1
        o[at_k, np.where(rising, at, after)] -= 1
        o[at_k, np.where(rising, after, at)] += 1
    out[chosen] = rows


MOVES_ROW_BY_ROW = 12
"""`_moved` goes row by row when all rows' moves are fewer than this times the most of one
row: a move row by row takes some 2.5 µs, a numpy step over every row still moving 35 µs
(2026-11-30, q36: an office page's trend, 5 rows and 36 moves, 0.50 -> 0.10 ms; a client-mix
adjustment's 160 rows and 1126 moves stay numpy's)."""


def _tilt_rows(p: np.ndarray, levels: Sequence[float], means: Sequence[float]) -> np.ndarray:
    """`_tilt(row, levels, mean)` of each row of `p` with its mean, every row at once: the
    same Newton steps on the same floats (each sum added from the left, as `sum` adds in
    Python 3.11; exp and the squares by `math`, as `_tilt` works them out; a level without
    share adds zeros), each row stopping where `_tilt` stops, so the same bits
    (tests/unit/test_dashboard_index.py compares them)."""
    p = np.asarray(p, dtype=np.float64)
    out = p.copy()
    span = float(levels[-1] - levels[0]) or 1.0
    x = np.array([(float(v) - float(levels[0])) / span - 0.5 for v in levels])
    on = p > 0
    tilted = np.flatnonzero(on.sum(axis=1) >= 2)  # else the row as it is
    if not tilted.size:
        return out
    p, on = p[tilted], on[tilted]
    target = (np.asarray(means, dtype=np.float64)[tilted] - float(levels[0])) / span - 0.5
    target = np.minimum(np.maximum(target, np.where(on, x, np.inf).min(axis=1)),
                        np.where(on, x, -np.inf).max(axis=1))  # fmt: skip
    low, high = np.full(len(tilted), -80.0), np.full(len(tilted), 80.0)
    theta = np.zeros(len(tilted))
    live = np.arange(len(tilted))  # the rows still stepping
    for _ in range(50):
        t, lo, hi = theta[live], low[live], high[live]
        w = p[live] * _exp(t[:, None] * x[None, :])
        total = _running_sum(w)
        mean = _running_sum(w * x[None, :]) / total
        gap = mean - target[live]
        going = ~(np.abs(gap) < 1e-7)
        if not going.any():
            break
        live, t, lo, hi, w, total, mean, gap = (a[going] for a in (live, t, lo, hi, w, total,
                                                                   mean, gap))  # fmt: skip
        lo, hi = np.where(gap < 0, t, lo), np.where(gap < 0, hi, t)
        deviation = x[None, :] - mean[:, None]
        squares = np.fromiter(map(math.pow, deviation.ravel().tolist(), itertools.repeat(2.0)),
                              np.float64, deviation.size).reshape(deviation.shape)  # fmt: skip
        variance = _running_sum(w * squares) / total
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(variance > 1e-12, t - gap / variance, lo - 1.0)
        low[live], high[live] = lo, hi
        theta[live] = np.where((lo < step) & (step < hi), step, (lo + hi) / 2)
    found = p * _exp(theta[:, None] * x[None, :])
    # each row summed alone along its contiguous levels, as `_tilt` sums its one row
    out[tilted] = found / found.sum(axis=1)[:, None]
    return out


def _exp(a: np.ndarray) -> np.ndarray:
    """`math.exp` of each element (numpy's own exp may differ from it in the last bit)."""
    return np.fromiter(map(math.exp, a.ravel().tolist()), np.float64, a.size).reshape(a.shape)


def _from_left(values: Iterable[float]) -> float:
    """The floats added one after the other from 0.0: what Python 3.11's `sum` does, and
    what `_running_sum` does row by row. Python 3.12's `sum` compensates its rounding (r28), so
    the figures worked out for one office (`index_noise`, `_scaled`, `_item_mean`) and for
    every office at once (`index_noise_each`, `_item_means`) add with this, on any Python."""
    return functools.reduce(operator.add, values, 0.0)


def _running_sum(a: np.ndarray) -> np.ndarray:
    """Each row's sum added from the left, as `_from_left` adds from 0.0 (a running sum, one
    addition after the other; + 0.0 turns a sum of −0.0s into 0.0, as `_from_left`)."""
    if not a.shape[1]:
        return np.zeros(a.shape[0])
    found: np.ndarray = np.cumsum(a, axis=1)[:, -1] + 0.0
    return found


def _scaled(
    levels: tuple[float, ...], counts: np.ndarray
) -> tuple[tuple[float, ...], float, float]:
    """The levels on the index scale (0–100), the counts' index and n (plain floats: five
    to 17 levels, too few for numpy to pay)."""
    x = _index_scale(levels)
    c = counts.tolist()
    n = _from_left(c)
    return x, _from_left(v * k for v, k in zip(x, c, strict=True)) / n if n > 0 else math.nan, n


@functools.lru_cache(maxsize=64)
def _index_scale(levels: tuple[float, ...]) -> tuple[float, ...]:
    return tuple(100.0 * (v - levels[0]) / (levels[-1] - levels[0]) for v in levels)


def _item_mean(parts: Sequence[tuple[str, np.ndarray]], grid: Grid) -> float:
    """The mean of the index items' indices (0–100)."""
    return _from_left(_scaled(grid.levels[code], c)[1] for code, c in parts) / len(parts)


def _code(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def _true_n(rows: CountColumns, grid: Grid) -> np.ndarray:
    """True numbers of responses per office × month of the grid (of the index item, or the
    grid's first item when it has no index)."""
    item = INDEX_ITEM if INDEX_ITEM in grid.levels else next(iter(grid.levels), INDEX_ITEM)
    out = np.zeros((len(grid.offices), len(grid.months)))
    if item not in rows.items:
        return out
    office_no, known = _office_numbers(rows.office, grid)
    mine = (rows.item_no == rows.items.index(item)) & known
    month_no = _month_numbers(rows.month_no[mine], grid)
    inside = month_no >= 0
    cell = office_no[mine][inside] * len(grid.months) + month_no[inside]
    # whole numbers: the same sums in any order
    found = np.bincount(cell, weights=rows.n[mine][inside], minlength=out.size)
    return found.astype(np.float64).reshape(out.shape)


def _office_numbers(office: np.ndarray, grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """Each row's office as its number in the grid, and whether the grid has it."""
    offices = np.array(grid.offices, dtype=np.int64)
    if not len(offices):
        return np.zeros(office.size, np.int64), np.zeros(office.size, bool)
    order = np.argsort(offices)
    spot = np.searchsorted(offices[order], office).clip(0, len(offices) - 1)
    office_no = order[spot]
    return office_no, offices[office_no] == office


def _month_numbers(month_no: np.ndarray, grid: Grid) -> np.ndarray:
    """Each row's month (`CountColumns.month_no`) as its number in the grid (−1: not in the
    grid)."""
    if not month_no.size:
        return np.zeros(0, np.int64)
    numbers = [month_number(m) for m in grid.months]
    valid = [m for m in numbers if m >= 0]
    if not valid:
        return np.full(month_no.size, -1, np.int64)
    low = min(valid)
    at = np.full(max(valid) - low + 1, -1, np.int64)
    for i, m in reversed(list(enumerate(numbers))):  # the first of a month named twice
        if m >= 0:
            at[m - low] = i
    spot = month_no - low
    inside = (spot >= 0) & (spot < at.size)
    found: np.ndarray = np.where(inside, at[np.where(inside, spot, 0)], -1)
    return found


def protect(
    rows: CountColumns | Iterable[CountRow],
    grid: Grid,
    dimension: Mapping[str, CountColumns | Iterable[CountRow]] | None = None,
) -> ProtectedTable:
    """Perturb the count rows of `grid` (one filter) into a protected table.

    Rows of offices, months or items outside the grid, and of months after
    `grid.published_through`, are left out; index values are put into their quarter-point
    classes before anything else. For a filtered view, `dimension` gives the index rows of
    every value of the filter's dimension (the view's own value too), by value: a block of
    a filtered view needs each of them to be none or at least the minimum.
    """
    columns = _published(CountColumns.of(rows), grid)
    counts, keys = _cells(columns, grid)
    n = _true_n(columns, grid)
    values = None
    if dimension is not None:
        values = np.array([_true_n(_published(CountColumns.of(value_rows), grid), grid)
                           for value_rows in dimension.values()])  # fmt: skip
        values = values.reshape(len(dimension), *n.shape)
    first, last = blocks(n, grid.months, grid.min_n, values)
    shown = None if values is None else shown_blocks(n, first, last, grid.min_n)
    year = _year_starts(grid.months)
    where = _mix(np.array(grid.offices, dtype=np.uint64))[:, None]
    ends = last == np.arange(len(grid.months))[None, :]  # block ends
    # an item without levels has no cells (its totals stay empty; r29: it must not empty the
    # others')
    empty = {item: counts[item] * 0.0 for item in grid.levels if not grid.levels[item]}
    items = [item for item in grid.levels if grid.levels[item]]
    widths = [len(grid.levels[item]) for item in items]
    if not items:
        return ProtectedTable(grid, empty, first, last, shown)
    # every item's cells side by side (offices × months × all items' levels): the same
    # operations, element by element, as item by item
    c = _running(np.concatenate([counts[item] for item in items], axis=2), year)
    k = _running(np.concatenate([keys[item] for item in items], axis=2), year)
    starts = np.cumsum([0, *widths[:-1]])
    # each item's answers summed as one item's cells alone sum (r29: reduceat adds in another
    # order, which rounds otherwise above 2**53)
    n = np.stack([c[:, :, at : at + width].sum(axis=2)
                  for at, width in zip(starts.tolist(), widths, strict=True)], axis=2)  # fmt: skip
    with np.errstate(over="ignore"):  # key sums wrap around 2**64 in any order
        key_total = np.add.reduceat(k, starts, axis=2, dtype=np.uint64)
    first_total = np.stack([_first_totals(n[:, :, i], ends, year) for i in range(len(items))],
                           axis=2)  # fmt: skip
    position = np.concatenate(
        [_mix(_mix(where[:, :, None] ^ np.uint64(_code(item)))
              ^ np.arange(width, dtype=np.uint64)[None, None, :])
         for item, width in zip(items, widths, strict=True)], axis=2)  # fmt: skip
    key = cell_keys(k, np.repeat(key_total, widths, axis=2),
                    np.broadcast_to(position, k.shape))  # fmt: skip
    noise = noise_for(key, np.repeat(first_total, widths, axis=2))
    answered = np.repeat(n > 0, widths, axis=2)
    found = np.where(ends[:, :, None], c + np.where(answered, noise, 0), 0.0)
    totals = {item: np.ascontiguousarray(found[:, :, at : at + width])
              for item, at, width in zip(items, starts.tolist(), widths, strict=True)}  # fmt: skip
    totals |= empty
    return ProtectedTable(grid, {item: totals[item] for item in grid.levels}, first, last, shown)


def joined(grid: Grid, parts: Sequence[ProtectedTable]) -> ProtectedTable:
    """The table `protect` makes for `grid` (months from a January), put together from tables
    of its calendar years: `parts` in order, each of the grid's offices, levels, minimum and
    last published month, beginning at the grid's next month, a January (or the grid's first
    month), and holding at least the grid's months of its year from there (e.g. the whole
    year: a table of a year serves every period that reaches into it).

    `protect` works through each office's calendar year month by month and never looks ahead
    (blocks close on what came before, running totals and their keys start in January, the
    year's first running total is the first with anyone), with one exception: a block still
    open at the grid's last month is in no block. So a part's months up to the grid's last
    are the grid's, once the blocks that close after that month are taken out (in no block,
    not shown: as `blocks` leaves them), and their running totals are none (a month inside a
    block is no block's end). Proven against `protect` for every period and filter
    (tests/unit/test_dashboard_year_tables.py, tests/integration/
    test_dashboard_year_tables.py)."""
    size = len(grid.months)
    totals: dict[str, list[np.ndarray]] = {item: [] for item in grid.levels}
    firsts, lasts, showns = [], [], []
    at = 0
    for part in parts:
        axes = (part.grid.offices, dict(part.grid.levels), part.grid.min_n,
                part.grid.published_through)  # fmt: skip
        if axes != (grid.offices, dict(grid.levels), grid.min_n, grid.published_through):
            raise ValueError("a part of another grid")
        take = min(len(part.grid.months), size - at)
        if take <= 0 or part.grid.months[:take] != grid.months[at : at + take]:
            raise ValueError("a part of other months")
        if at > 0 and not grid.months[at].endswith("-01"):
            raise ValueError("a part that does not begin in January")
        first, last = part._first[:, :take], part._last[:, :take]
        open_ = last >= take  # its block closes after the grid's last month
        firsts.append(np.where(open_ | (first < 0), -1, first + at))
        lasts.append(np.where(open_ | (last < 0), -1, last + at))
        showns.append(part._shown[:, :take] & ~open_)
        for item in grid.levels:
            totals[item].append(part._totals[item][:, :take])
        at += take
    if at != size:
        raise ValueError("parts short of the grid's months")
    shown = np.concatenate(showns, axis=1) if any(p._filtered for p in parts) else None
    return ProtectedTable(
        grid,
        {item: np.concatenate(found, axis=1) for item, found in totals.items()},
        np.concatenate(firsts, axis=1),
        np.concatenate(lasts, axis=1),
        shown,
    )


def _published(rows: CountColumns, grid: Grid) -> CountColumns:
    """The rows of months up to `grid.published_through`."""
    if grid.published_through is None or not len(rows):
        return rows
    return rows.where(rows.month_no <= month_number(grid.published_through))


def _first_totals(n: np.ndarray, ends: np.ndarray, year: np.ndarray) -> np.ndarray:
    """Where a running total (offices × months: its number of responses `n`, at the block
    ends `ends`) holds exactly the responses of its year's first block with anyone in it:
    nothing is subtracted from it in any figure. Later running totals with the same responses
    (blocks nobody answered in) are the same set and get the same noise."""
    out = np.zeros(n.shape, dtype=bool)
    starts = np.flatnonzero(year == np.arange(year.size)).tolist()
    for begin, end in zip(starts, [*starts[1:], year.size], strict=True):
        seen = np.where(ends[:, begin:end], n[:, begin:end], 0.0)
        some = seen > 0
        first = seen[np.arange(n.shape[0]), some.argmax(axis=1)]  # 0 when nobody answered
        out[:, begin:end] = some & (seen == first[:, None])
    return out


def _running(cells: np.ndarray, year: np.ndarray) -> np.ndarray:
    """Sums of the cells (offices × months × levels) from the start of each month's calendar
    year through the month (key sums wrap around 2**64 like the key sums themselves)."""
    out = np.empty_like(cells)
    starts = np.flatnonzero(year == np.arange(year.size))
    for begin, end in zip(starts, [*starts[1:], year.size], strict=True):
        with np.errstate(over="ignore"):
            np.cumsum(cells[:, begin:end], axis=1, out=out[:, begin:end])
    return out


def _cells(rows: CountColumns, grid: Grid) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """True counts and record-key sums per item as offices × months × levels: every row's
    place in one array of all items' cells, summed there at once (a key sum put in place
    when no other row shares its cell, as the rollup's rows never do)."""
    value = rows.value
    n, key = rows.n.astype(np.float64), rows.key_sum.astype(np.uint64)
    office_no, known = _office_numbers(rows.office, grid)
    month_no = _month_numbers(rows.month_no, grid)
    place = np.full(len(rows), -1, dtype=np.int64)
    cells = office_no * len(grid.months) + month_no  # each row's office × month
    kept = known & (month_no >= 0)
    layout = []
    begin = 0
    for item, levels in grid.levels.items():
        layout.append((item, begin, (len(grid.offices), len(grid.months), len(levels))))
        if item in rows.items:
            if item == INDEX_ITEM:
                level = np.clip(np.floor(CLASSES * value / INDEX_SCALE + 0.5).astype(np.int64)
                                - CLASSES, 0, len(INDEX_LEVELS) - 1)  # fmt: skip
            else:  # a scale's levels are the whole numbers from its minimum to its maximum
                level = value - int(levels[0])
            mine = (rows.item_no == rows.items.index(item)) & kept
            mine &= (level >= 0) & (level < len(levels))
            place[mine] = begin + cells[mine] * len(levels) + level[mine]
        begin += len(grid.offices) * len(grid.months) * len(levels)
    used = place >= 0
    at = place[used]
    # whole numbers: the same sums in any order
    all_counts = np.bincount(at, weights=n[used], minlength=begin).astype(np.float64)
    all_keys = np.zeros(begin, dtype=np.uint64)
    if at.size and int(np.bincount(at).max()) > 1:
        with np.errstate(over="ignore"):
            np.add.at(all_keys, at, key[used])
    else:
        all_keys[at] = key[used]
    counts: dict[str, np.ndarray] = {}
    keys: dict[str, np.ndarray] = {}
    for item, first, shape in layout:
        size = shape[0] * shape[1] * shape[2]
        counts[item] = all_counts[first : first + size].reshape(shape)
        keys[item] = all_keys[first : first + size].reshape(shape)
    return counts, keys


HIDDEN_UNIT = "hidden: would reveal a single office or job centre"
HIDDEN_FEW = "hidden: would reveal fewer than the minimum number of responses"


def pooled_figure_hidden(
    scope: Scope,
    pooled: Collection[int],
    known: Iterable[Collection[int]],
    n_of: Mapping[int, int],
    min_n: int,
) -> str | None:
    """Why a pooled figure (job centre, network, comparison group, benchmark target) must not
    be shown, or None.

    Take away from `pooled` every block of offices whose figure the user already sees (a
    visible office shown with its index, a pooled row shown); the rest is what subtraction
    reveals. Hidden when the rest has fewer than `min_n` responses, or is one office, or its
    offices the user may not see are one office or one whole job centre.
    """
    return hidden_rest(scope, pooled, seen_blocks(known), n_of, min_n)


def seen_blocks(known: Iterable[Collection[int]]) -> list[set[int]]:
    """The blocks of offices whose figures the user sees, largest first, as
    `pooled_figure_hidden` takes them away (for `hidden_rest`: put in order once for the
    pools of one question, not once per pool)."""
    return sorted(map(set, known), key=len, reverse=True)


def hidden_rest(
    scope: Scope,
    pooled: Collection[int],
    blocks: Sequence[set[int]],
    n_of: Mapping[int, int],
    min_n: int,
) -> str | None:
    """`pooled_figure_hidden` with the blocks seen already in order (`seen_blocks`)."""
    rest = set(pooled)
    for block in blocks:
        if block and block <= rest:
            rest -= block
    rest = {o for o in rest if n_of.get(o, 0) > 0}
    if not rest:
        return None
    if sum(n_of[o] for o in rest) < min_n:
        return HIDDEN_FEW
    unseen = rest - scope.visible
    if len(rest) == 1 or len(unseen) == 1:
        return HIDDEN_UNIT
    organizations = {o.organization_id for o in scope.group if o.id in unseen}
    if len(organizations) == 1:
        (org,) = organizations
        whole = {o.id for o in scope.group if o.organization_id == org and n_of.get(o.id, 0)}
        if unseen == whole:
            return HIDDEN_UNIT
    return None


def hidden_pools(
    scope: Scope,
    table: ProtectedTable,
    months: Sequence[str],
    min_n: int,
    item: str = INDEX_ITEM,
    n_of: Mapping[int, int] | None = None,
) -> dict[frozenset[int], str | None]:
    """Every pooled figure a page may show (the job centres of the visible offices, then the
    whole group) with the reason to hide it, decided once so that pages, CSV and API agree
    and no two of them together reveal what one hides. `item`: the figures of one question
    (its numbers of responses may differ from the index's). `n_of`: `table.n(item, [office],
    months)` of every office of the group, when the caller has them already."""
    if n_of is None:
        n_of = {o.id: table.n(item, [o.id], months) for o in scope.group}
    known: list[frozenset[int]] = [
        frozenset({o.id}) for o in scope.visible_offices if n_of[o.id] >= min_n
    ]
    by_org: dict[int, set[int]] = defaultdict(set)
    for o in scope.group:
        by_org[o.organization_id].add(o.id)
    pools = [
        frozenset(by_org[org]) for org in sorted({o.organization_id for o in scope.visible_offices})
    ]
    pools.append(frozenset(o.id for o in scope.group))
    decisions: dict[frozenset[int], str | None] = {}
    for pool in pools:
        if pool in decisions:
            continue
        decisions[pool] = pooled_figure_hidden(scope, pool, known, n_of, min_n)
        if decisions[pool] is None:
            known.append(pool)
    return decisions


def perturbed_cells(n: Sequence[int], key_sums: Sequence[int], names: Sequence[str]) -> np.ndarray:
    """Counts of cells that are never shown but enter published figures (the network's
    cross-tab of the client-mix adjusters, survey/dashboard/casemix.py): each perturbed once
    by the cell key method, its key made from the key sum of its responses and its name, so
    the same responses always get the same noise; an empty cell stays empty and no count
    goes below zero."""
    counts = np.asarray(n, dtype=np.float64)
    if not counts.size:
        return counts
    keys = np.array([int(k) % 2**64 for k in key_sums], dtype=np.uint64)
    position = np.array([_code("mix:" + name) for name in names], dtype=np.uint64)
    noise = noise_for(cell_keys(keys, keys, position))
    result: np.ndarray = np.clip(counts + np.where(counts > 0, noise, 0), 0, None)
    return result
