"""Rank tests from counts equal scipy's on the expanded rows and R's published examples."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from analysis import adjust_pvalues, change, dunn, kruskal, mann_whitney

# derandomize: the same examples on every run, so CI never fails on a new random draw
FAST = settings(max_examples=60, deadline=None, database=None, derandomize=True)


@st.composite
def count_groups(draw: st.DrawFn, min_groups: int = 2, max_groups: int = 5, max_count: int = 25):
    n_levels = draw(st.integers(1, 6))
    n_groups = draw(st.integers(min_groups, max_groups))
    row = st.lists(st.integers(0, max_count), min_size=n_levels, max_size=n_levels)
    groups = draw(st.lists(row, min_size=n_groups, max_size=n_groups))
    start = draw(st.floats(-3, 3, allow_nan=False))
    steps = draw(st.lists(st.floats(0.1, 2), min_size=n_levels, max_size=n_levels))
    return [np.array(g) for g in groups], (start + np.cumsum(steps)).tolist()


def expand(counts, levels) -> np.ndarray:
    return np.repeat(np.asarray(levels, dtype=float), np.asarray(counts, dtype=int))


def as_counts(values, levels) -> list[int]:
    return [int(np.sum(np.isclose(values, level))) for level in levels]


@FAST
@given(count_groups(max_groups=2))
def test_it_computes_mann_whitney_exactly_as_scipy_asymptotic_on_the_rows(data):
    (a, b), levels = data
    result = mann_whitney(a, b)
    x, y = expand(a, levels), expand(b, levels)
    if x.size == 0 or y.size == 0:
        assert result.pvalue is None and result.statistic is None and result.reason
        return
    ref = stats.mannwhitneyu(x, y, method="asymptotic", use_continuity=True)
    assert result.statistic == pytest.approx(ref.statistic, rel=1e-12, abs=1e-9)
    assert result.pvalue == pytest.approx(ref.pvalue, abs=1e-9)
    assert result.effect_size == pytest.approx(2 * ref.statistic / (x.size * y.size) - 1)
    assert 0.0 <= result.pvalue <= 1.0


@FAST
@given(count_groups(max_groups=2))
def test_it_is_symmetric_in_its_two_groups(data):
    (a, b), _ = data
    ab, ba = mann_whitney(a, b), mann_whitney(b, a)
    if ab.pvalue is None:
        assert ba.pvalue is None
        return
    assert ab.pvalue == pytest.approx(ba.pvalue, abs=1e-12)
    assert ab.statistic + ba.statistic == pytest.approx(ab.n_a * ab.n_b)
    assert ab.effect_size == pytest.approx(-ba.effect_size, abs=1e-12)


@FAST
@given(count_groups(max_groups=2), st.floats(-100, 100, allow_nan=False))
def test_it_does_not_change_when_a_constant_is_added_to_all_levels(data, shift):
    (a, b), levels = data
    first = mann_whitney(b, a)  # change() reports after (b) against before (a)
    # Rank tests use only the order of the levels; the counts carry no levels at all. The
    # index (and so the change test) is measured from the scale's ends: shifts cancel.
    shifted = change(a, b, np.asarray(levels) + shift)
    same = change(a, b, levels)
    assert shifted.effect_size == same.effect_size == first.effect_size
    if same.pvalue is not None:
        assert shifted.pvalue == pytest.approx(same.pvalue, abs=1e-6)
    if same.difference is not None:
        assert shifted.difference == pytest.approx(same.difference, abs=1e-6)


def test_it_reproduces_the_published_w_of_rs_wilcox_test_help_page():
    # R ?wilcox.test, Hollander & Wolfe (1973), p. 69f: permeability constants,
    # wilcox.test(x, y, alternative = "g") prints W = 35 (p = 0.1272 is the exact p, which
    # we do not compute); the asymptotic two-sided p is checked against scipy instead.
    x = [0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46]
    y = [1.15, 0.88, 0.90, 0.74, 1.21]
    levels = sorted(set(x + y))
    result = mann_whitney(as_counts(x, levels), as_counts(y, levels))
    assert result.statistic == 35.0
    ref = stats.mannwhitneyu(x, y, method="asymptotic")
    assert result.pvalue == pytest.approx(ref.pvalue, abs=1e-12)


def test_it_matches_closed_forms_for_a_million_responses_per_level():
    a = np.array([1, 2, 3, 4, 5]) * 1_000_000
    b = np.array([5, 4, 3, 2, 1]) * 1_000_000
    result = mann_whitney(a, b)
    # Closed form in Python integers: U_a = Σ_{i>j} a_i·b_j + ½·Σ a_i·b_i (pairs a wins,
    # half the ties); sigma from the tie term Σ(t³ − t) of the pooled counts.
    ai, bi = [int(v) for v in a], [int(v) for v in b]
    u = (
        sum(ai[i] * bi[j] for i in range(5) for j in range(i))
        + sum(ai[i] * bi[i] for i in range(5)) / 2
    )
    n1, n2 = sum(ai), sum(bi)
    n = n1 + n2
    ties = sum((s + t) ** 3 - (s + t) for s, t in zip(ai, bi, strict=True))
    sigma = math.sqrt(n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1))))
    z = (max(u, n1 * n2 - u) - n1 * n2 / 2 - 0.5) / sigma
    assert result.statistic == pytest.approx(u, rel=1e-12)
    assert result.z == pytest.approx(z, rel=1e-9)
    assert result.pvalue == pytest.approx(math.erfc(z / math.sqrt(2)), rel=1e-6, abs=1e-300)
    assert result.effect_size == pytest.approx(2 * u / (n1 * n2) - 1, rel=1e-12)


def test_it_gives_p_one_when_every_answer_is_on_one_level():
    result = mann_whitney([0, 4, 0], [0, 7, 0])
    assert result.pvalue == 1.0 and result.effect_size == 0.0 and result.reason
    assert mann_whitney([5], [3]).pvalue == 1.0  # one level


@FAST
@given(count_groups(max_groups=5))
def test_it_computes_kruskal_wallis_exactly_as_scipy_on_the_rows(data):
    groups, levels = data
    result = kruskal(groups)
    samples = [expand(g, levels) for g in groups]
    nonempty = [s for s in samples if s.size]
    if len(nonempty) < 2:
        assert result.statistic is None and result.reason
        return
    if np.unique(np.concatenate(nonempty)).size == 1:
        assert result.statistic is None and result.reason == "all answers are on one level"
        return
    ref = stats.kruskal(*nonempty)
    assert result.statistic == pytest.approx(ref.statistic, rel=1e-9, abs=1e-9)
    # identical groups: scipy's H can come out as -3e-14 by rounding, and its chi-square tail
    # of a negative number is nan; the right p-value for H = 0 is 1
    ref_p = 1.0 if np.isnan(ref.pvalue) and abs(ref.statistic) < 1e-9 else ref.pvalue
    assert result.pvalue == pytest.approx(ref_p, abs=1e-9)
    assert result.df == len(nonempty) - 1
    assert 0.0 <= result.pvalue <= 1.0


@FAST
@given(count_groups(max_groups=5), st.randoms(use_true_random=False))
def test_it_gives_the_same_kruskal_wallis_whatever_the_order_of_groups(data, rnd):
    groups, _ = data
    shuffled = list(groups)
    rnd.shuffle(shuffled)
    a, b = kruskal(groups), kruskal(shuffled)
    if a.pvalue is None:
        assert b.pvalue is None
    else:
        assert a.pvalue == pytest.approx(b.pvalue, abs=1e-12)


# R datasets::airquality, Ozone by Month (NAs dropped), the example of R's ?kruskal.test.
OZONE = {
    5: [41, 36, 12, 18, 28, 23, 19, 8, 7, 16, 11, 14, 18, 14, 34, 6, 30, 11, 1, 11, 4, 32, 23,
        45, 115, 37],
    6: [29, 71, 39, 23, 21, 37, 20, 12, 13],
    7: [135, 49, 32, 64, 40, 77, 97, 97, 85, 10, 27, 7, 48, 35, 61, 79, 63, 16, 80, 108, 20,
        52, 82, 50, 64, 59],
    8: [39, 9, 16, 78, 35, 66, 122, 89, 110, 44, 28, 65, 22, 59, 23, 31, 44, 21, 9, 45, 168,
        73, 76, 118, 84, 85],
    9: [96, 78, 73, 91, 47, 32, 20, 23, 21, 24, 44, 21, 28, 9, 13, 46, 18, 13, 24, 16, 13, 23,
        36, 7, 14, 30, 14, 18, 20],
}  # fmt: skip


def test_it_reproduces_rs_kruskal_test_on_airquality_ozone_by_month():
    # R ?kruskal.test: kruskal.test(Ozone ~ Month, data = airquality) prints
    # "Kruskal-Wallis chi-squared = 29.267, df = 4, p-value = 6.901e-06".
    levels = sorted({v for values in OZONE.values() for v in values})
    result = kruskal([as_counts(values, levels) for values in OZONE.values()])
    assert round(result.statistic, 3) == 29.267
    assert result.df == 4
    assert float(f"{result.pvalue:.3e}") == 6.901e-06
    assert sum(result.n) == 116


def test_it_reproduces_rs_kruskal_test_on_hollander_and_wolfe_mucociliary_efficiency():
    # R ?kruskal.test, Hollander & Wolfe (1973), p. 116: prints
    # "Kruskal-Wallis chi-squared = 0.77143, df = 2, p-value = 0.68".
    x = [2.9, 3.0, 2.5, 2.6, 3.2]
    y = [3.8, 2.7, 4.0, 2.4]
    z = [2.8, 3.4, 3.7, 2.2, 2.0]
    levels = sorted(set(x + y + z))
    result = kruskal([as_counts(g, levels) for g in (x, y, z)])
    assert round(result.statistic, 5) == 0.77143
    assert round(result.pvalue, 2) == 0.68


def test_it_computes_dunns_test_as_the_formula_does_by_hand_on_the_rows():
    # Reference computed independently from the definition (Dunn 1964): mid-ranks of the
    # pooled rows via scipy.stats.rankdata, tie correction Σ(t³ − t)/(12(N − 1)).
    groups = [[1, 0, 3, 5, 2], [0, 2, 2, 1, 7], [3, 3, 0, 0, 1], [0, 0, 0, 0, 0]]
    levels = [1, 2, 3, 4, 5]
    rows = [expand(g, levels) for g in groups[:3]]
    pooled = np.concatenate(rows)
    ranks = stats.rankdata(pooled)
    bounds = np.cumsum([0] + [r.size for r in rows])
    mean_rank = [ranks[bounds[i] : bounds[i + 1]].mean() for i in range(3)]
    big_n = pooled.size
    _, t = np.unique(pooled, return_counts=True)
    unit = big_n * (big_n + 1) / 12 - np.sum(t**3 - t) / (12 * (big_n - 1))
    expected_z = {}
    for i in range(3):
        for j in range(3):
            se = math.sqrt(unit * (1 / rows[i].size + 1 / rows[j].size))
            expected_z[i, j] = (mean_rank[i] - mean_rank[j]) / se
    raw = [2 * stats.norm.sf(abs(expected_z[i, j])) for i, j in ((0, 1), (0, 2), (1, 2))]
    holm = adjust_pvalues(raw, "holm")

    result = dunn(groups)
    for (i, j), zij in expected_z.items():
        assert result.z[i][j] == pytest.approx(zij, abs=1e-12)
    for (i, j), p in zip(((0, 1), (0, 2), (1, 2)), holm, strict=True):
        assert result.adjusted[i][j] == pytest.approx(p, abs=1e-12)
        assert result.adjusted[j][i] == pytest.approx(p, abs=1e-12)
    assert result.pvalues[0][0] == 1.0
    assert result.z[3] == (None, None, None, None)  # the empty group has no figures


@FAST
@given(st.lists(st.floats(0, 1, allow_nan=False), min_size=1, max_size=30))
def test_it_adjusts_p_values_as_scipy_and_holms_definition(p):
    bh = adjust_pvalues(p, "bh")
    assert bh == pytest.approx(stats.false_discovery_control(p, method="bh").tolist(), abs=1e-12)
    holm = adjust_pvalues(p, "holm")
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i])
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        assert holm[i] == pytest.approx(running, abs=1e-12)


def test_it_matches_rs_p_adjust_on_a_small_example():
    # Reference computed by hand from the definitions used by R's p.adjust:
    # sorted p = .01 .02 .03 .04 .05, m = 5.
    # holm: 5·.01 = .05, 4·.02 = .08, 3·.03 = .09, 2·.04 = .08 → .09, .05 → .09
    # BH: .05, .05, .05, .05, .05 (each m·p/i = .05).
    p = [0.04, 0.01, 0.05, 0.03, 0.02]
    assert adjust_pvalues(p, "holm") == pytest.approx([0.09, 0.05, 0.09, 0.09, 0.08])
    assert adjust_pvalues(p, "bh") == pytest.approx([0.05] * 5)


def _welch_on_rows_with_pseudo_answers(before, after, levels):
    """Welch's t on the rows of each period plus z²/2 pseudo-answers at each scale end
    (the SEs of satisfaction_index), by numpy weighted moments and scipy's t."""
    z = stats.norm.ppf(0.975)
    lo, hi = levels[0], levels[-1]
    out = []
    for counts in (before, after):
        rows = expand(counts, levels)
        x = 100 * (np.concatenate([rows, [lo, hi]]) - lo) / (hi - lo)
        w = np.concatenate([np.ones(rows.size), [z * z / 2, z * z / 2]])
        m = np.average(x, weights=w)
        se2 = np.average((x - m) ** 2, weights=w) / w.sum()
        out.append((100 * (rows.mean() - lo) / (hi - lo), se2, rows.size))
    (mb, vb, nb), (ma, va, na) = out
    d, se = ma - mb, math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (na - 1) + vb**2 / (nb - 1))
    t = stats.t.ppf(0.975, df)
    return d, d - t * se, d + t * se, 2 * stats.t.sf(abs(d) / se, df)


def test_it_reports_the_change_of_an_office_between_two_periods():
    before, after = [4, 6, 10, 5, 2], [1, 3, 8, 10, 8]
    levels = [1, 2, 3, 4, 5]
    result = change(before, after, levels)
    d, low, high, p = _welch_on_rows_with_pseudo_answers(before, after, levels)
    assert result.difference == pytest.approx(d, abs=1e-9)
    assert result.ci_low == pytest.approx(low, abs=1e-9)
    assert result.ci_high == pytest.approx(high, abs=1e-9)
    assert result.pvalue == pytest.approx(p, abs=1e-12)
    assert result.effect_size > 0


def test_its_change_interval_and_p_value_never_disagree():
    # The example: a Welch interval containing 0 shown next to a Mann–Whitney p of
    # 0.035. Now both come from one test.
    result = change([8, 1, 6, 9, 2], [8, 1, 2, 31, 3])
    assert result.ci_low < 0 < result.ci_high
    assert result.pvalue >= 0.05
    rng = np.random.default_rng(0)
    for _ in range(300):
        a, b = rng.integers(0, 12, 5), rng.integers(0, 12, 5)
        if a.sum() < 2 or b.sum() < 2:
            continue
        c = change(a, b)
        assert (c.ci_low > 0 or c.ci_high < 0) == (c.pvalue < 0.05)


def test_its_change_interval_stays_open_when_every_answer_is_the_same():
    result = change([0, 0, 0, 0, 12], [0, 0, 0, 0, 15])
    assert result.difference == 0 and result.ci_low < 0 < result.ci_high


def test_it_says_so_when_a_period_has_no_responses():
    result = change([0, 0, 0], [1, 2, 3])
    assert result.difference is None and result.pvalue is None
    assert result.reason == "before: n == 0"


def test_it_rejects_groups_with_different_numbers_of_levels():
    with pytest.raises(ValueError, match="levels"):
        mann_whitney([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="different numbers of levels"):
        kruskal([[1, 2, 3], [1, 2]])
    with pytest.raises(ValueError, match="holm"):
        adjust_pvalues([0.1], "bonferroni")


def test_it_matches_the_closed_form_kruskal_wallis_for_a_million_responses_per_level():
    groups = [np.array([1, 2, 3]) * 1_000_000, np.array([3, 2, 1]) * 1_000_000,
              np.array([2, 2, 2]) * 1_000_000]  # fmt: skip
    # Closed form in Python integers and fractions: mid-ranks of the pooled levels, rank
    # sums, H with the tie correction 1 − Σ(t³ − t)/(N³ − N).
    pooled = [sum(int(g[j]) for g in groups) for j in range(3)]
    big_n = sum(pooled)
    ranks, before = [], 0
    for t in pooled:
        ranks.append(before + (t + 1) / 2)
        before += t
    sums = [sum(int(g[j]) * ranks[j] for j in range(3)) for g in groups]
    sizes = [int(g.sum()) for g in groups]
    h = 12 / (big_n * (big_n + 1)) * sum(r * r / m for r, m in zip(sums, sizes, strict=True))
    h -= 3 * (big_n + 1)
    h /= 1 - sum(t**3 - t for t in pooled) / (big_n**3 - big_n)
    result = kruskal(groups)
    assert result.statistic == pytest.approx(h, rel=1e-9)
    assert result.pvalue == pytest.approx(stats.chi2.sf(h, 2), rel=1e-6, abs=1e-300)


def test_kruskal_wallis_of_identical_groups_is_p_one() -> None:
    """The example hypothesis found: scipy gives H = -3e-14 and p = nan here."""
    group = [0, 9, 2, 4, 16, 2]
    result = kruskal([group, group])
    assert result.statistic == pytest.approx(0.0, abs=1e-9)
    assert result.pvalue == 1.0


def test_the_noise_variance_of_u_is_what_fresh_noise_on_both_groups_gives() -> None:
    """`mw_noise_variance` against 20,000 draws of independent noise on every level count of
    both groups (variances 1 and 6), groups drawn as shares of one pooled distribution."""
    from analysis.significance import mw_noise_variance

    rng = np.random.default_rng(7)
    shares = np.array([0, 1, 2, 3, 5, 8, 10, 12, 13, 14, 12, 9, 6, 3, 2], dtype=float)
    shares /= shares.sum()
    a = rng.multinomial(60, shares).astype(float)
    b = rng.multinomial(900, shares).astype(float)
    e = rng.normal(0, 1.0, (20_000, a.size))
    f = rng.normal(0, np.sqrt(6.0), (20_000, a.size))
    sign = 0.5 * np.sign(np.arange(a.size)[:, None] - np.arange(a.size)[None, :])
    centred = np.einsum("dl,lm,dm->d", a + e, sign, b + f)  # U − n_a·n_b/2 of the noisy counts
    predicted = mw_noise_variance(a + b, np.array(60.0), np.array(900.0), np.array(1.0),
                                  np.array(6.0))  # fmt: skip
    assert float(np.var(centred)) == pytest.approx(float(predicted), rel=0.1)


def test_the_change_allows_for_the_noise_of_both_periods_and_what_they_share() -> None:
    before, after = [2, 3, 8, 14, 13], [1, 2, 6, 15, 16]
    plain = change(before, after)
    assert change(before, after, noise_before=0.0, noise_after=0.0, noise_shared=0.0) == plain
    own = change(before, after, noise_before=1.0, noise_after=1.5)
    shared = change(before, after, noise_before=1.0, noise_after=1.5, noise_shared=-1.0)
    assert own.difference == shared.difference == plain.difference
    assert (
        plain.ci_low > own.ci_low > shared.ci_low and plain.ci_high < own.ci_high < shared.ci_high
    )
    assert plain.pvalue < own.pvalue < shared.pvalue
    for bad in ({"noise_shared": -2.0}, {"noise_shared": float("nan")}, {"noise_before": -1.0},
                {"noise_shared": "x"}, {"noise_after": float("inf")}):  # fmt: skip
        with pytest.raises(ValueError, match="noise"):
            change(before, after, **{"noise_before": 1.0, "noise_after": 1.5, **bad})


def test_the_change_tests_t_is_scipys_to_the_bit() -> None:
    # t_quantile and t_tail call what scipy.stats.t's wrapper calls, without the wrapper:
    # the same numbers, so every change interval and p-value on the pages stays as it was
    from analysis.significance import t_quantile, t_tail

    rng = np.random.default_rng(7)
    dfs = np.concatenate([rng.uniform(0.5, 5, 200), rng.uniform(5, 5e5, 200), [1, 2, 9.5, 1e9]])
    for df in dfs.tolist():
        assert t_quantile(0.975, df) == float(stats.t.ppf(0.975, df))
        for x in (0.0, 1e-9, 0.3, 1.96, 4.2, 40.0, rng.exponential(3)):
            assert t_tail(x, df) == float(stats.t.sf(x, df))
    assert t_tail(math.inf, 12.0) == float(stats.t.sf(math.inf, 12.0))
    assert math.isnan(t_quantile(0.975, math.nan)) and math.isnan(t_tail(1.0, math.nan))


def _random_tables(rng: np.random.Generator, rows: int, levels: int) -> np.ndarray:
    """Count tables as the pages meet them: sparse, some rows empty, some of one answer."""
    top = int(rng.choice([3, 30, 300, 3000]))
    table = rng.integers(0, top, (rows, levels)).astype(float)
    table *= rng.random((rows, levels)) < 0.6
    kind = rng.random(rows)
    table[kind < 0.1] = 0.0
    single = (kind >= 0.1) & (kind < 0.2)
    table[single] = 0.0
    table[single, rng.integers(0, levels)] = 1.0
    table[(kind >= 0.2) & (kind < 0.25), -1] = 2.0
    return table


@pytest.mark.parametrize(
    ("trials", "least"), [(130, 650), pytest.param(400, 2000, marks=pytest.mark.slow)]
)
def test_the_change_of_every_row_at_once_is_each_rows_change_to_the_bit(
    trials: int, least: int
) -> None:
    # office_rows works out the change of all its offices in one pass: the page's figures must
    # stay those of `change` of each office alone (repr: the same bits, None where none).
    # The suite runs the first 130 of the 400 random tables `-m slow` runs (the same draws:
    # both kinds of levels, every size, each kind of noise, empty and one-answer rows)
    from analysis import change_each

    quarters = [1 + k / 4 for k in range(17)]  # the index's classes
    rng = np.random.default_rng(29)
    checked = 0
    for trial in range(trials):
        levels = quarters if trial % 3 else list(range(1, int(rng.integers(2, 8)) + 1))
        rows = int(rng.integers(1, 25))
        before = _random_tables(rng, rows, len(levels))
        after = _random_tables(rng, rows, len(levels))
        own_before = rng.random(rows) * rng.choice([0.0, 1.0, 10.0])
        own_after = rng.random(rows) * rng.choice([0.0, 1.0, 10.0])
        shared = -rng.random(rows) * np.sqrt(own_before * own_after)
        noise = np.stack([own_before, own_after, shared], axis=1)
        found = change_each(before, after, levels, noise)
        for i in range(rows):
            one = change(before[i], after[i], levels, index_noise=tuple(noise[i].tolist()),
                         effect=False)  # fmt: skip
            assert repr(found[i]) == repr(one)
            checked += one.pvalue is not None
    assert checked > least


def test_the_change_of_every_row_refuses_a_shared_noise_larger_than_both() -> None:
    from analysis import change_each

    counts = np.array([[2.0, 3, 8, 14, 13], [1, 2, 6, 15, 16]])
    with pytest.raises(ValueError, match="shared"):
        change_each(counts, counts, None, [[1.0, 1.0, -0.5], [1.0, 1.0, -2.0]])
    with pytest.raises(ValueError, match="noise"):
        change_each(counts, counts, None, [[1.0, 1.0, 0.0], [-1.0, 1.0, 0.0]])
    with pytest.raises(ValueError, match="rows × 3"):
        change_each(counts, counts, None, [[1.0, 1.0, 0.0]])
