"""A fit without its intervals gives the verdicts a full fit gives (issue 17, q27): learning
from the best shows only the verdicts and fits the model once per question, without them."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.model import fit_office_model


@pytest.mark.parametrize("seed", range(8))
def test_a_fit_without_intervals_gives_the_same_verdicts(seed: int) -> None:
    """Random networks like the dashboards' (3 to 40 units, some below the minimum, some
    without an estimate, similar and very different units, tiny and large variances): the
    verdicts, differences, probabilities and shrunken indices of a fit without intervals are
    those of the full fit, bit for bit."""
    rng = np.random.default_rng(seed)
    for _ in range(25):
        k = int(rng.choice([3, 4, 7, 20, 40]))
        n = rng.choice([2.0, 12.0, 80.0, 600.0, 20000.0], size=k)
        sigma = float(rng.choice([0.0, 4.0, 17.0, 30.0]))
        y = rng.normal(70.0, float(rng.choice([0.1, 3.0, 12.0])), k)
        v = np.where(n > 0, sigma * sigma / n + rng.choice([0.0, 0.5]), np.nan)
        v[rng.random(k) < 0.05] = np.nan  # no estimate
        labels = [str(i) for i in range(k)]
        floor = float(rng.choice([0.0, 2.0]))
        full = fit_office_model(labels, n, y, v, sigma=sigma, min_n=10, draws=1, seed=0,
                                funnel=False, min_difference=floor)  # fmt: skip
        quick = fit_office_model(labels, n, y, v, sigma=sigma, min_n=10, draws=1, seed=0,
                                 funnel=False, min_difference=floor, intervals=False,
                                 summary=False)  # fmt: skip
        assert [(e.label, e.n, e.verdict, e.difference, e.prob_above, e.value, e.reason)
                for e in quick.offices] == [
            (e.label, e.n, e.verdict, e.difference, e.prob_above, e.value, e.reason)
            for e in full.offices
        ]  # fmt: skip
        assert (quick.ranks_of, quick.reason) == (full.ranks_of, full.reason)
