"""The other offices' figures of a time to verdict draw from the seed once for every office
(issue 17, q32): `_others` gives, bit for bit, what it gave with a generator of its own per
office (cf6e656's function, kept here as the reference), and `_chosen` picks the grid points
`Generator.choice` picks."""

from __future__ import annotations

from typing import Any

import numpy as np

import analysis.model as model


def _old_others(y: bytes, v: bytes, office: int, draws: int, seed: int) -> tuple[Any, ...]:
    """`_others` of cf6e656: its own generator, `choice` with the posterior's weights."""
    y_arr, v_arr = np.frombuffer(y, dtype=np.float64), np.frombuffer(v, dtype=np.float64)
    others = np.ones(y_arr.size, dtype=bool)
    others[office] = False
    yo, vo = y_arr[others], v_arr[others]
    post = model.tau_posterior(yo, vo)
    tau = np.linspace(0.0, min(model.TAU_MAX, 2.0 * float(post.tau.max()) + 5.0),
                      model.POWER_GRID)  # fmt: skip
    t2 = tau**2
    wo = 1.0 / (vo[None, :] + t2[:, None])
    big_w, big_s = wo.sum(axis=1), wo @ yo
    big_t, big_l = wo @ (yo * yo), np.log(vo[None, :] + t2[:, None]).sum(axis=1)
    step = np.diff(tau)
    trap = np.zeros_like(tau)
    trap[:-1] += step / 2
    trap[1:] += step / 2
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(draws)
    g = rng.choice(post.tau.size, size=draws, p=post.weight)
    mu_true = post.mu[g] + np.sqrt(post.mu_var[g]) * rng.standard_normal(draws)
    return (t2, big_w, big_s, big_t, big_l, trap, z, mu_true)


def test_the_other_offices_figures_are_those_of_a_generator_per_office() -> None:
    """Networks of 3 to 30 offices, near and far apart, with small and large variances (a
    posterior on few grid points or many), several offices, draws and seeds."""
    rng = np.random.default_rng(32)
    for k in range(12):
        size = int(rng.integers(3, 31))
        y = rng.normal(62, float(rng.choice([0.3, 3.0, 15.0])), size)
        v = rng.uniform(0.005, 1.0, size) * float(rng.choice([0.01, 1.0, 30.0]))
        draws, seed = int(rng.choice([1, 500, 2000])), int(rng.integers(0, 5))
        for office in (0, size - 1, int(rng.integers(0, size))):
            found = model._others(y.tobytes(), v.tobytes(), office, draws, seed)
            before = _old_others(y.tobytes(), v.tobytes(), office, draws, seed)
            assert [a.tobytes() for a in found] == [a.tobytes() for a in before], (k, office)


def test_the_grid_points_chosen_are_those_generator_choice_picks() -> None:
    """Weights with zeros, one point, a point of nearly all the weight; and weights choice
    refuses (it says why, as before)."""
    rng = np.random.default_rng(5)
    for k in range(60):
        size = int(rng.integers(1, 120))
        weight = rng.random(size) ** 4
        weight[rng.random(size) < 0.3] = 0.0
        weight[int(rng.integers(0, size))] += float(rng.choice([0.0, 1e6]))
        weight /= weight.sum()
        draws, seed = int(rng.integers(1, 3000)), int(rng.integers(0, 9))
        _, uniform, _ = model._seeded(draws, seed)
        generator = np.random.default_rng(seed)
        generator.standard_normal(draws)
        expected = generator.choice(size, size=draws, p=weight)
        assert model._chosen(weight, uniform, draws, seed).tolist() == expected.tolist(), k
    for bad in (np.array([0.5, np.nan]), np.array([0.7, 0.7]), np.array([1.5, -0.5])):
        try:
            model._chosen(bad, model._seeded(10, 0)[1], 10, 0)
        except ValueError:
            continue
        raise AssertionError(f"{bad} was taken")
