"""Does the NPS interval of a published figure cover the true NPS?

The dashboards show the Net Promoter Score of an office (the recommend question, answers
0–10) from the protected table's counts, which carry the cell-key noise
(survey/dashboard/disclosure.py). For offices of 15–100 answers in one month (the year's
first block: noise variance 1 per level), answers drawn from a realistic distribution (true
NPS 42), this prints how often the adjusted-Wald 95% interval (`analysis.net_promoter`)
holds the true NPS: on the exact counts, on the published counts as if they were the data
("ignoring", the pages until 2026-11-29) and with the noise in the variance ("allowing",
`net_promoter(noise=)`, as the pages now). Prints, never asserts.

    .venv/bin/python bench/nps.py [--draws 4000] [--seed 7]
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse

import numpy as np

from analysis import net_promoter
from survey.dashboard import results
from survey.dashboard.disclosure import Grid, protect
from survey.dashboard.queries import CountColumns

SHARES = np.array([2, 1, 1, 2, 2, 4, 5, 10, 14, 22, 37], dtype=float)
SHARES /= SHARES.sum()
TRUE_NPS = float(100 * (SHARES[9:].sum() - SHARES[:7].sum()))
LEVELS = tuple(float(v) for v in results.NPS_LEVELS)
MONTH = "2026-03"
SIZES = (15, 20, 40, 100)


def published(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray, float]:
    """An office's exact and published NPS counts and the published counts' noise variance."""
    answers = rng.choice(11, size, p=SHARES)
    keys = rng.integers(0, 2**31, size)
    found = np.unique(answers)
    rows = CountColumns(
        [1] * found.size, [results.NPS_ITEM] * found.size, [int(LEVELS[a]) for a in found],
        [MONTH] * found.size, [int(np.sum(answers == a)) for a in found],
        [int(keys[answers == a].sum()) for a in found],
    )  # fmt: skip
    table = protect(rows, Grid((1,), (MONTH,), {results.NPS_ITEM: LEVELS}, min_n=10))
    exact = np.bincount(answers, minlength=11)
    return (exact, table.counts(results.NPS_ITEM, [1], [MONTH]),
            table.noise_variance(results.NPS_ITEM, [1], [MONTH]))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    print(f"true NPS {TRUE_NPS:.1f}; {args.draws} offices per size, published n ≥ 10 only")
    print(f"{'n':>5} {'shown':>6} {'exact':>7} {'ignoring':>9} {'allowing':>9}")
    for size in SIZES:
        hits: dict[str, list[bool]] = {"exact": [], "ignoring": [], "allowing": []}
        for _ in range(args.draws):
            exact, counts, noise = published(rng, size)
            if counts.sum() < 10:
                continue
            for name, est in (("exact", net_promoter(exact)), ("ignoring", net_promoter(counts)),
                              ("allowing", net_promoter(counts, noise=noise))):  # fmt: skip
                assert est.ci_low is not None and est.ci_high is not None
                hits[name].append(est.ci_low <= TRUE_NPS <= est.ci_high)
        print(f"{size:>5} {len(hits['exact']):>6} "
              + " ".join(f"{100 * np.mean(hits[k]):>8.1f}%" for k in hits))  # fmt: skip


if __name__ == "__main__":
    main()
