"""Satisfaction index, top-box share, Net Promoter Score and Cronbach's alpha from counts."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from analysis._scipy import stats
from analysis.counts import FloatArray, as_count_matrix, as_counts, as_levels

Z95 = 1.959963984540054  # scipy.stats.norm.ppf(0.975), as a literal: scipy is imported lazily


@dataclass(frozen=True, slots=True)
class Estimate:
    """A figure with its 95% interval.

    `value`, `ci_low`, `ci_high` and `se` are None when they cannot be computed, and
    `reason` then says why (e.g. "n == 0").
    """

    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    se: float | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Alpha:
    """Cronbach's alpha with its Feldt (1965) 95% interval, on `n` complete respondents."""

    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    items: int
    reason: str | None = None


def moments(counts: FloatArray, levels: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """n, mean and sample variance (ddof=1) per row of a (groups × levels) table.

    Rows with n == 0 get mean NaN, rows with n < 2 variance NaN; callers turn those into
    None with a reason.
    """
    n = counts.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (counts @ levels) / n
        dev = levels - mean[..., None]
        var = np.einsum("...j,...j->...", counts, dev * dev) / (n - 1)
    var = np.where(n >= 2, np.maximum(var, 0.0), np.nan)
    return n, mean, var


def index_interval(
    counts: FloatArray,
    levels: FloatArray,
    z: float = Z95,
    noise: FloatArray | float | None = None,
    index_noise: FloatArray | float | None = None,
    *,
    each_row: bool = False,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """95% interval of the index (0–100) that never collapses to zero width (vectorised).

    Add z²/2 pseudo-answers at each end of the scale (the lowest and the highest level),
    ñ = n + z², m̃ and s̃² the mean and variance (divided by ñ) of the augmented answers,
    interval m̃ ± z·s̃/√ñ on the index scale, cut to [0, 100] and widened if needed to
    contain the observed index. On a two-level scale this is exactly the Agresti–Coull
    interval (Agresti & Coull 1998, "Approximate is better than 'exact' for interval
    estimation of binomial proportions", The American Statistician 52:119–126); on more
    levels it is the same add-pseudo-answers-at-the-ends idea, which keeps the interval
    open when every answer is at one end. Its coverage is checked by exact enumeration of
    the multinomial in tests/unit/test_analysis_indices.py (≥ 95% at n = 3…30 on skewed,
    uniform, bimodal and piled-up answer distributions of a 5-point item, where the t
    interval covers 10–95%). Returns low, high and the SE of the augmented mean.

    `noise` (one per row, or one for all): the variance ν of independent noise on every
    level count, as the published counts of the protected table carry it (cell-key
    perturbation; `ProtectedTable.noise_variance`). A mean Σ c_l·x_l / Σ c_l of such counts
    moves by Σ_l e_l·(x_l − ȳ)/n to first order, so the SE² gains ν·Σ_l (x_l − ȳ)²/n² over
    every level, empty ones included (ȳ the observed index, x_l the levels on the index
    scale, n the published n). None or 0: the interval above, unchanged.

    `index_noise` (one per row, or one for all): the variance of the published index's noise
    itself, when it is known otherwise (the protected table's index is the mean of its items'
    indices, `ProtectedTable.index_noise`); added to SE² instead of what `noise` gives.

    `each_row`: the rows' products with the levels by `_row_dots`, so that each row of a
    matrix gets the bits of its own call (a matrix product may add in another order).
    """
    dot = _row_dots if each_row else np.matmul
    span = levels[-1] - levels[0]
    scale = 100.0 * (levels - levels[0]) / span
    a = z * z / 2.0
    aug = counts.copy()
    aug[..., 0] += a
    aug[..., -1] += a
    n_aug = aug.sum(axis=-1)
    mean = dot(aug, scale) / n_aug
    dev = scale - mean[..., None]
    var = np.einsum("...j,...j->...", aug, dev * dev) / n_aug
    se = np.sqrt(var / n_aug)
    n = counts.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        observed = dot(counts, scale) / n
        extra = None
        if index_noise is not None:
            extra = np.broadcast_to(np.asarray(index_noise, dtype=np.float64), se.shape)
        elif noise is not None:
            extra = mean_noise(scale, observed, n, noise)
        if extra is not None:
            se = np.where(extra > 0, np.sqrt(se * se + extra), se)
    low = np.clip(np.minimum(mean - z * se, observed), 0.0, 100.0)
    high = np.clip(np.maximum(mean + z * se, observed), 0.0, 100.0)
    return low, high, se


def mean_noise(scale: FloatArray, mean: Any, n: Any, noise: Any) -> Any:
    """The variance a mean of counts gains when every level count (zeros too) carries its
    own independent noise of variance `noise`: noise × Σ_l (x_l − ȳ)² / n², with x_l the
    levels on `scale` and ȳ the mean (vectorised over units)."""
    spread = ((scale - np.asarray(mean)[..., None]) ** 2).sum(axis=-1)
    return np.asarray(noise, dtype=np.float64) * spread / (n * n)


def _check_noise(noise: float) -> float:
    if isinstance(noise, bool) or not isinstance(noise, int | float | np.floating | np.integer):
        raise ValueError(f"noise must be a variance (a number ≥ 0), got {noise!r}")
    if not math.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a variance (a finite number ≥ 0), got {noise!r}")
    return float(noise)


@functools.lru_cache(maxsize=64)
def normal_quantile(q: float) -> float:
    """scipy.stats.norm.ppf(q), kept per process: a page asks it for the same confidence
    dozens of times, and each call of scipy's wrapper costs about half a millisecond."""
    return float(stats.norm.ppf(q))


def satisfaction_index(
    counts: Any,
    levels: Any = None,
    *,
    confidence: float = 0.95,
    noise: float = 0.0,
    index_noise: float | None = None,
) -> Estimate:
    """Mean answer rescaled to 0–100, with an interval that stays open at the scale's ends.

    index = 100 · (mean − min) / (max − min), where min and max are the first and last
    scale level (the scale's ends, not the observed answers), mean = Σ c_j·x_j / n.
    Interval: `index_interval` (z²/2 pseudo-answers at each end of the scale; for two
    levels the Agresti–Coull interval). `se` is the SE of the augmented mean, which never
    is 0. No interval for n < 2. `levels` defaults to 1, 2, …, L. `noise`: the variance of
    the noise in each level count of published counts (see `index_interval`), allowed for in
    the interval and `se`; `index_noise`: the variance of the index's own noise, when it is
    known otherwise (`index_interval`), instead.
    (Until 2026-11 this was the t interval, which has zero width when every answer is the
    same and covered 89% at n = 10 for answer shares .01/.01/.03/.15/.80.)
    """
    c = as_counts(counts)
    lv = as_levels(levels if levels is not None else np.arange(1, c.size + 1), c.size)
    nu = _check_noise(noise)
    n_int = int(c.sum())
    if n_int == 0:
        return Estimate(None, None, None, 0, None, "n == 0")
    span = lv[-1] - lv[0]
    if span == 0:
        return Estimate(None, None, None, n_int, None, "the scale has only one level")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    value = float(100.0 * (float(c @ lv) / n_int - lv[0]) / span)
    if n_int < 2:
        return Estimate(value, None, None, n_int, None, "n < 2: no interval")
    z = normal_quantile(0.5 + confidence / 2)
    extra = None if index_noise is None else _check_noise(index_noise)
    low, high, se = index_interval(c, lv, z, nu if nu > 0 else None, extra)
    return Estimate(value, float(low), float(high), n_int, float(se))


def _row_dots(matrix: FloatArray, vector: FloatArray) -> FloatArray:
    """`matrix @ vector` one row at a time: a (rows × levels) @ (levels,) product goes through
    BLAS's gemv, which sums a row in another order than the dot of that row alone (about 1 in
    250 rows of 17 levels differ in the last bit), and a row's figures must be those of the
    office alone."""
    return np.array([row @ vector for row in matrix], dtype=np.float64)


def satisfaction_index_each(
    counts: Any, levels: Any = None, *, index_noise: Any = None
) -> list[Estimate]:
    """`satisfaction_index(row, levels, index_noise=index_noise[i])` of every row i of a
    (rows × levels) table (95% intervals; without `index_noise`, none), worked out in one
    numpy pass with the same operations, so the same numbers to the bit
    (tests/unit/test_analysis_indices.py). Rows with n < 2 go through `satisfaction_index`."""
    return _index_each(counts, levels, index_noise)[0]


def _index_each(
    counts: Any, levels: Any, index_noise: Any
) -> tuple[list[Estimate], FloatArray, FloatArray, FloatArray]:
    """The estimates of `satisfaction_index_each`, with n, the index and its SE as arrays
    (NaN SE where n < 2 or the row went through `satisfaction_index`)."""
    c = as_count_matrix(counts)
    lv = as_levels(levels if levels is not None else np.arange(1, c.shape[1] + 1), c.shape[1])
    rows = c.shape[0]
    own = np.zeros(rows) if index_noise is None else np.asarray(index_noise, dtype=np.float64)
    if own.shape != (rows,):
        raise ValueError(f"index_noise must hold one variance per row ({rows}), got {own.shape}")
    n = c.sum(axis=-1)
    regular = n >= 2
    if lv.size < 2:
        regular[:] = False
    else:
        bad = regular & ~(np.isfinite(own) & (own >= 0))
        if bad.any():
            _check_noise(float(own[np.flatnonzero(bad)[0]]))  # raises as satisfaction_index
    z = normal_quantile(0.975)
    span = lv[-1] - lv[0]
    sub, noise = c[regular], own[regular]
    with np.errstate(invalid="ignore", divide="ignore"):
        value = 100.0 * (_row_dots(sub, lv) / n[regular] - lv[0]) / span
    low, high, se = index_interval(sub, lv, z, index_noise=noise, each_row=True)
    out: list[Estimate] = []
    values, lows, highs, ses = (np.full(rows, math.nan) for _ in range(4))
    values[regular], ses[regular] = value, se
    lows[regular], highs[regular] = low, high
    for i in range(rows):
        if regular[i]:
            out.append(Estimate(float(values[i]), float(lows[i]), float(highs[i]), int(n[i]),
                                float(ses[i])))  # fmt: skip
        else:
            extra = None if index_noise is None else float(own[i])
            out.append(satisfaction_index(c[i], lv, index_noise=extra))
    return out, n, values, ses


def wilson_interval(
    successes: FloatArray, n: FloatArray, z: float = Z95, extra: FloatArray | float | None = None
) -> tuple[FloatArray, FloatArray]:
    """Wilson (1927) score interval for x successes of n, as proportions (vectorised).

    centre = (x + z²/2)/(n + z²), half = z/(n + z²) · √(x(n − x)/n + z²/4)
    (Newcombe 1998, Stat Med 17:857–872, method 3).
    `extra`: a variance of the share from another source than sampling (the noise of
    published counts, `share_noise`). The interval is then Wilson's on the effective sample
    size n/deff, deff = 1 + extra / (p̃(1 − p̃)/n) with p̃ = centre, and x·(n/deff)/n
    successes: the design-effect form for complex samples (Kish 1965, Survey Sampling §8.2;
    Korn & Graubard 1998, Survey Methodology 24:193–201). None or 0: Wilson's interval.
    """
    if extra is not None:
        with np.errstate(invalid="ignore", divide="ignore"):
            p = (successes + z * z / 2) / (n + z * z)
            deff = 1.0 + np.asarray(extra, dtype=np.float64) * n / (p * (1.0 - p))
            scaled = np.where(deff > 1, 1.0 / deff, 1.0)
        successes, n = successes * scaled, n * scaled
    with np.errstate(invalid="ignore", divide="ignore"):
        denom = n + z * z
        centre = (successes + z * z / 2) / denom
        half = z / denom * np.sqrt(successes * (n - successes) / n + z * z / 4)
    # x = 0 and x = n have the exact limits 0 and 1; floating point would miss them by 1e-16.
    low = np.where(successes == 0, 0.0, np.clip(centre - half, 0.0, 1.0))
    high = np.where(successes == n, 1.0, np.clip(centre + half, 0.0, 1.0))
    return low, high


def share_noise(
    successes: FloatArray, n: FloatArray, k: int, levels: int, noise: FloatArray | float
) -> FloatArray:
    """The variance noise ν on every level count (`index_interval`) gives the share of the
    top k of `levels` levels, to first order: the share is the mean of an indicator t_l
    (1 on the top k levels), so ν·Σ_l (t_l − p)²/n² = ν·(k(1 − p)² + (L − k)p²)/n²."""
    with np.errstate(invalid="ignore", divide="ignore"):
        p = successes / n
        spread = k * (1.0 - p) ** 2 + (levels - k) * p * p
        out: FloatArray = np.asarray(noise, dtype=np.float64) * spread / (n * n)
    return out


def top_box(counts: Any, k: int = 2, *, noise: float = 0.0) -> Estimate:
    """Share of answers in the top k levels, in percent, with the Wilson 95% interval.

    p = (c_{L−k+1} + … + c_L) / n; interval by the Wilson score method (Wilson 1927,
    JASA 22:209–212; recommended by Newcombe 1998, Stat Med 17:857–872). `noise`: the
    variance of the noise in each level count of published counts; the interval is then
    Wilson's on the effective sample size (`wilson_interval` with `share_noise`), and `se`
    holds it too.
    """
    c = as_counts(counts)
    if not isinstance(k, int | np.integer) or isinstance(k, bool) or not 1 <= k <= c.size:
        raise ValueError(f"k must be an integer from 1 to the number of levels ({c.size}), got {k}")
    nu = _check_noise(noise)
    n_int = int(c.sum())
    if n_int == 0:
        return Estimate(None, None, None, 0, None, "n == 0")
    x = float(c[-k:].sum())
    p = x / n_int
    xs, ns = np.array([x]), np.array([float(n_int)])
    extra = share_noise(xs, ns, k, c.size, nu) if nu > 0 else None
    low, high = wilson_interval(xs, ns, extra=extra)
    se = 100.0 * math.sqrt(p * (1 - p) / n_int + (float(extra[0]) if extra is not None else 0.0))
    return Estimate(100.0 * p, 100.0 * float(low[0]), 100.0 * float(high[0]), n_int, se)


def _row_noises(noise: Any, rows: int) -> list[float]:
    """One checked noise variance per row (zeros without `noise`)."""
    nus = [0.0] * rows if noise is None else [_check_noise(v) for v in np.asarray(noise).tolist()]
    if len(nus) != rows:
        raise ValueError(f"noise must hold one variance per row ({rows}), got {len(nus)}")
    return nus


def top_box_each(counts: Any, k: int = 2, *, noise: Any = None) -> list[Estimate]:
    """`top_box(row, k, noise=noise[i])` of every row i of a (rows × levels) table, in one
    numpy pass with the same operations, so the same numbers to the bit
    (tests/unit/test_analysis_indices.py)."""
    c = as_count_matrix(counts)
    rows, size = c.shape
    if not isinstance(k, int | np.integer) or isinstance(k, bool) or not 1 <= k <= size:
        raise ValueError(f"k must be an integer from 1 to the number of levels ({size}), got {k}")
    nus = _row_noises(noise, rows)
    n = c.sum(axis=-1)
    x = c[:, -k:].sum(axis=-1)
    low, high = np.full(rows, math.nan), np.full(rows, math.nan)
    extra = np.zeros(rows)
    noisy = (np.array(nus) > 0) & (n > 0)
    plain = ~noisy & (n > 0)
    if noisy.any():
        extra[noisy] = share_noise(x[noisy], n[noisy], k, size, np.array(nus)[noisy])
        low[noisy], high[noisy] = wilson_interval(x[noisy], n[noisy], extra=extra[noisy])
    if plain.any():
        low[plain], high[plain] = wilson_interval(x[plain], n[plain])
    out: list[Estimate] = []
    for xi, ni, lo, hi, more, has in zip(x.tolist(), n.tolist(), low.tolist(), high.tolist(),
                                        extra.tolist(), noisy.tolist(), strict=True):  # fmt: skip
        n_int = int(ni)
        if n_int == 0:
            out.append(Estimate(None, None, None, 0, None, "n == 0"))
            continue
        p = xi / n_int
        se = 100.0 * math.sqrt(p * (1 - p) / n_int + (more if has else 0.0))
        out.append(Estimate(100.0 * p, 100.0 * lo, 100.0 * hi, n_int, se))
    return out


PROMOTER_WEIGHTS = np.array([-1.0] * 7 + [0.0] * 2 + [1.0] * 2)
"""Each answer 0–10's part in the NPS (as a share): detractors −1, passives 0, promoters 1."""


def net_promoter(counts: Any, *, noise: float = 0.0) -> Estimate:
    """Net Promoter Score −100…100 with the adjusted-Wald 95% interval.

    NPS = 100 · (p_P − p_D), promoters answer 9–10, detractors 0–6 (Reichheld 2003,
    Harvard Business Review 81(12):46–54). Interval: the adjusted Wald interval that Rocks
    (2016, "Interval estimation for the 'Net Promoter Score'", The American Statistician
    70(4):365–372; arXiv:1601.07235) found to perform best: add 3/4 to the promoters and
    3/4 to the detractors and 3 to n (so 3/2 to the passives), p̃_P = (x_P + 3/4)/(n + 3),
    p̃_D = (x_D + 3/4)/(n + 3), Var = (p̃_P + p̃_D − (p̃_P − p̃_D)²)/(n + 3) (the trinomial
    variance of a difference of two shares), interval 100·[(p̃_P − p̃_D) ± 1.96·√Var],
    clipped to [−100, 100]. The plain Wald interval covered 80% at n = 10. `se` is
    100·√Var.

    `noise`: the variance of the noise in each of the 11 published level counts. The NPS is
    the mean of the weights w_l (−1, 0, 1), so Var gains ν·Σ_l (w_l − NPS)²/n² (`mean_noise`,
    as the index and the top-box share).
    """
    c = as_counts(counts)
    if c.size != 11:
        raise ValueError(f"net_promoter needs 11 counts (answers 0–10), got {c.size}")
    n_int = int(c.sum())
    if n_int == 0:
        return Estimate(None, None, None, 0, None, "n == 0")
    promoters = float(c[9:].sum())
    detractors = float(c[:7].sum())
    value = 100.0 * (promoters - detractors) / n_int
    n_adj = n_int + 3.0
    p_p = (promoters + 0.75) / n_adj
    p_d = (detractors + 0.75) / n_adj
    diff = p_p - p_d
    nu = _check_noise(noise)
    extra = float(mean_noise(PROMOTER_WEIGHTS, value / 100.0, n_int, nu)) if nu > 0 else 0.0
    se = math.sqrt(max(p_p + p_d - diff * diff, 0.0) / n_adj + extra)
    low = max(-100.0, 100.0 * (diff - Z95 * se))
    high = min(100.0, 100.0 * (diff + Z95 * se))
    return Estimate(value, low, high, n_int, 100.0 * se)


def net_promoter_each(counts: Any, *, noise: Any = None) -> list[Estimate]:
    """`net_promoter(row, noise=noise[i])` of every row i of a (rows × 11) table: the sums
    and the noise's spread (`mean_noise`) in one numpy pass, the rest in the same Python
    float arithmetic, so the same numbers to the bit (tests/unit/test_analysis_indices.py)."""
    c = as_count_matrix(counts)
    if c.shape[1] != 11:
        raise ValueError(f"net_promoter needs 11 counts (answers 0–10), got {c.shape[1]}")
    rows = c.shape[0]
    nus = _row_noises(noise, rows)
    n = c.sum(axis=-1)
    promoters, detractors = c[:, 9:].sum(axis=-1), c[:, :7].sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        values = 100.0 * (promoters - detractors) / n
        extras = mean_noise(PROMOTER_WEIGHTS, values / 100.0, n, np.array(nus))
    out: list[Estimate] = []
    for ni, pro, det, value, more, nu in zip(n.tolist(), promoters.tolist(),
                                             detractors.tolist(), values.tolist(),
                                             extras.tolist(), nus, strict=True):  # fmt: skip
        n_int = int(ni)
        if n_int == 0:
            out.append(Estimate(None, None, None, 0, None, "n == 0"))
            continue
        n_adj = n_int + 3.0
        p_p = (pro + 0.75) / n_adj
        p_d = (det + 0.75) / n_adj
        diff = p_p - p_d
        se = math.sqrt(max(p_p + p_d - diff * diff, 0.0) / n_adj + (more if nu > 0 else 0.0))
        low = max(-100.0, 100.0 * (diff - Z95 * se))
        high = min(100.0, 100.0 * (diff + Z95 * se))
        out.append(Estimate(value, low, high, n_int, 100.0 * se))
    return out


def cronbach_alpha(matrix: Any, *, confidence: float = 0.95) -> Alpha:
    """Cronbach's alpha of a respondents × items matrix (NaN = unanswered), listwise deletion.

    alpha = k/(k − 1) · (1 − Σ s_i² / s_T²), s_i² the item variances and s_T² the variance
    of the sum score, all with ddof = 1 (Cronbach 1951, Psychometrika 16:297–334).
    Respondents with any unanswered item are left out (listwise deletion), so every variance
    is taken on the same people and the Feldt interval's n is well defined.
    Interval (Feldt 1965, Psychometrika 30:357–370): (1 − alpha)/(1 − â) ~ F(n − 1,
    (n − 1)(k − 1)), so alpha lies in [1 − (1 − â)·F_{0.975}, 1 − (1 − â)·F_{0.025}].
    """
    try:
        x = np.asarray(matrix, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"matrix must be respondents × items numbers: {exc}") from exc
    if x.ndim != 2:
        raise ValueError(f"matrix must be respondents × items (2-D), got shape {x.shape}")
    if np.any(np.isinf(x)):
        raise ValueError("matrix contains infinite values")
    k = x.shape[1]
    complete = x[~np.isnan(x).any(axis=1)]
    n = complete.shape[0]
    if k < 2:
        return Alpha(None, None, None, n, k, "alpha needs at least two items")
    if n < 2:
        return Alpha(None, None, None, n, k, "fewer than two respondents answered every item")
    item_var = complete.var(axis=0, ddof=1).sum()
    total_var = complete.sum(axis=1).var(ddof=1)
    if total_var == 0:
        return Alpha(None, None, None, n, k, "all respondents have the same sum score")
    value = float(k / (k - 1) * (1 - item_var / total_var))
    df1, df2 = n - 1, (n - 1) * (k - 1)
    tail = (1 - confidence) / 2
    low = 1 - (1 - value) * float(stats.f.ppf(1 - tail, df1, df2))
    high = 1 - (1 - value) * float(stats.f.ppf(tail, df1, df2))
    return Alpha(value, low, high, n, k)
