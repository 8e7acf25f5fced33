"""How much noise can an office's published index carry before the dashboards' first verdict
(the random-effects model's above / below / no clear difference) stops agreeing with the
verdict on the exact counts in 99 % of the offices?

Groups as bench/disclosure.py draws them (5 offices of the size under study, 15 of 50–400
responses, effects N(0, 0.25²) on the 1–5 scale, seven 5-point answers per respondent), the
model fitted on the exact composite indices; then Gaussian noise of standard deviation s
index points is added to each office's index (s at the studied size, scaled as 1/n for the
others, as count noise scales) and to its variance (s²), and the verdicts compared. This is
the bound behind docs/benchmarks.md's "99 % at 100 responses needs s ≤ about 0.1": no count
noise that hides one client is that small. Prints, never asserts.

    .venv/bin/python bench/noise_floor.py [--rounds 400] [--seed 2]
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse

import numpy as np

from analysis import CountTable
from analysis.model import fit_office_model, index_estimates
from bench.comparison import _answers
from bench.disclosure import MIN_N, OTHERS, STUDIED
from survey.questionnaire import INDEX_SCALE

NOISE_SD = (0.0, 0.05, 0.1, 0.2, 0.3, 0.6)
SIZES = (100, 1000)


def _verdicts(labels: list[str], n: np.ndarray, y: np.ndarray, v: np.ndarray,
              sigma: float) -> list[str]:  # fmt: skip
    model = fit_office_model(labels, n, y, v, sigma=sigma, min_n=MIN_N, draws=1, seed=0,
                             funnel=False)  # fmt: skip
    return [o.verdict for o in model.offices]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=400)
    parser.add_argument("--seed", type=int, default=2)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    every = np.arange(7, 36) * INDEX_SCALE // 7
    print(f"{args.rounds} groups per size, {STUDIED} studied offices each; verdict agreement "
          "with the exact counts' by the index noise's SD s (index points)")  # fmt: skip
    for size in SIZES:
        agree: dict[float, list[bool]] = {s: [] for s in NOISE_SD}
        for _ in range(args.rounds):
            sizes = [size] * STUDIED + list(rng.integers(50, 401, OTHERS))
            effects = rng.normal(0, 0.25, len(sizes))
            full = []
            for n_office, effect in zip(sizes, effects, strict=True):
                _, answers = _answers(rng, effect, n_office)
                values = (answers.sum(axis=1) * INDEX_SCALE // 7).astype(int)
                full.append([np.sum(values == x) for x in every])
            labels = [str(i) for i in range(len(sizes))]
            table = CountTable(labels, [x / INDEX_SCALE for x in every], np.array(full))
            n, y, v, sigma = index_estimates(table)
            true = _verdicts(labels, n, y, v, sigma)
            for s in NOISE_SD:
                sd = s * size / n
                got = _verdicts(labels, n, y + rng.normal(0, 1, len(y)) * sd, v + sd**2, sigma)
                agree[s] += [true[i] == got[i] for i in range(STUDIED)]
        print(f"n = {size:>5}: " + "  ".join(f"s = {s}: {100 * np.mean(agree[s]):.1f} %"
                                               for s in NOISE_SD))  # fmt: skip


if __name__ == "__main__":
    main()
