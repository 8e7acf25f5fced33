"""What the disclosure control costs: verdicts and indices on the protected table against the
true counts, by office size.

Each round simulates a comparison group of 20 offices over a 12-month period: 5 offices of
the size under study (n = 10, 30, 100 or 1,000 responses in the 12 months) and 15 others of
50 to 400 responses; each office has its own effect (normal, sd 0.25 on a 1–5 scale), each
respondent a latent satisfaction and seven 5-point answers (as bench/dashboard.py draws
them). The respondent's composite index is 420 × the mean of the seven answers, as the writer
stores it. Two periods: a calendar year (January–December 2026), and the dashboards' default,
the last 12 months, here November 2025–October 2026 (responses arrive at the same rate from
January 2025 on, so the blocks of 2025 are what a real office would have).

- "true": compare_offices on the exact composite indices (what the dashboards showed before);
- "classes": the same counts in the quarter-point classes of the protected table, no noise;
- "protected": the counts after survey/dashboard/disclosure.protect (random record keys,
  months grouped into blocks of at least 10 responses within the calendar year, noise once
  on each running total of a year at a block's end, a figure = per year the running total at
  its last whole block minus the one before its first, made non-negative); the table holds
  the seven index items too, and where the code has them (`ProtectedTable.index_noise`,
  from 2026-11-29) the index's classes are tilted to the mean of the items' indices. Its
  verdicts are the pages': the Mann–Whitney test and the random-effects model
  (results.model_figures, fit_office_model) with each figure's noise as the pages pass it
  (`--ignore-noise`: none).

The same file runs against an older tree (the code before the item-mean index) to measure
"before" in the same run window: copy it into that tree's bench/ and run it there.

For the 5 offices of the size under study it prints how often the verdict (better / worse /
no clear difference / too few responses) on "classes" and on "protected" equals the verdict
on "true" (the Mann–Whitney verdict, and under "model" the random-effects model's verdict,
the dashboards' first), the mean absolute change of the index (0–100) and, for "protected",
its mean signed change (a bias). It prints, never asserts.

    .venv/bin/python bench/disclosure.py [--rounds 200] [--seed 1] [--variance 0.5]
                                         [--proportional] [--ignore-noise]

--variance replaces the perturbation table's variance (−2..+2) for this run, to weigh
utility against flooding.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse
import time

import numpy as np

from analysis import CountTable, compare_offices, fit_office_model, office_model
from survey.dashboard import disclosure
from survey.dashboard.disclosure import INDEX_LEVELS, Grid, ProtectedTable, index_level, protect
from survey.dashboard.queries import CountRow
from survey.dashboard.results import MIN_EFFECT, model_figures
from survey.questionnaire import INDEX_ITEM, INDEX_SCALE

_2025 = tuple(f"2025-{m:02d}" for m in range(1, 13))
PERIODS = {
    "calendar year": (tuple(f"2026-{m:02d}" for m in range(1, 13)), 0),
    "last 12 months": (_2025 + tuple(f"2026-{m:02d}" for m in range(1, 11)), 10),
}
"""The grid's months and where the 12 months of the period start in it."""
SIZES = (10, 30, 100, 1000)
STUDIED = 5
OTHERS = 15
MIN_N = 10
IGNORE_NOISE = False
"""--ignore-noise: the rank test on the protected counts as if they were the data (the pages
until 2026-11-29)."""


ITEM_MEAN = hasattr(ProtectedTable, "index_noise")
"""Whether this tree publishes the index as the mean of its items' indices."""
FIVE = (1.0, 2.0, 3.0, 4.0, 5.0)


def _office(
    rng: np.random.Generator, n: int, effect: float, months: int, start: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Composite index values (420 × mean), answers (respondents × 7) and months of the
    respondents of an office with n in the 12 months from `start` (the same rate over all
    `months` of the grid)."""
    inside = rng.integers(start, start + 12, n)
    before = rng.integers(0, start, rng.poisson(n * start / 12)) if start else inside[:0]
    month = np.concatenate([before, inside])
    latent = 3.6 + effect + rng.normal(0, 0.9, month.size)
    answers = np.clip(np.rint(latent[:, None] + rng.normal(0, 0.7, (month.size, 7))), 1, 5)
    values = (answers.sum(axis=1) * INDEX_SCALE // 7).astype(int)
    return values, answers.astype(int), month


Found = tuple[str, str, str, float, float, str, str, str]
"""Per studied office: rank-test verdicts (true, classes, protected), |index change|
(classes) and signed index change (protected), model verdicts (true, classes, protected)."""


def _round(rng: np.random.Generator, size: int, period: str) -> list[Found]:
    months, start = PERIODS[period]
    sizes = [size] * STUDIED + list(rng.integers(50, 401, OTHERS))
    effects = rng.normal(0, 0.25, len(sizes))
    drawn = [_office(rng, int(n), float(e), len(months), start)
             for n, e in zip(sizes, effects, strict=True)]  # fmt: skip
    offices = [(v[m >= start], m[m >= start]) for v, _, m in drawn]
    exact_levels = sorted({int(v) for values, _ in offices for v in values})
    exact = np.array([[np.sum(values == v) for v in exact_levels] for values, _ in offices])
    classes = np.array(
        [
            np.bincount([index_level(int(v)) for v in values], minlength=len(INDEX_LEVELS))
            for values, _ in offices
        ]
    )
    rows = []
    for o, (values, answers, month_of) in enumerate(drawn):
        keys = rng.integers(0, 2**31, values.size).tolist()
        cell: dict[tuple[str, int, int], list[int]] = {}
        for r, (v, m) in enumerate(zip(values.tolist(), month_of.tolist(), strict=True)):
            for item, level in (
                (INDEX_ITEM, v),
                *zip(FLOOD_ITEMS, answers[r].tolist(), strict=True),
            ):
                n_key = cell.setdefault((item, level, m), [0, 0])
                n_key[0] += 1
                n_key[1] += keys[r]
        rows += [CountRow(o + 1, item, v, months[m], n, k)
                 for (item, v, m), (n, k) in cell.items()]  # fmt: skip
    office_ids = tuple(range(1, len(sizes) + 1))
    grid = {INDEX_ITEM: INDEX_LEVELS, **dict.fromkeys(FLOOD_ITEMS, FIVE)}
    table = protect(rows, Grid(office_ids, months, grid, min_n=MIN_N))
    period = months[start : start + 12]
    groups = [[o] for o in office_ids]
    protected = table.matrix(INDEX_ITEM, groups, period)
    labels = [str(o) for o in office_ids]
    levels = [v / INDEX_SCALE for v in exact_levels]
    true = compare_offices(CountTable(labels, levels, exact), MIN_N, min_effect=MIN_EFFECT)
    coarse = compare_offices(
        CountTable(labels, list(INDEX_LEVELS), classes), MIN_N, min_effect=MIN_EFFECT
    )
    # as the pages: with each figure's noise, unless --ignore-noise
    published = CountTable(labels, list(INDEX_LEVELS), protected)
    noise = None if IGNORE_NOISE else tuple(table.noise_variance(INDEX_ITEM, g, period)
                                            for g in groups)  # fmt: skip
    if noise is not None and ITEM_MEAN:
        own = tuple(table.index_noise(g, period) for g in groups)
        noisy = compare_offices(published, MIN_N, min_effect=MIN_EFFECT, noise=noise,
                                index_noise=own)  # fmt: skip
        figures = model_figures(published, None, own)
    else:
        noisy = compare_offices(published, MIN_N, min_effect=MIN_EFFECT, noise=noise)
        figures = model_figures(published, None, noise)
    n, y, v, sigma = figures
    page = fit_office_model(labels, n, y, v, sigma=sigma, min_n=MIN_N, draws=1, seed=0,
                            funnel=False)  # fmt: skip
    # the random-effects model's verdict (the dashboards' first verdict), on every possible
    # composite value as a level so that the true index has the same 1-5 scale
    every = np.arange(7, 36) * INDEX_SCALE // 7
    full = np.array([[np.sum(values == v) for v in every] for values, _ in offices])
    models = [
        office_model(CountTable(labels, lv, m), min_n=MIN_N, draws=1, funnel=False)
        for lv, m in (([v / INDEX_SCALE for v in every], full), (list(INDEX_LEVELS), classes))
    ]
    models.append(page)
    out = []
    for i in range(STUDIED):
        t, c, p = true.offices[i], coarse.offices[i], noisy.offices[i]
        change_c = abs(c.index - t.index) if c.index is not None and t.index is not None else np.nan
        change_p = p.index - t.index if p.index is not None and t.index is not None else np.nan
        mt, mc, mp = (m.offices[i].verdict for m in models)
        out.append((t.verdict, c.verdict, p.verdict, change_c, change_p, mt, mc, mp))
    return out


def _report(size: int, found: list[Found]) -> None:
    agree_c = np.mean([r[0] == r[1] for r in found])
    agree_p = np.mean([r[0] == r[2] for r in found])
    model_c = np.mean([r[5] == r[6] for r in found])
    model_p = np.mean([r[5] == r[7] for r in found])
    change_c = np.nanmean([r[3] for r in found])
    change_p = np.nanmean([abs(r[4]) for r in found])
    bias_p = np.nanmean([r[4] for r in found])
    few_t = np.mean([t == "too few responses" for t, *_ in found])
    few_p = np.mean([r[2] == "too few responses" for r in found])
    print(f"{size:>6} {100 * agree_c:>14.1f}% {100 * agree_p:>16.1f}% {change_c:>13.2f} "
          f"{change_p:>15.2f} {bias_p:>+14.2f} {100 * few_t:>11.1f}% / {100 * few_p:>5.1f}% "
          f"{100 * model_c:>13.1f}% {100 * model_p:>15.1f}%")  # fmt: skip


FLOOD_ITEMS = ("respect", "understood", "explained", "next_steps", "fits", "waiting", "overall")


def _flood(rng: np.random.Generator, month: int, views: int) -> int:
    """One flooding attack; how many of the client's seven answers the attacker reads.

    An office has 15 responses in every month of 2026 but `month`, where one real client
    answered. The manager sends nine answers of their own through the office's link in that
    month, so it is a block of 10 on its own, and in each further view (another language,
    service type or mode: `views` in all, at most four) ten more, so that view's block
    holds a different set of responses (different keys, a fresh noise). Then the manager
    reads, in each view, the figure from January through the month minus the one through
    the month before (large figures: nothing is cut at zero), subtracts their own answers
    and votes over the views: the level that grew most is the guess.
    """
    months = tuple(f"2026-{m:02d}" for m in range(1, 13))
    levels = {item: (1.0, 2.0, 3.0, 4.0, 5.0) for item in FLOOD_ITEMS}
    victim = rng.integers(1, 6, len(FLOOD_ITEMS))
    votes = np.zeros((len(FLOOD_ITEMS), 5))
    for view in range(views):
        people: list[tuple[int, np.ndarray]] = []  # (month, answers)
        for m in range(12):
            if m != month:
                people += [(m, rng.integers(1, 6, len(FLOOD_ITEMS))) for _ in range(15)]
        own = [rng.integers(1, 6, len(FLOOD_ITEMS)) for _ in range(9 + 10 * view)]
        people += [(month, a) for a in [victim, *own]]
        keys = rng.integers(0, 2**31, len(people))
        cells: dict[tuple[str, int, int], list[int]] = {}
        for (m, answers), key in zip(people, keys.tolist(), strict=True):
            for item, level in zip(FLOOD_ITEMS, answers.tolist(), strict=True):
                entry = cells.setdefault((item, level, m), [0, 0])
                entry[0] += 1
                entry[1] += key
        rows = [CountRow(1, item, level, months[m], n, k)
                for (item, level, m), (n, k) in cells.items()]  # fmt: skip
        table = protect(rows, Grid((1,), months, levels, min_n=MIN_N))
        for i, item in enumerate(FLOOD_ITEMS):
            mine = np.bincount([int(a[i]) - 1 for a in own], minlength=5)
            through = table.counts(item, [1], months[: month + 1])
            before = table.counts(item, [1], months[:month])
            votes[i] += through - before - mine
    guess = np.array([rng.choice(np.flatnonzero(v == v.max())) + 1 for v in votes])
    return int(np.sum(guess == victim))


def _flood_concentrated(rng: np.random.Generator, zeros_kept: bool) -> bool:
    """The flooder's best case: one client alone in the year's first block of a view (its
    running total takes the table of variance 1), nine answers of the attacker's own, all on
    the top level. Reads the client's answer to one item as the level that grew most beyond
    the attacker's own; with `zeros_kept`, empty levels get no noise (the rule of the
    reference implementations, not ours: docs/methods.md says why)."""
    victim = int(rng.integers(0, 5))
    own = np.zeros(5)
    own[4] = 9
    true = own.copy()
    true[victim] += 1
    noise = rng.choice(np.arange(-2, 3), 5, p=disclosure.FIRST_NOISE)
    if zeros_kept:
        noise = np.where(true > 0, noise, 0)
    read = disclosure.nonnegative(true + noise, (1.0, 2.0, 3.0, 4.0, 5.0)) - own
    return bool(rng.choice(np.flatnonzero(read == read.max())) == victim)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--variance", type=float, default=disclosure.VARIANCE)
    parser.add_argument(
        "--proportional",
        action="store_true",
        help="the rule before 2026-11-28 night: published counts keep their total only, "
        "shared in proportion over the levels not cut at zero (not their mean)",
    )
    parser.add_argument(
        "--ignore-noise",
        action="store_true",
        help="the Mann–Whitney verdict on the protected counts without their noise variance "
        "(the pages until 2026-11-29)",
    )
    args = parser.parse_args()
    global IGNORE_NOISE
    IGNORE_NOISE = args.ignore_noise
    if args.proportional:
        keeping_the_mean = disclosure.nonnegative
        disclosure.nonnegative = lambda counts, levels=None: keeping_the_mean(counts)  # type: ignore[assignment]
    table = disclosure.perturbation_table(disclosure.MAX_NOISE, args.variance)
    disclosure._CUMULATIVE = np.cumsum(table)  # what noise_for looks up
    first = disclosure.perturbation_table(disclosure.MAX_NOISE, 2 * args.variance)
    disclosure._FIRST_CUMULATIVE = np.cumsum(first)
    print(f"noise table (variance {args.variance}): {table.round(4).tolist()}")
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    print(f"{args.rounds} rounds × {STUDIED} offices per size; verdict agreement with the true "
          "counts, mean |index change| (0–100)")  # fmt: skip
    print(f"{'n':>6} {'classes: agree':>15} {'protected: agree':>17} {'classes: |Δ|':>13} "
          f"{'protected: |Δ|':>15} {'protected: Δ':>14} {'too few (true/protected)':>25} "
          f"{'model: classes':>14} {'model: protected':>16}")  # fmt: skip
    for period in PERIODS:
        print(period)
        for size in SIZES:
            _report(size, [r for _ in range(args.rounds) for r in _round(rng, size, period)])
    print("flooding: share of a client's 7 answers the attacker reads (chance 20 %)")
    for month, name in ((0, "January"), (5, "June")):
        for views in (1, 2, 4):
            right = [_flood(rng, month, views) for _ in range(args.rounds)]
            print(f"  client in {name:<8} {views} view(s): {100 * np.mean(right) / 7:5.1f} % "
                  f"of items, all 7 in {100 * np.mean(np.array(right) == 7):.1f} %")  # fmt: skip
    print("flooding, concentrated: a lone client in the year's first block, nine own answers")
    for kept, rule in ((False, "noise on empty levels (ours)"), (True, "zeros kept at zero")):
        right = np.mean([_flood_concentrated(rng, kept) for _ in range(100 * args.rounds)])
        print(f"  {rule:<30} {100 * right:5.1f} % of items read right")
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
