"""Benchmark the analysis engine: count tables against the naive row-by-row path.

One million responses × seven 5-point items over 2,000 offices (every item answered, so the
composite index — the mean of the seven items — takes 29 values). Prints figures, never
asserts. Run: .venv/bin/python bench/analysis.py [--responses N] [--offices G] [--naive K]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

# Run as a script, this file's folder comes first on sys.path and its name would shadow the
# `analysis` package; put the repository root there instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from analysis import CountTable, compare_offices, funnel_limits, office_model, rank_intervals
from analysis.casemix import adjust_from_margins

ITEMS = ("respect", "understood", "next_steps", "time", "clear", "helpful", "overall")
LEVELS = [1, 2, 3, 4, 5]


def make_rows(responses: int, offices: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Office of each response and its answers (responses × items), office effects included."""
    rng = np.random.default_rng(seed)
    size = rng.lognormal(0, 0.6, offices)
    office = rng.choice(offices, size=responses, p=size / size.sum())
    effect = rng.normal(0, 0.25, offices)
    latent = 3.8 + effect[office][:, None] + rng.normal(0, 0.9, (responses, 1))
    answers = np.clip(np.rint(latent + rng.normal(0, 0.6, (responses, len(ITEMS)))), 1, 5)
    return office, answers.astype(np.int8)


def count_tables(office: np.ndarray, answers: np.ndarray, offices: int) -> dict[str, CountTable]:
    """What one GROUP BY office, item, value returns, plus the composite index table."""
    labels = [f"office {i:04d}" for i in range(offices)]
    tables = {}
    for j, item in enumerate(ITEMS):
        flat = office * 5 + (answers[:, j] - 1)
        counts = np.bincount(flat, minlength=offices * 5).reshape(offices, 5)
        tables[item] = CountTable(labels, LEVELS, counts)
    k = len(ITEMS)
    total = answers.sum(axis=1).astype(np.int64) - k  # 0 … 4k
    flat = office * (4 * k + 1) + total
    counts = np.bincount(flat, minlength=offices * (4 * k + 1)).reshape(offices, 4 * k + 1)
    composite_levels = (1 + np.arange(4 * k + 1) / k).tolist()
    tables["index"] = CountTable(labels, composite_levels, counts)
    return tables


def best_of(fn: Callable[[], Any], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def count_path(tables: dict[str, CountTable]) -> None:
    for table in tables.values():
        compare_offices(table, min_n=10)
        funnel_limits(table, min_n=10)
        funnel_limits(table, measure="top_box", min_n=10)


def naive_office(rows: np.ndarray, rest: np.ndarray) -> None:
    """What a script without count tables does for one office: figures from the rows."""
    n = rows.size
    mean = rows.mean()
    sem = rows.std(ddof=1) / np.sqrt(n)
    stats.t.interval(0.95, n - 1, loc=mean, scale=sem)
    np.mean(rows >= 4)
    stats.mannwhitneyu(rows, rest, method="asymptotic")


def naive_path(office: np.ndarray, values: np.ndarray, sample: np.ndarray) -> None:
    order = np.argsort(office, kind="stable")
    sorted_office = office[order]
    sorted_values = values[order]
    for g in sample:
        lo, hi = np.searchsorted(sorted_office, [g, g + 1])
        rows = sorted_values[lo:hi]
        rest = np.concatenate([sorted_values[:lo], sorted_values[hi:]])
        naive_office(rows, rest)


MIX = {
    "service_type": ("benefits", "placement", "case_management", "under_25"),
    "language": ("de", "de-x-ls", "other"),
    "mode": ("kiosk", "personal"),
}
"""The dashboards' adjusters and their values (survey/dashboard/casemix.py)."""


def mix_margins(
    totals: CountTable, seed: int = 0
) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, list[str]], np.ndarray]:
    """Each office's responses of `totals` spread over the 24 adjuster cells at random (no
    effect of the cell: the timing does not depend on it), as the margins the dashboards
    read from the protected single-filter views and the network's cross-tab of the cells."""
    rng = np.random.default_rng(seed)
    cells = list(itertools.product(*MIX.values()))
    counts = totals.counts.astype(np.int64)
    shares = rng.dirichlet(np.ones(len(cells)), counts.shape[0])
    # offices × cells × levels: each level's count of an office spread over its cells
    cube = np.stack([rng.multinomial(row, shares[g]).T for g, row in enumerate(counts)])
    margins = {
        name: {v: cube[:, [i for i, c in enumerate(cells) if c[j] == v], :].sum(axis=1)
               for v in values}
        for j, (name, values) in enumerate(MIX.items())
    }  # fmt: skip
    joint = {name: [c[j] for c in cells] for j, name in enumerate(MIX)}
    return margins, joint, cube.sum(axis=(0, 2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--offices", type=int, default=2_000)
    parser.add_argument("--naive", type=int, default=20, help="offices timed on the naive path")
    parser.add_argument("--draws", type=int, default=1_000)
    args = parser.parse_args()

    office, answers = make_rows(args.responses, args.offices)
    t0 = time.perf_counter()
    tables = count_tables(office, answers, args.offices)
    t_count = time.perf_counter() - t0
    n_tables = len(tables)
    print(
        f"data: {args.responses:,} responses × {len(ITEMS)} items, {args.offices:,} offices; "
        f"{n_tables} count tables (7 items × 5 levels, composite index × "
        f"{len(tables['index'].levels)} levels)"
    )
    print(
        f"  building the count tables from rows (the database's GROUP BY): {t_count * 1e3:.0f} ms"
    )

    t_tables = best_of(lambda: count_path(tables))
    one = tables["index"]
    t_one = best_of(lambda: (compare_offices(one), funnel_limits(one)))

    def rank(table: CountTable, joint: bool) -> Callable[[], Any]:
        return lambda: rank_intervals(table, draws=args.draws, joint=joint)

    item = tables["overall"]
    t_model_verdicts = best_of(lambda: office_model(one, draws=1, funnel=False, intervals=False))
    t_model = best_of(lambda: office_model(one, draws=1, funnel=False))
    t_model_funnel = best_of(lambda: office_model(one, draws=1))
    t_rank_item = best_of(rank(item, True))
    t_rank_index = best_of(rank(one, True))
    t_rank_single = best_of(rank(one, False))
    margins, joint, joint_n = mix_margins(one)
    t_mix = best_of(
        lambda: adjust_from_margins(
            one.labels, one.counts, margins, joint, joint_n, one.levels, noise=0.5
        )
    )
    print("count path (best of 3):")
    print(f"  compare_offices + funnel (index), composite index table: {t_one * 1e3:.1f} ms")
    print(
        f"  compare_offices + 2 funnels (index, top box), all {n_tables} tables: "
        f"{t_tables * 1e3:.1f} ms"
    )
    print("random-effects model (analysis/model.py), composite index, all offices (best of 3):")
    print(f"  verdicts only: {t_model_verdicts * 1e3:.0f} ms "
          f"({t_model_verdicts / t_one:.1f}× compare_offices + funnel)")  # fmt: skip
    print(f"  + shrunken and difference intervals: {t_model * 1e3:.0f} ms")
    print(f"  + funnel limits (2 levels × 40 sizes): {t_model_funnel * 1e3:.0f} ms")
    print(f"rank intervals from the model, {args.draws:,} draws (best of 3):")
    print(f"  joint, one item (5 levels): {t_rank_item * 1e3:.0f} ms")
    print(f"  joint, composite index ({len(one.levels)} levels): {t_rank_index * 1e3:.0f} ms")
    print(f"  per office, composite index: {t_rank_single * 1e3:.0f} ms")
    print(
        "client-mix adjustment from margins (analysis.adjust_from_margins, 3 adjusters, "
        f"24 cells), composite index, all offices (best of 3): {t_mix * 1e3:.1f} ms"
    )

    # Naive path: rows per office, scipy per office against the pooled rest. Timed on a
    # sample of offices for the composite index and extrapolated to all offices and tables.
    rng = np.random.default_rng(1)
    sample = rng.choice(args.offices, size=min(args.naive, args.offices), replace=False)
    composite = answers.mean(axis=1)
    t_sample = best_of(lambda: naive_path(office, composite, sample), 1)
    per_office = t_sample / sample.size
    t_naive_one = per_office * args.offices
    t_naive_all = t_naive_one * n_tables
    print(
        f"naive path (rows, scipy per office), timed on {sample.size} offices and "
        f"extrapolated to {args.offices:,}:"
    )
    print(f"  {per_office * 1e3:.1f} ms per office → one table {t_naive_one:.1f} s, "
          f"all {n_tables} tables {t_naive_all:.0f} s")  # fmt: skip
    print("ratio naive / count:")
    print(f"  one table: {t_naive_one / t_one:,.0f}×; all tables: {t_naive_all / t_tables:,.0f}×")


if __name__ == "__main__":
    main()
