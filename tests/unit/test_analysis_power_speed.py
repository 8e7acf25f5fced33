"""The time to verdict simulated faster is the same simulation: `verdict_power` and
`responses_for_verdict` work out what does not depend on n once per search (and each n once)
instead of once per n tried. EXPECTED holds what the code before that change (commit def54d9)
gave for these hand-built figures and counts, to the last digit."""

from __future__ import annotations

import numpy as np

from analysis import CountTable, time_to_verdict, verdict_power
from analysis.model import responses_for_verdict

Y = [60.0, 62.5, 58.0, 70.0, 55.0, 66.0]
V = [4.0, 6.0, 3.5, 9.0, 5.0, 2.5]
EXPECTED = {
    "power": [0.01, 0.03, 0.08333333333333333, 0.10333333333333333],
    "power extra": [0.005, 0.045],
    "needed": (5, 0.8733333333333333),
    "needed candidates": (12, 0.992),
    "time to verdict": [(40, 0.8466666666666667), (30, 0.8333333333333334)],
}


def test_it_simulates_the_same_powers_and_responses_needed_as_before() -> None:
    rng = np.random.default_rng(5)
    counts = rng.integers(0, 40, (8, 5))
    counts[3] = [0, 1, 2, 3, 4]
    table = CountTable([f"o{i}" for i in range(8)], [1, 2, 3, 4, 5], counts)
    candidates = [12 * m for m in (1, 2, 3, 6, 12, 24)]
    found = {
        "power": verdict_power(
            Y, V, 1, 6.0, [5, 20, 80, 300], sigma=20.0, draws=300, seed=3
        ).tolist(),
        "power extra": verdict_power(
            Y,
            V,
            0,
            -4.0,
            [10, 1000],
            sigma=25.0,
            extra_var=1.5,
            min_difference=1.0,
            draws=200,
            seed=0,
        ).tolist(),
        "needed": responses_for_verdict(Y, V, 2, 20.0, sigma=8.0, draws=300, seed=1),
        "needed candidates": responses_for_verdict(
            Y, V, 4, -20.0, sigma=8.0, draws=250, seed=2, candidates=candidates
        ),
        "time to verdict": [
            (f.needed, f.achieved)
            for f in (
                time_to_verdict(
                    table,
                    2,
                    25.0,
                    min_n=10,
                    draws=300,
                    candidates=[20 * m for m in (1, 2, 4, 8, 16, 32)],
                ),
                time_to_verdict(table, "o5", -30.0, min_n=10, draws=300),
            )
        ],
    }
    assert found == EXPECTED
