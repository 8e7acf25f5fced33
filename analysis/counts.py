"""Count vectors and count tables: validation and the rank arithmetic shared by all tests.

A group's answers to an ordinal item are summarised by its count vector: one count per
level, levels ascending. Everything in `analysis` works on these vectors, never on rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def as_counts(counts: Any, *, name: str = "counts") -> FloatArray:
    """Validate one count vector and return it as float64 (exact for counts below 2**53)."""
    arr = _as_count_array(counts, name=name)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one count per level (1-D), got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} must have at least one level")
    return arr


def as_count_matrix(counts: Any, *, name: str = "counts") -> FloatArray:
    """Validate a (groups × levels) count table and return it as float64."""
    arr = _as_count_array(counts, name=name)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be groups × levels (2-D), got shape {arr.shape}")
    if arr.shape[1] == 0:
        raise ValueError(f"{name} must have at least one level")
    return arr


def as_count_list(groups: Sequence[Any], *, name: str = "groups") -> FloatArray:
    """Validate a list of count vectors that must share their levels; return a 2-D table."""
    if isinstance(groups, np.ndarray) and groups.ndim == 2:
        return as_count_matrix(groups, name=name)
    vectors = [as_counts(g, name=f"{name}[{i}]") for i, g in enumerate(groups)]
    if not vectors:
        raise ValueError(f"{name} is empty: give at least one count vector")
    sizes = {v.size for v in vectors}
    if len(sizes) > 1:
        raise ValueError(
            f"{name} have different numbers of levels {sorted(sizes)}: "
            "count vectors must be aligned on the same levels"
        )
    return np.vstack(vectors)


def _as_count_array(counts: Any, *, name: str) -> FloatArray:
    try:
        raw = np.asarray(counts)
    except (TypeError, ValueError) as exc:  # ragged input
        raise ValueError(f"{name} is not a regular array of counts: {exc}") from exc
    if raw.dtype == object:
        raise ValueError(f"{name} is not a regular array of numbers (groups of different length?)")
    if raw.dtype == bool or not np.issubdtype(raw.dtype, np.number):
        raise ValueError(f"{name} must be numbers, got dtype {raw.dtype}")
    arr = raw.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    if np.any(arr < 0):
        raise ValueError(f"{name} contains negative counts")
    if np.any(arr != np.floor(arr)):
        raise ValueError(f"{name} contains non-integer counts")
    return arr


def as_levels(levels: Any, n_levels: int | None = None, *, name: str = "levels") -> FloatArray:
    """Validate the level values: finite, strictly ascending, and one per count."""
    try:
        arr = np.asarray(levels, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numbers: {exc}") from exc
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D list of level values")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    if np.any(np.diff(arr) <= 0):
        raise ValueError(f"{name} must be strictly ascending, got {arr.tolist()}")
    if n_levels is not None and arr.size != n_levels:
        raise ValueError(f"{name} has {arr.size} values but the counts have {n_levels} levels")
    return arr


def default_levels(n_levels: int) -> FloatArray:
    """Levels 1, 2, …, L: the usual coding of an L-point scale."""
    return np.arange(1, n_levels + 1, dtype=np.float64)


def midranks(pooled: FloatArray) -> FloatArray:
    """Mid-rank of each level in the pooled sample: cumsum before + (c_j + 1) / 2.

    Ties share the average of the ranks they occupy (Hollander, Wolfe & Chicken 2014,
    Nonparametric Statistical Methods, 3rd ed., §4.1).
    """
    return np.cumsum(pooled, axis=-1) - pooled + (pooled + 1.0) / 2.0


def tie_term(pooled: FloatArray) -> float:
    """Σ (t³ − t) over the tie groups; a level with count t is one tie group."""
    return float(np.sum(pooled**3 - pooled))


@dataclass(frozen=True, slots=True)
class CountTable:
    """Counts per group (office) and level for one item or for the composite index.

    `counts[g, j]` is how many respondents of group `labels[g]` answered level `levels[j]`.
    """

    labels: tuple[str, ...]
    levels: tuple[float, ...]
    counts: FloatArray

    def __init__(self, labels: Sequence[str], levels: Sequence[float], counts: Any) -> None:
        matrix = as_count_matrix(counts)
        level_arr = as_levels(levels, matrix.shape[1])
        label_tuple = tuple(str(label) for label in labels)
        if len(label_tuple) != matrix.shape[0]:
            raise ValueError(
                f"{len(label_tuple)} labels but the counts have {matrix.shape[0]} groups (rows)"
            )
        if len(set(label_tuple)) != len(label_tuple):
            raise ValueError("labels must be unique")
        matrix.setflags(write=False)
        object.__setattr__(self, "labels", label_tuple)
        object.__setattr__(self, "levels", tuple(float(v) for v in level_arr))
        object.__setattr__(self, "counts", matrix)

    @property
    def n(self) -> FloatArray:
        """Responses per group."""
        return np.asarray(self.counts.sum(axis=1), dtype=np.float64)

    @classmethod
    def from_rows(
        cls, labels: Sequence[str], values: Sequence[float], levels: Sequence[float]
    ) -> CountTable:
        """Count raw rows (group label, answer value) into a table, for exports and tests."""
        level_arr = as_levels(levels)
        label_list = list(dict.fromkeys(str(x) for x in labels))
        index = {label: i for i, label in enumerate(label_list)}
        vals = np.asarray(values, dtype=np.float64)
        pos = np.searchsorted(level_arr, vals)
        found = level_arr[np.minimum(pos, level_arr.size - 1)]
        if np.any(pos >= level_arr.size) or np.any(found != vals):
            raise ValueError("values contain answers that are not among the levels")
        rows = np.fromiter((index[str(x)] for x in labels), dtype=np.intp, count=len(vals))
        counts = np.zeros((len(label_list), level_arr.size))
        np.add.at(counts, (rows, pos), 1.0)
        return cls(label_list, level_arr.tolist(), counts)


def as_table(table: CountTable | Any, levels: Sequence[float] | None = None) -> CountTable:
    """Accept a CountTable, or a bare (groups × levels) array labelled 0, 1, 2, …"""
    if isinstance(table, CountTable):
        if levels is not None:
            as_levels(levels, len(table.levels))
            if tuple(float(v) for v in levels) != table.levels:
                raise ValueError("levels do not match the levels of the CountTable")
        return table
    matrix = as_count_matrix(table)
    lv = default_levels(matrix.shape[1]) if levels is None else levels
    return CountTable([str(i) for i in range(matrix.shape[0])], list(lv), matrix)
