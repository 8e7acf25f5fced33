"""The protected table: the one place where counts become figures staff may see.

Every count on a dashboard page, chart, CSV download and results API answer comes out of
`protect()` and nowhere else:

1. **Grid.** A cell is office × calendar month × (no filter, or one service type, language
   or mode) × item × answer level. A figure for several months or several offices (a job
   centre, the network) is the *sum* of its cells, so two figures that overlap never give
   two independent looks at the same responses: their difference is a sum of cells that are
   themselves published, noise included.
2. **Perturbation** (cell key method; Thompson, Broadfoot and Elazar 2013; Giessing and Tent
   2019). Every response carries a random record key from the moment it is stored; the
   count tables keep the sum of the keys per row. A cell's key is made from the key sums of
   its level and of the whole cell (and its position in the grid), so it is uniform in
   [0, 1), changes whenever a response joins the cell and otherwise never: the same cell
   always gets the same noise. The key picks a noise from the fixed perturbation table
   `NOISE` (−2..+2, variance 1), which is added to every level count of a non-empty cell,
   zero counts included: if a zero stayed zero, the difference of two figures that differ
   by one response would show exactly which answer that response gave. A cell nobody
   answered in stays empty. Cells may go below zero inside the table; an office's published
   counts (sums over its months) are made whole and non-negative with their total kept
   (`nonnegative`), and a pooled count is the sum of its offices' published counts.
3. **Suppression.** A figure whose published n is below the minimum is withheld with its n;
   pooled figures also keep the subtraction rule (`pooled_figure_hidden`).
4. The analysis then works on the published counts only, so each page can be reproduced
   from its own numbers.

The composite index of a respondent (420 × the mean of their index items) is published in
half-point classes (1, 1.5, …, 5): nine levels instead of up to a hundred, so that the noise
of the empty levels does not swamp the index.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from survey.auth.schemas import Scope
from survey.dashboard.filters import month_index
from survey.dashboard.queries import CountRow
from survey.questionnaire import INDEX_ITEM, INDEX_SCALE

MAX_NOISE = 2
"""The largest change of one cell's count."""
VARIANCE = 1.0
"""The variance of the noise of one cell's count."""
INDEX_LEVELS = tuple(1 + k / 2 for k in range(9))
"""Half-point classes of a respondent's composite index on the 1–5 scale."""


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
"""p(noise = v) for v = −2..2: [0.0638, 0.2447, 0.3830, 0.2447, 0.0638]."""
_CUMULATIVE = np.cumsum(NOISE)
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


def noise_for(keys: np.ndarray) -> np.ndarray:
    """The noise the perturbation table gives each cell key (the lookup of the method)."""
    return np.searchsorted(_CUMULATIVE, keys, side="right").clip(0, NOISE.size - 1) - MAX_NOISE


@functools.cache
def index_level(value: int) -> int:
    """The half-point class (0..8) of a composite index stored as 420 × mean."""
    return min(8, max(0, math.floor(2 * value / INDEX_SCALE + 0.5) - 2))


@dataclass(frozen=True)
class Grid:
    """The axes of a protected table: offices, months (YYYY-MM, consecutive) and the levels
    of each item, and the filter the cells belong to (its code enters the cell position)."""

    offices: tuple[int, ...]
    months: tuple[str, ...]
    levels: Mapping[str, tuple[float, ...]]
    filter_code: int = 0


class ProtectedTable:
    """Perturbed cell counts per item as an array offices × months × levels.

    Only `counts()` (sums cut at zero) leaves this class: nothing else reads the cells.
    """

    def __init__(self, grid: Grid, cells: dict[str, np.ndarray]) -> None:
        self.grid = grid
        self._cells = cells
        self._office = {o: i for i, o in enumerate(grid.offices)}
        self._month = {m: i for i, m in enumerate(grid.months)}

    def levels(self, item: str) -> tuple[float, ...]:
        return self.grid.levels[item]

    def counts(self, item: str, offices: Iterable[int], months: Iterable[str]) -> np.ndarray:
        """The published counts per level of the figure made of these offices and months:
        each office's sum over the months made non-negative (`nonnegative`), then added up
        (so a pooled figure is exactly the sum of its offices' figures)."""
        cells = self._cells[item]
        rows = [self._office[o] for o in offices if o in self._office]
        cols = [self._month[m] for m in months if m in self._month]
        if not rows or not cols:
            return np.zeros(len(self.levels(item)))
        sums = cells[np.ix_(rows, cols)].sum(axis=1)
        total: np.ndarray = np.array([nonnegative(v) for v in sums]).sum(axis=0)
        return total

    def matrix(
        self, item: str, groups: Sequence[Iterable[int]], months: Iterable[str]
    ) -> np.ndarray:
        months = list(months)
        return np.array([self.counts(item, g, months) for g in groups]).reshape(
            len(groups), len(self.levels(item))
        )

    def n(self, item: str, offices: Iterable[int], months: Iterable[str]) -> int:
        return int(self.counts(item, offices, months).sum())


def nonnegative(counts: np.ndarray) -> np.ndarray:
    """Whole non-negative counts with the same total (cut at zero) as the perturbed `counts`.

    Cutting each level at zero on its own would add the positive noise of every empty level
    to n (an office with one response would show about four); instead the total is kept and
    shared out over the positive levels in proportion, rounded by largest remainder.
    """
    total = max(0, round(float(counts.sum())))
    positive = np.clip(counts, 0, None)
    if total == 0 or positive.sum() <= 0:
        return np.zeros_like(counts, dtype=float)
    share = positive * (total / positive.sum())
    out = np.floor(share)
    left = total - int(out.sum())
    if left > 0:
        out[np.argsort(-(share - out), kind="stable")[:left]] += 1
    result: np.ndarray = out
    return result


FILTER_DIMENSIONS = ("service_type", "locale", "mode")


def _code(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def filter_code(dimension: str | None, value: str | None) -> int:
    """A number for the filter a cell belongs to (0: no filter): part of the cell's position."""
    if dimension is None or value is None:
        return 0
    return _code(f"{dimension}={value}") | 1


def protect(rows: Iterable[CountRow], grid: Grid) -> ProtectedTable:
    """Perturb the count rows of `grid` (one filter) into a protected table.

    Rows of offices, months or items outside the grid are left out; index values are put
    into their half-point classes before anything else.
    """
    rows = list(rows)
    size = len(rows)
    numbers = np.array([(r.office, r.value, r.n, r.key_sum) for r in rows], dtype=np.int64)
    office, value, n, key = numbers.reshape(size, 4).T  # key sums stay far below 2**63
    n, key = n.astype(np.float64), key.astype(np.uint64)
    month_names, month_of = np.unique([r.month for r in rows], return_inverse=True)
    item_names, item_of = np.unique([r.item for r in rows], return_inverse=True)
    offices = np.array(grid.offices, dtype=np.int64)
    order = np.argsort(offices)
    spot = np.searchsorted(offices[order], office).clip(0, max(len(offices) - 1, 0))
    office_no = order[spot] if len(offices) else spot
    known = (offices[office_no] == office) if len(offices) else np.zeros(size, bool)
    month_no = np.array([grid.months.index(m) if m in grid.months else -1 for m in month_names],
                        dtype=np.int64)[month_of] if size else np.zeros(0, np.int64)  # fmt: skip
    counts: dict[str, np.ndarray] = {}
    keys: dict[str, np.ndarray] = {}
    for item, levels in grid.levels.items():
        shape = (len(grid.offices), len(grid.months), len(levels))
        counts[item], keys[item] = np.zeros(shape), np.zeros(shape, dtype=np.uint64)
        code = np.flatnonzero(item_names == item)
        if not code.size:
            continue
        if item == INDEX_ITEM:
            level = np.clip(np.floor(2 * value / INDEX_SCALE + 0.5).astype(np.int64) - 2, 0, 8)
        else:  # a scale's levels are the whole numbers from its minimum to its maximum
            level = value - int(levels[0])
        inside = (level >= 0) & (level < len(levels))
        mine = (item_of == code[0]) & known & (month_no >= 0) & inside
        at = (office_no[mine], month_no[mine], level[mine])
        np.add.at(counts[item], at, n[mine])
        with np.errstate(over="ignore"):
            np.add.at(keys[item], at, key[mine])
    cells: dict[str, np.ndarray] = {}
    where = _mix(
        _mix(np.array(grid.offices, dtype=np.uint64)[:, None] ^ np.uint64(grid.filter_code))
        ^ np.array([month_index(m) for m in grid.months], dtype=np.uint64)[None, :]
    )  # offices × months
    for item in grid.levels:
        c, k = counts[item], keys[item]
        level = np.arange(c.shape[2], dtype=np.uint64)
        position = _mix(_mix(where[:, :, None] ^ np.uint64(_code(item))) ^ level[None, None, :])
        with np.errstate(over="ignore"):
            cell_sum = k.sum(axis=2, keepdims=True, dtype=np.uint64)
        noise = noise_for(cell_keys(k, np.broadcast_to(cell_sum, k.shape), position))
        nonempty = c.sum(axis=2, keepdims=True) > 0
        cells[item] = c + np.where(nonempty, noise, 0)
    return ProtectedTable(grid, cells)


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
    rest = set(pooled)
    for block in sorted(map(set, known), key=len, reverse=True):
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
    scope: Scope, table: ProtectedTable, months: Sequence[str], min_n: int
) -> dict[frozenset[int], str | None]:
    """Every pooled figure a page may show (the job centres of the visible offices, then the
    whole group) with the reason to hide it, decided once so that pages, CSV and API agree
    and no two of them together reveal what one hides."""
    n_of = {o.id: table.n(INDEX_ITEM, [o.id], months) for o in scope.group}
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
