"""What keeps a league table from ranking noise: shrinkage, rank intervals, power.

The index shrinkage and the rank intervals come from the one random-effects model of
`analysis.model`, so a league table sorted by the shrunken index lists the ranks in order
and the verdicts, funnel and ranks of that model cannot contradict each other.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from analysis._scipy import stats
from analysis.counts import CountTable, FloatArray, as_counts, as_levels, as_table
from analysis.indices import moments
from analysis.model import index_estimates, office_model


@dataclass(frozen=True, slots=True)
class Shrunken:
    """One office's shrunken (empirical-Bayes) estimate next to its observed one.

    `weight` is the share of the estimate that comes from the office's own answers
    (1 − shrinkage factor); the rest comes from the comparison-group mean.
    """

    label: str
    n: int
    observed: float | None
    value: float | None
    ci_low: float | None
    ci_high: float | None
    weight: float | None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Shrinkage:
    """shrunken_indices result: the index (normal–normal) and the top-box share (beta–binomial).

    index_mean/index_tau2: the posterior mean of the network mean μ and the REML estimate
    of the between-office variance τ² of the random-effects model, on the 0–100 scale;
    top_box_mean/top_box_rho: the pooled share (percent) and the intra-office correlation
    of the beta–binomial.
    """

    index: tuple[Shrunken, ...]
    top_box: tuple[Shrunken, ...]
    index_mean: float | None
    index_tau2: float | None
    top_box_mean: float | None
    top_box_rho: float | None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class RankInterval:
    """An office's rank (1 = best) with its 95% interval, "rank 3–11 of 14".

    `index` is the observed index; the rank is that of the shrunken index."""

    label: str
    n: int
    index: float | None
    rank: int | None
    rank_low: int | None
    rank_high: int | None
    of: int
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Ranking:
    """rank_intervals result."""

    offices: tuple[RankInterval, ...]
    of: int
    draws: int
    seed: int
    method: str


@dataclass(frozen=True, slots=True)
class Detectable:
    """Smallest index difference (index points) detectable with the current numbers."""

    delta: float | None
    n: int
    group_n: int | None
    sd: float | None
    alpha: float
    power: float
    reason: str | None = None


def _index_values(tab: CountTable) -> tuple[FloatArray, FloatArray, FloatArray, float]:
    """n, index (0–100) and index-scale variance per office, and the pooled within-office SD."""
    lv = np.asarray(tab.levels)
    span = lv[-1] - lv[0]
    if span == 0:
        raise ValueError("the scale has only one level: no index")
    n, mean, var = moments(tab.counts, lv)
    index = 100.0 * (mean - lv[0]) / span
    var_idx = var * (100.0 / span) ** 2
    dof = np.where(n >= 2, n - 1.0, 0.0)
    pooled = float(np.sum(np.where(n >= 2, var_idx, 0.0) * dof) / dof.sum()) if dof.sum() else 0.0
    return n, index, var_idx, math.sqrt(pooled)


def shrunken_indices(
    table: CountTable | Any,
    *,
    levels: Sequence[float] | None = None,
    k: int = 2,
    min_n: int = 1,
) -> Shrinkage:
    """Shrunken estimates of each office's index and top-box share.

    Index: the posterior mean and 95% interval of θ_i in the random-effects model of
    `analysis.model.office_model` (normal hierarchical model, τ integrated over its grid
    posterior; Gelman et al. 2013, Bayesian Data Analysis, 3rd ed., §5.4), `weight` the
    posterior mean of 1 − B_i = τ²/(v_i + τ²); index_mean is the posterior mean of μ,
    index_tau2 the REML estimate of τ² (the posterior mode of τ, squared).
    Top box (beta–binomial): pooled share μ = Σx/Σn, intra-office correlation
    ρ = (S/(μ(1 − μ)) − (I − 1)) / (N − Σn_i²/N − (I − 1)), S = Σ n_i (p_i − μ)², by the
    method of moments (Kleinman 1973, JASA 68:46–54), prior Beta(μM, (1 − μ)M) with
    M = 1/ρ − 1, capped at N (the prior never weighs more than the whole group's answers);
    posterior Beta(μM + x_i, (1 − μ)M + n_i − x_i), equal-tailed 95% interval.
    The group parameters are fitted on offices with n ≥ min_n; the index model gives
    estimates only to those offices (at least three are needed), the top box to every
    office with answers.
    """
    tab = as_table(table, levels)
    labels = tab.labels
    n, y, _, sigma = _index_values(tab)
    fit = n >= max(min_n, 1)
    has = n > 0
    none_row = [Shrunken(lb, int(ni), None, None, None, None, None, "n == 0") for lb, ni in
                zip(labels, n.tolist(), strict=True)]  # fmt: skip
    if fit.sum() < 2 or sigma == 0:
        reason = "fewer than two offices to fit" if fit.sum() < 2 else "no spread in the answers"
        rows = tuple(
            Shrunken(lb, int(ni), None, None, None, None, None, "n == 0" if ni == 0 else reason)
            for lb, ni in zip(labels, n.tolist(), strict=True)
        )
        return Shrinkage(rows, rows, None, None, None, None, reason)

    # index: the random-effects model (no rank draws needed here)
    model = office_model(tab, min_n=max(min_n, 1), draws=1, funnel=False)
    idx_rows = [
        Shrunken(o.label, o.n, float(yi), o.value, o.ci_low, o.ci_high, o.weight)
        if o.value is not None else
        Shrunken(o.label, o.n, float(yi) if h else None, None, None, None, None,
                 "n == 0" if not h else o.reason)
        for o, yi, h in zip(model.offices, y, has.tolist(), strict=True)
    ]  # fmt: skip
    mu = model.mean
    tau2 = None if model.tau_reml is None else model.tau_reml**2

    # top box: beta–binomial, method of moments
    c = tab.counts
    if not 1 <= k <= c.shape[1]:
        raise ValueError(f"k must be from 1 to the number of levels ({c.shape[1]}), got {k}")
    x = c[:, c.shape[1] - k :].sum(axis=1)
    big_n = float(n[fit].sum())
    p_bar = float(x[fit].sum()) / big_n
    rho: float | None
    if p_bar in (0.0, 1.0):
        rho = None
        tb_rows = [
            Shrunken(lb, int(ni), 100.0 * p_bar, 100.0 * p_bar, 100.0 * p_bar, 100.0 * p_bar,
                     1.0, "every answer is on the same side of the top box")
            if h else row
            for lb, ni, h, row in zip(labels, n.tolist(), has.tolist(), none_row, strict=True)
        ]  # fmt: skip
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            p_i = x / n
        s = float(np.sum(n[fit] * (p_i[fit] - p_bar) ** 2))
        i_count = int(fit.sum())
        denom_rho = big_n - float((n[fit] ** 2).sum()) / big_n - (i_count - 1)
        raw_rho = (s / (p_bar * (1 - p_bar)) - (i_count - 1)) / denom_rho if denom_rho > 0 else 0
        rho = float(min(max(raw_rho, 0.0), 1.0 - 1e-12))
        m = big_n if rho == 0 else min(1.0 / rho - 1.0, big_n)
        a_post = p_bar * m + x
        b_post = (1 - p_bar) * m + n - x
        lo = stats.beta.ppf(0.025, a_post, b_post)
        hi = stats.beta.ppf(0.975, a_post, b_post)
        mean_post = a_post / (a_post + b_post)
        tb_rows = [
            Shrunken(lb, int(ni), 100.0 * float(pi), 100.0 * float(e), 100.0 * float(lw),
                     100.0 * float(hg), float(ni / (m + ni)))
            if h else row
            for lb, ni, pi, e, lw, hg, h, row in zip(
                labels, n.tolist(), p_i, mean_post, lo, hi, has.tolist(), none_row, strict=True
            )
        ]  # fmt: skip
    return Shrinkage(tuple(idx_rows), tuple(tb_rows), mu, tau2, 100.0 * p_bar, rho)


def rank_intervals(
    table: CountTable | Any,
    draws: int = 1000,
    seed: int = 0,
    *,
    levels: Sequence[float] | None = None,
    min_n: int = 10,
    joint: bool = True,
) -> Ranking:
    """95% interval of each office's rank by index (rank 1 = best), from the random-effects
    model of `analysis.model.office_model`.

    rank: the rank of the office's shrunken index (so a table sorted by the shrunken index
    lists ranks 1, 2, 3, … in order). Interval: from `draws` seeded draws of the model's
    joint posterior (τ, μ, then every θ_i), the offices ranked in each draw; joint=True
    (default) gives simultaneous intervals — the box that holds every office's drawn rank
    in 95% of the draws (Besag, Green, Higdon & Mengersen 1995, Statistical Science
    10:3–41) — so the intervals are meant to hold for all offices at once; joint=False the
    per-office 2.5%–97.5% quantiles. Widened if needed to contain the rank. Offices with
    fewer than `min_n` answers are not ranked. Coverage of the true rank was checked by
    simulation (bench/coverage.py, docs/methods.md "Rank intervals").
    """
    if draws < 1:
        raise ValueError(f"draws must be at least 1, got {draws}")
    tab = as_table(table, levels)
    model = office_model(tab, min_n=min_n, draws=draws, seed=seed, joint=joint, funnel=False)
    _, y, _, _ = index_estimates(tab)
    offices = tuple(
        RankInterval(o.label, o.n, float(yi), o.rank, o.rank_low, o.rank_high, model.ranks_of)
        if o.rank is not None else
        RankInterval(o.label, o.n, None, None, None, None, model.ranks_of,
                     o.reason or f"n < {max(min_n, 1)}")
        for o, yi in zip(model.offices, y, strict=True)
    )  # fmt: skip
    return Ranking(offices, model.ranks_of, int(draws), int(seed),
                   "random-effects model, " + ("joint" if joint else "per office"))  # fmt: skip


def _z_sum(alpha: float, power: float) -> float:
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise ValueError(f"alpha and power must be in (0, 1), got {alpha} and {power}")
    return float(stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power))


def detectable_difference(
    counts: Any,
    group_counts: Any = None,
    *,
    levels: Sequence[float] | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
) -> Detectable:
    """Smallest index difference the office's current n detects against its group.

    δ = (z_{1−α/2} + z_{power}) · σ · √(1/n + 1/n_group), σ the pooled SD of the office and
    group answers on the index scale (two-sample z test for means, e.g. Chow, Shao & Wang
    2008, Sample Size Calculations in Clinical Research, §3.2). Without group_counts the
    group mean is taken as known (1/n_group = 0). The Mann–Whitney test used for verdicts
    has asymptotic relative efficiency ≥ 0.864 against this test (Hodges & Lehmann 1956),
    so read δ as a close lower bound.
    """
    c = as_counts(counts)
    lv = as_levels(levels if levels is not None else np.arange(1, c.size + 1), c.size)
    z = _z_sum(alpha, power)
    n_int = int(c.sum())
    g = None if group_counts is None else as_counts(group_counts, name="group_counts")
    if g is not None and g.size != c.size:
        raise ValueError(f"counts has {c.size} levels but group_counts has {g.size}")
    g_n = None if g is None else int(g.sum())
    if lv[-1] == lv[0]:
        return Detectable(None, n_int, g_n, None, alpha, power, "the scale has only one level")
    if n_int == 0 or g_n == 0:
        return Detectable(None, n_int, g_n, None, alpha, power, "n == 0")
    both = np.vstack([c, g]) if g is not None else c[None, :]
    tab = CountTable([str(i) for i in range(both.shape[0])], lv.tolist(), both)
    *_, sd = _index_values(tab)
    if sd == 0:
        return Detectable(None, n_int, g_n, 0.0, alpha, power, "no spread in the answers")
    inv = 1.0 / n_int + (0.0 if g_n is None else 1.0 / g_n)
    return Detectable(z * sd * math.sqrt(inv), n_int, g_n, sd, alpha, power)


def responses_needed(
    delta: float,
    sd: float,
    alpha: float = 0.05,
    power: float = 0.8,
    group_n: int | None = None,
) -> int | None:
    """Responses an office needs to detect an index difference δ against its group.

    Solves δ = (z_{1−α/2} + z_{power}) · σ · √(1/n + 1/n_group) for n:
    1/n = (δ/(z·σ))² − 1/n_group, rounded up (same test as `detectable_difference`).
    None if the group is too small for δ to be detectable at any n.
    """
    if delta <= 0 or sd <= 0:
        raise ValueError(f"delta and sd must be positive, got {delta} and {sd}")
    z = _z_sum(alpha, power)
    inv = (delta / (z * sd)) ** 2 - (0.0 if group_n is None else 1.0 / group_n)
    if inv <= 0:
        return None
    return math.ceil(1.0 / inv - 1e-9)
