"""What the disclosure control costs: verdicts and indices on the protected table against the
true counts, by office size.

Each round simulates a comparison group of 20 offices over 12 months: 5 offices of the size
under study (n = 10, 30, 100 or 1,000 responses in the 12 months) and 15 others of 50 to 400
responses; each office has its own effect (normal, sd 0.25 on a 1–5 scale), each respondent
a latent satisfaction and seven 5-point answers (as bench/dashboard.py draws them). The
respondent's composite index is 420 × the mean of the seven answers, as the writer stores it.

- "true": compare_offices on the exact composite indices (what the dashboards showed before);
- "classes": the same counts in the half-point classes of the protected table, no noise;
- "protected": the counts after survey/dashboard/disclosure.protect (random record keys,
  noise on every cell of office × month, months grouped into blocks of at least 10
  responses within the calendar year, sums over the whole blocks made non-negative).

For the 5 offices of the size under study it prints how often the verdict (better / worse /
no clear difference / too few responses) on "classes" and on "protected" equals the verdict
on "true", and the mean absolute change of the index (0–100). It prints, never asserts.

    .venv/bin/python bench/disclosure.py [--rounds 200] [--seed 1]
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse
import time

import numpy as np

from analysis import CountTable, compare_offices
from survey.dashboard.disclosure import INDEX_LEVELS, Grid, index_level, protect
from survey.dashboard.queries import CountRow
from survey.dashboard.results import MIN_EFFECT
from survey.questionnaire import INDEX_ITEM, INDEX_SCALE

MONTHS = tuple(f"2026-{m:02d}" for m in range(1, 13))
SIZES = (10, 30, 100, 1000)
STUDIED = 5
OTHERS = 15
MIN_N = 10


def _office(rng: np.random.Generator, n: int, effect: float) -> tuple[np.ndarray, np.ndarray]:
    """Composite index values (420 × mean) and months of n respondents."""
    latent = 3.6 + effect + rng.normal(0, 0.9, n)
    answers = np.clip(np.rint(latent[:, None] + rng.normal(0, 0.7, (n, 7))), 1, 5)
    values = (answers.sum(axis=1) * INDEX_SCALE // 7).astype(int)
    return values, rng.integers(0, len(MONTHS), n)


def _round(rng: np.random.Generator, size: int) -> list[tuple[str, str, str, float, float]]:
    sizes = [size] * STUDIED + list(rng.integers(50, 401, OTHERS))
    effects = rng.normal(0, 0.25, len(sizes))
    offices = [_office(rng, int(n), float(e)) for n, e in zip(sizes, effects, strict=True)]
    exact_levels = sorted({int(v) for values, _ in offices for v in values})
    exact = np.array([[np.sum(values == v) for v in exact_levels] for values, _ in offices])
    classes = np.array(
        [np.bincount([index_level(int(v)) for v in values], minlength=9) for values, _ in offices]
    )
    rows = []
    for o, (values, months) in enumerate(offices):
        keys = rng.integers(0, 2**31, values.size)
        cell: dict[tuple[int, int], list[int]] = {}
        for v, m, k in zip(values.tolist(), months.tolist(), keys.tolist(), strict=True):
            n_key = cell.setdefault((v, m), [0, 0])
            n_key[0] += 1
            n_key[1] += k
        rows += [CountRow(o + 1, INDEX_ITEM, v, MONTHS[m], n, k) for (v, m), (n, k) in cell.items()]
    office_ids = tuple(range(1, len(sizes) + 1))
    table = protect(rows, Grid(office_ids, MONTHS, {INDEX_ITEM: INDEX_LEVELS}, min_n=MIN_N))
    protected = table.matrix(INDEX_ITEM, [[o] for o in office_ids], MONTHS)
    labels = [str(o) for o in office_ids]
    levels = [v / INDEX_SCALE for v in exact_levels]
    true = compare_offices(CountTable(labels, levels, exact), MIN_N, min_effect=MIN_EFFECT)
    coarse = compare_offices(
        CountTable(labels, list(INDEX_LEVELS), classes), MIN_N, min_effect=MIN_EFFECT
    )
    noisy = compare_offices(
        CountTable(labels, list(INDEX_LEVELS), protected), MIN_N, min_effect=MIN_EFFECT
    )
    out = []
    for i in range(STUDIED):
        t, c, p = true.offices[i], coarse.offices[i], noisy.offices[i]
        change_c = abs(c.index - t.index) if c.index is not None and t.index is not None else np.nan
        change_p = abs(p.index - t.index) if p.index is not None and t.index is not None else np.nan
        out.append((t.verdict, c.verdict, p.verdict, change_c, change_p))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    print(f"{args.rounds} rounds × {STUDIED} offices per size; verdict agreement with the true "
          "counts, mean |index change| (0–100)")  # fmt: skip
    print(f"{'n':>6} {'classes: agree':>15} {'protected: agree':>17} {'classes: |Δ|':>13} "
          f"{'protected: |Δ|':>15} {'too few (true/protected)':>25}")  # fmt: skip
    for size in SIZES:
        found = [r for _ in range(args.rounds) for r in _round(rng, size)]
        agree_c = np.mean([t == c for t, c, _, _, _ in found])
        agree_p = np.mean([t == p for t, _, p, _, _ in found])
        change_c = np.nanmean([r[3] for r in found])
        change_p = np.nanmean([r[4] for r in found])
        few_t = np.mean([t == "too few responses" for t, *_ in found])
        few_p = np.mean([p == "too few responses" for _, _, p, _, _ in found])
        print(f"{size:>6} {100 * agree_c:>14.1f}% {100 * agree_p:>16.1f}% {change_c:>13.2f} "
              f"{change_p:>15.2f} {100 * few_t:>11.1f}% / {100 * few_p:.1f}%")  # fmt: skip
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
