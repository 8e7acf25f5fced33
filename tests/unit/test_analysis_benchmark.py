"""compare_offices and funnel_limits: vectorised over offices, equal to the one-office path."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from analysis import (
    CountTable,
    compare_offices,
    funnel_limits,
    mann_whitney,
    satisfaction_index,
    top_box,
)

# derandomize: the same examples on every run, so CI never fails on a new random draw
FAST = settings(max_examples=40, deadline=None, database=None, derandomize=True)
LEVELS = [1, 2, 3, 4, 5]


@st.composite
def tables(draw: st.DrawFn, max_offices: int = 8, max_count: int = 15) -> CountTable:
    n_offices = draw(st.integers(1, max_offices))
    row = st.lists(st.integers(0, max_count), min_size=5, max_size=5)
    counts = draw(st.lists(row, min_size=n_offices, max_size=n_offices))
    return CountTable([f"office {i}" for i in range(n_offices)], LEVELS, counts)


def expand(counts) -> np.ndarray:
    return np.repeat(np.asarray(LEVELS, dtype=float), np.asarray(counts, dtype=int))


@FAST
@given(tables(), st.integers(1, 40))
def test_it_compares_each_office_with_the_pooled_others_as_scipy_does(table, min_n):
    result = compare_offices(table, min_n=min_n)
    total = table.counts.sum(axis=0)
    eligible = []
    for office, counts in zip(result.offices, table.counts, strict=True):
        assert office.n == counts.sum()
        if office.n < min_n:
            continue
        index = satisfaction_index(counts, LEVELS)
        box = top_box(counts, 2)
        assert office.index == pytest.approx(index.value, abs=1e-9)
        assert office.index_low == pytest.approx(index.ci_low, abs=1e-9)
        assert office.top_box == pytest.approx(box.value, abs=1e-9)
        assert office.top_box_high == pytest.approx(box.ci_high, abs=1e-9)
        rest = total - counts
        if rest.sum() == 0:
            assert office.pvalue is None
            continue
        x, y = expand(counts), expand(rest)
        ref = stats.mannwhitneyu(x, y, method="asymptotic")
        assert office.statistic == pytest.approx(ref.statistic, rel=1e-12)
        assert office.pvalue == pytest.approx(ref.pvalue, abs=1e-9)
        assert office.effect_size == pytest.approx(mann_whitney(counts, rest).effect_size)
        eligible.append(office)
    if eligible:
        q = stats.false_discovery_control([o.pvalue for o in eligible], method="bh")
        assert [o.qvalue for o in eligible] == pytest.approx(q.tolist(), abs=1e-12)


@FAST
@given(tables(), st.integers(1, 40))
def test_it_never_gives_a_verdict_or_figures_below_min_n(table, min_n):
    for office in compare_offices(table, min_n=min_n).offices:
        if office.n < min_n:
            assert office.verdict == "too few responses"
            assert office.index is office.top_box is office.pvalue is office.qvalue is None
        else:
            assert office.verdict != "too few responses"
            if office.pvalue is not None:
                assert 0.0 <= office.pvalue <= 1.0
                assert office.pvalue <= office.qvalue <= 1.0


@FAST
@given(tables(), st.floats(-50, 50, allow_nan=False))
def test_it_gives_the_same_comparison_when_a_constant_is_added_to_all_levels(table, shift):
    moved = CountTable(table.labels, [v + shift for v in LEVELS], table.counts)
    for a, b in zip(
        compare_offices(table, 5).offices, compare_offices(moved, 5).offices, strict=True
    ):
        assert a.verdict == b.verdict and a.pvalue == b.pvalue
        if a.index is not None:
            assert a.index == pytest.approx(b.index, abs=1e-9)


def test_it_calls_an_office_better_or_worse_only_when_q_is_below_alpha():
    counts = [[0, 1, 5, 20, 40], [10, 20, 20, 5, 1], [2, 5, 20, 20, 10], [2, 5, 20, 20, 10],
              [0, 0, 1, 1, 1]]  # fmt: skip
    table = CountTable(["north", "south", "east", "west", "tiny"], LEVELS, counts)
    result = compare_offices(table, min_n=10)
    verdicts = {o.label: o.verdict for o in result.offices}
    assert verdicts == {
        "north": "better",
        "south": "worse",
        "east": "no clear difference",
        "west": "no clear difference",
        "tiny": "too few responses",
    }
    assert "q < 0.05" in result.rule
    assert result.overall_index.n == int(np.sum(counts))
    # A minimum effect keeps significant but small differences from becoming verdicts.
    strict = compare_offices(table, min_n=10, min_effect=0.99)
    assert {o.verdict for o in strict.offices} == {"no clear difference", "too few responses"}


def test_it_accepts_a_bare_count_array_and_rejects_a_mismatched_level_list():
    result = compare_offices(np.array([[1, 2, 3], [3, 2, 1]]), min_n=1)
    assert [o.label for o in result.offices] == ["0", "1"]
    with pytest.raises(ValueError, match="levels"):
        compare_offices(np.array([[1, 2, 3]]), levels=[1, 2])
    with pytest.raises(ValueError, match="min_n"):
        compare_offices(np.array([[1, 2, 3]]), min_n=0)


def test_it_draws_funnel_limits_for_proportions_around_the_pooled_share():
    # Closed form (Spiegelhalter 2005, eq. for a proportion, normal approximation):
    # p0 ± z·√(p0(1 − p0)/n) with z = 1.960 (95%) and 3.090 (99.8%).
    counts = [[10, 30], [25, 25], [5, 45], [40, 60]]  # level 2 is the "top box" (k = 1)
    table = CountTable(["a", "b", "c", "d"], [0, 1], counts)
    funnel = funnel_limits(table, measure="top_box", k=1, overdispersion="none", grid=[10, 100])
    p0 = (30 + 25 + 45 + 60) / 240
    assert funnel.target == pytest.approx(100 * p0)
    for n, low, high in zip(funnel.grid_n, funnel.low95, funnel.high95, strict=True):
        half = 100 * stats.norm.ppf(0.975) * np.sqrt(p0 * (1 - p0) / n)
        assert low == pytest.approx(100 * p0 - half)
        assert high == pytest.approx(100 * p0 + half)
    half998 = 100 * stats.norm.ppf(0.999) * np.sqrt(p0 * (1 - p0) / 100)
    assert funnel.high998[1] == pytest.approx(100 * p0 + half998)
    a = funnel.offices[0]
    assert a.z == pytest.approx((75 - 100 * p0) / (100 * np.sqrt(p0 * (1 - p0) / 40)))
    c = funnel.offices[2]
    assert c.position == ("above 99.8%" if c.z > 3.090 else "above 95%")


def test_it_estimates_overdispersion_from_winsorised_z_scores():
    # phi and tau² recomputed by hand from Spiegelhalter (2005), section 6: winsorise the
    # z-scores at their 10% and 90% quantiles, phi = mean z², and the additive
    # tau² = (I·phi − (I − 1)) / (Σw − Σw²/Σw), w = 1/s².
    rng = np.random.default_rng(3)
    n = rng.integers(50, 500, size=30)
    true_p = np.clip(rng.normal(0.6, 0.12, size=30), 0.05, 0.95)  # strong overdispersion
    x = rng.binomial(n, true_p)
    table = CountTable([str(i) for i in range(30)], [0, 1], np.column_stack([n - x, x]))
    p0 = x.sum() / n.sum()
    s = np.sqrt(p0 * (1 - p0) / n)
    z = (x / n - p0) / s
    lo, hi = np.quantile(z, [0.1, 0.9])
    phi = np.mean(np.clip(z, lo, hi) ** 2)
    w = 1 / s**2
    tau2 = (30 * phi - 29) / (w.sum() - (w**2).sum() / w.sum())

    multiplicative = funnel_limits(table, measure="top_box", k=1)
    assert multiplicative.phi == pytest.approx(phi)
    assert multiplicative.inflated
    assert multiplicative.overdispersion_p == pytest.approx(stats.chi2.sf(30 * phi, 29))
    assert multiplicative.offices[0].z == pytest.approx(z[0] / np.sqrt(phi))
    additive = funnel_limits(table, measure="top_box", k=1, overdispersion="additive")
    assert additive.tau2 == pytest.approx(tau2 * 100**2)
    plain = funnel_limits(table, measure="top_box", k=1, overdispersion="none")
    assert multiplicative.high95[-1] - multiplicative.target > plain.high95[-1] - plain.target


def test_it_leaves_limits_alone_when_offices_differ_only_by_chance():
    rng = np.random.default_rng(11)
    n = rng.integers(100, 300, size=200)
    x = rng.binomial(n, 0.7)
    table = CountTable([str(i) for i in range(200)], [0, 1], np.column_stack([n - x, x]))
    funnel = funnel_limits(table, measure="top_box", k=1)
    # Winsorising pulls phi below 1 when there is no overdispersion (about 0.68 in
    # expectation for normal z-scores), so chance variation never widens the limits.
    assert funnel.phi < 1.0
    assert not funnel.inflated


def test_it_puts_index_funnels_around_the_pooled_index_with_the_pooled_within_sd():
    counts = np.array([[1, 2, 5, 8, 4], [0, 1, 3, 9, 12], [5, 5, 5, 5, 5], [0, 0, 0, 1, 1]])
    funnel = funnel_limits(counts, min_n=10, overdispersion="none", grid=[20])
    rows = [expand(c) for c in counts]
    pooled_var = sum((r.size - 1) * r.var(ddof=1) for r in rows) / sum(r.size - 1 for r in rows)
    sd = 100 * np.sqrt(pooled_var) / 4
    target = 100 * (np.concatenate(rows).mean() - 1) / 4
    assert funnel.unit_sd == pytest.approx(sd)
    assert funnel.target == pytest.approx(target)
    assert funnel.high95[0] == pytest.approx(target + stats.norm.ppf(0.975) * sd / np.sqrt(20))
    assert funnel.offices[3].position == "too few responses" and funnel.offices[3].z is None


def test_it_says_why_a_funnel_cannot_be_drawn():
    assert funnel_limits(np.zeros((3, 5))).reason == "n == 0"
    assert funnel_limits(np.array([[0, 0, 20], [0, 0, 30]])).reason == (
        "no spread: every answer is the same"
    )


def no_nan(obj) -> bool:
    if dataclasses.is_dataclass(obj):
        return all(no_nan(getattr(obj, f.name)) for f in dataclasses.fields(obj))
    if isinstance(obj, tuple):
        return all(no_nan(v) for v in obj)
    return not (isinstance(obj, float) and not math.isfinite(obj))


@FAST
@given(tables(max_offices=5, max_count=4))
def test_it_never_passes_on_a_nan_even_for_empty_offices_and_all_equal_answers(table):
    assert no_nan(compare_offices(table, min_n=1))
    assert no_nan(funnel_limits(table, min_n=1))
    assert no_nan(funnel_limits(table, measure="top_box", min_n=1, overdispersion="additive"))


# --- the noise of published counts (noise=): issue 10, bench/comparison.py ---


@FAST
@given(tables())
def test_it_is_exactly_scipys_comparison_without_noise_or_with_zero_noise(table):
    plain = compare_offices(table, min_n=2)
    assert compare_offices(table, min_n=2, noise=None) == plain
    assert compare_offices(table, min_n=2, noise=[0.0] * len(table.labels)) == plain


@FAST
@given(tables(max_count=40), st.floats(0.1, 3.0))
def test_noise_widens_the_intervals_and_weakens_the_test_but_moves_no_figure(table, nu):
    plain = compare_offices(table, min_n=2)
    noisy = compare_offices(table, min_n=2, noise=[nu] * len(table.labels))
    for a, b in zip(plain.offices, noisy.offices, strict=True):
        assert (a.n, a.index, a.top_box, a.statistic, a.effect_size) == (
            b.n, b.index, b.top_box, b.statistic, b.effect_size,
        )  # fmt: skip
        if a.index_low is not None:
            assert b.index_low is not None and b.index_high is not None
            assert b.index_low <= a.index_low + 1e-9 and b.index_high >= a.index_high - 1e-9
            assert b.index_low <= b.index <= b.index_high
        if a.top_box_low is not None:
            assert b.top_box_low is not None and b.top_box_high is not None
            assert b.top_box_low <= a.top_box_low + 1e-9
            assert b.top_box_high >= a.top_box_high - 1e-9
        if a.pvalue is not None:
            assert b.pvalue is not None and a.pvalue - 1e-12 <= b.pvalue <= 1.0
            assert b.verdict == "no clear difference" or b.verdict == a.verdict


def test_noise_on_answers_all_on_one_level_gives_no_verdict_and_no_nan():
    table = CountTable(["a", "b"], LEVELS, [[0, 0, 0, 0, 12], [0, 0, 0, 0, 30]])
    for office in compare_offices(table, min_n=10, noise=[1.0, 1.0]).offices:
        assert office.pvalue == 1.0 and office.verdict == "no clear difference"
        assert office.index == 100.0 and office.index_high == 100.0
        assert office.index_low is not None and office.index_low < 100.0


def test_an_office_at_the_minimum_gets_a_wider_interval_and_one_below_none():
    table = CountTable(
        ["a", "b", "c"], LEVELS, [[0, 1, 2, 4, 3], [0, 0, 1, 3, 5], [5, 9, 20, 40, 30]]
    )
    plain = compare_offices(table, min_n=10)
    noisy = compare_offices(table, min_n=10, noise=[1.0, 1.0, 2.0])
    a, b = plain.offices[0], noisy.offices[0]
    assert a.index_low is not None and b.index_low is not None
    assert b.index_high - b.index_low > a.index_high - a.index_low
    assert noisy.offices[1].index is None and noisy.offices[1].verdict == "too few responses"


@pytest.mark.parametrize(
    "noise",
    [[1.0], [1.0, 1.0, 1.0], [1.0, float("nan")], [1.0, -0.5], [1.0, float("inf")], ["a", 1.0],
     [[1.0], [1.0]]],
)  # fmt: skip
def test_it_refuses_noise_that_is_not_one_variance_per_office(noise):
    table = CountTable(["a", "b"], LEVELS, [[1, 2, 3, 4, 5], [5, 4, 3, 2, 1]])
    with pytest.raises(ValueError, match="noise"):
        compare_offices(table, noise=noise)
