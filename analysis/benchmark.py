"""Compare offices with their comparison group: verdicts and funnel-plot limits.

All figures come from one (offices × levels) count table, vectorised over offices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from analysis._scipy import stats
from analysis.counts import CountTable, FloatArray, as_table, midranks
from analysis.indices import (
    Z95,
    Estimate,
    index_interval,
    moments,
    satisfaction_index,
    share_noise,
    top_box,
    wilson_interval,
)
from analysis.significance import adjust_pvalues, mw_noise_variance, mw_z

Verdict = Literal["better", "worse", "no clear difference", "withheld", "too few responses"]
""""withheld" is never computed here: a caller that must not show the comparison (its group's
figure is withheld for disclosure control) puts it in place of the verdict."""
TOO_FEW: Verdict = "too few responses"


@dataclass(frozen=True, slots=True)
class OfficeComparison:
    """One office against all other offices of its comparison group.

    Figures are None below `min_n` (verdict "too few responses") and `reason` says why.
    index: 0–100 with the 95% interval of `satisfaction_index`; top_box: percent with the
    Wilson 95% interval;
    statistic: Mann–Whitney U of the office against the pooled other offices; effect_size:
    rank-biserial correlation (positive: the office rates higher); qvalue: Benjamini–Hochberg
    over the offices with at least `min_n` responses.
    """

    label: str
    n: int
    index: float | None
    index_low: float | None
    index_high: float | None
    top_box: float | None
    top_box_low: float | None
    top_box_high: float | None
    statistic: float | None
    pvalue: float | None
    qvalue: float | None
    effect_size: float | None
    verdict: Verdict
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Comparison:
    """compare_offices result: one row per office, plus the whole group's figures."""

    offices: tuple[OfficeComparison, ...]
    overall_index: Estimate
    overall_top_box: Estimate
    levels: tuple[float, ...]
    min_n: int
    alpha: float
    min_effect: float
    rule: str


def _maybe(values: FloatArray, ok: Any) -> list[float | None]:
    mask = np.asarray(ok, dtype=bool) & np.isfinite(values)
    return [v if m else None for v, m in zip(values.tolist(), mask.tolist(), strict=True)]


def _check_min_n(min_n: int) -> None:
    if isinstance(min_n, bool) or not isinstance(min_n, int | np.integer) or min_n < 1:
        raise ValueError(f"min_n must be an integer ≥ 1, got {min_n!r}")


def _noise_per_office(noise: Sequence[float] | None, offices: int) -> FloatArray | None:
    """The noise variances as an array (one per office), or None when there is none."""
    if noise is None:
        return None
    try:
        nu = np.asarray(noise, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"noise must be one variance per office: {exc}") from exc
    if nu.shape != (offices,):
        raise ValueError(f"noise must be one variance per office ({offices}), got shape {nu.shape}")
    if not np.all(np.isfinite(nu)) or np.any(nu < 0):
        raise ValueError(f"noise must be finite variances ≥ 0, got {nu.tolist()}")
    return nu if bool(np.any(nu > 0)) else None


def compare_offices(
    table: CountTable | Any,
    min_n: int = 10,
    *,
    levels: Sequence[float] | None = None,
    k: int = 2,
    alpha: float = 0.05,
    min_effect: float = 0.0,
    noise: Sequence[float] | None = None,
    index_noise: Sequence[float] | None = None,
) -> Comparison:
    """Each office against the pooled other offices, with a verdict.

    Per office i with n_i responses: the satisfaction index (see `satisfaction_index`),
    the top-k share (see `top_box`), and a Mann–Whitney test of office i against all other
    offices pooled (see `mann_whitney`). Office + rest is always the whole group, so the
    mid-ranks and the tie term are those of the group total and are computed once:
    U_i = c_i·r − n_i(n_i + 1)/2, O(offices × levels).
    The p-values of the offices with n_i ≥ min_n are turned into Benjamini–Hochberg (1995)
    q-values. Verdict: "too few responses" when n_i < min_n (and no figures are shown);
    "better"/"worse" when q < alpha and |effect size| ≥ min_effect, by the sign of the
    rank-biserial effect size; otherwise "no clear difference".

    `noise` (one per office): the variance of the noise in each level count of the office's
    published counts (the protected table's cell-key noise, `ProtectedTable.noise_variance`;
    a pooled unit's is the sum of its offices'). The figures then allow for it: the index
    interval's SE² gains ν_i·Σ_l (x_l − ȳ_i)²/n_i² (`index_interval`), the top-box interval
    is Wilson's on the effective sample size (`wilson_interval`, `share_noise`), and the
    Mann–Whitney variance gains what the office's noise and the rest's (Σ_{j≠i} ν_j, the rest
    being the sum of the other offices' figures) add to U (`mw_noise_variance`). The index,
    share, U and effect size stay those of the published counts. Without `noise` every figure
    is scipy's on the expanded counts.

    `index_noise` (one per office, with `noise`): the variance of the noise of the office's
    published index itself, when it is known otherwise (the protected table tilts the
    index's classes to the mean of its items' indices, `ProtectedTable.index_noise`): the
    index interval's SE² gains it instead, and U's noise variance takes each group's mean
    noise from it (n_i²·V_i for the office, Σ_{j≠i} n_j²·V_j for the rest;
    `mw_noise_variance`'s `sum_noise`) and only the rest of the rank noise from `noise`.
    """
    _check_min_n(min_n)
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
    if min_effect < 0 or min_effect > 1:
        raise ValueError(f"min_effect is a rank-biserial correlation in [0, 1], got {min_effect}")
    tab = as_table(table, levels)
    c = tab.counts
    lv = np.asarray(tab.levels)
    n_levels = lv.size
    if not 1 <= k <= n_levels:
        raise ValueError(f"k must be from 1 to the number of levels ({n_levels}), got {k}")
    nu = _noise_per_office(noise, c.shape[0])
    own = _noise_per_office(index_noise, c.shape[0])
    if own is not None and nu is None:
        raise ValueError("index_noise needs noise (the level counts' noise) as well")
    total = c.sum(axis=0)
    big_n = float(total.sum())
    n, mean, _ = moments(c, lv)
    n_rest = big_n - n
    shown = n >= min_n

    # index with the interval of `satisfaction_index` (open at the scale's ends)
    span = lv[-1] - lv[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        index = 100.0 * (mean - lv[0]) / span if span > 0 else np.full_like(n, np.nan)
    if span > 0:
        index_low, index_high, _ = index_interval(c, lv, noise=nu, index_noise=own)
    else:
        index_low = index_high = np.full_like(n, np.nan)

    # top box with Wilson interval
    x = c[:, n_levels - k :].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = 100.0 * x / n
    extra = None if nu is None else share_noise(x, n, k, n_levels, nu)
    tb_low, tb_high = wilson_interval(x, n, extra=extra)

    # Mann–Whitney of each office against the rest
    ranks = midranks(total)
    u = c @ ranks - n * (n + 1.0) / 2.0
    ties = float(np.sum(total**3 - total))
    testable = shown & (n_rest > 0)
    u_noise = None
    if nu is not None:
        sums = None if own is None else np.where(np.isfinite(own), own, 0.0) * n * n
        u_noise = mw_noise_variance(
            total, n, n_rest, nu, float(nu.sum()) - nu,
            scale=None if span <= 0 else 100.0 * (lv - lv[0]) / span,
            sum_noise1=sums, sum_noise2=None if sums is None else float(sums.sum()) - sums,
        )  # fmt: skip
    p, _ = mw_z(u, n, n_rest, ties, u_noise)
    with np.errstate(invalid="ignore", divide="ignore"):
        effect = 2.0 * u / (n * n_rest) - 1.0
    q = np.full_like(n, np.nan)
    if testable.any():
        q[testable] = adjust_pvalues(p[testable], "bh")
    better = testable & (q < alpha) & (np.abs(effect) >= min_effect)
    verdicts: list[Verdict] = [
        TOO_FEW if not s else ("better" if e > 0 else "worse") if b else "no clear difference"
        for s, b, e in zip(shown.tolist(), better.tolist(), effect.tolist(), strict=True)
    ]

    def why(shown_i: bool, rest_i: bool, n_i: float) -> str | None:
        if not shown_i:
            return f"n < {min_n}"
        if span == 0:
            return "the scale has only one level: no index"
        if not rest_i:
            return "no other offices to compare with"
        return "n < 2: no interval" if n_i < 2 else None

    reasons = [
        why(s, r, m)
        for s, r, m in zip(shown.tolist(), (n_rest > 0).tolist(), n.tolist(), strict=True)
    ]
    cols = (
        _maybe(index, shown),
        _maybe(index_low, shown & (n >= 2)),
        _maybe(index_high, shown & (n >= 2)),
        _maybe(share, shown),
        _maybe(100.0 * tb_low, shown),
        _maybe(100.0 * tb_high, shown),
        _maybe(u, testable),
        _maybe(p, testable),
        _maybe(q, testable),
        _maybe(effect, testable),
    )
    offices = tuple(
        OfficeComparison(label, int(ni), i0, i1, i2, t0, t1, t2, uu, pp, qq, ee, verdict, reason)
        for label, ni, i0, i1, i2, t0, t1, t2, uu, pp, qq, ee, verdict, reason in zip(
            tab.labels, n.tolist(), *cols, verdicts, reasons, strict=True
        )
    )
    rule = (
        f"better/worse: Benjamini–Hochberg q < {alpha} over the offices with n ≥ {min_n}"
        + (f" and |rank-biserial r| ≥ {min_effect}" if min_effect > 0 else "")
        + "; direction by the sign of r; n < min_n: too few responses"
    )
    return Comparison(
        offices,
        satisfaction_index(total, lv),
        top_box(total, k),
        tab.levels,
        int(min_n),
        float(alpha),
        float(min_effect),
        rule,
    )


Position = Literal[
    "within", "above 95%", "below 95%", "above 99.8%", "below 99.8%", "too few responses"
]

Z_998 = 3.090232306167813  # scipy.stats.norm.ppf(0.999)


@dataclass(frozen=True, slots=True)
class FunnelPoint:
    """One office on the funnel plot: its value, z-score against the target, and position.
    `effective_n` (the random-effects model's funnel): the n at which σ²/n is the variance
    the model gave the value (σ²/se²). With noise or a client-mix adjustment it is below n,
    and the point is drawn there, where the lines (drawn for variances σ²/n) say its
    verdict."""

    label: str
    n: int
    value: float | None
    z: float | None
    position: Position
    effective_n: float | None = None


@dataclass(frozen=True, slots=True)
class Funnel:
    """Funnel-plot control limits over a grid of n, and the offices' positions.

    `measure` is "index" (0–100) or "top_box" (percent). `phi` is the winsorised
    overdispersion estimate, `overdispersion_p` its χ² test, `tau2` the additive
    between-office variance; `inflated` says whether the limits were widened.
    """

    measure: str
    target: float | None
    unit_sd: float | None
    grid_n: tuple[float, ...]
    low95: tuple[float, ...]
    high95: tuple[float, ...]
    low998: tuple[float, ...]
    high998: tuple[float, ...]
    phi: float | None
    tau2: float | None
    overdispersion_p: float | None
    overdispersion: str
    inflated: bool
    offices: tuple[FunnelPoint, ...]
    reason: str | None = None


def winsorise(z: FloatArray, share: float = 0.1) -> FloatArray:
    """Set z below the `share` quantile to that quantile, and above 1 − share likewise."""
    if z.size == 0:
        return z
    low, high = np.quantile(z, [share, 1.0 - share])
    return np.clip(z, low, high)


def funnel_limits(
    table: CountTable | Any,
    *,
    measure: Literal["index", "top_box"] = "index",
    levels: Sequence[float] | None = None,
    k: int = 2,
    target: float | None = None,
    min_n: int = 10,
    overdispersion: Literal["multiplicative", "additive", "none"] = "multiplicative",
    grid: Sequence[float] | None = None,
    winsor: float = 0.1,
) -> Funnel:
    """Funnel-plot control limits (95% and 99.8%) and per-office z-scores.

    Spiegelhalter 2005, "Funnel plots for comparing institutional performance", Stat Med
    24:1185–1202. Normal approximation: the limits at sample size n are
    target ± z_p · s(n), z_{95%} = 1.960, z_{99.8%} = 3.090, with
    s(n) = 100·√(p0(1 − p0)/n) for a top-box share (target p0 = the group's pooled share),
    s(n) = σ/√n for the index, σ the pooled within-office standard deviation of the
    respondents' index values (target = the group's pooled index).
    Office z-score: z_i = (y_i − target)/s(n_i), over offices with n_i ≥ min_n.
    Overdispersion (paper §6): winsorise the z_i at the 10%/90% quantiles, φ = Σ z_w²/I;
    test I·φ against χ² with I − 1 df (I df when the target is given).
    "multiplicative" (default, kept for the pages built on it): if the test is significant
    at 5% and φ > 1, limits become target ± z_p·√φ·s(n) and z_i is divided by √φ.
    "additive" (the random-effects form, which "appears to have a stronger conceptual
    foundation": Spiegelhalter 2005, "Handling over-dispersion of performance indicators",
    Qual Saf Health Care 14:347–351; `analysis.model` is the full random-effects model):
    τ² = max(0, (I·φ − (I − 1)) / (Σw − Σw²/Σw)),
    w_i = 1/s(n_i)²; limits target ± z_p·√(s(n)² + τ²) and z_i = (y_i − target)/√(s_i² + τ²).
    "none": no adjustment.
    """
    _check_min_n(min_n)
    if measure not in ("index", "top_box"):
        raise ValueError(f'measure must be "index" or "top_box", got {measure!r}')
    if overdispersion not in ("multiplicative", "additive", "none"):
        raise ValueError(
            f'overdispersion must be "multiplicative", "additive" or "none", got {overdispersion!r}'
        )
    if not 0 <= winsor < 0.5:
        raise ValueError(f"winsor must be in [0, 0.5), got {winsor}")
    tab = as_table(table, levels)
    c = tab.counts
    lv = np.asarray(tab.levels)
    total = c.sum(axis=0)
    n, mean, var = moments(c, lv)
    big_n = float(total.sum())
    shown = n >= min_n
    span = lv[-1] - lv[0]

    def empty(reason: str) -> Funnel:
        points = tuple(
            FunnelPoint(label, int(ni), None, None, "too few responses" if ni < min_n else "within")
            for label, ni in zip(tab.labels, n.tolist(), strict=True)
        )
        return Funnel(measure, None, None, (), (), (), (), (), None, None, None,
                      overdispersion, False, points, reason)  # fmt: skip

    if big_n == 0:
        return empty("n == 0")
    if measure == "index":
        if span == 0:
            return empty("the scale has only one level")
        with np.errstate(invalid="ignore", divide="ignore"):
            values = 100.0 * (mean - lv[0]) / span
        dof = np.where(n >= 2, n - 1.0, 0.0)
        pooled_ss = float(np.nansum(np.where(n >= 2, var, 0.0) * dof))
        if dof.sum() == 0:
            return empty("no office has two responses: no spread to estimate")
        unit_sd = 100.0 * np.sqrt(pooled_ss / dof.sum()) / span
        centre = 100.0 * (float(total @ lv) / big_n - lv[0]) / span
    else:
        if not 1 <= k <= lv.size:
            raise ValueError(f"k must be from 1 to the number of levels ({lv.size}), got {k}")
        x = c[:, lv.size - k :].sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            values = 100.0 * x / n
        centre = 100.0 * float(x.sum()) / big_n
        p0 = (centre if target is None else target) / 100.0
        if not 0 <= p0 <= 1:
            raise ValueError(f"target must be a percentage in [0, 100], got {target}")
        unit_sd = 100.0 * np.sqrt(p0 * (1.0 - p0))
    theta = centre if target is None else float(target)
    unit_sd = float(unit_sd)
    if unit_sd == 0:
        return empty("no spread: every answer is the same")

    with np.errstate(invalid="ignore", divide="ignore"):
        s_i = unit_sd / np.sqrt(n)
        z = (values - theta) / s_i
    used = shown & np.isfinite(z)
    i_count = int(used.sum())
    phi = tau2 = p_over = None
    inflated = False
    if i_count >= 2:
        zw = winsorise(z[used], winsor)
        phi = float(np.mean(zw**2))
        dfree = i_count - 1 if target is None else i_count
        p_over = float(stats.chi2.sf(i_count * phi, dfree))
        w = 1.0 / s_i[used] ** 2
        denom = float(w.sum() - (w**2).sum() / w.sum())
        tau2 = max(0.0, (i_count * phi - dfree) / denom) if denom > 0 else 0.0
        if overdispersion == "multiplicative":
            inflated = p_over < 0.05 and phi > 1
        elif overdispersion == "additive":
            inflated = tau2 > 0

    if grid is None:
        n_max = float(max(n.max(), min_n)) * 1.1
        grid_arr = np.unique(np.round(np.geomspace(max(1.0, min_n / 2), n_max, 200), 2))
    else:
        grid_arr = np.asarray(grid, dtype=np.float64)
        if grid_arr.ndim != 1 or np.any(grid_arr <= 0):
            raise ValueError("grid must be a list of positive sample sizes")

    def spread(size: FloatArray) -> FloatArray:
        base = unit_sd / np.sqrt(size)
        if inflated and overdispersion == "multiplicative":
            return base * float(np.sqrt(phi or 1.0))
        if inflated and overdispersion == "additive":
            return np.sqrt(base**2 + (tau2 or 0.0))
        return base

    g_sd = spread(grid_arr)
    lims = {
        key: np.clip(theta + sign * zq * g_sd, 0.0, 100.0).tolist()
        for key, sign, zq in (
            ("low95", -1, Z95),
            ("high95", 1, Z95),
            ("low998", -1, Z_998),
            ("high998", 1, Z_998),
        )
    }
    with np.errstate(invalid="ignore", divide="ignore"):
        z_adj = (values - theta) / spread(n)
    position = np.where(
        z_adj > Z_998, "above 99.8%",
        np.where(z_adj > Z95, "above 95%",
                 np.where(z_adj < -Z_998, "below 99.8%",
                          np.where(z_adj < -Z95, "below 95%", "within"))),
    )  # fmt: skip
    position = np.where(used, position, TOO_FEW)
    points = tuple(
        FunnelPoint(label, int(ni), v, zz, pos)
        for label, ni, v, zz, pos in zip(
            tab.labels,
            n.tolist(),
            _maybe(values, used),
            _maybe(z_adj, used),
            position.tolist(),
            strict=True,
        )
    )
    return Funnel(
        measure,
        theta,
        unit_sd,
        tuple(grid_arr.tolist()),
        tuple(lims["low95"]),
        tuple(lims["high95"]),
        tuple(lims["low998"]),
        tuple(lims["high998"]),
        phi,
        tau2,
        p_over,
        overdispersion,
        inflated,
        points,
    )
