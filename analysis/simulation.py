"""Simulated networks of offices (ordered-probit answers) for coverage and power checks.

Used by bench/coverage.py and by the small coverage tests; not used by the application.
A respondent of office i has the latent satisfaction θ_i + (client-mix effects) + e, with
e ~ N(0, 0.8²) shared by the person's items and N(0, 0.6²) per item (total SD 1, so τ is
in SD units of one answer's latent), cut into the five answer levels at the thresholds
`THRESHOLDS` (at θ = 0 the shares of answers 1…5 are about 3, 5, 15, 37, 40 %). The seven
items are averaged into the composite index, as the survey does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.counts import FloatArray

ITEMS = 7
THRESHOLDS = np.array(  # scipy.stats.norm.ppf([0.03, 0.08, 0.23, 0.60]), as literals
    [-1.880793608151251, -1.4050715603096329, -0.7388468491852137, 0.2533471031357997]
)
COMPOSITE_LEVELS = (1 + np.arange(4 * ITEMS + 1) / ITEMS).tolist()
ADJUSTERS = ("service_type", "language", "mode")
SERVICE_TYPES = ("benefits", "placement", "case_management", "under_25")
LANGUAGES = ("de", "other")
MODES = ("personal", "kiosk")
MIX_EFFECTS = {
    "service_type": (0.0, -0.1, -0.2, -0.6),
    "language": (0.0, -0.2),
    "mode": (0.0, -0.15),
}
"""Latent effect of each adjuster level (SD units): the issue's scenario, with under-25s
answering 0.6 SD lower."""


@dataclass(frozen=True, slots=True)
class Network:
    """One simulated network: true effects, per-office composite counts, and the cells
    (office, service type, language, mode) with their composite counts."""

    theta: FloatArray
    counts: FloatArray
    cell_office: np.ndarray
    cell_values: np.ndarray
    cell_counts: FloatArray


def office_sizes(offices: int = 14, low: int = 10, high: int = 400) -> np.ndarray:
    """n from `low` to `high`, evenly spaced on the log scale."""
    return np.rint(np.geomspace(low, high, offices)).astype(int)


def simulate_network(
    rng: np.random.Generator,
    sizes: np.ndarray,
    tau: float,
    *,
    mix: bool = False,
    theta: FloatArray | None = None,
    day_icc: float = 0.0,
    per_day: int = 1,
) -> Network:
    """Draw one network. `mix`: offices differ in client mix (Dirichlet shares per office of
    service type, language and mode) with the effects of MIX_EFFECTS. `day_icc`: a shared
    latent effect per day (cluster of `per_day` consecutive respondents) with this share of
    the latent variance (intra-class correlation of the latent), to study clustering."""
    k = sizes.size
    th = rng.normal(0.0, tau, k) if theta is None else np.asarray(theta, dtype=np.float64)
    total = int(sizes.sum())
    office = np.repeat(np.arange(k), sizes)
    values = np.zeros((total, 3), dtype=np.int64)
    shift = np.zeros(total)
    if mix:
        for col, (name, levels) in enumerate(
            (("service_type", SERVICE_TYPES), ("language", LANGUAGES), ("mode", MODES))
        ):
            shares = rng.dirichlet(np.full(len(levels), 0.7), size=k)
            u = rng.random(total)
            cum = np.cumsum(shares[office], axis=1)
            values[:, col] = np.minimum((u[:, None] > cum).sum(axis=1), len(levels) - 1)
            shift += np.asarray(MIX_EFFECTS[name])[values[:, col]]
    person_sd = 0.8
    if day_icc > 0:
        day_sd = np.sqrt(day_icc)
        person_sd = np.sqrt(max(0.8**2 - day_icc, 1e-9))
        days = np.concatenate([np.arange(s) // per_day for s in sizes])
        keys = office * (total + 1) + days
        _, inv = np.unique(keys, return_inverse=True)
        shift += rng.normal(0.0, day_sd, inv.max() + 1)[inv]
    latent = th[office] + shift + rng.normal(0.0, person_sd, total)
    items = latent[:, None] + rng.normal(0.0, 0.6, (total, ITEMS))
    answers = 1 + (items[:, :, None] > THRESHOLDS[None, None, :]).sum(axis=2)
    level = answers.sum(axis=1) - ITEMS  # 0 … 4·ITEMS
    n_levels = 4 * ITEMS + 1
    counts = np.bincount(office * n_levels + level, minlength=k * n_levels).reshape(k, n_levels)
    cell = ((office * 4 + values[:, 0]) * 2 + values[:, 1]) * 2 + values[:, 2]
    n_cells = k * 16
    cc = np.bincount(cell * n_levels + level, minlength=n_cells * n_levels).reshape(
        n_cells, n_levels
    )
    keep = cc.sum(axis=1) > 0
    ids = np.flatnonzero(keep)
    cell_office = ids // 16
    cell_values = np.stack([(ids // 4) % 4, (ids // 2) % 2, ids % 2], axis=1)
    return Network(th, counts.astype(np.float64), cell_office, cell_values, cc[keep].astype(float))


def true_ranks(theta: FloatArray) -> np.ndarray:
    """Rank of each office by its true effect, 1 = best."""
    order = np.argsort(-theta, kind="stable")
    ranks = np.empty(theta.size, dtype=np.int64)
    ranks[order] = np.arange(1, theta.size + 1)
    return ranks
