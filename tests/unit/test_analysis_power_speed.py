"""The time to verdict simulated faster is the same simulation: `verdict_power` and
`responses_for_verdict` work out what does not depend on n once per search (and each n once)
instead of once per n tried. EXPECTED holds what the code before that change (commit def54d9)
gave for these hand-built figures and counts, to the last digit."""

from __future__ import annotations

import numpy as np
from scipy import special

from analysis import CountTable, time_to_verdict, verdict_power
from analysis.model import _verdict_draws, responses_for_verdict

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


def _written_out(
    vs: float, ys: np.ndarray, t2: np.ndarray, big_w: np.ndarray, big_s: np.ndarray,
    big_t: np.ndarray, big_l: np.ndarray, trap: np.ndarray, sign: float,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """The simulation's step as written out before it worked in place (commit ce0adc8)."""
    ws = 1.0 / (vs + t2)
    sw = big_w[None, :] + ws[None, :]
    mu = (big_s[None, :] + ws[None, :] * ys[:, None]) / sw
    q = big_t[None, :] + ws[None, :] * ys[:, None] ** 2 - sw * mu * mu
    ll = -0.5 * (big_l[None, :] + np.log(vs + t2)[None, :] + np.log(sw) + q)
    dens = np.exp(ll - ll.max(axis=1, keepdims=True)) * trap[None, :]
    pw = dens / dens.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        b = np.where(t2 > 0, vs / (vs + t2), 1.0)[None, :]
    dm = sign * (1.0 - b) * (ys[:, None] - mu)
    ds = np.maximum(np.sqrt(vs * (1.0 - b) + (1.0 - b) ** 2 / sw), 1e-9)
    return np.sum(pw * special.ndtr(dm / ds), axis=1), np.sum(pw * dm, axis=1)


def test_the_step_worked_in_place_gives_the_same_bits_as_written_out() -> None:
    rng = np.random.default_rng(11)
    for _ in range(25):
        t2 = np.linspace(0.0, rng.uniform(1, 50), 120) ** 2
        vo, yo = rng.uniform(0.5, 20, 12), rng.normal(70, 5, 12)
        wo = 1.0 / (vo[None, :] + t2[:, None])
        step = np.diff(np.sqrt(t2))
        trap = np.zeros_like(t2)
        trap[:-1] += step / 2
        trap[1:] += step / 2
        figures = (
            float(rng.uniform(0.01, 30)), rng.normal(70, 8, 200), t2, wo.sum(axis=1),
            wo @ yo, wo @ (yo * yo), np.log(vo[None, :] + t2[:, None]).sum(axis=1), trap,
            float(rng.choice([-1.0, 1.0])),
        )  # fmt: skip
        for found, expected in zip(_verdict_draws(*figures), _written_out(*figures), strict=True):
            assert np.array_equal(found, expected)
