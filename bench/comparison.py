"""The office comparison on published (noisy) counts: does it keep its promises?

Every staff figure is computed from the protected table, whose counts carry the cell-key
noise (survey/dashboard/disclosure.py). This simulation measures, by office size (n = 10,
30, 100, 1,000 in the period), what the rank-test comparison of the pages
(analysis.compare_offices) promises and what it keeps:

- **coverage**: how often the 95% interval of the index shown for an office holds the
  office's true index (the expected value of its published variable, the quarter-point
  class of the composite index), and how often the Wilson interval of the top-box share
  ("very satisfied or satisfied" on the overall question) holds the true share;
- **null**: all 20 offices of the group are equally good; how often the Mann–Whitney test
  of a studied office against the rest has p < 0.05 (nominal 5 %), and how often it gets a
  verdict "better"/"worse" (Benjamini–Hochberg q < 0.05 and |r| ≥ 0.1, as the pages);
- **agreement**: offices differ (effects −0.5…0.5 on the latent scale); how often the
  verdict on the published counts equals the verdict on the exact counts (the same
  quarter-point classes, no noise), and how many offices get a verdict at all.

Each is computed three ways: on the exact counts ("exact"), on the published counts as if
they were the data (what the pages did until 2026-11-29: "ignoring"), and on the published
counts with the noise of each figure as the table gives it (`noise=`,
`ProtectedTable.noise_variance`, and where the code has it, `index_noise=`,
`ProtectedTable.index_noise`: "allowing"). From 2026-11-29 (ITEM_MEAN) the table holds the
seven index items too and the index's classes are tilted to the mean of their indices; the
true index is then the mean of the respondents' composites (not of their classes).

Each round draws a group of 20 offices, 5 of the size under study and 15 of 50 to 400
responses, respondents as bench/disclosure.py draws them (a latent satisfaction 3.6 +
effect + N(0, 0.9²), seven 5-point answers with N(0, 0.7²) each, the composite index 420 ×
their mean; the overall question is the seventh), spread evenly over the months, random
record keys, and builds the protected table as the dashboards do (`protect`, blocks of at
least 10 responses). Two periods: a calendar year (January–December 2026, noise variance
0.5 per level for most figures, 1 for a year's first block alone) and the dashboards'
default, the last 12 months (November 2025–October 2026: two years touched, 1.0–1.5).
The true index and share of each effect come from two million respondents drawn once.
Prints, never asserts.

    nice -n 19 .venv/bin/python bench/comparison.py [--rounds 200] [--seed 1] [--draws 1000]

Last, "noise of U": the variance fresh noise gives Mann–Whitney's U of an office against 15
others, through `nonnegative` (as published) and without it, each divided by what
`mw_noise_variance` says (1.00: the formula is right); with ITEM_MEAN the published classes
are also tilted to the mean of the seven items' published indices (each item's counts with
fresh noise, through `nonnegative`), and the formula takes the means' noise
(`sum_noise`). Then "change": an office's change from January to February when nothing
changed, how often p < 0.05 (analysis.change with the two periods' noise and the running
total they share, as the office page).
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse
import inspect
import time
from collections import defaultdict

import numpy as np

from analysis import CountTable, change, compare_offices, top_box
from analysis.counts import midranks
from bench.disclosure import FLOOD_ITEMS as ITEMS  # the index items, the overall one last
from bench.disclosure import ITEM_MEAN, PERIODS, SIZES  # the same periods and office sizes
from survey.dashboard import disclosure
from survey.dashboard.disclosure import INDEX_LEVELS, Grid, protect
from survey.dashboard.queries import CountColumns
from survey.dashboard.results import MIN_EFFECT
from survey.questionnaire import INDEX_ITEM, INDEX_SCALE

STUDIED, OTHERS, MIN_N = 5, 15, 10
EFFECTS = (-0.5, -0.25, 0.0, 0.25, 0.5)
"""Office effects on the latent scale (an answer's SD is about 1.1): the studied offices'
and the others' in the "agreement" scenario."""
OVERALL = "overall"
SCALE = (1.0, 2.0, 3.0, 4.0, 5.0)
NOISY = "noise" in inspect.signature(compare_offices).parameters
"""Whether this checkout's compare_offices can allow for the noise (after 2026-11-29)."""
X17 = 100 * (np.asarray(INDEX_LEVELS) - 1) / 4
X5 = np.array([0.0, 25.0, 50.0, 75.0, 100.0])


def _answers(rng: np.random.Generator, effect: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Quarter-point class (0..16) of the composite index and the seven answers (1..5, the
    overall question last) of n respondents of an office with this effect."""
    latent = 3.6 + effect + rng.normal(0, 0.9, n)
    answers = np.clip(np.rint(latent[:, None] + rng.normal(0, 0.7, (n, 7))), 1, 5)
    values = answers.sum(axis=1) * INDEX_SCALE // 7
    classes = np.clip(np.floor(4 * values / INDEX_SCALE + 0.5).astype(int) - 4, 0, 16)
    return classes, answers.astype(int)


def truths(seed: int = 12345, n: int = 2_000_000) -> dict[float, tuple[float, float]]:
    """True index (0–100: of the quarter-point classes, or with ITEM_MEAN the mean of the
    answers) and top-box share (%) per effect."""
    rng = np.random.default_rng(seed)
    out = {}
    for effect in EFFECTS:
        classes, answers = _answers(rng, effect, n)
        index = (100 * (np.mean(answers) - 1) / 4 if ITEM_MEAN
                 else 100 * (np.mean(np.asarray(INDEX_LEVELS)[classes]) - 1) / 4)  # fmt: skip
        out[effect] = (index, 100 * np.mean(answers[:, 6] >= 4))
    return out


def _rows(rng: np.random.Generator, effects: list[float], sizes: list[int],
          months: tuple[str, ...], start: int) -> CountColumns:  # fmt: skip
    """Count rows (index and its seven items) of the offices, with record-key sums."""
    columns: list[list[np.ndarray]] = [[], [], [], [], [], []]
    for o, (effect, n) in enumerate(zip(effects, sizes, strict=True)):
        inside = rng.integers(start, start + 12, n)
        before = rng.integers(0, start, rng.poisson(n * start / 12)) if start else inside[:0]
        month = np.concatenate([before, inside])
        classes, answers = _answers(rng, effect, month.size)
        keys = rng.integers(0, 2**31, month.size)
        for item, value in ((INDEX_ITEM, classes), *zip(ITEMS, answers.T, strict=True)):
            cell = value * 64 + month
            found, where = np.unique(cell, return_inverse=True)
            columns[0].append(np.full(found.size, o + 1))
            columns[1].append(np.full(found.size, item))
            stored = (np.asarray(INDEX_LEVELS)[found // 64] * INDEX_SCALE).round().astype(int)
            columns[2].append(stored if item == INDEX_ITEM else found // 64)
            columns[3].append(np.asarray(months)[found % 64])
            columns[4].append(np.bincount(where, minlength=found.size))
            columns[5].append(np.bincount(where, weights=keys, minlength=found.size))
    office, item, value, month_no, n_col, key = (np.concatenate(c) for c in columns)
    return CountColumns(office, item, value, month_no, n_col, key.astype(np.int64))


def _compare(table: CountTable, noise: tuple[tuple[float, ...], tuple[float, ...]] | None):
    if noise is None:
        return compare_offices(table, MIN_N, min_effect=MIN_EFFECT)
    if ITEM_MEAN:
        return compare_offices(table, MIN_N, min_effect=MIN_EFFECT, noise=noise[0],
                               index_noise=noise[1])  # fmt: skip
    return compare_offices(table, MIN_N, min_effect=MIN_EFFECT, noise=noise[0])


def _top_box(counts: np.ndarray, noise: float | None):
    return top_box(counts, 2) if noise is None else top_box(counts, 2, noise=noise)


Tally = dict[str, list[float]]


def _round(rng: np.random.Generator, size: int, period: str, null: bool,
           truth: dict[float, tuple[float, float]], tally: Tally) -> None:  # fmt: skip
    grid_months, start = PERIODS[period]
    sizes = [size] * STUDIED + [int(v) for v in rng.integers(50, 401, OTHERS)]
    effects = [0.0 if null else float(e) for e in rng.choice(EFFECTS, len(sizes))]
    rows = _rows(rng, effects, sizes, grid_months, start)
    months = list(grid_months)
    ids = tuple(range(1, len(sizes) + 1))
    levels = {INDEX_ITEM: INDEX_LEVELS, **dict.fromkeys(ITEMS, SCALE)}
    table = protect(rows, Grid(ids, tuple(months), levels, min_n=MIN_N))
    period_months = months[start : start + 12]
    groups = [[o] for o in ids]
    labels = [str(o) for o in ids]
    published = table.matrix(INDEX_ITEM, groups, period_months)
    nu = tuple(table.noise_variance(INDEX_ITEM, g, period_months) for g in groups)
    own = tuple(table.index_noise(g, period_months) for g in groups) if ITEM_MEAN else ()
    noise = (nu, own)
    # the exact counts of the period in the same classes
    mine = (rows.item == INDEX_ITEM) & np.isin(rows.month, period_months)
    exact = np.zeros((len(ids), len(INDEX_LEVELS)))
    level = np.clip(np.floor(4 * rows.value[mine] / INDEX_SCALE + 0.5).astype(int) - 4, 0, 16)
    np.add.at(exact, (rows.office[mine] - 1, level), rows.n[mine])
    ways = {
        "exact": (exact, None),
        "ignoring": (published, None),
        **({"allowing": (published, noise)} if NOISY else {}),
    }
    found = {way: _compare(CountTable(labels, list(INDEX_LEVELS), counts), nz)
             for way, (counts, nz) in ways.items()}  # fmt: skip
    for i in range(STUDIED):
        true_index, true_share = truth[effects[i]]
        tb_counts = table.counts(OVERALL, [ids[i]], period_months)
        tb_exact = np.zeros(5)
        hit = (rows.item == OVERALL) & (rows.office == ids[i]) & np.isin(rows.month, period_months)
        np.add.at(tb_exact, rows.value[hit] - 1, rows.n[hit])
        tb_noise = table.noise_variance(OVERALL, [ids[i]], period_months)
        for way, comp in found.items():
            office = comp.offices[i]
            shown = office.n >= MIN_N and office.index_low is not None
            tally[f"shown {way}"].append(shown)
            if shown:
                assert office.index_low is not None and office.index_high is not None
                tally[f"index {way}"].append(office.index_low <= true_index <= office.index_high)
            tb = _top_box(tb_exact if way == "exact" else tb_counts,
                          tb_noise if way == "allowing" else None)  # fmt: skip
            if tb.n >= MIN_N and tb.ci_low is not None and tb.ci_high is not None:
                tally[f"top box {way}"].append(tb.ci_low <= true_share <= tb.ci_high)
            if office.pvalue is None:
                continue
            said = office.verdict in ("better", "worse")
            if null:
                tally[f"p<.05 {way}"].append(office.pvalue < 0.05)
                tally[f"verdict {way}"].append(said)
            else:
                tally[f"verdicts {way}"].append(said)
                if way != "exact":
                    tally[f"agree {way}"].append(
                        office.verdict == found["exact"].offices[i].verdict
                    )


def _pct(values: list[float]) -> str:
    return f"{100 * np.mean(values):5.1f}" if values else "    –"


def _centred_u(a: np.ndarray, b: np.ndarray) -> float:
    """U − n_a·n_b/2 of count vectors a against b."""
    ranks = midranks(a + b)
    return float(a @ ranks - a.sum() * (a.sum() + 1) / 2 - a.sum() * b.sum() / 2)


def _item_mean(items: np.ndarray, rng: np.random.Generator, table: np.ndarray) -> float:
    """The mean of the seven items' published indices (7 × 5 counts, fresh noise from the
    perturbation table on every level, through `nonnegative`)."""
    values = np.arange(-disclosure.MAX_NOISE, disclosure.MAX_NOISE + 1)
    noisy = items + rng.choice(values, items.shape, p=table)
    means = []
    for c in noisy:
        published = disclosure.nonnegative(c, SCALE)
        if published.sum() > 0:
            means.append(float(published @ X5 / published.sum()))
    return float(np.mean(means))


def _sum_noise(items: np.ndarray, nu: float) -> float:
    """n² × the noise variance of the mean of the seven items' indices (`index_noise`)."""
    n = items.sum(axis=1)
    means = items @ X5 / n
    spread = ((X5[None, :] - means[:, None]) ** 2).sum(axis=1)
    return float(n.mean() ** 2 * np.sum(nu * spread / n**2) / len(items) ** 2)


def noise_of_u(rng: np.random.Generator, draws: int) -> None:
    """The noise part of Var(U − n_a·n_b/2) of an office against 15 others (null), from
    `draws` fresh noises on every level count of each office (the perturbation table of
    variance ν), through `nonnegative` as the table publishes them and without it (the linear
    model), against `mw_noise_variance`. With ITEM_MEAN the published classes are tilted to
    the mean of the items' published indices (`retarget`, each item with fresh noise too),
    and the formula takes the means' noise (`sum_noise`): printed against it, and against
    the formula without it (the level noise alone, which overstates)."""
    if not NOISY:
        return
    from analysis.significance import mw_noise_variance

    lv = np.asarray(INDEX_LEVELS)
    values = np.arange(-disclosure.MAX_NOISE, disclosure.MAX_NOISE + 1)
    if ITEM_MEAN:
        print(
            "\nnoise of U: variance through nonnegative and the tilt to the items' mean, against "
            "mw_noise_variance with the means' noise / with the level noise alone"
        )
    else:
        print("\nnoise of U: variance through nonnegative / linear, each against "
              "mw_noise_variance")  # fmt: skip
    for nu, table in ((0.5, disclosure.NOISE), (1.0, disclosure.FIRST_NOISE)):
        cells = []
        for size in SIZES:
            drawn = [_answers(rng, 0.0, int(m)) for m in [size, *rng.integers(50, 401, OTHERS)]]
            counts = [np.bincount(c, minlength=lv.size).astype(float) for c, _ in drawn]
            items = [np.array([np.bincount(a[:, j] - 1, minlength=5) for j in range(7)], float)
                     for _, a in drawn]  # fmt: skip
            a, others = counts[0], counts[1:]
            b = sum(others)
            base = _centred_u(a, b)
            cut, linear = [], []
            for _ in range(draws):
                noise = rng.choice(values, (len(counts), lv.size), p=table)
                published = [disclosure.nonnegative(c + e, INDEX_LEVELS)
                             for c, e in zip(counts, noise, strict=True)]  # fmt: skip
                if ITEM_MEAN:
                    published = [disclosure.retarget(p, INDEX_LEVELS,
                                                     1 + 4 * _item_mean(it, rng, table) / 100)
                                 for p, it in zip(published, items, strict=True)]  # fmt: skip
                cut.append(_centred_u(published[0], sum(published[1:])) - base)
                linear.append(_centred_u(a + noise[0], b + noise[1:].sum(axis=0)) - base)
            n1, n2 = np.array(a.sum()), np.array(b.sum())
            plain = float(mw_noise_variance(a + b, n1, n2, np.array(nu), np.array(OTHERS * nu)))
            if ITEM_MEAN:
                sums = [_sum_noise(it, nu) for it in items]
                said = float(mw_noise_variance(a + b, n1, n2, np.array(nu),
                                               np.array(OTHERS * nu), scale=X17,
                                               sum_noise1=np.array(sums[0]),
                                               sum_noise2=np.array(sum(sums[1:]))))  # fmt: skip
                cells.append(f"{np.var(cut) / said:.2f} / {np.var(cut) / plain:.2f}")
            else:
                cells.append(f"{np.var(cut) / plain:.2f} / {np.var(linear) / plain:.2f}")
        print(f"  ν = {nu}:".ljust(48) + "".join(f"{c:>14}" for c in cells))


def change_null(rng: np.random.Generator, draws: int) -> None:
    """The change of one office between January and February (each period a block of its
    own; February's figure is its running total minus January's, so the two share January's
    noise with opposite signs) when nothing changed: how often p < 0.05 on the exact counts,
    on the published counts as if exact, with each period's noise only, and with the shared
    noise too (`noise_covariance`, or with ITEM_MEAN `index_noise` and `index_covariance`,
    as the pages)."""
    if not NOISY:
        return
    months = ("2026-01", "2026-02")
    levels = {INDEX_ITEM: INDEX_LEVELS, **dict.fromkeys(ITEMS, SCALE)}
    grid = Grid((1,), months, levels, min_n=MIN_N)
    print("\nchange, nothing changed: p < 0.05 (5 %) exact / ignoring / own noise only / allowing")
    cells = []
    for size in (20, 40, 100, 300):
        found: dict[str, list[bool]] = defaultdict(list)
        for _ in range(draws):
            rows: list[tuple[int, str, int, str, int, int]] = []
            exact = []
            for month in months:
                classes, answers = _answers(rng, 0.0, size)
                keys = rng.integers(0, 2**31, size)
                exact.append(np.bincount(classes, minlength=len(INDEX_LEVELS)))
                rows += [(1, INDEX_ITEM, round(INDEX_SCALE * INDEX_LEVELS[k]), month,
                          int(np.sum(classes == k)), int(keys[classes == k].sum()))
                         for k in np.unique(classes).tolist()]  # fmt: skip
                rows += [(1, item, v, month, int(np.sum(answers[:, j] == v)),
                          int(keys[answers[:, j] == v].sum()))
                         for j, item in enumerate(ITEMS)
                         for v in np.unique(answers[:, j]).tolist()]  # fmt: skip
            table = protect(CountColumns.from_tuples(rows), grid)
            before, after = (table.counts(INDEX_ITEM, [1], [m]) for m in months)
            if before.sum() < MIN_N or after.sum() < MIN_N:
                continue
            if ITEM_MEAN:
                each = (table.index_noise([1], months[:1]), table.index_noise([1], months[1:]))
                shared = table.index_covariance([1], months[:1], months[1:])
                own = change(before, after, INDEX_LEVELS, index_noise=(*each, 0.0))
                allowing = change(before, after, INDEX_LEVELS, index_noise=(*each, shared))
            else:
                noise = {
                    "noise_before": table.noise_variance(INDEX_ITEM, [1], months[:1]),
                    "noise_after": table.noise_variance(INDEX_ITEM, [1], months[1:]),
                }
                shared = table.noise_covariance(INDEX_ITEM, [1], months[:1], months[1:])
                own = change(before, after, INDEX_LEVELS, **noise)
                allowing = change(before, after, INDEX_LEVELS, **noise, noise_shared=shared)
            for way, got in (
                ("exact", change(exact[0], exact[1], INDEX_LEVELS)),
                ("ignoring", change(before, after, INDEX_LEVELS)),
                ("own", own),
                ("allowing", allowing),
            ):
                found[way].append(got.pvalue is not None and got.pvalue < 0.05)
        cells.append(" / ".join(_pct(found[w]).strip()
                                for w in ("exact", "ignoring", "own", "allowing")))  # fmt: skip
    print(" " * 48 + "".join(f"{'n = ' + str(s):>24}" for s in (20, 40, 100, 300)))
    print("  each period".ljust(48) + "".join(f"{c:>24}" for c in cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--draws", type=int, default=1000, help="noise draws for 'noise of U'")
    args = parser.parse_args()
    started = time.perf_counter()
    truth = truths()
    ways = ("exact", "ignoring", "allowing") if NOISY else ("exact", "ignoring")
    print(f"{args.rounds} rounds × {STUDIED} studied offices per size and scenario; percentages; "
          f"ways: {', '.join(ways)} (noise-aware code: {'yes' if NOISY else 'no'})")  # fmt: skip
    header = {
        "index": "index interval covers (95)",
        "top box": "top-box interval covers (95)",
        "p<.05": "null: p < 0.05 (5)",
        "verdict": "null: better/worse",
        "verdicts": "differ: with a verdict",
        "agree": "differ: verdict = exact",
    }
    for period in PERIODS:
        rng = np.random.default_rng(args.seed)
        print(f"\n{period}")
        print(" " * 48 + "".join(f"{'n = ' + str(s):>10}" for s in SIZES))
        results = {}
        for size in SIZES:
            tally: Tally = defaultdict(list)
            for null in (True, False):
                for _ in range(args.rounds):
                    _round(rng, size, period, null, truth, tally)
            results[size] = tally
        for key, text in header.items():
            for way in ways:
                if key == "agree" and way == "exact":
                    continue
                cells = "".join(f"{_pct(results[s][f'{key} {way}']):>10}" for s in SIZES)
                print(f"  {text} [{way}]".ljust(48) + cells)
        shown = "".join(f"{_pct(results[s]['shown ignoring']):>10}" for s in SIZES)
        print("  shown (published n ≥ 10)".ljust(48) + shown)
    noise_of_u(np.random.default_rng(args.seed), args.draws)
    change_null(np.random.default_rng(args.seed), args.draws)
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
