"""Shrinkage, rank intervals and power: what keeps a league table from ranking noise."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from analysis import (
    CountTable,
    detectable_difference,
    rank_intervals,
    responses_needed,
    shrunken_indices,
    time_to_verdict,
)
from analysis.ranking import AUTO_MIN_N, _dirichlet_index_moments

# derandomize: the same examples on every run, so CI never fails on a new random draw
FAST = settings(max_examples=25, deadline=None, database=None, derandomize=True)
LEVELS = [1, 2, 3, 4, 5]
COMPOSITE = (1 + np.arange(29) / 7).tolist()


def make_table(seed: int = 0, offices: int = 12, low: int = 5, high: int = 200) -> CountTable:
    rng = np.random.default_rng(seed)
    n = rng.integers(low, high, size=offices)
    shares = rng.dirichlet([1, 1, 2, 4, 4], size=offices)
    counts = np.array([rng.multinomial(k, p) for k, p in zip(n, shares, strict=True)])
    return CountTable([f"office {i}" for i in range(offices)], LEVELS, counts)


def make_composite(seed: int, offices: int, low: int, high: int) -> CountTable:
    """Seven 5-point items per response summed into the 29-level composite index, as in
    bench/analysis.py: office effects on a latent scale, answers piled toward the top."""
    rng = np.random.default_rng(seed)
    counts = []
    for n, effect in zip(rng.integers(low, high, offices), rng.normal(0, 0.25, offices),
                         strict=True):  # fmt: skip
        latent = 3.8 + effect + rng.normal(0, 0.9, (n, 1))
        answers = np.clip(np.rint(latent + rng.normal(0, 0.6, (n, 7))), 1, 5)
        counts.append(np.bincount((answers.sum(axis=1) - 7).astype(int), minlength=29))
    return CountTable([f"office {i}" for i in range(offices)], COMPOSITE, np.array(counts))


def bounds(ranking) -> np.ndarray:
    return np.array([(o.rank_low, o.rank_high) for o in ranking.offices])


def rows(counts) -> np.ndarray:
    return np.repeat(np.asarray(LEVELS, dtype=float), np.asarray(counts, dtype=int))


def test_it_shrinks_the_index_by_dersimonian_laird_as_computed_by_hand():
    table = make_table()
    result = shrunken_indices(table)
    samples = [100 * (rows(c) - 1) / 4 for c in table.counts]
    n = np.array([s.size for s in samples])
    y = np.array([s.mean() for s in samples])
    sigma2 = sum((s.size - 1) * s.var(ddof=1) for s in samples) / sum(n - 1)
    v = sigma2 / n
    w = 1 / v
    q = np.sum(w * (y - np.sum(w * y) / w.sum()) ** 2)
    tau2 = max(0.0, (q - (len(n) - 1)) / (w.sum() - (w**2).sum() / w.sum()))
    mu = np.sum(y / (v + tau2)) / np.sum(1 / (v + tau2))
    b = v / (v + tau2)
    assert result.index_tau2 == pytest.approx(tau2)
    assert result.index_mean == pytest.approx(mu)
    for office, yi, bi in zip(result.index, y, b, strict=True):
        assert office.observed == pytest.approx(yi)
        assert office.value == pytest.approx(mu + (1 - bi) * (yi - mu))
        assert office.weight == pytest.approx(1 - bi)
        assert office.ci_low <= office.value <= office.ci_high
        # Shrinkage pulls toward the group mean, never past it.
        assert abs(office.value - mu) <= abs(yi - mu) + 1e-12


def test_it_shrinks_small_offices_more_than_large_ones():
    table = make_table(seed=1, offices=30)
    result = shrunken_indices(table)
    by_n = sorted(result.index, key=lambda o: o.n)
    assert by_n[0].weight < by_n[-1].weight


def test_it_shrinks_the_top_box_by_a_beta_binomial_fitted_by_moments():
    table = make_table(seed=2, offices=15)
    result = shrunken_indices(table, k=2)
    x = table.counts[:, 3:].sum(axis=1)
    n = table.counts.sum(axis=1)
    big_n = n.sum()
    mu = x.sum() / big_n
    s = np.sum(n * (x / n - mu) ** 2)
    rho = (s / (mu * (1 - mu)) - 14) / (big_n - (n**2).sum() / big_n - 14)
    m = min(1 / rho - 1, big_n)
    assert result.top_box_rho == pytest.approx(rho)
    for office, xi, ni in zip(result.top_box, x, n, strict=True):
        a, b = mu * m + xi, (1 - mu) * m + ni - xi
        assert office.value == pytest.approx(100 * a / (a + b))
        assert office.ci_low == pytest.approx(100 * stats.beta.ppf(0.025, a, b))


def test_it_gives_no_shrunken_figure_to_an_office_without_answers():
    counts = make_table().counts.copy()
    counts[0] = 0
    result = shrunken_indices(CountTable([str(i) for i in range(12)], LEVELS, counts))
    assert result.index[0].value is None and result.index[0].reason == "n == 0"
    assert result.top_box[0].value is None


@FAST
@given(st.integers(0, 10_000), st.integers(2, 10))
def test_it_gives_rank_intervals_that_contain_the_observed_rank_and_shrink_with_n(seed, offices):
    table = make_table(seed=seed, offices=offices, low=10, high=60)
    small = rank_intervals(table, draws=200, seed=seed)
    large = rank_intervals(
        CountTable(table.labels, LEVELS, table.counts * 100), draws=200, seed=seed
    )
    for ranking in (small, large):
        for office in ranking.offices:
            assert office.rank_low <= office.rank <= office.rank_high
            assert office.rank_low >= 1 and office.rank_high <= offices
    assert [o.rank for o in small.offices] == [o.rank for o in large.offices]
    width = sum(o.rank_high - o.rank_low for o in small.offices)
    assert sum(o.rank_high - o.rank_low for o in large.offices) <= width


@pytest.mark.parametrize("method", ["auto", "dirichlet", "normal"])
def test_it_ranks_only_offices_with_enough_answers_and_is_reproducible(method):
    table = make_table(seed=4, offices=14, low=1, high=80)
    first = rank_intervals(table, draws=300, seed=7, min_n=10, method=method)
    again = rank_intervals(table, draws=300, seed=7, min_n=10, method=method)
    assert first == again
    assert first.method == method
    ranked = [o for o in first.offices if o.rank is not None]
    assert first.of == len(ranked) == int(np.sum(table.n >= 10))
    assert sorted(o.rank for o in ranked) == list(range(1, first.of + 1))
    best = min(ranked, key=lambda o: o.rank)
    assert best.index == max(o.index for o in ranked)
    for office in first.offices:
        if office.n < 10:
            assert office.rank is None and office.index is None


def test_it_can_draw_ranks_from_the_normal_approximation():
    table = make_table(seed=5)
    ranking = rank_intervals(table, draws=500, method="normal", min_n=1)
    assert all(o.rank_low <= o.rank <= o.rank_high for o in ranking.offices)


def test_it_knows_the_mean_variance_and_skewness_of_the_dirichlet_posterior_of_the_index():
    alpha = np.array([[1.5, 0.5, 2.5, 5.5, 12.5], [40.5, 3.5, 0.5, 9.5, 300.5]])
    scale = np.array([0.0, 25.0, 50.0, 75.0, 100.0])
    mean, var, skew = _dirichlet_index_moments(alpha, scale)
    rng = np.random.default_rng(0)
    for i, a in enumerate(alpha):
        sims = rng.dirichlet(a, size=400_000) @ scale
        assert mean[i] == pytest.approx(sims.mean(), abs=0.05)
        assert var[i] == pytest.approx(sims.var(), rel=0.01)
        assert skew[i] == pytest.approx(stats.skew(sims), abs=0.02)


def test_it_draws_the_normal_only_for_large_offices_without_answers_piled_at_an_end():
    rng = np.random.default_rng(3)
    symmetric = rng.multinomial(2000, [0.1, 0.2, 0.4, 0.2, 0.1])
    piled = np.array([0, 0, 2, 8, 990])  # mass at the top: the posterior is skewed
    small = rng.multinomial(AUTO_MIN_N - 1, [0.1, 0.2, 0.4, 0.2, 0.1])  # below the n rule
    table = CountTable(["sym", "piled", "small"], LEVELS, [symmetric, piled, small])
    assert rank_intervals(table, draws=20).dirichlet_offices == 2
    assert rank_intervals(CountTable(["sym"], LEVELS, [symmetric]), 20).dirichlet_offices == 0
    _, _, skew = _dirichlet_index_moments(np.array([piled]) + 0.5, np.linspace(0, 100, 5))
    assert abs(skew[0]) > 0.1


def test_it_draws_every_small_office_from_the_dirichlet_so_auto_equals_it_draw_for_draw():
    table = make_composite(seed=1, offices=25, low=10, high=AUTO_MIN_N)
    auto = rank_intervals(table, draws=400, seed=3)
    exact = rank_intervals(table, draws=400, seed=3, method="dirichlet")
    assert auto.dirichlet_offices == exact.dirichlet_offices == 25
    assert auto.offices == exact.offices


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_it_gives_large_offices_the_same_intervals_as_the_pure_dirichlet_up_to_draw_noise(seed):
    # Bernstein–von Mises: offices with n ≥ 200 and a near-symmetric posterior draw from the
    # normal with the Dirichlet posterior's mean and variance. With 2,000 draws, two Dirichlet
    # runs with different seeds differ by at most one rank here; so must auto and Dirichlet.
    table = make_composite(seed=seed, offices=30, low=200, high=3000)
    auto = rank_intervals(table, draws=2000, seed=10 + seed)
    exact = rank_intervals(table, draws=2000, seed=20 + seed, method="dirichlet")
    assert auto.dirichlet_offices < 5
    assert np.abs(bounds(auto) - bounds(exact)).max() <= 1
    assert [o.rank for o in auto.offices] == [o.rank for o in exact.offices]


def test_it_gives_a_mixed_table_the_same_intervals_as_the_pure_dirichlet_up_to_draw_noise():
    small = make_composite(seed=5, offices=15, low=20, high=AUTO_MIN_N)
    large = make_composite(seed=6, offices=15, low=AUTO_MIN_N, high=2000)
    counts = np.vstack([small.counts, large.counts])
    counts[-1] = 0
    counts[-1, -3:] = [10, 60, 600]  # a large office with its answers piled at the top
    table = CountTable([f"office {i}" for i in range(30)], COMPOSITE, counts)
    auto = rank_intervals(table, draws=2000, seed=1)
    exact = rank_intervals(table, draws=2000, seed=2, method="dirichlet")
    assert 16 <= auto.dirichlet_offices < 30
    assert np.abs(bounds(auto) - bounds(exact)).max() <= 1


def test_it_computes_the_detectable_difference_from_the_two_sample_formula():
    office, group = np.array([2, 3, 10, 20, 15]), np.array([40, 60, 200, 400, 300])
    result = detectable_difference(office, group)
    a, b = 100 * (rows(office) - 1) / 4, 100 * (rows(group) - 1) / 4
    pooled = math.sqrt(((a.size - 1) * a.var(ddof=1) + (b.size - 1) * b.var(ddof=1))
                       / (a.size + b.size - 2))  # fmt: skip
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    assert result.sd == pytest.approx(pooled)
    assert result.delta == pytest.approx(z * pooled * math.sqrt(1 / 50 + 1 / 1000))


def test_it_inverts_the_detectable_difference_into_responses_needed():
    needed = responses_needed(5.0, 25.0, group_n=2000)
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    assert z * 25 * math.sqrt(1 / needed + 1 / 2000) <= 5.0
    assert z * 25 * math.sqrt(1 / (needed - 1) + 1 / 2000) > 5.0
    assert responses_needed(5.0, 25.0) == math.ceil((z * 25 / 5) ** 2)
    assert responses_needed(1.0, 25.0, group_n=100) is None  # the group itself is too small


def test_it_dates_the_verdict_from_the_recent_response_rate():
    office, group = np.array([2, 3, 10, 20, 15]), np.array([40, 60, 200, 400, 300])
    sd = detectable_difference(office, group).sd
    needed = responses_needed(10.0, sd, group_n=1000)
    today = dt.date(2026, 3, 1)
    date = time_to_verdict(office, group, 10.0, 2.5, today=today)
    assert date == today + dt.timedelta(days=math.ceil((needed - 50) / 2.5))
    assert time_to_verdict(office, group, 10.0, 0.0, today=today) is None
    assert time_to_verdict(office, group, 50.0, 1.0, today=today) == today  # already enough


@FAST
@given(st.lists(st.lists(st.integers(0, 6), min_size=5, max_size=5), min_size=1, max_size=6))
def test_it_never_passes_on_a_nan_from_shrinkage_or_ranking(counts):
    table = CountTable([str(i) for i in range(len(counts))], LEVELS, counts)
    for result in (shrunken_indices(table), rank_intervals(table, draws=50, min_n=1)):
        for office in (*getattr(result, "index", ()), *getattr(result, "top_box", ()),
                       *getattr(result, "offices", ())):  # fmt: skip
            for value in dataclasses.astuple(office):
                assert not (isinstance(value, float) and math.isnan(value))
