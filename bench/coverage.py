"""Simulation tables behind docs/methods.md: are the promises of the statistics kept?

Networks of 14 offices, n from 10 to 400 (log-spaced), ordered-probit answers to seven
5-point items averaged into the composite index (analysis/simulation.py). Prints, never
asserts. Before = the methods until 2026-11 (Dirichlet rank draws, Mann–Whitney + BH
verdict, z-formula time to verdict); after = the random-effects model of analysis/model.py.

Run: .venv/bin/python bench/coverage.py [--networks 500] [--draws 1000] [--only ranks,...]
(parts: ranks, mix, mixpower, power, clustering)
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
from scipy import stats

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from analysis import CountTable, compare_offices, fit_office_model, office_model, time_to_verdict
from analysis.casemix import adjusted_model, office_table
from analysis.model import index_estimates, responses_for_verdict
from analysis.ranking import responses_needed
from analysis.significance import mw_z
from analysis.simulation import (
    ADJUSTERS,
    COMPOSITE_LEVELS,
    LANGUAGES,
    MODES,
    SERVICE_TYPES,
    office_sizes,
    simulate_network,
    true_ranks,
)

TAUS = (0.05, 0.1, 0.25, 0.5)
PAGE_MONTHS = (1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 18, 24, 30, 36)
"""survey.dashboard.results.FORECAST_MONTHS: the periods the office page tries."""
LABELS = [str(i) for i in range(14)]


def old_rank_bounds(counts: np.ndarray, draws: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The rank intervals until 2026-11: index drawn from Dirichlet(counts + 0.5) per office
    over every level of the table, 2.5%/97.5% quantiles, widened to the observed rank."""
    rng = np.random.default_rng(seed)
    scale = 100 * (np.asarray(COMPOSITE_LEVELS) - 1) / 4
    g = rng.standard_gamma(counts + 0.5, size=(draws, *counts.shape))
    sims = (g @ scale) / g.sum(axis=2)
    ranks = stats.rankdata(-sims, axis=1, method="ordinal")
    lo = np.floor(np.quantile(ranks, 0.025, axis=0, method="inverted_cdf"))
    hi = np.ceil(np.quantile(ranks, 0.975, axis=0, method="inverted_cdf"))
    obs = stats.rankdata(-(counts @ scale) / counts.sum(axis=1), method="min")
    return np.minimum(lo, obs), np.maximum(hi, obs)


def rank_coverage(networks: int, draws: int) -> None:
    sizes = office_sizes()
    print(f"\n## Rank intervals: coverage of the true rank ({networks} networks per τ)")
    print("τ (SD) | method | per office, n = " + " ".join(f"{n:>4}" for n in sizes)
          + " | min | all covered")  # fmt: skip
    for tau in TAUS:
        rng = np.random.default_rng(int(tau * 1000))
        hit = {"before": np.zeros(14), "after": np.zeros(14)}
        every = {"before": 0, "after": 0}
        for _ in range(networks):
            net = simulate_network(rng, sizes, tau)
            truth = true_ranks(net.theta)
            seed = int(rng.integers(1 << 30))
            lo, hi = old_rank_bounds(net.counts, draws, seed)
            ok = (lo <= truth) & (truth <= hi)
            hit["before"] += ok
            every["before"] += bool(ok.all())
            model = office_model(CountTable(LABELS, COMPOSITE_LEVELS, net.counts), draws=draws,
                                 seed=seed, funnel=False)  # fmt: skip
            lo = np.array([o.rank_low for o in model.offices])
            hi = np.array([o.rank_high for o in model.offices])
            ok = (lo <= truth) & (truth <= hi)
            hit["after"] += ok
            every["after"] += bool(ok.all())
        for key in ("before", "after"):
            cov = hit[key] / networks
            print(f"{tau:>5} | {key:6} | " + " ".join(f"{c:4.2f}" for c in cov)
                  + f" | {cov.min():.2f} | {every[key] / networks:.2f}")  # fmt: skip


def _to_class() -> tuple[list[float], np.ndarray]:
    from survey.dashboard.disclosure import INDEX_LEVELS

    classes = [float(x) for x in INDEX_LEVELS]
    step = classes[1] - classes[0]
    out = np.zeros((len(COMPOSITE_LEVELS), len(classes)))
    for j, v in enumerate(COMPOSITE_LEVELS):
        out[j, int(np.floor((v - classes[0]) / step + 0.5))] = 1
    return classes, out


INDEX_CLASSES, TO_CLASS = _to_class()
"""The composite index into the protected table's classes (disclosure.INDEX_LEVELS)."""


def dashboard_model(
    net: object, rng: np.random.Generator, min_n: int = 10, looks: int = 2
) -> object:
    """The model as the dashboards run it (survey/dashboard/casemix.py): each office's
    published index counts and its counts per single adjuster value, every level of a
    non-empty cell perturbed once with the protected table's noise and made whole
    (disclosure.nonnegative, total and mean kept), the other languages as the office's
    total minus German; the network's cross-tab perturbed once per cell; `Mix.adjust`,
    then the model on it.
    `looks`: the figure's noise is the sum of this many draws of the noise table (a figure
    inside one year is the difference of two running totals: 2; twelve months across a new
    year: 3)."""
    from survey.dashboard.casemix import Mix
    from survey.dashboard.disclosure import NOISE, VARIANCE, nonnegative
    from survey.dashboard.results import group_model

    cells = net.cell_counts @ TO_CLASS  # type: ignore[attr-defined]
    office, values = net.cell_office, net.cell_values  # type: ignore[attr-defined]
    k = int(office.max()) + 1

    def published(rows: np.ndarray) -> np.ndarray:
        out = np.zeros((k, cells.shape[1]))
        np.add.at(out, office[rows], cells[rows])
        noise = rng.choice(np.arange(-2, 3), size=(looks, *out.shape), p=NOISE).sum(axis=0)
        filled = out.sum(axis=1, keepdims=True) > 0
        return np.array([nonnegative(r, INDEX_CLASSES) for r in out + noise * filled])

    everyone = np.ones(len(office), dtype=bool)
    totals = published(everyone)
    names = {"service_type": SERVICE_TYPES, "language": LANGUAGES, "mode": MODES}
    margins = {a: {v: published(values[:, j] == i) for i, v in enumerate(names[a])}
               for j, a in enumerate(ADJUSTERS)}  # fmt: skip
    margins["language"]["other"] = np.clip(totals - margins["language"]["de"], 0, None)
    keys, where = np.unique(values, axis=0, return_inverse=True)
    joint = np.bincount(where.ravel(), weights=cells.sum(axis=1), minlength=len(keys))
    joint = np.clip(joint + rng.choice(np.arange(-2, 3), size=joint.shape, p=NOISE)
                    * (joint > 0), 0, None)  # fmt: skip
    mix = Mix(tuple(range(k)), margins,
              {a: tuple(names[a][i] for i in keys[:, j]) for j, a in enumerate(ADJUSTERS)},
              tuple(float(x) for x in joint), noise=VARIANCE * looks)  # fmt: skip
    labels = [str(i) for i in range(k)]
    adj = mix.adjust([[i] for i in range(k)], totals, labels, min_n)
    table = CountTable(labels, INDEX_CLASSES, totals)
    return group_model(table, min_n, adjusted=adj), group_model(table, min_n)


def case_mix(networks: int) -> None:
    print(f"\n## Equal quality, different client mix ({networks} networks of 14 offices)")
    print("verdict | networks with ≥ 1 false better/worse | offices with a false verdict")
    for scale in (1, 3):
        sizes = office_sizes(14, 10 * scale, 400 * scale)
        rng = np.random.default_rng(7 + scale)
        nets = {"Mann–Whitney + BH + |r| ≥ 0.1 (before)": [0, 0], "model, unadjusted": [0, 0],
                "model, adjusted (after)": [0, 0],
                "model, adjusted for service type only": [0, 0],
                "dashboards, a period inside a year: unadjusted": [0, 0],
                "dashboards, a period inside a year: adjusted": [0, 0],
                "dashboards, 12 months over a new year: unadjusted": [0, 0],
                "dashboards, 12 months over a new year: adjusted": [0, 0]}  # fmt: skip
        keys = list(nets)
        for _ in range(networks):
            net = simulate_network(rng, sizes, 0.0, mix=True)
            cov = {"service_type": net.cell_values[:, 0], "language": net.cell_values[:, 1],
                   "mode": net.cell_values[:, 2]}  # fmt: skip
            table = office_table(net.cell_office, net.cell_counts, COMPOSITE_LEVELS)
            comp = compare_offices(table, 10, min_effect=0.1)
            bad = sum(o.verdict in ("better", "worse") for o in comp.offices)
            nets[keys[0]][0] += bad > 0
            nets[keys[0]][1] += bad
            only = {"service_type": cov["service_type"]}  # the dashboard's cells allow this
            for key, adjusted, adjusters in (
                (keys[1], False, cov),
                (keys[2], True, cov),
                (keys[3], True, only),
            ):
                _, model = adjusted_model(net.cell_office, adjusters, net.cell_counts,
                                          COMPOSITE_LEVELS, adjusted=adjusted, draws=1,
                                          funnel=False, intervals=False)  # fmt: skip
                bad = sum(o.verdict in ("above", "below") for o in model.offices)
                nets[key][0] += bad > 0
                nets[key][1] += bad
            adjusted_model_, observed_model = dashboard_model(net, rng, looks=2)
            adjusted_12, observed_12 = dashboard_model(net, rng, looks=3)
            for key, model in ((keys[4], observed_model), (keys[5], adjusted_model_),
                               (keys[6], observed_12), (keys[7], adjusted_12)):  # fmt: skip
                bad = sum(o.verdict in ("above", "below") for o in model.offices)  # type: ignore[attr-defined]
                nets[key][0] += bad > 0
                nets[key][1] += bad
        print(f"n = {sizes.min()}–{sizes.max()} per office (total {sizes.sum():,}):")
        for key, (any_bad, bad) in nets.items():
            print(f"  {key:52} | {any_bad / networks:5.1%} | {bad / networks / 14:5.1%}")


def case_mix_power(networks: int, tau: float = 0.25) -> None:
    print(f"\n## Offices that do differ (τ = {tau} SD), different client mix ({networks} networks)")
    print("verdict | per office, n = … : right verdict (above/below in the true direction) |"
          " wrong direction | all offices: right | wrong")  # fmt: skip
    for scale in (1, 3):
        sizes = office_sizes(14, 10 * scale, 400 * scale)
        rng = np.random.default_rng(17 + scale)
        keys = ("model, adjusted from exact cells", "dashboards, inside a year: adjusted",
                "dashboards, 12 months over a new year: adjusted")  # fmt: skip
        right = {k: np.zeros(14) for k in keys}
        wrong = {k: np.zeros(14) for k in keys}
        for _ in range(networks):
            net = simulate_network(rng, sizes, tau, mix=True)
            sign = np.sign(net.theta - net.theta.mean())
            cov = {"service_type": net.cell_values[:, 0], "language": net.cell_values[:, 1],
                   "mode": net.cell_values[:, 2]}  # fmt: skip
            _, exact = adjusted_model(net.cell_office, cov, net.cell_counts, COMPOSITE_LEVELS,
                                      draws=1, funnel=False, intervals=False)  # fmt: skip
            inside, _ = dashboard_model(net, rng, looks=2)
            over, _ = dashboard_model(net, rng, looks=3)
            for key, model in zip(keys, (exact, inside, over), strict=True):
                offices = model.offices  # type: ignore[attr-defined]
                said = np.array([{"above": 1, "below": -1}.get(o.verdict, 0) for o in offices])
                right[key] += said * sign > 0
                wrong[key] += said * sign < 0
        print(f"n = {sizes.min()}–{sizes.max()} per office: " + " ".join(f"{n:>4}" for n in sizes))
        for key in keys:
            r, w = right[key] / networks, wrong[key] / networks
            rows = " | ".join(" ".join(f"{x:4.2f}" for x in a) for a in (r, w))
            print(f"  {key:46} | {rows} | {r.mean():5.1%} | {w.mean():5.1%}")


def power(networks: int, fresh: int) -> None:
    print(f"\n## Time to verdict: verdict at the promised n ({networks} networks × {fresh})")
    print("forecast | verdict by the promised date (target 80%)")
    rng = np.random.default_rng(11)
    page = "as on the office page (500 draws, n after 1–36 months at 10 a month)"
    kept: dict[str, list[bool]] = {
        "z formula (before)": [], "simulated under the verdict rule (after)": [], page: []
    }  # fmt: skip
    for _ in range(networks):
        k, sigma, delta = 14, 20.0, 8.0
        n = rng.integers(30, 300, k).astype(float)
        theta = 70 + rng.normal(0, 3.0, k)
        theta[0] = 70 + delta
        n[0] = 20
        y = theta + rng.standard_normal(k) * sigma / np.sqrt(n)
        v = sigma**2 / n
        promised = {
            "z formula (before)": responses_needed(delta, sigma, group_n=int(n[1:].sum())),
            "simulated under the verdict rule (after)": responses_for_verdict(
                y, v, 0, delta, sigma=sigma, draws=1000, seed=1)[0],
            page: responses_for_verdict(
                y, v, 0, delta, sigma=sigma, draws=500,
                candidates=[10 * m for m in PAGE_MONTHS])[0],
        }  # fmt: skip
        for key, needed in promised.items():
            if needed is None:  # not within the page's 36 months: no promise made
                continue
            for _ in range(fresh):
                y2, n2 = y.copy(), n.copy()
                n2[0] = needed
                y2[0] = theta[0] + rng.standard_normal() * sigma / math.sqrt(needed)
                model = fit_office_model(LABELS, n2, y2, sigma**2 / n2, sigma=sigma, draws=1,
                                         funnel=False, intervals=False)  # fmt: skip
                kept[key].append(model.offices[0].verdict == "above")
    for key, hits in kept.items():
        print(f"  {key:42} | {np.mean(hits):5.1%}")
    adjusted_power(networks, fresh, rng)


def adjusted_power(networks: int, fresh: int, rng: np.random.Generator, extra: float = 2.0) -> None:
    """The same on a client-mix adjusted figure: every office's estimate carries `extra`
    beyond σ²/n (the adjustment's uncertainty and the noise of published counts), in the data
    and in the rule that judges it; forecast on observed counts (σ²/n: before) or on the
    adjusted figures (`time_to_verdict(figures=...)`: after)."""
    keys = ("on the observed counts (before)", "on the adjusted figures (after)")
    kept: dict[str, list[bool]] = {k: [] for k in keys}
    for _ in range(networks):
        k, sigma, delta = 14, 20.0, 8.0
        n = rng.integers(30, 300, k).astype(float)
        theta = 70 + rng.normal(0, 3.0, k)
        theta[0] = 70 + delta
        n[0] = 20
        y = theta + rng.standard_normal(k) * np.sqrt(sigma**2 / n + extra)
        table = CountTable(LABELS, [1, 2], np.column_stack([n // 2, n - n // 2]))
        for key, v in zip(keys, (sigma**2 / n, sigma**2 / n + extra), strict=True):
            needed = time_to_verdict(table, 0, delta, draws=1000, seed=1,
                                     figures=(y, v, sigma)).needed  # fmt: skip
            if needed is None:
                continue
            for _ in range(fresh):
                y2, n2 = y.copy(), n.copy()
                n2[0] = needed
                y2[0] = theta[0] + rng.standard_normal() * math.sqrt(sigma**2 / needed + extra)
                model = fit_office_model(LABELS, n2, y2, sigma**2 / n2 + extra, sigma=sigma,
                                         draws=1, funnel=False, intervals=False)  # fmt: skip
                kept[key].append(model.offices[0].verdict == "above")
    print(f"verdict on an adjusted figure (variance σ²/n + {extra:g}), forecast made")
    for key, hits in kept.items():
        print(f"  {key:42} | {np.mean(hits):5.1%} ({len(hits)} trials)")


def clustering(networks: int) -> None:
    print(f"\n## Answers correlated within a day ({networks} networks, equal quality, τ = 0)")
    print("latent ICC | answers per day | Mann–Whitney p < 0.05 (nominal 5%) | model false"
          " verdicts, no correction | with design effect")  # fmt: skip
    sizes = office_sizes()
    for icc in (0.0, 0.02, 0.05):
        for per_day in (2, 5, 10):
            if icc == 0 and per_day > 2:
                continue
            rng = np.random.default_rng(int(icc * 1000) + per_day)
            small_p = plain = fixed = 0
            for _ in range(networks):
                net = simulate_network(rng, sizes, 0.0, day_icc=icc, per_day=per_day)
                c = net.counts
                total = c.sum(axis=0)
                n = c.sum(axis=1)
                ranks = total.cumsum() - total + (total + 1) / 2
                u = c @ ranks - n * (n + 1) / 2
                p, _ = mw_z(u, n, total.sum() - n, float(np.sum(total**3 - total)))
                small_p += int(np.sum(p < 0.05))
                table = CountTable(LABELS, COMPOSITE_LEVELS, c)
                nn, y, v, sigma = index_estimates(table)
                # index-level ICC: the day's share of a composite answer's latent variance
                rho = icc / (0.64 + 0.36 / 7)
                deff = 1 + (np.minimum(per_day, nn) - 1) * rho
                for key, d in (("plain", 1.0), ("fixed", deff)):
                    model = fit_office_model(
                        LABELS, nn, y, v, sigma=sigma, draws=1, funnel=False,
                        intervals=False, design_effect=d,
                    )  # fmt: skip
                    bad = sum(o.verdict in ("above", "below") for o in model.offices)
                    if key == "plain":
                        plain += bad
                    else:
                        fixed += bad
            per = networks * 14
            print(f"{icc:10} | {per_day:15} | {small_p / per:6.1%} | {plain / per:6.2%} | "
                  f"{fixed / per:6.2%}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--networks", type=int, default=500)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--only", default="ranks,mix,mixpower,power,clustering")
    args = parser.parse_args()
    parts = set(args.only.split(","))
    start = time.perf_counter()
    if "ranks" in parts:
        rank_coverage(args.networks, args.draws)
    if "mix" in parts:
        case_mix(args.networks)
    if "mixpower" in parts:
        case_mix_power(args.networks)
    if "power" in parts:
        power(max(args.networks // 5, 10), 10)
    if "clustering" in parts:
        clustering(args.networks)
    print(f"\n({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
