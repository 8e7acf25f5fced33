"""The time to verdict's search judges the n it will try when each reaches the target at
once (`_Curve.certify`, `_certified_each`): the same n as a search on the full count of every
draw, and the same draws counted as the bound of one n alone (issue 17, q30)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import analysis.model as model
from analysis.model import responses_for_verdict
from tests.unit.test_analysis_forecast_speed import _cases

MONTHS = (1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 18, 24, 30, 36)  # as the pages' forecasts try


def _full_search(figures: dict[str, object], candidates: list[int], power: float) -> int | None:
    """The bisection of `responses_for_verdict` over `candidates` on the full count of every
    draw at each n (`_Curve.__call__`): the reference."""
    curve = model._power_curve(**figures)  # type: ignore[arg-type]
    draws = int(figures["draws"])  # type: ignore[call-overload]
    target = power + math.sqrt(power * (1 - power) / draws)
    sizes = sorted(set(candidates))
    if curve(sizes[-1]) < target:
        return None
    low, high = -1, len(sizes) - 1
    while high - low > 1:
        mid = (low + high) // 2
        if curve(sizes[mid]) >= target:
            high = mid
        else:
            low = mid
    return sizes[high]


def _old_certified(coefficients: Any, ys: Any, sign: float, tail: float, min_difference: float
                   ) -> Any:  # fmt: skip
    """`_certified` as it was at 74fec0c (one n alone): the reference."""
    rows = ys.shape[0]
    chunks = -(-rows // model.CERTIFY_CHUNK)
    order = np.argsort(sign * ys, kind="stable")  # u ascending
    pad = chunks * model.CERTIFY_CHUNK - rows  # the lowest draw repeated: it bounds nothing else
    idx = np.concatenate([np.repeat(order[:1], pad), order]).reshape(chunks, model.CERTIFY_CHUNK)
    part = ys[idx]
    first, last = part[:, :1], part[:, -1:]  # the least and the largest u of each part
    y_lo, y_hi = np.minimum(first, last), np.maximum(first, last)
    lead, a1, a2, vertex, peak, x0, x1, d1, d0 = coefficients.bound
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        at_lo = lead + (a1 + a2 * y_lo) * y_lo
        at_hi = lead + (a1 + a2 * y_hi) * y_hi
        inside = (vertex > y_lo) & (vertex < y_hi)
        top = np.where(inside, peak, np.maximum(at_lo, at_hi))
        shift = top.max(axis=1, keepdims=True)
        high = np.exp(top - shift)
        low = np.exp(np.minimum(at_lo, at_hi) - shift)
        point = np.clip(x0 + x1 * first, -1.0, 2 * model._PHI_END * model._PHI_STEP)
        below = np.floor(point).astype(np.intp)
        miss = 1.0 - model._phi_table().take(below, mode="clip")
        miss[below < 0] = 1.0
        lowest, highest = low.sum(axis=1), high.sum(axis=1)
        unsure = (high * miss).sum(axis=1) / lowest
        dm = d1 * first + d0
        mass = (np.where(dm >= 0, low, high) * dm).sum(axis=1)
        least = np.where(mass >= 0, mass / highest, mass / lowest)
    slack = 1e-4 * (np.maximum(-y_lo, y_hi)[:, 0] * coefficients.d1_max + coefficients.d0_max)
    ok = (unsure <= 1.0 - tail - model.SCREEN_MARGIN) & (least >= min_difference + slack + 1e-9)
    found = np.zeros(rows, dtype=bool)
    found[idx[ok].ravel()] = True
    return found


def test_the_search_finds_the_n_of_the_full_count() -> None:
    rng = np.random.default_rng(17)
    found = []
    for k, figures in enumerate(_cases(21, 8)):
        if k % 2:  # a clear difference: reached early, the n tried next judged at once
            figures["delta"] = math.copysign(float(rng.uniform(4, 9)), figures["delta"])
        rate = int(rng.choice([3, 30, 300]))
        candidates = [rate * m for m in MONTHS]
        quick = responses_for_verdict(**figures, candidates=candidates, achieved=False)
        assert quick[0] == _full_search(figures, candidates, 0.8), k
        found.append(quick[0])
    assert None in found and any(n is not None for n in found)  # not reached, and reached


def test_the_bound_of_several_n_at_once_counts_the_draws_of_each_alone_as_before() -> None:
    for figures in _cases(22, 4):
        curve = model._power_curve(**figures)
        sizes = [20.0, 300.0, 4000.0]
        curve.prepare(sizes)
        drawn = [curve._draws_at(n) for n in sizes]
        each = model._certified_each([c for _, _, c in drawn], [ys for _, ys, _ in drawn],
                                     curve.sign, curve.tail, curve.min_difference)  # fmt: skip
        for (_, ys, coefficients), together in zip(drawn, each, strict=True):
            alone = model._certified(coefficients, ys, curve.sign, curve.tail,
                                     curve.min_difference)  # fmt: skip
            before = _old_certified(coefficients, ys, curve.sign, curve.tail,
                                    curve.min_difference)  # fmt: skip
            assert np.array_equal(together, alone) and np.array_equal(alone, before)


def test_an_n_the_bound_certifies_reaches_the_target_without_being_judged_again() -> None:
    rng = np.random.default_rng(2)
    y, v = rng.normal(62, 4, 20), rng.uniform(0.005, 0.05, 20)
    figures = dict(y=y, v=v, office=3, delta=8.0, sigma=20.0, extra_var=0.0, level=0.95,
                   min_difference=0.0, draws=500, seed=0)  # fmt: skip
    target = 0.8 + math.sqrt(0.8 * 0.2 / 500)
    curve = model._power_curve(**figures)  # type: ignore[arg-type]
    curve.certify([5000.0, 20000.0], target)
    assert curve.certain == {5000.0: 409, 20000.0: 409}  # the 409 of 500 the target needs
    assert curve.reaches(5000.0, target) and not curve.powers
    assert model._power_curve(**figures)(5000.0) >= target  # type: ignore[arg-type]
