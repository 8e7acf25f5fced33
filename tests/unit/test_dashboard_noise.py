"""The office comparison on published counts allows for their noise: what the pages promise
(95% intervals, a 5% test) holds for the true figures, not only for the published ones.
bench/comparison.py is the full simulation behind docs/methods.md; these are its small
versions, each failing on the comparison that took the published counts for the data."""

from __future__ import annotations

import numpy as np
import pytest

from analysis import CountTable, compare_offices
from survey.dashboard import results
from survey.dashboard.disclosure import INDEX_GRID, INDEX_LEVELS, Grid, protect
from survey.dashboard.queries import CountColumns
from survey.questionnaire import INDEX_ITEM, INDEX_SCALE

SHARES = np.array([0, 0, 0, 1, 2, 3, 5, 8, 10, 12, 13, 14, 12, 9, 6, 3, 2], dtype=float)
SHARES /= SHARES.sum()
"""A realistic distribution of the composite index over its quarter-point classes (mean 3.8
on the 1–5 scale, as bench/comparison.py's offices)."""
LEVELS = np.asarray(INDEX_LEVELS)
TRUE_INDEX = float(100 * (SHARES @ LEVELS - 1) / 4)
MONTH = "2026-03"


def _table(rng: np.random.Generator, sizes: list[int]) -> tuple[CountTable, tuple[float, ...]]:
    """Offices of these sizes drawn from SHARES, answering in one month (the year's first
    block: noise variance 1 per level); their published index counts and noise variances."""
    office, value, n, key = [], [], [], []
    for o, size in enumerate(sizes, start=1):
        classes = rng.choice(LEVELS.size, size, p=SHARES)
        keys = rng.integers(0, 2**31, size)
        for k in np.unique(classes):
            office.append(o)
            value.append(round(INDEX_SCALE * float(LEVELS[k])))
            n.append(int(np.sum(classes == k)))
            key.append(int(keys[classes == k].sum()))
    rows = CountColumns(office, [INDEX_ITEM] * len(n), value, [MONTH] * len(n), n, key)
    ids = tuple(range(1, len(sizes) + 1))
    table = protect(rows, Grid(ids, (MONTH,), INDEX_GRID, min_n=10))
    groups = [[o] for o in ids]
    counts = results._index_table(table, groups, [MONTH])
    return counts, results.figure_noise(table, INDEX_ITEM, groups, [MONTH])


def test_the_index_interval_of_a_published_figure_covers_the_true_index() -> None:
    """An office of 20 responses in one month, 400 draws: the interval on the published
    counts as if exact held the true index in about 90% (the noise of the 17 classes, 1 per
    level, moves the index more than sampling does); allowing for the noise, in about 98%
    (the interval with pseudo-answers at the ends is conservative at small n)."""
    rng = np.random.default_rng(20261129)
    ignoring, allowing = [], []
    for _ in range(400):
        counts, noise = _table(rng, [20, 100])
        assert noise == (1.0, 1.0)
        for found, hits in ((compare_offices(counts), ignoring),
                            (compare_offices(counts, noise=noise), allowing)):  # fmt: skip
            office = found.offices[0]
            if office.index_low is None or office.index_high is None:
                continue  # published n < 10 (the noise of n)
            hits.append(office.index_low <= TRUE_INDEX <= office.index_high)
    assert len(allowing) > 350
    assert np.mean(ignoring) < 0.93, np.mean(ignoring)
    assert np.mean(allowing) >= 0.95, np.mean(allowing)


def test_the_rank_test_on_published_counts_keeps_its_5_percent_when_nobody_differs() -> None:
    """Four equally good offices (30 responses against 3 × 200), 400 draws: the Mann–Whitney
    test of the small one against the rest had p < 0.05 in about 15% of draws on the
    published counts as if exact; allowing for the noise, in about 5%."""
    rng = np.random.default_rng(20261130)
    ignoring, allowing = [], []
    for _ in range(400):
        counts, noise = _table(rng, [30, 200, 200, 200])
        for found, hits in ((compare_offices(counts), ignoring),
                            (compare_offices(counts, noise=noise), allowing)):  # fmt: skip
            p = found.offices[0].pvalue
            assert p is not None
            hits.append(p < 0.05)
    assert np.mean(ignoring) > 0.09, np.mean(ignoring)
    assert np.mean(allowing) <= 0.07, np.mean(allowing)


def test_the_pages_allow_for_each_unit_s_noise_pooled_job_centres_with_their_offices() -> None:
    """The overview's and the benchmark's intervals (offices, and job centres: the sum of
    their offices' figures and noise) are those of the published counts with the noise each
    figure carries; without it they were narrower."""
    import datetime as dt

    from analysis import satisfaction_index
    from survey.auth.schemas import OfficeRef, Scope
    from survey.dashboard.filters import parse_filters

    rng = np.random.default_rng(3)
    months = ("2026-01", "2026-02")
    office, value, n, key, month_of = [], [], [], [], []
    for o in (1, 2, 3, 4):
        for month in months:
            classes = rng.choice(LEVELS.size, 25, p=SHARES)
            for k in np.unique(classes):
                office.append(o)
                value.append(round(INDEX_SCALE * float(LEVELS[k])))
                n.append(int(np.sum(classes == k)))
                key.append(int(rng.integers(0, 2**31, n[-1]).sum()))
                month_of.append(month)
    rows = CountColumns(office, [INDEX_ITEM] * len(n), value, month_of, n, key)
    grid = Grid((1, 2, 3, 4), months, {**INDEX_GRID, "overall": (1, 2, 3, 4, 5)})
    table = protect(rows, grid)
    group = tuple(OfficeRef(o, f"office {o}", f"O{o}", 10 + (o > 2), f"centre {10 + (o > 2)}")
                  for o in (1, 2, 3, 4))  # fmt: skip
    scope = Scope(1, "u", "U", "de", ("manager",), frozenset({1, 2, 3, 4}), group, "network")
    filters = parse_filters({"from": "2026-02", "to": "2026-02"}, dt.date(2026, 3, 1))
    overview = results.overview(scope, table, filters, 10)
    centres = results.benchmark(scope, table, filters, 10, level="organization").result
    units = [(row.office_id, [row.office_id], row) for row in overview.rows]
    units += [(row.id, [1, 2] if row.id == 10 else [3, 4], row) for row in centres.rows]
    for _, ids, row in units:
        counts = table.counts(INDEX_ITEM, ids, ["2026-02"])
        nu = table.noise_variance(INDEX_ITEM, ids, ["2026-02"])
        # per office: February's running total (0.5) minus January's, the year's first (1)
        assert nu == pytest.approx(1.5 * len(ids))
        noisy, plain = (satisfaction_index(counts, INDEX_LEVELS, noise=v) for v in (nu, 0.0))
        assert row.index_low == pytest.approx(noisy.ci_low, abs=0.006)
        assert row.index_high == pytest.approx(noisy.ci_high, abs=0.006)
        assert noisy.ci_high - noisy.ci_low > plain.ci_high - plain.ci_low + 1


def test_the_change_between_two_periods_keeps_its_5_percent_when_nothing_changed() -> None:
    """One office, 40 responses in January and 40 in February from the same distribution,
    300 draws: the change's test (February against January) had p < 0.05 in about a quarter
    of the draws on the published counts as if exact. February's figure is its running total
    minus January's, so the two periods share January's noise with opposite signs
    (`noise_covariance` −1); allowing for both periods' noise and that, in about 3% (on the
    exact counts the test has about 1.5% at this size: its SEs are conservative)."""
    from analysis import change

    rng = np.random.default_rng(20261201)
    months = ("2026-01", "2026-02")
    grid = Grid((1,), months, INDEX_GRID, min_n=10)
    ignoring, allowing = [], []
    for _ in range(300):
        rows: list[tuple[int, str, int, str, int, int]] = []
        for month in months:
            classes = rng.choice(LEVELS.size, 40, p=SHARES)
            keys = rng.integers(0, 2**31, 40)
            rows += [(1, INDEX_ITEM, round(INDEX_SCALE * float(LEVELS[k])), month,
                      int(np.sum(classes == k)), int(keys[classes == k].sum()))
                     for k in np.unique(classes)]  # fmt: skip
        table = protect(CountColumns.from_tuples(rows), grid)
        before, after = (table.counts(INDEX_ITEM, [1], [m]) for m in months)
        noise = {
            "noise_before": table.noise_variance(INDEX_ITEM, [1], months[:1]),
            "noise_after": table.noise_variance(INDEX_ITEM, [1], months[1:]),
            "noise_shared": table.noise_covariance(INDEX_ITEM, [1], months[:1], months[1:]),
        }
        assert noise == pytest.approx({"noise_before": 1, "noise_after": 1.5, "noise_shared": -1})
        for found, hits in ((change(before, after, INDEX_LEVELS), ignoring),
                            (change(before, after, INDEX_LEVELS, **noise), allowing)):  # fmt: skip
            assert found.pvalue is not None
            hits.append(found.pvalue < 0.05)
    assert np.mean(ignoring) > 0.15, np.mean(ignoring)
    assert np.mean(allowing) <= 0.07, np.mean(allowing)


def test_a_figure_s_noise_covariance_with_itself_is_its_variance_and_years_do_not_share() -> None:
    """`noise_covariance` over every period of two years of an office with months of 0 to 14
    responses (blocks of several months): with itself it is `noise_variance`; two calendar
    years share no running total."""
    from survey.dashboard.disclosure import grid_months

    rng = np.random.default_rng(8)
    months = grid_months("2025-01", "2026-12")
    rows: list[tuple[int, str, int, str, int, int]] = []
    for o in (1, 2):
        for month in months:
            classes = rng.integers(0, LEVELS.size, int(rng.integers(0, 15)))
            rows += [(o, INDEX_ITEM, round(INDEX_SCALE * float(LEVELS[k])), month,
                      int(np.sum(classes == k)), int(rng.integers(0, 2**31)))
                     for k in np.unique(classes)]  # fmt: skip
    table = protect(CountColumns.from_tuples(rows),
                    Grid((1, 2), months, INDEX_GRID, min_n=10))  # fmt: skip
    for first in range(len(months)):
        for last in range(first, len(months), 3):
            period = months[first : last + 1]
            for offices in ([1], [1, 2]):
                assert table.noise_covariance(INDEX_ITEM, offices, period, period) == (
                    pytest.approx(table.noise_variance(INDEX_ITEM, offices, period))
                )
    assert table.noise_covariance(INDEX_ITEM, [1, 2], months[:12], months[12:]) == 0
    assert table.noise_covariance(INDEX_ITEM, [1], months[13:18], months[18:]) <= 0


def test_the_nps_interval_of_a_published_figure_covers_the_true_nps() -> None:
    """An office of 20 answers to the recommend question in one month (noise variance 1 on
    each of its 11 levels), 300 draws: the adjusted-Wald interval on the published counts as
    if exact held the true NPS in about 74%, allowing for the noise in about 96%
    (bench/nps.py: 4,000 draws per size, 94.2–96.2% for n = 15–100, exact counts 94.2–96.1%)."""
    from analysis import net_promoter

    shares = np.array([2, 1, 1, 2, 2, 4, 5, 10, 14, 22, 37], dtype=float)
    shares /= shares.sum()
    true_nps = 100 * (shares[9:].sum() - shares[:7].sum())
    levels = tuple(float(v) for v in results.NPS_LEVELS)
    rng = np.random.default_rng(20261129)
    ignoring, allowing = [], []
    for _ in range(300):
        answers = rng.choice(11, 20, p=shares)
        keys = rng.integers(0, 2**31, 20)
        found = np.unique(answers)
        rows = CountColumns(
            [1] * found.size, [results.NPS_ITEM] * found.size, [int(levels[a]) for a in found],
            [MONTH] * found.size, [int(np.sum(answers == a)) for a in found],
            [int(keys[answers == a].sum()) for a in found],
        )  # fmt: skip
        table = protect(rows, Grid((1,), (MONTH,), {results.NPS_ITEM: levels}, min_n=10))
        counts = table.counts(results.NPS_ITEM, [1], [MONTH])
        noise = table.noise_variance(results.NPS_ITEM, [1], [MONTH])
        assert noise == 1.0
        for est, hits in ((net_promoter(counts), ignoring),
                          (net_promoter(counts, noise=noise), allowing)):  # fmt: skip
            assert est.ci_low is not None and est.ci_high is not None
            hits.append(est.ci_low <= true_nps <= est.ci_high)
    assert np.mean(ignoring) < 0.85, np.mean(ignoring)
    assert np.mean(allowing) >= 0.93, np.mean(allowing)
