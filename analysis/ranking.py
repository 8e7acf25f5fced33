"""What keeps a league table from ranking noise: shrinkage, rank intervals, power."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy import stats

from analysis.counts import CountTable, FloatArray, as_counts, as_levels, as_table
from analysis.indices import moments

Z95 = float(stats.norm.ppf(0.975))


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

    index_mean/index_tau2: the group mean and between-office variance (DerSimonian–Laird)
    on the 0–100 scale; top_box_mean/top_box_rho: the pooled share (percent) and the
    intra-office correlation of the beta–binomial.
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
    """An office's rank (1 = best) with its 95% interval, "rank 3–11 of 14"."""

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
    dirichlet_offices: int = 0
    """Offices whose index was drawn from the Dirichlet posterior (the rest: normal)."""


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
    """Empirical-Bayes estimates of each office's index and top-box share.

    Index (normal–normal model): office i's observed index y_i has sampling variance
    v_i = σ²/n_i, σ the pooled within-office SD (an office's own SD is unreliable for small
    n and is 0 when everyone gave the same answer). Between-office variance τ² by the
    method of moments (DerSimonian & Laird 1986, Control Clin Trials 7:177–188):
    w_i = 1/v_i, Q = Σ w_i (y_i − ȳ_w)², τ² = max(0, (Q − (I − 1))/(Σw − Σw²/Σw)).
    Group mean μ = Σ y_i/(v_i + τ²) / Σ 1/(v_i + τ²); shrinkage B_i = v_i/(v_i + τ²);
    estimate μ + (1 − B_i)(y_i − μ); variance v_i(1 − B_i) + B_i²/Σ 1/(v_j + τ²), the
    second term for the uncertainty of μ (Morris 1983, JASA 78:47–55); 95% normal interval.
    Top box (beta–binomial): pooled share μ = Σx/Σn, intra-office correlation
    ρ = (S/(μ(1 − μ)) − (I − 1)) / (N − Σn_i²/N − (I − 1)), S = Σ n_i (p_i − μ)², by the
    method of moments (Kleinman 1973, JASA 68:46–54), prior Beta(μM, (1 − μ)M) with
    M = 1/ρ − 1, capped at N (the prior never weighs more than the whole group's answers);
    posterior Beta(μM + x_i, (1 − μ)M + n_i − x_i), equal-tailed 95% interval.
    The group parameters are fitted on offices with n ≥ min_n; every office with answers
    gets an estimate (shrinkage is what makes small offices' figures usable).
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

    # index: normal–normal with DerSimonian–Laird tau²
    with np.errstate(divide="ignore", invalid="ignore"):
        v = sigma**2 / n
    w = 1.0 / v[fit]
    y_w = float(np.sum(w * y[fit]) / w.sum())
    q = float(np.sum(w * (y[fit] - y_w) ** 2))
    denom = float(w.sum() - (w**2).sum() / w.sum())
    tau2 = max(0.0, (q - (fit.sum() - 1)) / denom) if denom > 0 else 0.0
    w_re = 1.0 / (v[fit] + tau2)
    mu = float(np.sum(w_re * y[fit]) / w_re.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        b = v / (v + tau2)
        est = mu + (1.0 - b) * (y - mu)
        sd = np.sqrt(v * (1.0 - b) + b**2 / w_re.sum())
    idx_rows = [
        Shrunken(lb, int(ni), float(yi), float(e), max(0.0, float(e - Z95 * s)),
                 min(100.0, float(e + Z95 * s)), float(1 - bi))
        if h else row
        for lb, ni, yi, e, s, bi, h, row in zip(
            labels, n.tolist(), y, est, sd, b, has.tolist(), none_row, strict=True
        )
    ]  # fmt: skip

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


# Offices whose posterior of the index is this close to normal draw from the normal in
# method="auto"; see rank_intervals and docs/methods.md ("Rank intervals").
AUTO_MIN_N = 200
AUTO_MAX_SKEW = 0.1
AUTO_REFERENCE_DRAWS = 1000


def _dirichlet_index_moments(
    alpha: FloatArray, scale: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Mean, variance and skewness of Σ s_j p_j for p ~ Dirichlet(α), per row of α.

    With p̄ = α/α₀, m = Σ p̄_j s_j, μ_k = Σ p̄_j (s_j − m)^k: variance μ₂/(α₀ + 1), third
    central moment 2μ₃/((α₀ + 1)(α₀ + 2)) (from the Dirichlet's product moments; e.g.
    Kotz, Balakrishnan & Johnson 2000, Continuous Multivariate Distributions 1, ch. 49).
    """
    a0 = alpha.sum(axis=1)
    p = alpha / a0[:, None]
    m = p @ scale
    d = scale[None, :] - m[:, None]
    var = np.einsum("ij,ij->i", p, d * d) / (a0 + 1.0)
    k3 = 2.0 * np.einsum("ij,ij->i", p, d * d * d) / ((a0 + 1.0) * (a0 + 2.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        skew = np.where(var > 0, k3 / var**1.5, 0.0)
    return m, var, skew


def rank_intervals(
    table: CountTable | Any,
    draws: int = 1000,
    seed: int = 0,
    *,
    levels: Sequence[float] | None = None,
    min_n: int = 10,
    method: Literal["auto", "dirichlet", "normal"] = "auto",
    chunk: int = 100,
) -> Ranking:
    """95% interval of each office's rank by index (rank 1 = best), by parametric bootstrap.

    For each of `draws` replicates, each office's index is drawn from its posterior, the
    offices ranked. The interval runs from the 2.5% to the 97.5% quantile of those ranks,
    widened if needed to contain the observed rank (Goldstein & Spiegelhalter 1996, JRSS A
    159:385–443; Marshall & Spiegelhalter 1998, BMJ 316:1701–1704). Offices with fewer than
    `min_n` answers are not ranked. Seeded (numpy PCG64): same input, same intervals.

    "dirichlet": the answer distribution p ~ Dirichlet(counts + 0.5) (the posterior under
    Jeffreys' prior), index Σ s_j p_j with s_j the levels on the 0–100 scale.
    "normal": index ~ N(observed, σ²/n), σ the pooled SD (fast, cruder for small offices).
    "auto" (default): the Dirichlet draws for an office whose posterior of the index is
    visibly non-normal, and for the others the normal with that posterior's exact mean m
    and variance μ₂/(α₀ + 1) (p̄ = α/α₀, μ_k = Σ p̄_j (s_j − m)^k). Normal when
    n ≥ 200 and |γ| ≤ 0.1·min(1, √(1000/draws)), γ = 2μ₃/μ₂^1.5 · √(α₀ + 1)/(α₀ + 2) the
    posterior's skewness. The posterior of a mean tends to this normal (Bernstein–von
    Mises; van der Vaart 1998, Asymptotic Statistics, §10.2), and by Cornish–Fisher its
    2.5% and 97.5% points move by about γ(z² − 1)/6 = 0.47γ SD from the normal ones
    (Hall 1992, The Bootstrap and Edgeworth Expansion, §2.5): at most 0.047 SD, about half
    the Monte Carlo SE of a 2.5% point from 1,000 draws (√(0.025·0.975/1000)/φ(1.96) =
    0.085 SD); the bound tightens with more draws. n ≥ 200 keeps the kurtosis term,
    O(1/n), smaller still. Mass piled at a scale end makes |γ| large, so such offices keep
    their Dirichlet draws. All offices are drawn together, in chunks of `chunk` replicates;
    where every office needs the Dirichlet, "auto" equals "dirichlet" draw for draw.
    """
    if draws < 1:
        raise ValueError(f"draws must be at least 1, got {draws}")
    if method not in ("auto", "dirichlet", "normal"):
        raise ValueError(f'method must be "auto", "dirichlet" or "normal", got {method!r}')
    tab = as_table(table, levels)
    lv = np.asarray(tab.levels)
    n, y, _, sigma = _index_values(tab)
    ranked = np.flatnonzero(n >= max(min_n, 1))
    of = int(ranked.size)
    obs = np.full(n.size, np.nan)
    lo = np.full(n.size, np.nan)
    hi = np.full(n.size, np.nan)
    exact = 0
    if of >= 1:
        obs_r = stats.rankdata(-y[ranked], method="min")
        rng = np.random.default_rng(seed)
        alpha_all = tab.counts[ranked] + 0.5
        scale = 100.0 * (lv - lv[0]) / (lv[-1] - lv[0])
        if method == "normal":
            dirichlet = np.zeros(of, dtype=bool)
            centre, spread = y[ranked], sigma / np.sqrt(n[ranked])
        else:
            centre, var, skew = _dirichlet_index_moments(alpha_all, scale)
            spread = np.sqrt(var)
            if method == "dirichlet":
                dirichlet = np.ones(of, dtype=bool)
            else:
                max_skew = AUTO_MAX_SKEW * min(1.0, math.sqrt(AUTO_REFERENCE_DRAWS / draws))
                dirichlet = (n[ranked] < AUTO_MIN_N) | ~(np.abs(skew) <= max_skew)
        exact = int(dirichlet.sum())
        d_idx, n_idx = np.flatnonzero(dirichlet), np.flatnonzero(~dirichlet)
        alpha_par = alpha_all[d_idx].astype(np.float32)
        scale32 = scale.astype(np.float32)
        centre, spread = centre[n_idx], spread[n_idx]
        ranks = np.empty((draws, of), dtype=np.int32)
        sims = np.empty((chunk, of))
        for start in range(0, draws, chunk):
            size = min(chunk, draws - start)
            if d_idx.size:
                # float32 gammas: ranks need no more precision and they draw ~25% faster
                g = rng.standard_gamma(alpha_par, size=(size, *alpha_par.shape), dtype=np.float32)
                sims[:size, d_idx] = (g @ scale32) / g.sum(axis=2)
            if n_idx.size:
                sims[:size, n_idx] = centre + spread * rng.standard_normal((size, n_idx.size))
            order = np.argsort(-sims[:size], axis=1, kind="stable")
            block = np.empty_like(order)
            np.put_along_axis(block, order, np.arange(1, of + 1)[None, :], axis=1)
            ranks[start : start + size] = block
        q_lo = np.floor(np.quantile(ranks, 0.025, axis=0, method="inverted_cdf"))
        q_hi = np.ceil(np.quantile(ranks, 0.975, axis=0, method="inverted_cdf"))
        obs[ranked] = obs_r
        lo[ranked] = np.minimum(q_lo, obs_r)
        hi[ranked] = np.maximum(q_hi, obs_r)
    shown = n >= max(min_n, 1)
    offices = tuple(
        RankInterval(lb, int(ni), float(yi), int(r), int(a), int(b), of)
        if s else RankInterval(lb, int(ni), None, None, None, None, of, f"n < {max(min_n, 1)}")
        for lb, ni, yi, r, a, b, s in zip(
            tab.labels, n.tolist(), y, np.nan_to_num(obs), np.nan_to_num(lo), np.nan_to_num(hi),
            shown.tolist(), strict=True,
        )
    )  # fmt: skip
    return Ranking(offices, of, int(draws), int(seed), method, exact)


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


def time_to_verdict(
    counts: Any,
    group_counts: Any,
    delta: float,
    rate_per_day: float,
    *,
    today: dt.date | None = None,
    levels: Sequence[float] | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
) -> dt.date | None:
    """The date by which the office will have enough responses to detect δ, at its recent rate.

    needed = `responses_needed`(δ, σ, α, power, n_group), days = ⌈(needed − n)/rate⌉,
    date = today + days; today if it already has enough. None when the rate is not positive
    or δ cannot be detected against this group at any n. The group's n is held fixed.
    """
    det = detectable_difference(counts, group_counts, levels=levels, alpha=alpha, power=power)
    if det.sd is None or det.sd == 0 or rate_per_day <= 0 or delta <= 0:
        return None
    needed = responses_needed(delta, det.sd, alpha, power, det.group_n)
    if needed is None:
        return None
    start = today or dt.date.today()
    missing = needed - det.n
    if missing <= 0:
        return start
    return start + dt.timedelta(days=math.ceil(missing / rate_per_day))
