"""The bound of several n of one search at once works on each n's figures broadcast over its
own parts (issue 17, q32): the same draws counted, bit for bit, as when each part got a copy
of its n's figures (`_certified_each` of cf6e656, kept here as the reference)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

import analysis.model as model
from tests.unit.test_analysis_forecast_speed import _cases


def _old_certified_each(
    coefficients: Sequence[Any], ys: Sequence[Any], sign: float, tail: float,
    min_difference: float,
) -> list[Any]:  # fmt: skip
    """`_certified_each` of cf6e656 (each part's row of its n's figures copied): the reference."""
    parts, places = [], []
    for y in ys:
        rows = y.shape[0]
        chunks = -(-rows // model.CERTIFY_CHUNK)
        order = np.argsort(sign * y, kind="stable")  # u ascending
        pad = (
            chunks * model.CERTIFY_CHUNK - rows
        )  # the lowest draw repeated: it bounds nothing else
        idx = np.concatenate([np.repeat(order[:1], pad), order]).reshape(
            chunks, model.CERTIFY_CHUNK
        )
        parts.append(y[idx])
        places.append(idx)
    d1_max: Any
    d0_max: Any
    if len(parts) == 1:  # one n: its grid's figures broadcast over its parts
        part, bound = parts[0], coefficients[0].bound
        d1_max, d0_max = coefficients[0].d1_max, coefficients[0].d0_max
    else:  # each part's row of its n's figures
        counts = [idx.shape[0] for idx in places]
        part = np.concatenate(parts)
        grid = coefficients[0].bound.shape[1]
        rows_of = [np.broadcast_to(c.bound[:, None, :], (9, k, grid))
                   for c, k in zip(coefficients, counts, strict=True)]  # fmt: skip
        bound = np.concatenate(rows_of, axis=1)
        d1_max = np.repeat([c.d1_max for c in coefficients], counts)
        d0_max = np.repeat([c.d0_max for c in coefficients], counts)
    first, last = part[:, :1], part[:, -1:]  # the least and the largest u of each part
    y_lo, y_hi = np.minimum(first, last), np.maximum(first, last)
    lead, a1, a2, vertex, peak, x0, x1, d1, d0 = bound
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
    slack = 1e-4 * (np.maximum(-y_lo, y_hi)[:, 0] * d1_max + d0_max)
    ok = (unsure <= 1.0 - tail - model.SCREEN_MARGIN) & (least >= min_difference + slack + 1e-9)
    out, at = [], 0
    for y, idx in zip(ys, places, strict=True):
        found_ = np.zeros(y.shape[0], dtype=bool)
        found_[idx[ok[at : at + idx.shape[0]]].ravel()] = True
        out.append(found_)
        at += idx.shape[0]
    return out


def test_the_bound_of_several_n_at_once_counts_the_draws_it_counted_before() -> None:
    """Random networks, the n of a search and the k most likely draws of each (as `certify`
    asks), and draws of other sizes (the path before); some parts certified, some not."""
    counted = 0
    for figures in _cases(32, 4):
        curve = model._power_curve(**figures)
        sizes = [12.0, 60.0, 300.0, 1500.0, 9000.0]
        curve.prepare(sizes)
        drawn = [curve._draws_at(n) for n in sizes]
        tops = [np.sort(curve.sign * ys)[-409:] * curve.sign for _, ys, _ in drawn]
        for asked in (tops, [ys for _, ys, _ in drawn], [tops[0], drawn[1][1]]):
            coefficients = [c for _, _, c in drawn][: len(asked)]
            args = (curve.sign, curve.tail, curve.min_difference)
            found = model._certified_each(coefficients, asked, *args)
            before = _old_certified_each(coefficients, asked, *args)
            assert [a.tolist() for a in found] == [b.tolist() for b in before]
            counted += sum(int(a.sum()) for a in found)
    assert counted > 0


def test_certify_counts_an_n_whose_k_draws_the_bound_takes_whole_or_in_parts() -> None:
    """`_Curve.certify` bounds each n's k most likely draws as one part first and in parts of
    CERTIFY_CHUNK (as before) the n it did not count whole: an n counts when either bound
    takes all k (both bounds, never an estimate), and every n it counts reaches the target
    on the full count of its draws."""
    target = 0.8 + math.sqrt(0.8 * 0.2 / 500)
    counted = whole = 0
    for k, figures in enumerate(_cases(33, 6)):
        figures["delta"] = math.copysign(float(3 + k), figures["delta"])
        curve = model._power_curve(**figures)
        sizes = [float(n) for n in (15, 60, 240, 960, 3840)]
        curve.certify(sizes, target)
        least = curve._least(target)
        for n in sizes:
            _, ys, coefficients = curve._draws_at(n)
            top = np.sort(curve.sign * ys)[-least:] * curve.sign
            args = (curve.sign, curve.tail, curve.min_difference)
            alone = model._certified_each([coefficients], [top], *args, chunk=least)[0].all()
            parts = _old_certified_each([coefficients], [top], *args)[0].all()
            assert (curve.certain.get(n) == least) == bool(alone or parts), (k, n)
            if n in curve.certain:
                counted += 1
                whole += bool(alone)
                assert curve(n) >= target, (k, n)
    assert whole > 0 and counted >= whole
