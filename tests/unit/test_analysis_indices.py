"""Indices from counts equal the same figures computed on the rows the counts stand for."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from analysis import (
    CountTable,
    cronbach_alpha,
    net_promoter,
    satisfaction_index,
    top_box,
)
from analysis.indices import index_interval

# derandomize: the same examples on every run, so CI never fails on a new random draw
FAST = settings(max_examples=60, deadline=None, database=None, derandomize=True)


@st.composite
def counts_and_levels(draw: st.DrawFn, max_levels: int = 7, max_count: int = 30):
    n_levels = draw(st.integers(1, max_levels))
    counts = draw(st.lists(st.integers(0, max_count), min_size=n_levels, max_size=n_levels))
    start = draw(st.floats(-5, 5, allow_nan=False))
    steps = draw(
        st.lists(st.floats(0.01, 3, allow_nan=False), min_size=n_levels, max_size=n_levels)
    )
    levels = (start + np.cumsum(steps)).tolist()
    return np.array(counts), levels


def expand(counts, levels) -> np.ndarray:
    return np.repeat(np.asarray(levels, dtype=float), np.asarray(counts, dtype=int))


@FAST
@given(counts_and_levels())
def test_it_computes_the_index_and_its_interval_as_the_rows_with_pseudo_answers_do(data):
    counts, levels = data
    est = satisfaction_index(counts, levels)
    rows = expand(counts, levels)
    assert est.n == rows.size
    if rows.size == 0:
        assert est.value is None and est.reason == "n == 0"
        return
    if len(levels) == 1:
        assert est.value is None and est.reason
        return
    lo, hi = levels[0], levels[-1]
    assert est.value == pytest.approx(100 * (rows.mean() - lo) / (hi - lo), abs=1e-9)
    if rows.size < 2:
        assert est.ci_low is None and est.ci_high is None
        return
    # The rows plus z²/2 weighted pseudo-answers at each end of the scale (numpy's weighted
    # mean and variance), z·SE around their mean, then cut to [0, 100] and widened to the
    # observed index.
    z = stats.norm.ppf(0.975)
    x = 100 * (np.concatenate([rows, [lo, hi]]) - lo) / (hi - lo)
    w = np.concatenate([np.ones(rows.size), [z * z / 2, z * z / 2]])
    mean = np.average(x, weights=w)
    se = math.sqrt(np.average((x - mean) ** 2, weights=w) / w.sum())
    assert est.se == pytest.approx(se, abs=1e-9)
    assert est.ci_low == pytest.approx(max(0.0, min(mean - z * se, est.value)), abs=1e-9)
    assert est.ci_high == pytest.approx(min(100.0, max(mean + z * se, est.value)), abs=1e-9)
    assert est.ci_high > est.ci_low


def _compositions(n: int, k: int):
    """Every count vector of k levels summing to n."""
    for cut in itertools.combinations(range(n + k - 1), k - 1):
        bounds = (-1, *cut, n + k - 1)
        yield [bounds[i + 1] - bounds[i] - 1 for i in range(k)]


def _exact_coverage(shares, n: int, truth: float) -> float:
    outcomes = np.array(list(_compositions(n, len(shares))), dtype=float)
    prob = stats.multinomial.pmf(outcomes, n, shares)
    # index_interval is what satisfaction_index reports, vectorised over the outcomes
    low, high, _ = index_interval(outcomes, np.arange(1.0, 6.0))
    assert satisfaction_index(outcomes[3]).ci_low == pytest.approx(low[3], abs=1e-12)
    return float(prob[(low <= truth) & (truth <= high)].sum())


SHARES = {
    "piled at the top": [0.01, 0.01, 0.03, 0.15, 0.80],
    "almost all top": [0.0, 0.0, 0.0, 0.05, 0.95],
    "uniform": [0.2] * 5,
    "bimodal": [0.45, 0.05, 0.0, 0.05, 0.45],
}


@pytest.mark.parametrize("name", SHARES)
@pytest.mark.parametrize("n", [10, 20])
def test_its_index_interval_covers_95_percent_at_the_edges_of_the_scale(name, n):
    # Exact coverage over every possible sample (multinomial enumeration). The t interval
    # used before covered 89% (piled at the top) and 40% (almost all top) at n = 10.
    shares = np.array(SHARES[name])
    truth = float(100 * (shares @ np.arange(5)) / 4)
    coverage = _exact_coverage(shares, n, truth)
    assert coverage >= 0.95


def test_it_never_gives_a_zero_width_interval():
    est = satisfaction_index([0, 0, 0, 0, 10])
    assert est.value == 100.0 and est.ci_high == 100.0
    assert est.ci_low < 90.0


def test_it_rescales_on_the_ends_of_the_scale_not_the_observed_answers():
    # Everyone answered 3 on a 1–5 scale: the index is 50, not 0 or 100, and the interval
    # stays open (it was 50–50 with the t interval).
    est = satisfaction_index([0, 0, 10, 0, 0], [1, 2, 3, 4, 5])
    assert est.value == 50.0
    assert est.ci_low < 50.0 < est.ci_high


def test_it_gives_no_interval_below_two_responses():
    est = satisfaction_index([0, 1, 0], [1, 2, 3])
    assert est.value == 50.0 and est.ci_low is None and "n < 2" in (est.reason or "")


def test_it_handles_a_million_responses_per_level_exactly():
    counts = np.full(5, 1_000_000)
    est = satisfaction_index(counts, [1, 2, 3, 4, 5])
    # Closed form: mean 3 → index 50; on the index scale the squared deviations are
    # 2500, 625, 0, 625, 2500 per level, plus z²/2 pseudo-answers at 0 and at 100.
    n, z = 5_000_000, stats.norm.ppf(0.975)
    a = z * z / 2
    var = (1_000_000 * (2 * 2500 + 2 * 625) + 2 * a * 2500) / (n + 2 * a)
    se = math.sqrt(var / (n + 2 * a))
    assert est.value == pytest.approx(50.0, abs=1e-12)
    assert est.se == pytest.approx(se, rel=1e-12)
    assert est.ci_high - est.value == pytest.approx(z * se, rel=1e-9)


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        # Newcombe 1998, Stat Med 17:857–872, Table I, method 3 (Wilson score, no CC).
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_it_matches_newcombes_worked_examples_for_the_wilson_interval(successes, n, low, high):
    est = top_box([n - successes, successes], k=1)
    assert est.value == pytest.approx(100 * successes / n)
    assert round(est.ci_low / 100, 4) == low
    assert round(est.ci_high / 100, 4) == high


@FAST
@given(counts_and_levels(), st.integers(1, 7))
def test_it_computes_the_top_box_share_as_the_rows_do(data, k):
    counts, levels = data
    k = min(k, len(levels))
    est = top_box(counts, k)
    rows = expand(counts, levels)
    if rows.size == 0:
        assert est.value is None and est.n == 0
        return
    share = np.mean(rows >= levels[-k])
    assert est.value == pytest.approx(100 * share, abs=1e-9)
    assert 0 <= est.ci_low <= est.value <= est.ci_high <= 100


@FAST
@given(st.lists(st.integers(0, 40), min_size=11, max_size=11))
def test_it_computes_the_net_promoter_score_and_the_adjusted_wald_interval(counts):
    est = net_promoter(counts)
    rows = expand(counts, range(11))
    if rows.size == 0:
        assert est.value is None
        return
    # Per respondent score +1 promoter, −1 detractor, 0 passive: NPS is 100 × its mean.
    score = np.where(rows >= 9, 1.0, np.where(rows <= 6, -1.0, 0.0))
    assert est.value == pytest.approx(100 * score.mean(), abs=1e-9)
    # Adjusted Wald (Rocks 2016): the same score on the rows plus 3/4 promoter, 3/4
    # detractor and 3/2 passive pseudo-respondents; its (ddof = 0) variance over n + 3.
    aug = np.concatenate([score, [1.0, -1.0, 0.0]])
    w = np.concatenate([np.ones(score.size), [0.75, 0.75, 1.5]])
    mean = np.average(aug, weights=w)
    se = math.sqrt(np.average((aug - mean) ** 2, weights=w) / w.sum())
    assert est.se == pytest.approx(100 * se, abs=1e-9)
    z = stats.norm.ppf(0.975)
    assert est.ci_low == pytest.approx(max(-100, 100 * (mean - z * se)), abs=1e-9)
    assert est.ci_high == pytest.approx(min(100, 100 * (mean + z * se)), abs=1e-9)


@pytest.mark.parametrize("shares", [(0.1, 0.2, 0.7), (0.05, 0.15, 0.8), (0.3, 0.3, 0.4)])
def test_its_net_promoter_interval_covers_at_small_n_where_wald_did_not(shares):
    # Exact coverage at n = 10 over every (detractors, passives, promoters) outcome.
    n = 10
    truth = 100 * (shares[2] - shares[0])
    outcomes = np.array(list(_compositions(n, 3)))
    prob = stats.multinomial.pmf(outcomes, n, shares)

    def eleven(c):
        return [c[0], 0, 0, 0, 0, 0, 0, c[1], 0, c[2], 0]

    adjusted = wald = 0.0
    for c, p in zip(outcomes, prob, strict=True):
        est = net_promoter(eleven(c))
        adjusted += p * (est.ci_low <= truth <= est.ci_high)
        pp, pd = c[2] / n, c[0] / n
        half = 100 * stats.norm.ppf(0.975) * math.sqrt((pp + pd - (pp - pd) ** 2) / n)
        wald += p * (est.value - half <= truth <= est.value + half)
    assert adjusted >= 0.93
    assert adjusted > wald


def test_it_refuses_a_net_promoter_score_without_eleven_levels():
    with pytest.raises(ValueError, match="11 counts"):
        net_promoter([1, 2, 3])


def test_it_computes_cronbachs_alpha_with_listwise_deletion_and_the_feldt_interval():
    rng = np.random.default_rng(7)
    trait = rng.normal(size=200)
    items = np.clip(np.round(3 + trait[:, None] + rng.normal(size=(200, 5))), 1, 5)
    items[3, 2] = np.nan
    items[10, 0] = np.nan
    result = cronbach_alpha(items)
    complete = items[~np.isnan(items).any(axis=1)]
    k, n = 5, complete.shape[0]
    # Independent closed form: alpha = k/(k−1)·(1 − Σ var_i / var_total), and Feldt (1965):
    # (1 − alpha)/(1 − â) ~ F(n − 1, (n − 1)(k − 1)).
    cov = np.cov(complete, rowvar=False)
    expected = k / (k - 1) * (1 - np.trace(cov) / cov.sum())
    assert (result.n, result.items) == (198, 5)
    assert result.value == pytest.approx(expected, abs=1e-12)
    f_hi, f_lo = stats.f.ppf([0.975, 0.025], n - 1, (n - 1) * (k - 1))
    assert result.ci_low == pytest.approx(1 - (1 - expected) * f_hi, abs=1e-12)
    assert result.ci_high == pytest.approx(1 - (1 - expected) * f_lo, abs=1e-12)


def test_it_says_why_alpha_cannot_be_computed():
    assert cronbach_alpha(np.ones((5, 1))).reason == "alpha needs at least two items"
    assert cronbach_alpha(np.full((5, 3), 2.0)).value is None
    assert cronbach_alpha([[1, np.nan], [np.nan, 2]]).n == 0


@pytest.mark.parametrize(
    ("counts", "levels", "message"),
    [
        ([1, -1, 2], [1, 2, 3], "negative"),
        ([1, 0.5, 2], [1, 2, 3], "non-integer"),
        ([1, 2, 3], [1, 2], "3 levels"),
        ([1, 2, 3], [1, 3, 2], "ascending"),
        ([1, 2, 3], [1, 1, 2], "ascending"),
        ([1, np.nan, 3], [1, 2, 3], "NaN"),
        ([], [], "at least one level"),
    ],
)
def test_it_rejects_bad_input_with_a_message_saying_what_is_wrong(counts, levels, message):
    with pytest.raises(ValueError, match=message):
        satisfaction_index(counts, levels)


def test_it_validates_count_tables():
    with pytest.raises(ValueError, match="labels"):
        CountTable(["a"], [1, 2], [[1, 2], [3, 4]])
    with pytest.raises(ValueError, match="unique"):
        CountTable(["a", "a"], [1, 2], [[1, 2], [3, 4]])
    with pytest.raises(ValueError, match=r"different length|regular"):
        CountTable(["a", "b"], [1, 2], [[1, 2], [3]])
    table = CountTable.from_rows(["a", "b", "a"], [1, 2, 2], [1, 2, 3])
    assert table.counts.tolist() == [[1, 1, 0], [0, 1, 0]]


def test_the_noise_term_of_the_index_is_what_fresh_noise_on_every_level_gives() -> None:
    """index_interval(noise=ν): SE² gains ν·Σ_l (x_l − ȳ)²/n², checked against 20,000 draws
    of noise (variance 1) on every level count of a 17-level table, empty levels included."""
    rng = np.random.default_rng(11)
    counts = np.array([0, 0, 0, 1, 2, 3, 5, 8, 10, 12, 13, 14, 12, 9, 6, 3, 2], dtype=float)
    levels = 1 + np.arange(17) / 4
    scale = 100 * (levels - 1) / 4
    noisy = counts + rng.normal(0, 1.0, (20_000, 17))
    means = noisy @ scale / noisy.sum(axis=1)
    _, _, plain = index_interval(counts, levels)
    _, _, with_noise = index_interval(counts, levels, noise=1.0)
    assert float(with_noise**2 - plain**2) == pytest.approx(float(np.var(means)), rel=0.1)


def test_noise_leaves_the_index_and_widens_its_interval_and_the_top_box_interval() -> None:
    counts = [1, 2, 5, 12, 10]
    plain, noisy = satisfaction_index(counts), satisfaction_index(counts, noise=1.0)
    assert noisy.value == plain.value
    assert noisy.ci_low < plain.ci_low and noisy.ci_high > plain.ci_high and noisy.se > plain.se
    assert satisfaction_index(counts, noise=0.0) == plain
    box, noisy_box = top_box(counts), top_box(counts, noise=1.0)
    assert noisy_box.value == box.value and noisy_box.se > box.se
    assert noisy_box.ci_low < box.ci_low and noisy_box.ci_high > box.ci_high
    assert top_box(counts, noise=0.0) == box
    # all answers at the top: the upper limit stays 100, the lower one goes down
    assert top_box([0, 0, 0, 0, 12], noise=1.0).ci_high == 100.0
    assert top_box([0, 0, 0, 0, 12], noise=1.0).ci_low < top_box([0, 0, 0, 0, 12]).ci_low


@pytest.mark.parametrize("noise", [-1.0, float("nan"), float("inf"), "1", True, None])
def test_it_refuses_a_noise_that_is_not_a_variance(noise) -> None:
    with pytest.raises(ValueError, match="noise"):
        satisfaction_index([1, 2, 3], noise=noise)
    with pytest.raises(ValueError, match="noise"):
        top_box([1, 2, 3], noise=noise)


def test_the_normal_quantiles_written_as_literals_are_scipy_s() -> None:
    """analysis imports scipy only when a statistic is computed (analysis._scipy), so its
    module-level quantiles are literals: they must be exactly scipy's. The 95% quantile is
    written once, as indices.Z95, and imported where it is used (until 2026-11-29 benchmark
    and survey.manage.targets wrote it out again, and ranking kept an unused copy)."""
    from scipy import stats

    from analysis import benchmark, indices, simulation

    assert float(stats.norm.ppf(0.975)) == indices.Z95
    root = Path(__file__).parents[2]
    written = [
        str(path.relative_to(root))
        for folder in ("analysis", "survey")
        for path in sorted((root / folder).rglob("*.py"))
        if "1.95996" in path.read_text(encoding="utf-8")
    ]
    assert written == ["analysis/indices.py"]
    assert float(stats.norm.ppf(0.999)) == benchmark.Z_998
    assert (stats.norm.ppf([0.03, 0.08, 0.23, 0.60]) == simulation.THRESHOLDS).all()


def test_the_normal_quantile_kept_per_process_is_scipys() -> None:
    from scipy import stats

    from analysis.indices import normal_quantile

    for q in (0.5, 0.9, 0.95, 0.975, 0.995, 0.999):
        assert normal_quantile(q) == float(stats.norm.ppf(q))
        assert normal_quantile(q) == float(stats.norm.ppf(q))  # the kept one


def _sparse_rows(
    rng: np.random.Generator, rows: int, width: int, empty: float, lone_at: int
) -> np.ndarray:
    """Random count rows for the row-at-once tests: some cells empty, a share `empty` of the
    rows without answers, about a tenth with one answer (at level `lone_at`)."""
    table = rng.integers(0, int(rng.choice([3, 40, 4000])), (rows, width)).astype(float)
    table *= rng.random(table.shape) < 0.6
    table[rng.random(rows) < empty] = 0.0
    lone = rng.random(rows) < 0.1
    table[lone] = 0.0
    table[lone, lone_at] = 1.0
    return table


@pytest.mark.parametrize("trials", [100, pytest.param(300, marks=pytest.mark.slow)])
def test_the_index_of_every_row_at_once_is_each_rows_index_to_the_bit(trials: int) -> None:
    # one numpy pass over a table's rows, the numbers of satisfaction_index on each row alone
    # (repr: the same bits; rows of no or one answer as satisfaction_index has them). The
    # suite runs the first 100 of the 300 random tables `-m slow` runs (the same draws), as
    # the top box's and the NPS's tests below
    from analysis import satisfaction_index_each

    rng = np.random.default_rng(17)
    quarters = [1 + k / 4 for k in range(17)]
    for trial in range(trials):
        levels = quarters if trial % 2 else list(range(1, int(rng.integers(2, 8)) + 1))
        rows = int(rng.integers(1, 25))
        table = _sparse_rows(rng, rows, len(levels), 0.1, 0)
        own = rng.random(rows) * rng.choice([0.0, 2.0])
        found = satisfaction_index_each(table, levels, index_noise=own)
        plain = satisfaction_index_each(table, levels)
        for i in range(rows):
            alone = satisfaction_index(table[i], levels, index_noise=float(own[i]))
            assert repr(found[i]) == repr(alone)
            assert repr(plain[i]) == repr(satisfaction_index(table[i], levels))
    with pytest.raises(ValueError, match="noise"):
        satisfaction_index_each([[1, 2, 3], [4, 5, 6]], index_noise=[0.0, -1.0])


@pytest.mark.parametrize("trials", [100, pytest.param(300, marks=pytest.mark.slow)])
def test_the_top_box_of_every_row_at_once_is_each_rows_to_the_bit(trials: int) -> None:
    from analysis import top_box_each

    rng = np.random.default_rng(5)
    for _ in range(trials):
        levels, rows = int(rng.integers(2, 12)), int(rng.integers(1, 25))
        table = _sparse_rows(rng, rows, levels, 0.15, -1)
        k = int(rng.integers(1, levels + 1))
        noise = rng.random(rows) * rng.choice([0.0, 3.0]) * (rng.random(rows) < 0.7)
        found = top_box_each(table, k, noise=noise)
        plain = top_box_each(table, k)
        for i in range(rows):
            assert repr(found[i]) == repr(top_box(table[i], k, noise=float(noise[i])))
            assert repr(plain[i]) == repr(top_box(table[i], k))
    with pytest.raises(ValueError, match="noise"):
        top_box_each([[1, 2, 3], [4, 5, 6]], noise=[0.0, -1.0])


@pytest.mark.parametrize("trials", [100, pytest.param(300, marks=pytest.mark.slow)])
def test_the_nps_of_every_row_at_once_is_each_rows_to_the_bit(trials: int) -> None:
    from analysis import net_promoter_each

    rng = np.random.default_rng(11)
    for _ in range(trials):
        rows = int(rng.integers(1, 25))
        table = _sparse_rows(rng, rows, 11, 0.15, 10)
        noise = rng.random(rows) * rng.choice([0.0, 3.0]) * (rng.random(rows) < 0.7)
        found = net_promoter_each(table, noise=noise)
        plain = net_promoter_each(table)
        for i in range(rows):
            assert repr(found[i]) == repr(net_promoter(table[i], noise=float(noise[i])))
            assert repr(plain[i]) == repr(net_promoter(table[i]))
    with pytest.raises(ValueError, match="11 counts"):
        net_promoter_each([[1, 2, 3]])
