"""`retarget_rows` with its totals and single moves worked out for every row at once (issue
17, q31) gives the same counts, bit for bit, as the code before (kept here as the
reference), which worked them out row by row."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from survey.dashboard.disclosure import INDEX_LEVELS, _moved, _tilt_rows, retarget_rows


def _before(counts: np.ndarray, levels: Sequence[float], means: Sequence[float]) -> np.ndarray:
    """f3d45ba's `retarget_rows` (its `_tilt_rows` summed each tilted row alone)."""
    counts = np.asarray(counts, dtype=np.float64)
    out = counts.copy()
    totals = [round(float(row.sum())) for row in counts]
    live = [r for r, total in enumerate(totals) if total > 0]
    if not live or len(levels) < 2:
        return out
    lv = np.asarray(levels, dtype=np.float64)
    total = np.array([float(totals[r]) for r in live])
    mean = [min(max(float(means[r]), float(lv[0])), float(lv[-1])) for r in live]
    used = counts[live]
    tilted = _tilt_rows(used / used.sum(axis=1, keepdims=True), levels, mean)
    share = total[:, None] * tilted
    whole = np.floor(share)
    left = total - whole.sum(axis=1)
    order = np.argsort(-(share - whole), axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(len(levels))[None, :], axis=1)
    whole += rank < left[:, None]
    step = float(lv[1] - lv[0])
    moves = np.array([round((m * totals[r] - float(w @ lv)) / step)
                      for r, m, w in zip(live, mean, whole, strict=True)])  # fmt: skip
    remaining = np.minimum(np.abs(moves), total.astype(np.int64) * len(lv))
    _moved(whole, share, remaining, moves > 0)
    out[live] = whole
    return out


def test_every_row_retargeted_at_once_is_what_the_code_before_found() -> None:
    """Empty rows, rows with one level, small and a million-sized counts; means inside, at
    and outside the levels; the index's 17 classes and a 1-5 scale."""
    rng = np.random.default_rng(31)
    for levels in (INDEX_LEVELS, (1.0, 2.0, 3.0, 4.0, 5.0)):
        rows, means = [], []
        for size in (0, 1, 2, 7, 40, 900, 25_000, 0, 3):
            p = rng.dirichlet(np.full(len(levels), 0.7))
            rows.append(rng.multinomial(size, p).astype(float))
            means.append(float(rng.uniform(0.5, 5.5)))
        rows.append(np.eye(len(levels))[3] * 12)  # one level only: as it is
        means.append(4.0)
        counts = np.array(rows)
        found = retarget_rows(counts, levels, means)
        assert found.tobytes() == _before(counts, levels, means).tobytes()
        assert not np.array_equal(found, counts), "tilted"
