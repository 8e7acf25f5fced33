"""Client-mix and survey-mode adjustment of office indices from count tables.

Modelled on the patient-mix and mode adjustment of the CAHPS Hospital Survey (O'Malley,
Zaslavsky, Elliott, Zaborski & Cleary 2005, "Case-mix adjustment of the CAHPS Hospital
Survey", Health Services Research 40(6 Pt 2):2162–2181; Centers for Medicare & Medicaid
Services 2008, "Mode and patient-mix adjustment of the CAHPS Hospital Survey (HCAHPS)"):
a linear regression of the respondent's score on the adjusters with a fixed effect per
hospital (so the coefficients describe differences *within* hospitals and do not absorb
quality differences between hospitals), and each hospital's mean is moved by
β'(x̄_network − x̄_hospital): the score it would have had with the network's client mix.

Resonanz adjusts for the service type, the language of the questionnaire and the mode
(kiosk or personal link). The questionnaire asks no age, so there is no age adjuster; the
under-25 team is a service type and is adjusted as such.

Everything is computed from cells (office × adjuster values × answer level) through the
sufficient statistics n, Σx and Σx² of each cell, so the result equals the least-squares
fit on the expanded rows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from analysis.counts import CountTable, FloatArray, as_count_matrix, as_levels
from analysis.model import OfficeModel, fit_office_model, index_estimates


def _scored(counts: Any, levels: Sequence[float] | None) -> tuple[FloatArray, FloatArray]:
    """The count matrix and each level's index score (0–100; levels 1, 2, … by default)."""
    c = as_count_matrix(counts)
    lv = as_levels(levels if levels is not None else np.arange(1, c.shape[1] + 1), c.shape[1])
    span = lv[-1] - lv[0]
    if span == 0:
        raise ValueError("the scale has only one level: no index")
    return c, 100.0 * (lv - lv[0]) / span


@dataclass(frozen=True, slots=True)
class Adjustment:
    """`adjust` result, one entry per office (in the order of `offices`).

    observed / adjusted: the index (0–100) before and after adjustment; se_observed and
    se_adjusted their standard errors (σ/√n, and √(σ²/n + d'Var(β)d) with d the office's
    mix minus the network's, plus what the noise of perturbed counts adds in
    `adjust_from_margins`); coefficients: index points per adjuster level against its
    reference level (the level most answered in the network), with their SEs; dropped:
    adjuster levels that cannot be estimated within offices (never vary inside an office,
    or collinear with others); sigma: the residual SD within offices, df its degrees of
    freedom.
    """

    offices: tuple[str, ...]
    n: tuple[int, ...]
    observed: tuple[float | None, ...]
    adjusted: tuple[float | None, ...]
    se_observed: tuple[float | None, ...]
    se_adjusted: tuple[float | None, ...]
    coefficients: Mapping[str, float]
    coefficient_se: Mapping[str, float]
    references: Mapping[str, str]
    dropped: tuple[str, ...]
    sigma: float
    sigma_observed: float
    df: int


def _design(
    covariates: Mapping[str, Sequence[Any]], rows: int, weights: FloatArray
) -> tuple[FloatArray, list[str], dict[str, str]]:
    """Dummy columns per adjuster, the level with most responses as the reference."""
    cols: list[FloatArray] = []
    names: list[str] = []
    refs: dict[str, str] = {}
    for name, values in covariates.items():
        vals = np.asarray([str(x) for x in values], dtype=object)
        if vals.size != rows:
            raise ValueError(f"adjuster {name!r} has {vals.size} values for {rows} cells")
        levels = sorted(set(vals.tolist()))
        totals = {lv: float(weights[vals == lv].sum()) for lv in levels}
        ref = max(levels, key=lambda lv: (totals[lv], lv))
        refs[name] = ref
        for lv in levels:
            if lv != ref:
                cols.append((vals == lv).astype(np.float64))
                names.append(f"{name}={lv}")
    x = np.column_stack(cols) if cols else np.zeros((rows, 0))
    return x, names, refs


def adjust(
    office: Sequence[Any],
    covariates: Mapping[str, Sequence[Any]],
    counts: Any,
    levels: Sequence[float] | None = None,
) -> Adjustment:
    """Client-mix adjusted index per office from cells (office × adjusters × level).

    Cell r belongs to office `office[r]`, has adjuster values `covariates[name][r]` and the
    count vector `counts[r]` over the answer levels. With x the index value (0–100) of an
    answer, n_r, S_r = Σx, Q_r = Σx² per cell, X_r the dummy row of cell r, and per office
    i: n_i, ȳ_i, x̄_i = Σ_{r∈i} n_r X_r / n_i:
      Sxx = Σ_r n_r X_r X_r' − Σ_i n_i x̄_i x̄_i',  Sxy = Σ_r X_r S_r − Σ_i n_i x̄_i ȳ_i,
      β = Sxx⁻¹ Sxy (least squares with office fixed effects: the within-office estimator),
      SSE = Σ_r Q_r − Σ_i n_i ȳ_i² − β'Sxy, σ² = SSE/(N − I − p), Var(β) = σ² Sxx⁻¹,
      adjusted_i = ȳ_i − β'(x̄_i − x̄), x̄ the network's mean of X over all responses,
      Var(adjusted_i) = σ²/n_i + d_i' Var(β) d_i, d_i = x̄_i − x̄.
    Columns that do not vary within any office, or are collinear with earlier ones, are
    dropped (listed in `dropped`). The observed index and its SE σ_0/√n_i use the pooled
    within-office SD σ_0 without adjusters, as `analysis.model.index_estimates` does.
    """
    c, xs = _scored(counts, levels)
    rows = c.shape[0]
    off = [str(o) for o in office]
    if len(off) != rows:
        raise ValueError(f"{len(off)} office labels for {rows} cells")
    labels = list(dict.fromkeys(off))
    oi = np.array([labels.index(o) for o in off]) if rows else np.zeros(0, dtype=int)
    k = len(labels)
    n_r = c.sum(axis=1)
    s_r = c @ xs
    q_r = c @ (xs * xs)
    x, names, refs = _design(covariates, rows, n_r)

    n_i = np.bincount(oi, weights=n_r, minlength=k).astype(np.float64)
    s_i = np.bincount(oi, weights=s_r, minlength=k)
    with np.errstate(divide="ignore", invalid="ignore"):
        ybar = s_i / n_i
    xsum = np.zeros((k, x.shape[1]))
    np.add.at(xsum, oi, x * n_r[:, None])
    with np.errstate(divide="ignore", invalid="ignore"):
        xbar_i = np.where(n_i[:, None] > 0, xsum / n_i[:, None], 0.0)
    big_n = float(n_i.sum())
    xbar = xsum.sum(axis=0) / big_n if big_n else np.zeros(x.shape[1])

    sxx = (x * n_r[:, None]).T @ x - (xbar_i * n_i[:, None]).T @ xbar_i
    sxy = x.T @ s_r - (xbar_i * n_i[:, None]).T @ np.nan_to_num(ybar)
    within_ss = float(q_r.sum() - np.sum(n_i[n_i > 0] * ybar[n_i > 0] ** 2))
    return _solve(labels, names, refs, n_i, ybar, xbar_i, xbar, sxx, sxy, within_ss)


def adjust_from_margins(
    offices: Sequence[Any],
    totals: Any,
    margins: Mapping[str, Mapping[str, Any]],
    joint_values: Mapping[str, Sequence[Any]],
    joint_n: Sequence[float],
    levels: Sequence[float] | None = None,
    *,
    noise: float | Sequence[float] = 0.0,
) -> Adjustment:
    """`adjust` from each office's margins and one network cross-tabulation of the adjusters.

    The within-office (fixed-effects) estimator needs no cell office × adjuster × adjuster:
      Sxx = Σ_i (X_i'X_i − n_i x̄_i x̄_i') = Σ_i X_i'X_i − Σ_i n_i x̄_i x̄_i',
    and Σ_i X_i'X_i is the network's count of responses with each pair of adjuster values
    (counts only, no answers); x̄_i are the office's shares of each value and
      Sxy = Σ_i (X_i'y_i − n_i x̄_i ȳ_i) = Σ_i n_i x̄_i,v (ȳ_i,v − ȳ_i)
    needs the office's mean per single adjuster value; the residual sum of squares needs
    Σx² per office. So β, σ² and the adjusted indices ȳ_i − β'(x̄_i − x̄) come from
    `totals` (offices × levels: each office's count vector), `margins` (adjuster → value →
    offices × levels: the count vectors of each office's responses with that value) and the
    network's cells (`joint_values[adjuster][r]`, `joint_n[r]` responses), and equal
    `adjust` on the office × adjusters × level cells when the counts are exact.

    With perturbed counts (a protected table) the margins of one adjuster need not add up to
    the office's total: the shares x̄_i,v are taken within the adjuster (n_i,v / W_i,
    W_i = Σ_w n_i,w), and so is the office's mean in Sxy (ȳ_i^a = Σ_w S_i,w / W_i, which is
    ȳ_i when the margins add up to the total): each cell is compared with a mean of the same
    figures, so a pull of the noise common to the office's cells (`nonnegative` pulls each
    cell's mean towards the middle of the scale) cancels instead of making every value look
    worse than its reference. Σ_i X_i'X_i within one adjuster is diagonal (Σ_i n_i x̄_i,v),
    across two adjusters the network's pair count scaled to the offices' N. Columns whose
    within-office variance is not positive are dropped as in `adjust`.

    `noise`: the variance of the noise added to each level count of a figure (0: exact
    counts), one number or one per office (for all of its figures); figures are perturbed
    independently. With K_i = Σ_l (x_l − ȳ_i)² over the L
    levels of the scale and J_i the Jacobian of the office's shares within an adjuster,
    (J_i)_vw = (δ_vw − x̄_i,v) / W_i over its non-empty values w, by the delta method:
    - the shares: Cov(x̄_i) = noise × L × J_i J_i' (each value's count n_i,w carries the
      noise of its L levels);
    - Sxy: n_i x̄_i,v (ȳ_i,v − ȳ_i^a) moves by noise on S_i,w − n_i,w ȳ_i^a (variance
      noise × K_i) through the same Jacobian, Var(Sxy) = Σ_i noise × K_i n_i² J_i J_i', so β
      carries the further variance Sxx⁻¹ Var(Sxy) Sxx⁻¹ (measurement error in the
      cross-products; Fuller 1987, *Measurement Error Models*, §3.1);
    - the office's own figures move its adjusted index ȳ_i − β'(x̄_i − x̄) beyond what
      Var(β) holds: its mean ȳ_i by noise × K_i / n_i², its shares by β' Cov(x̄_i) β.
    All three are added to the adjusted indices' variances, so the verdicts allow for all the
    noise the adjustment is made of (the noise of different figures taken as independent;
    tests/unit/test_analysis_casemix.py checks the sum against fresh noise). Same reference
    (O'Malley et al. 2005); the identity is that of the within transformation (Wooldridge
    2010, Econometric Analysis of Cross Section and Panel Data, 2nd ed., §10.5).
    """
    tot, xs = _scored(totals, levels)
    labels = [str(o) for o in offices]
    if len(labels) != tot.shape[0]:
        raise ValueError(f"{len(labels)} office labels for {tot.shape[0]} offices' totals")
    if len(set(labels)) != len(labels):
        raise ValueError("office labels must be unique")
    try:
        var = np.broadcast_to(np.asarray(noise, dtype=np.float64), (len(labels),))
    except ValueError as exc:
        raise ValueError(f"noise: one number or one per office ({len(labels)}): {exc}") from exc
    if not np.all(np.isfinite(var)) or np.any(var < 0):
        raise ValueError("noise must be finite and not negative")
    n_i = tot.sum(axis=1)
    has = n_i > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        ybar = np.where(has, (tot @ xs) / n_i, np.nan)
    within_ss = float(np.sum(tot[has] @ (xs * xs)) - np.sum(n_i[has] * ybar[has] ** 2))
    big_n = float(n_i.sum())
    jn = np.asarray(joint_n, dtype=np.float64)
    names: list[str] = []
    refs: dict[str, str] = {}
    columns: list[tuple[str, str]] = []
    share: list[FloatArray] = []  # per column: offices' shares of the value
    # per column: n_i x̄_i,v (ȳ_i,v − ȳ_i^a), ȳ_i^a the office's mean over the adjuster's margins
    dev: list[FloatArray] = []
    sizes: dict[str, dict[str, FloatArray]] = {}  # adjuster → value → offices' counts
    for name, by_value in margins.items():
        if name not in joint_values:
            raise ValueError(f"adjuster {name!r} is not in the network's cells")
        if len(joint_values[name]) != jn.size:
            raise ValueError(
                f"adjuster {name!r} has {len(joint_values[name])} values for {jn.size} cells"
            )
        cells = {str(v): _weights(c, f"margin {name}={v}") for v, c in by_value.items()}
        sizes[name] = {v: cells[v].sum(axis=1) for v in sorted(cells)}
        for v, c in cells.items():
            if c.shape != tot.shape:
                raise ValueError(f"margin {name}={v} has shape {c.shape}, totals {tot.shape}")
        values = sorted(cells)
        n_v = {v: cells[v].sum(axis=1) for v in values}
        within = np.sum([n_v[v] for v in values], axis=0)
        net = {v: float(n_v[v].sum()) for v in values}
        ref = max(values, key=lambda v: (net[v], v))
        refs[name] = ref
        # the office's mean over this adjuster's margins (its mean ȳ_i when they add up to
        # its total): with perturbed counts each cell's mean and the office's are then made
        # of the same figures, and a bias common to the cells' means cancels
        with np.errstate(divide="ignore", invalid="ignore"):
            mean_a = np.where(within > 0, sum(cells[v] @ xs for v in values) / within, 0.0)
        for v in values:
            if v == ref:
                continue
            with np.errstate(divide="ignore", invalid="ignore"):
                p = np.where(within > 0, n_v[v] / within, 0.0)
                mean_v = np.where(n_v[v] > 0, (cells[v] @ xs) / n_v[v], 0.0)
            columns.append((name, v))
            names.append(f"{name}={v}")
            share.append(p)
            dev.append(np.where(has & (n_v[v] > 0), n_i * p * (mean_v - mean_a), 0.0))
    cols = len(columns)
    noisy = None
    if np.any(var > 0):
        # K_i = Σ_l (x_l − ȳ_i)²; J_i J_i'/W_i² per adjuster (`_share_noise` with unit
        # variance): the shares' covariance is noise × L × that, Sxy's noise × K_i n_i² × that
        spread = var * ((xs[None, :] - np.nan_to_num(ybar)[:, None]) ** 2).sum(axis=1)
        unit = _share_noise(tot.shape[0], columns, sizes, 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            mean_var = np.where(has, spread / (n_i * n_i), 0.0)
        sxy_var = np.einsum("i,iab->ab", np.where(has, spread * n_i * n_i, 0.0), unit)
        noisy = _Noise(sxy_var, mean_var, (var * tot.shape[1])[:, None, None] * unit)
    xbar_i = np.column_stack(share) if cols else np.zeros((tot.shape[0], 0))
    xbar_i = np.where(has[:, None], xbar_i, 0.0)
    xbar = (n_i @ xbar_i) / big_n if big_n else np.zeros(cols)
    sxy = np.array([float(np.sum(d)) for d in dev]) if cols else np.zeros(0)
    # Σ_i X_i'X_i: within one adjuster the values exclude each other (diagonal: the offices'
    # counts of the value); across two adjusters, the network's pair counts
    joint_total = float(jn.sum())
    scale = big_n / joint_total if joint_total > 0 else 0.0
    jv = {name: np.asarray([str(x) for x in joint_values[name]], dtype=object) for name in margins}
    xx = np.zeros((cols, cols))
    for a, (name_a, v_a) in enumerate(columns):
        xx[a, a] = float(n_i @ xbar_i[:, a])
        in_a = jv[name_a] == v_a
        for b in range(a + 1, cols):
            name_b, v_b = columns[b]
            if name_b != name_a:
                xx[a, b] = xx[b, a] = float(jn[in_a & (jv[name_b] == v_b)].sum()) * scale
    sxx = xx - (xbar_i * n_i[:, None]).T @ xbar_i
    return _solve(labels, names, refs, n_i, ybar, xbar_i, xbar, sxx, sxy, within_ss,
                  noisy)  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Noise:
    """The variances the margins' noise gives the fit: the covariance of Sxy (`sxy`, columns ×
    columns), each office's mean's variance (`mean`) and the covariance of its shares
    (`shares`, offices × columns × columns)."""

    sxy: FloatArray
    mean: FloatArray
    shares: FloatArray


def _share_noise(
    offices: int, columns: Sequence[tuple[str, str]],
    sizes: Mapping[str, Mapping[str, FloatArray]], count_var: float,
) -> FloatArray:  # fmt: skip
    """Cov(x̄_i,v, x̄_i,u) of each office's shares x̄_i,v = n_i,v / W_i within each adjuster,
    by the delta method with every non-empty value's count of variance `count_var`,
    independent: Σ_w (δ_vw − x̄_i,v)(δ_uw − x̄_i,u) Var(n_i,w) / W_i² (offices × columns ×
    columns; zero across adjusters; an adjuster's columns are consecutive). `sizes`:
    adjuster → value → the offices' counts."""
    out = np.zeros((offices, len(columns), len(columns)))
    for name, by_value in sizes.items():
        at = [c for c, (a, _) in enumerate(columns) if a == name]
        if not at:
            continue
        values = list(by_value)
        n = np.column_stack([by_value[v] for v in values])
        total = n.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            p = np.where(total[:, None] > 0, n / total[:, None], 0.0)
            inverse2 = np.where(total > 0, 1.0 / (total * total), 0.0)
        picked = [values.index(columns[c][1]) for c in at]
        jac = np.eye(len(values))[picked][None, :, :] - p[:, picked][:, :, None]
        block = np.einsum("iaw,ibw,iw->iab", jac, jac, count_var * (n > 0))
        out[:, at[0] : at[-1] + 1, at[0] : at[-1] + 1] = block * inverse2[:, None, None]
    return out


def _weights(counts: Any, name: str) -> FloatArray:
    """A matrix of non-negative finite numbers of responses (not necessarily whole: a
    margin may be shared out in proportions)."""
    try:
        arr = np.asarray(counts, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} is not a regular array of numbers: {exc}") from exc
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{name} must be a matrix of non-negative finite numbers")
    return arr


def _solve(
    labels: list[str],
    names: list[str],
    refs: dict[str, str],
    n_i: FloatArray,
    ybar: FloatArray,
    xbar_i: FloatArray,
    xbar: FloatArray,
    sxx: FloatArray,
    sxy: FloatArray,
    within_ss: float,
    noise: _Noise | None = None,
) -> Adjustment:
    """The within-office least-squares fit from its cross-products (shared by `adjust` and
    `adjust_from_margins`); `noise`: what the noise of perturbed counts adds, Var(Sxy) to
    Var(β) as Sxx⁻¹ diag(Var(Sxy)) Sxx⁻¹, and each office's mean and shares to its adjusted
    index's variance (mean + β'Cov(shares)β)."""
    big_n = float(n_i.sum())
    # keep the columns that add within-office variation (greedy, in order); a column whose
    # within-office variance is not positive given the kept ones (a perturbed cross-tab can
    # make the matrix indefinite) is dropped too
    keep: list[int] = []
    for j in range(sxx.shape[0]):
        trial = [*keep, j]
        sub = sxx[np.ix_(trial, trial)]
        scale = max(float(np.max(np.abs(np.diag(sub)))), 1e-300)
        if np.linalg.matrix_rank(sub / scale, tol=1e-9) == len(trial) and (
            float(np.linalg.eigvalsh(sub / scale).min()) > 1e-9
        ):
            keep = trial
    dropped = tuple(names[j] for j in range(sxx.shape[0]) if j not in keep)
    sxx_k = sxx[np.ix_(keep, keep)]
    sxy_k = sxy[keep]
    beta = np.linalg.solve(sxx_k, sxy_k) if keep else np.zeros(0)
    has = n_i > 0
    groups = int(has.sum())
    df0 = round(big_n) - groups
    sigma0 = math.sqrt(max(within_ss, 0.0) / df0) if df0 > 0 else 0.0
    sse = within_ss - float(beta @ sxy_k)
    df = round(big_n) - groups - len(keep)
    sigma2 = max(sse, 0.0) / df if df > 0 else float("nan")
    cov = sigma2 * np.linalg.inv(sxx_k) if keep else np.zeros((0, 0))
    own = np.zeros(n_i.shape)
    if noise is not None:
        if keep:
            inverse = np.linalg.inv(sxx_k)
            cov = cov + inverse @ noise.sxy[np.ix_(keep, keep)] @ inverse
        shares = noise.shares[:, keep][:, :, keep]
        own = noise.mean + np.einsum("j,ijk,k->i", beta, shares, beta)
    d = xbar_i[:, keep] - xbar[keep]
    adj = ybar - d @ beta
    with np.errstate(divide="ignore", invalid="ignore"):
        var_adj = sigma2 / n_i + np.einsum("ij,jk,ik->i", d, cov, d) + own
        se_obs = sigma0 / np.sqrt(n_i)

    def opt(a: FloatArray) -> tuple[float | None, ...]:
        return tuple(float(v) if h and math.isfinite(v) else None
                     for v, h in zip(a.tolist(), has.tolist(), strict=True))  # fmt: skip

    return Adjustment(
        tuple(labels),
        tuple(round(float(v)) for v in n_i),
        opt(ybar),
        opt(adj),
        opt(se_obs),
        opt(np.sqrt(var_adj)),
        {names[j]: float(b) for j, b in zip(keep, beta.tolist(), strict=True)},
        {names[j]: float(math.sqrt(cov[a, a])) for a, j in enumerate(keep)},
        refs,
        dropped,
        math.sqrt(sigma2) if math.isfinite(sigma2) else float("nan"),
        sigma0,
        df,
    )


def adjusted_model(
    office: Sequence[Any],
    covariates: Mapping[str, Sequence[Any]],
    counts: Any,
    levels: Sequence[float] | None = None,
    *,
    adjusted: bool = True,
    min_n: int = 10,
    level: float = 0.95,
    min_difference: float = 0.0,
    draws: int = 1000,
    seed: int = 0,
    joint: bool = True,
    funnel: bool = True,
    intervals: bool = True,
) -> tuple[Adjustment, OfficeModel]:
    """The random-effects model (`analysis.model.fit_office_model`) on the adjusted indices
    (y_i = adjusted_i, v_i = se_adjusted_i²), or with `adjusted=False` on the observed ones
    (y_i = observed_i, v_i = σ_0²/n_i), from the same cells. Returns both the adjustment
    (for the side-by-side figures) and the model (shrinkage, verdicts, funnel, ranks)."""
    adj = adjust(office, covariates, counts, levels)
    if adjusted:
        y = np.array([np.nan if a is None else a for a in adj.adjusted])
        se = np.array([np.nan if a is None else a for a in adj.se_adjusted])
        sigma = adj.sigma
    else:
        y = np.array([np.nan if a is None else a for a in adj.observed])
        se = np.array([np.nan if a is None else a for a in adj.se_observed])
        sigma = adj.sigma_observed
    model = fit_office_model(
        adj.offices, np.asarray(adj.n, dtype=float), y, se * se, sigma=sigma, min_n=min_n,
        level=level, min_difference=min_difference, draws=draws, seed=seed, joint=joint,
        funnel=funnel, intervals=intervals,
    )  # fmt: skip
    return adj, model


def office_table(adj_office: Sequence[Any], counts: Any, levels: Sequence[float]) -> CountTable:
    """The per-office count table (cells summed over the adjusters), for the rank tests."""
    c = as_count_matrix(counts)
    off = [str(o) for o in adj_office]
    labels = list(dict.fromkeys(off))
    out = np.zeros((len(labels), c.shape[1]))
    np.add.at(out, np.array([labels.index(o) for o in off], dtype=int), c)
    return CountTable(labels, list(levels), out)


__all__ = [
    "Adjustment",
    "adjust",
    "adjust_from_margins",
    "adjusted_model",
    "index_estimates",
    "office_table",
]
