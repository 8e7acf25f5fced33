"""The searches of an overview's offices side by side (`times_to_verdict`, issue 17, q32) find
the n each office's own search finds (`time_to_verdict`, kept as it is): the same steps for
every office at once, the same operations on the same numbers."""

from __future__ import annotations

from typing import Any

import numpy as np

import analysis.model as model
from analysis.counts import CountTable

MONTHS = (1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 18, 24, 30, 36)


def _network(seed: int, offices: int = 20) -> tuple[CountTable, tuple[Any, Any, float]]:
    """A group like the bench's overview (20 offices of a few hundred responses a month), the
    model's figures (y, v, σ) as the dashboard passes them; the last office has no answers."""
    rng = np.random.default_rng(seed)
    counts = rng.integers(20, 400, (offices, 5)).astype(np.float64)
    counts[-1] = 0.0
    y = rng.normal(61.0, 4.5, offices)
    v = rng.uniform(0.02, 0.09, offices)
    y[-1] = v[-1] = np.nan
    labels = [str(i) for i in range(offices)]
    return CountTable(labels, [0.0, 25.0, 50.0, 75.0, 100.0], counts), (y, v, 21.5)


def _clear() -> None:
    model._others.cache_clear()
    model._SHARED.clear()


def _one_by_one(table: CountTable, asks: list[Any], **options: Any) -> list[Any]:
    _clear()
    return [
        model.time_to_verdict(table, office, delta, candidates=candidates, **options)
        for office, delta, candidates in asks
    ]


def _side_by_side(table: CountTable, asks: list[Any], **options: Any) -> list[Any]:
    _clear()
    return model.times_to_verdict(table, asks, **options)


def _asks(rates: list[int], deltas: list[float]) -> list[Any]:
    return [(office, delta, [rate * m for m in MONTHS])
            for office, (rate, delta) in enumerate(zip(rates, deltas, strict=True))]  # fmt: skip


def test_it_finds_the_n_each_office_finds_alone() -> None:
    table, figures = _network(7)
    rates = [40, 300, 25, 120, 60, 500, 80, 35, 200, 90, 45, 150, 70, 30, 250, 55, 110, 65, 95, 200]
    deltas = [2.1, -3.4, 0.6, 5.0, -5.0, 12.0, 1.2, -0.2, 4.0, -2.7,
              3.3, -1.5, 8.0, 0.9, -6.5, 2.5, -4.4, 1.8, -0.8, 6.0]  # fmt: skip
    asks = [*_asks(rates, deltas), (2, 5.0, [25 * m for m in MONTHS]), (17, 0.4, [5, 9])]
    options = dict(min_n=10, draws=500, figures=figures, achieved=False, min_difference=0.5)
    alone = _one_by_one(table, asks, **options)
    together = _side_by_side(table, asks, **options)
    assert together == alone
    needed = [forecast.needed for forecast in alone]
    # searches that end at their first step (the largest n does not reach the power; a
    # difference below the verdict's floor reaches it at no n), ones that bisect down to
    # the first month, and the office without answers (started at the network)
    assert needed[7] is None and needed[-1] is None
    assert None in needed[:20] and needed.count(None) < len(needed) - 5
    assert needed[5] == rates[5] * MONTHS[0]
    assert alone[19].n == 0 and needed[19] is not None
    # in another order, with the other searches' caches already filled: the same
    assert model.times_to_verdict(table, asks[::-1], **options) == together[::-1]


def test_it_finds_the_same_on_the_observed_indices_and_with_the_power_worked_out() -> None:
    table, _ = _network(11, offices=8)
    asks = _asks([30, 60, 90, 120, 45, 75, 15, 100], [3.0, -2.0, 6.0, -8.0, 1.0, 4.5, -3.5, 0.3])
    options = dict(min_n=10, draws=200, seed=3)
    assert _side_by_side(table, asks, **options) == _one_by_one(table, asks, **options)


def test_it_says_why_when_too_few_offices_have_enough_responses() -> None:
    table, figures = _network(5, offices=6)
    asks = [*_asks([30] * 6, [3.0, -2.0, 6.0, -8.0, 1.0, 4.5]), (1, 2.0, [])]
    options = dict(min_n=10_000, draws=200, figures=figures)
    together = _side_by_side(table, asks, **options)
    assert together == _one_by_one(table, asks, **options)
    assert {f.reason for f in together[:6]} == {"fewer than three offices with enough responses"}


def test_its_coefficients_of_several_curves_at_once_are_each_curves_own() -> None:
    _, (y, v, sigma) = _network(7)
    keep = np.isfinite(y)
    options = dict(sigma=sigma, extra_var=0.0, level=0.95, min_difference=0.0, draws=100, seed=0)
    pairs = [(0, 2.0), (3, -4.0), (8, 1.0)]
    curves = [model._power_curve(y[keep], v[keep], o, d, **options) for o, d in pairs]
    sizes = [[40.0, 80.0, 120.0], [600.0], [35.0, 70.0]]
    _clear()
    alone = []
    for curve, n in zip(curves, sizes, strict=True):
        vs = np.array([curve._variance(s) for s in n])
        alone.append(model._coefficients(vs, curve.t2, curve.big_w, curve.big_s, curve.big_t,
                                         curve.big_l, curve.trap, curve.sign))  # fmt: skip
    for curve in curves:
        curve.coefficients.clear()
    model._prepare_each(list(zip(curves, sizes, strict=True)))
    for curve, n, expected in zip(curves, sizes, alone, strict=True):
        for size, one in zip(n, expected, strict=True):
            got = curve.coefficients[curve._variance(size)]
            for field in model._Coefficients.__slots__:
                assert np.array_equal(getattr(got, field), getattr(one, field), equal_nan=True)
