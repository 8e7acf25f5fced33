"""Rank tests from count vectors: Mann–Whitney, Kruskal–Wallis, Dunn, p-value adjustment.

Pooled over the groups compared, level j gets the mid-rank r_j = (c_1 + … + c_{j−1}) +
(c_j + 1)/2, and a group's rank sum is Σ_j a_j·r_j. Each level is one tie group of size
t_j = c_j, so the tie term is Σ (t_j³ − t_j). Everything is O(levels).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from analysis._scipy import special, stats
from analysis.counts import (
    FloatArray,
    as_count_list,
    as_count_matrix,
    as_counts,
    as_levels,
    midranks,
)
from analysis.indices import Estimate, _index_each, satisfaction_index


@dataclass(frozen=True, slots=True)
class MannWhitney:
    """Mann–Whitney U test of group a against group b.

    `statistic` is U of a, `pvalue` two-sided (normal approximation, tie and continuity
    corrected), `effect_size` the rank-biserial correlation (positive: a rates higher).
    """

    statistic: float | None
    pvalue: float | None
    effect_size: float | None
    n_a: int
    n_b: int
    z: float | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Kruskal:
    """Kruskal–Wallis H test (tie-corrected) over the groups with responses."""

    statistic: float | None
    pvalue: float | None
    df: int | None
    n: tuple[int, ...]
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Dunn:
    """Dunn (1964) pairwise comparisons after Kruskal–Wallis.

    `z[i][j]` is positive when group i rates higher than group j; `pvalues` are two-sided
    and unadjusted, `adjusted` are adjusted over all pairs with `adjust`. The diagonal is
    z = 0, p = 1; rows and columns of empty groups are None.
    """

    z: tuple[tuple[float | None, ...], ...]
    pvalues: tuple[tuple[float | None, ...], ...]
    adjusted: tuple[tuple[float | None, ...], ...]
    adjust: str
    n: tuple[int, ...]
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Change:
    """The same office in two periods: index after − before with its interval, and a test.

    `ci_low`–`ci_high` and `pvalue` come from one test (`test`), so the interval excludes 0
    exactly when p < 0.05. `effect_size` is the rank-biserial correlation of after against
    before (descriptive; positive: rated higher now).
    """

    difference: float | None
    ci_low: float | None
    ci_high: float | None
    before: Estimate
    after: Estimate
    pvalue: float | None
    effect_size: float | None
    reason: str | None = None
    test: str = "Welch t on the two indices"


def mw_z(
    u: FloatArray,
    n1: FloatArray,
    n2: FloatArray,
    ties: FloatArray | float,
    noise: FloatArray | float | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Two-sided p and z of the tie- and continuity-corrected normal approximation (vectorised).

    mu = n1·n2/2, sigma² = n1·n2/12 · ((N + 1) − Σ(t³ − t)/(N(N − 1))), N = n1 + n2,
    z = (max(U, n1·n2 − U) − mu − 0.5)/sigma, p = min(1, 2·Φ(−z)) — the form used by
    scipy.stats.mannwhitneyu(method="asymptotic") (Hollander, Wolfe & Chicken 2014, §4.1).
    When sigma = 0 (every answer on one level) z = −∞ and p = 1.
    `noise`: a variance added to sigma² (`mw_noise_variance`: what noise on the published
    counts adds to U); None or 0 leaves the test exactly scipy's.
    """
    n = n1 + n2
    mu = n1 * n2 / 2.0
    with np.errstate(invalid="ignore", divide="ignore"):
        var = n1 * n2 / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)))
        if noise is not None:
            var = var + noise
        sigma = np.sqrt(var)
        big_u = np.maximum(u, n1 * n2 - u)
        z = (big_u - mu - 0.5) / sigma
    z = np.where(sigma > 0, z, -np.inf)
    p = np.clip(2.0 * special.ndtr(-z), 0.0, 1.0)
    return p, z


def mw_noise_variance(
    pooled: FloatArray,
    n1: FloatArray,
    n2: FloatArray,
    noise1: FloatArray,
    noise2: FloatArray,
    *,
    scale: FloatArray | None = None,
    sum_noise1: FloatArray | None = None,
    sum_noise2: FloatArray | None = None,
) -> FloatArray:
    """The variance that independent noise on every level count of both groups adds to
    Mann–Whitney's U − n1·n2/2, under the null hypothesis (vectorised over pairs of groups).

    U − n1·n2/2 = Σ_l Σ_m a_l·b_m·B_lm with B_lm = ½·sign(l − m) (a pair counts 1 when a's
    answer is higher, ½ when tied; n1·n2/2 uses the published n's, which carry the noise as
    well). With published counts a + e, b + f (e_l, f_m independent, mean 0, variances ν1,
    ν2 on every level, empty ones included, as the cell-key method adds them):
    Var = ν1·Σ_l (B·b)_l² + ν2·Σ_m (aᵀB)_m² + ν1·ν2·Σ B_lm², where (B·b)_l = ½(b below l −
    b above l) is the centred mid-rank of level l among b's answers. Under the null both
    groups are shares n1/N and n2/N of the pooled counts T, so (B·b)_l = (n2/N)·s_l and
    (aᵀB)_l = −(n1/N)·s_l with s_l = r_l − (N + 1)/2, r_l the pooled mid-rank:
    Var = (ν1·n2² + ν2·n1²)/N² · Σ_l s_l² + ν1·ν2·L(L − 1)/4 (L levels). Checked against
    fresh noise draws in tests/unit/test_analysis_significance.py; the noise is linear in U
    but for the last, small term.

    With `sum_noise1`, `sum_noise2` (the variances of the noise of each group's level sum
    Σ_l c_l·x_l, x_l the levels on `scale`: n²× its mean's noise variance), the groups' means
    carry a noise of their own instead of what their level noises give them (the protected
    table tilts the index's classes to the mean of its items, `ProtectedTable.index_noise`;
    the tilt moves the counts along p_l·(x_l − x̄)). Split s = β·(x − x̄) + r with β the
    regression of s on x weighted by the pooled counts (the null's shares), so that the
    tilt leaves Σ_l e_l·r_l alone: Σ_l e_l·s_l = β·(noise of the level sum) + Σ_l e_l·r_l,
    and ν·Σ_l s_l² above becomes ν·Σ_l r_l² + β²·sum_noise for each group.
    """
    big_n = float(pooled.sum())
    s = midranks(pooled) - (big_n + 1.0) / 2.0
    levels = pooled.size
    with np.errstate(invalid="ignore", divide="ignore"):
        if big_n <= 0:  # no answers: no test
            rest, beta2 = math.nan, 0.0
        elif sum_noise1 is None or sum_noise2 is None or scale is None:
            rest, beta2 = float(s @ s), 0.0
        else:
            x = np.asarray(scale, dtype=np.float64)
            dev = x - float(pooled @ x) / big_n
            spread = float(pooled @ (dev * dev))
            beta = float(pooled @ (dev * s)) / spread if spread > 0 else 0.0
            r = s - beta * dev
            rest, beta2 = float(r @ r), beta * beta
        square = big_n * big_n
        out: FloatArray = (noise1 * n2 * n2 + noise2 * n1 * n1) * rest / square + (
            noise1 * noise2 * levels * (levels - 1) / 4.0
        )
        if beta2:
            assert sum_noise1 is not None and sum_noise2 is not None
            out = out + (sum_noise1 * n2 * n2 + sum_noise2 * n1 * n1) * beta2 / square
    return out


def mann_whitney(counts_a: Any, counts_b: Any) -> MannWhitney:
    """Mann–Whitney U test (Wilcoxon rank-sum) of a against b from their count vectors.

    U_a = R_a − n_a(n_a + 1)/2 with R_a = Σ a_j·r_j the rank sum of a in the pooled sample
    (mid-ranks for ties). p: two-sided normal approximation with tie and continuity
    correction (see `mw_z`), equal to scipy.stats.mannwhitneyu(x, y,
    method="asymptotic"). Effect size: rank-biserial r = 2·U_a/(n_a·n_b) − 1 (Kerby 2014,
    Comprehensive Psychology 3:11.IT.3.1; Cureton 1956), positive when a rates higher.
    Mann & Whitney 1947, Ann Math Stat 18:50–60.
    """
    a = as_counts(counts_a, name="counts_a")
    b = as_counts(counts_b, name="counts_b")
    if a.size != b.size:
        raise ValueError(f"counts_a has {a.size} levels but counts_b has {b.size}")
    n_a, n_b = int(a.sum()), int(b.sum())
    if n_a == 0 or n_b == 0:
        which = "a" if n_a == 0 else "b"
        return MannWhitney(None, None, None, n_a, n_b, None, f"group {which} has n == 0")
    pooled = a + b
    ranks = midranks(pooled)
    u = float(a @ ranks) - n_a * (n_a + 1) / 2.0
    ties = float(np.sum(pooled**3 - pooled))
    p, z = mw_z(np.array(u), np.array(float(n_a)), np.array(float(n_b)), ties)
    effect = 2.0 * u / (n_a * n_b) - 1.0
    reason = "all answers are on one level" if not np.isfinite(z) else None
    return MannWhitney(u, float(p), effect, n_a, n_b, float(z) if np.isfinite(z) else None, reason)


def _rank_table(groups: FloatArray) -> tuple[FloatArray, FloatArray, float, float]:
    pooled = groups.sum(axis=0)
    ranks = midranks(pooled)
    n = groups.sum(axis=1)
    total = float(pooled.sum())
    ties = float(np.sum(pooled**3 - pooled))
    return groups @ ranks, n, total, ties


def kruskal(groups: Sequence[Any]) -> Kruskal:
    """Kruskal–Wallis H test from a list of count vectors (tie-corrected).

    H = [12/(N(N + 1)) · Σ R_i²/n_i − 3(N + 1)] / [1 − Σ(t³ − t)/(N³ − N)],
    p = P(χ²_{g−1} > H) with g the number of groups with responses (Kruskal & Wallis 1952,
    JASA 47:583–621). Groups with no responses are left out of H and df (scipy would
    return NaN); the result's `n` shows them.
    """
    table = as_count_list(groups)
    rank_sums, n, total, ties = _rank_table(table)
    n_tuple = tuple(int(v) for v in n)
    keep = n > 0
    g = int(keep.sum())
    if g < 2:
        return Kruskal(None, None, None, n_tuple, "fewer than two groups have responses")
    correction = 1.0 - ties / (total**3 - total)
    if correction <= 0:
        return Kruskal(None, None, g - 1, n_tuple, "all answers are on one level")
    h = 12.0 / (total * (total + 1.0)) * float(np.sum(rank_sums[keep] ** 2 / n[keep]))
    h = (h - 3.0 * (total + 1.0)) / correction
    return Kruskal(h, float(stats.chi2.sf(h, g - 1)), g - 1, n_tuple)


def adjust_pvalues(pvalues: Sequence[float] | Any, method: str = "bh") -> list[float]:
    """Adjust p-values for multiple comparisons.

    "bh": Benjamini & Hochberg (1995, JRSS B 57:289–300): q_(i) = min_{j ≥ i} m·p_(j)/j,
    capped at 1 — equal to scipy.stats.false_discovery_control(p, method="bh") and R's
    p.adjust(p, "BH").
    "holm": Holm (1979, Scand J Stat 6:65–70): p̃_(i) = max_{j ≤ i} min(1, (m − j + 1)·p_(j)),
    as R's p.adjust(p, "holm").
    """
    p = np.asarray(pvalues, dtype=np.float64)
    if p.ndim != 1:
        raise ValueError("pvalues must be a flat list")
    if p.size == 0:
        return []
    if np.any(~np.isfinite(p)) or np.any((p < 0) | (p > 1)):
        raise ValueError("pvalues must be numbers in [0, 1] (no NaN)")
    m = p.size
    order = np.argsort(p, kind="stable")
    ranked = p[order]
    if method == "bh":
        scaled = ranked * m / np.arange(1, m + 1)
        adjusted = np.minimum.accumulate(scaled[::-1])[::-1]
    elif method == "holm":
        scaled = ranked * (m - np.arange(m))
        adjusted = np.maximum.accumulate(scaled)
    else:
        raise ValueError(f'method must be "bh" or "holm", got {method!r}')
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    # An adjusted p is never below the raw one; m·p/i can round to 1 ulp below p.
    return [float(v) for v in np.maximum(out, p)]


def dunn(groups: Sequence[Any], adjust: Literal["holm", "bh", "none"] = "holm") -> Dunn:
    """Dunn's (1964, Technometrics 6:241–252) pairwise test with tie correction.

    z_ij = (R̄_i − R̄_j) / √([N(N + 1)/12 − Σ(t³ − t)/(12(N − 1))] · (1/n_i + 1/n_j)),
    with R̄ the mean rank in the pooled sample of all groups; two-sided p = 2·Φ(−|z|),
    then adjusted over the g(g − 1)/2 pairs of groups with responses ("holm", "bh" or
    "none"). This is what R's dunn.test and scikit-posthocs' posthoc_dunn compute.
    """
    if adjust not in ("holm", "bh", "none"):
        raise ValueError(f'adjust must be "holm", "bh" or "none", got {adjust!r}')
    table = as_count_list(groups)
    rank_sums, n, total, ties = _rank_table(table)
    g = table.shape[0]
    n_tuple = tuple(int(v) for v in n)
    keep = np.flatnonzero(n > 0)
    none_matrix = tuple(tuple(None for _ in range(g)) for _ in range(g))
    if keep.size < 2:
        return Dunn(none_matrix, none_matrix, none_matrix, adjust, n_tuple,
                    "fewer than two groups have responses")  # fmt: skip
    var_unit = total * (total + 1.0) / 12.0 - ties / (12.0 * (total - 1.0))
    if var_unit <= 0:
        return Dunn(none_matrix, none_matrix, none_matrix, adjust, n_tuple,
                    "all answers are on one level")  # fmt: skip
    mean_rank = rank_sums[keep] / n[keep]
    ni = n[keep]
    z = (mean_rank[:, None] - mean_rank[None, :]) / np.sqrt(
        var_unit * (1.0 / ni[:, None] + 1.0 / ni[None, :])
    )
    p = np.clip(2.0 * special.ndtr(-np.abs(z)), 0.0, 1.0)
    iu = np.triu_indices(keep.size, 1)
    adj_flat = p[iu] if adjust == "none" else np.asarray(adjust_pvalues(p[iu], adjust))
    adj = np.ones_like(p)
    adj[iu] = adj_flat
    adj[(iu[1], iu[0])] = adj_flat
    np.fill_diagonal(p, 1.0)

    def full(small: FloatArray) -> tuple[tuple[float | None, ...], ...]:
        out: list[list[float | None]] = [[None] * g for _ in range(g)]
        for a, ia in enumerate(keep):
            for b, ib in enumerate(keep):
                out[ia][ib] = float(small[a, b])
        return tuple(tuple(row) for row in out)

    return Dunn(full(z), full(p), full(adj), adjust, n_tuple)


def t_quantile(q: float, df: float) -> float:
    """scipy.stats.t.ppf(q, df) for 0 < q < 1 and df > 0: the function scipy's wrapper
    calls (`special.stdtrit`), without the wrapper's checks and arrays (about 1 ms of the
    change test's 1.5), so the same number (tests/unit/test_analysis_significance.py)."""
    if 0 < q < 1 and df > 0:
        return float(special.stdtrit(df, q))
    return float(stats.t.ppf(q, df))


def t_tail(x: float, df: float) -> float:
    """scipy.stats.t.sf(x, df), the same way (`special.stdtr(df, −x)` for finite x and
    df > 0)."""
    if math.isfinite(x) and df > 0:
        return float(special.stdtr(df, -x))
    return float(stats.t.sf(x, df))


def change(
    counts_before: Any,
    counts_after: Any,
    levels: Any = None,
    *,
    noise_before: float = 0.0,
    noise_after: float = 0.0,
    noise_shared: float = 0.0,
    index_noise: tuple[float, float, float] | None = None,
    effect: bool = True,
) -> Change:
    """Change of one office's index between two periods (after − before), interval and p
    from the same test.

    d = index_after − index_before; se = √(se_before² + se_after²) with the SEs of
    `satisfaction_index` (pseudo-answers at the scale's ends, so se > 0 even when every
    answer is the same); df by Welch–Satterthwaite, df = se⁴ / (se_a⁴/(n_a − 1) +
    se_b⁴/(n_b − 1)) (Welch 1947, Biometrika 34:28–35); interval d ± t_{df,0.975}·se and
    p = 2·P(T_df > |d|/se) — so 0 lies in the interval exactly when p ≥ 0.05. (Before
    2026-11 the p-value came from Mann–Whitney while the interval came from Welch, and the
    two could disagree.) effect_size: rank-biserial r of after against before (descriptive).
    Respondents are different people in the two periods (anonymous survey), so the
    samples are treated as independent.

    Published counts (the protected table's): `noise_before` and `noise_after` are the
    variances of the noise in each level count of the two figures, `noise_shared` the
    covariance between them (`ProtectedTable.noise_covariance`: a period and the one before
    it share the running total at their boundary, with opposite signs, so it is ≤ 0). Each
    SE then holds its figure's noise (`satisfaction_index(noise=)`), and se² gains
    −2·noise_shared·Σ_l (x_l − ȳ_before)(x_l − ȳ_after)/(n_before·n_after), the first-order
    covariance of the two means' noises (x_l on the index scale). All 0: the test above.
    `index_noise` (before, after, shared): the variances of the two published indices' own
    noise and their covariance, when they are known otherwise (the protected table's index,
    `ProtectedTable.index_noise` and `index_covariance`), instead of what the level noises
    give them. Without `effect`, `effect_size` is None (not worked out: a page that shows
    only the difference, its interval and p saves the rank test).
    """
    before_c = as_counts(counts_before, name="counts_before")
    after_c = as_counts(counts_after, name="counts_after")
    if before_c.size != after_c.size:
        raise ValueError(
            f"counts_before has {before_c.size} levels but counts_after has {after_c.size}"
        )
    lv = as_levels(levels if levels is not None else np.arange(1, before_c.size + 1), before_c.size)
    if index_noise is not None:
        own_before, own_after, own_shared = (float(v) for v in index_noise)
        if own_shared**2 > own_before * own_after + 1e-12:
            raise ValueError(f"index_noise: |shared| must be ≤ √(before·after), got {index_noise}")
        before = satisfaction_index(before_c, lv, index_noise=own_before)
        after = satisfaction_index(after_c, lv, index_noise=own_after)
    else:
        before = satisfaction_index(before_c, lv, noise=noise_before)
        after = satisfaction_index(after_c, lv, noise=noise_after)
    if isinstance(noise_shared, bool) or not isinstance(noise_shared, int | float | np.number):
        raise ValueError(f"noise_shared must be a covariance (a number), got {noise_shared!r}")
    if not math.isfinite(noise_shared) or noise_shared**2 > noise_before * noise_after + 1e-12:
        raise ValueError(
            f"noise_shared must be a finite covariance with |noise_shared| ≤ "
            f"√(noise_before·noise_after), got {noise_shared!r}"
        )
    rank = mann_whitney(after_c, before_c).effect_size if effect else None
    if before.value is None or after.value is None:
        reason = f"before: {before.reason}" if before.value is None else f"after: {after.reason}"
        return Change(None, None, None, before, after, None, rank, reason)
    diff = after.value - before.value
    if before.se is None or after.se is None:
        return Change(diff, None, None, before, after, None, rank,
                      "n < 2 in a period: no interval")  # fmt: skip
    va, vb = after.se**2, before.se**2
    shared = 0.0
    if index_noise is not None:
        shared = -2.0 * own_shared
    elif noise_shared:
        x = 100.0 * (lv - lv[0]) / (lv[-1] - lv[0])
        cross = float((x - before.value) @ (x - after.value)) / (before.n * after.n)
        shared = -2.0 * float(noise_shared) * cross
    se = math.sqrt(max(va + vb + shared, 0.0))
    df = (va + vb) ** 2 / (va**2 / (after.n - 1) + vb**2 / (before.n - 1))
    t = t_quantile(0.975, df)
    p = float(min(1.0, 2.0 * t_tail(abs(diff) / se, df)))
    return Change(diff, diff - t * se, diff + t * se, before, after, p, rank)


def change_each(
    counts_before: Any, counts_after: Any, levels: Any, index_noise: Any
) -> list[Change]:
    """`change(before[i], after[i], levels, index_noise=index_noise[i], effect=False)` of every
    row i of two (rows × levels) tables, `index_noise` (rows × 3: before, after, shared),
    worked out in one numpy pass with the same operations, so the same numbers to the bit
    (tests/unit/test_analysis_significance.py). Rows with n < 2 in a period, or whose test
    cannot be worked out, go through `change`."""
    before_c = as_count_matrix(counts_before, name="counts_before")
    after_c = as_count_matrix(counts_after, name="counts_after")
    if before_c.shape != after_c.shape:
        raise ValueError(f"counts_before is {before_c.shape} but counts_after {after_c.shape}")
    lv = as_levels(levels if levels is not None else np.arange(1, before_c.shape[1] + 1),
                   before_c.shape[1])  # fmt: skip
    own = np.asarray(index_noise, dtype=np.float64)
    if own.shape != (before_c.shape[0], 3):
        raise ValueError(f"index_noise must be rows × 3 (before, after, shared), got {own.shape}")
    bad = ~(own[:, 2] ** 2 <= own[:, 0] * own[:, 1] + 1e-12)
    if bad.any():
        raise ValueError(f"index_noise: |shared| must be ≤ √(before·after), got {own[bad][0]}")
    before, n_b, value_b, se_b = _index_each(before_c, lv, own[:, 0])
    after, n_a, value_a, se_a = _index_each(after_c, lv, own[:, 1])
    # the scalar arithmetic of `change`, in Python floats (float ** 2 is C's pow, which need
    # not round as numpy's square does)
    diffs, ses, dfs = [], [], []
    for vb, va, sb, sa, nb, na, cov in zip(value_b.tolist(), value_a.tolist(), se_b.tolist(),
                                           se_a.tolist(), n_b.tolist(), n_a.tolist(),
                                           own[:, 2].tolist(), strict=True):  # fmt: skip
        var_a, var_b = sa**2, sb**2
        diffs.append(va - vb)
        if sa == sa and sb == sb:  # (not NaN)
            ses.append(math.sqrt(max(var_a + var_b + -2.0 * cov, 0.0)))
            dfs.append((var_a + var_b) ** 2 / (var_a**2 / (na - 1) + var_b**2 / (nb - 1)))
        else:
            ses.append(math.nan)
            dfs.append(math.nan)
    diff, se, df = np.array(diffs), np.array(ses), np.array(dfs)
    with np.errstate(invalid="ignore", divide="ignore"):
        x = np.abs(diff) / se
        regular = np.isfinite(se) & (se > 0) & np.isfinite(x) & (df > 0)
        t = special.stdtrit(np.where(regular, df, 1.0), 0.975)
        tail = special.stdtr(np.where(regular, df, 1.0), -np.where(regular, x, 0.0))
    out: list[Change] = []
    for i in range(before_c.shape[0]):
        if not regular[i]:
            out.append(change(before_c[i], after_c[i], lv, index_noise=tuple(own[i].tolist()),
                              effect=False))  # fmt: skip
            continue
        d, s_i, t_i = diffs[i], ses[i], float(t[i])
        p = float(min(1.0, 2.0 * float(tail[i])))
        out.append(Change(d, d - t_i * s_i, d + t_i * s_i, before[i], after[i], p, None))
    return out
