"""The time to verdict asks of each n it tries only whether the simulated power reaches the
target, and judges only as many draws as that takes (`_Curve.reaches`): the same n as the full
count, and the same figures on the pages (2026-11-29, fifteenth part)."""

from __future__ import annotations

import warnings
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import analysis.model as model
from analysis import CountTable, change, time_to_verdict
from analysis.model import responses_for_verdict

TARGET = 0.8 + (0.8 * 0.2 / 500) ** 0.5  # the target of a page's search (500 draws)


def _cases(seed: int, count: int = 24) -> list[dict[str, Any]]:
    """Random figures like the bench's (20 offices of a few thousand responses) and like a
    small network's (a few offices of a few dozen)."""
    rng = np.random.default_rng(seed)
    cases = []
    for k in range(count):
        offices = int(rng.integers(4, 22))
        small = k % 3 == 0
        cases.append(
            dict(
                y=rng.normal(62, 6 if small else 4, offices),
                v=rng.uniform(0.5, 20, offices) if small else rng.uniform(0.005, 0.05, offices),
                office=int(rng.integers(offices)),
                delta=float(rng.choice([-1, 1]) * rng.uniform(0.3, 8)),
                sigma=float(rng.uniform(5, 25)),
                extra_var=float(rng.choice([0.0, rng.uniform(0, 0.05)])),
                level=0.95,
                min_difference=float(rng.choice([0.0, 0.0, 1.0])),
                draws=int(rng.choice([200, 500])),
                seed=int(rng.integers(1000)),
            )
        )
    return cases


SIZES = [10, 40, 150, 600, 2500, 10_000, 40_000]


def _every_answer(cases: list[dict[str, Any]]) -> tuple[list[list[float]], list[list[bool]]]:
    powers, answers = [], []
    for figures in cases:
        full, judged = model._power_curve(**figures), model._power_curve(**figures)
        powers.append([full(n) for n in SIZES])
        answers.append([judged.reaches(n, t) for n in SIZES for t in (0.05, 0.5, TARGET, 0.99)])
    return powers, answers


def test_it_answers_whether_the_power_reaches_the_target_as_the_full_count_does() -> None:
    powers, answers = _every_answer(_cases(3))
    expected = [[p >= t for p in row for t in (0.05, 0.5, TARGET, 0.99)] for row in powers]
    assert answers == expected
    flat = [p for row in powers for p in row]
    assert any(0.05 < p < 0.99 for p in flat) and min(flat) < 0.5 < max(flat)


def test_the_draws_the_screen_leaves_open_count_the_same(monkeypatch: Any) -> None:
    # every draw left to the exact step: the parts' counts and the open draws worked out at
    # the end give the same answers
    monkeypatch.setattr(
        model, "_screen", lambda *a: (np.zeros(a[1].size, bool), np.ones(a[1].size, bool))
    )
    cases = _cases(4, 9)
    powers, answers = _every_answer(cases)
    expected = [[p >= t for p in row for t in (0.05, 0.5, TARGET, 0.99)] for row in powers]
    assert answers == expected


def test_a_clear_answer_judges_a_part_of_the_draws_and_works_out_none_exactly(
    monkeypatch: Any,
) -> None:
    judged: list[int] = []
    exact: list[int] = []
    screen, step = model._screen, model._verdict_draws

    def counting_screen(*args: Any) -> Any:
        judged.append(args[1].size)
        return screen(*args)

    def counting_step(*args: Any, **kwargs: Any) -> Any:
        exact.append(args[1].size)
        return step(*args, **kwargs)

    monkeypatch.setattr(model, "_screen", counting_screen)
    monkeypatch.setattr(model, "_verdict_draws", counting_step)
    rng = np.random.default_rng(2)
    y, v = rng.normal(62, 4, 20), rng.uniform(0.005, 0.05, 20)
    figures = dict(y=y, v=v, office=3, sigma=20.0, extra_var=0.0, level=0.95,
                   min_difference=0.0, draws=500, seed=0)  # fmt: skip
    far = model._power_curve(delta=0.3, **figures)  # 0.3 points: far below 80% at 50 answers
    assert far(50) < 0.3
    judged.clear()
    exact.clear()
    assert not model._power_curve(delta=0.3, **figures).reaches(50, TARGET)
    least = 409  # the least k with k/500 ≥ TARGET
    assert sum(judged) <= 500 - least + 1 and not exact
    clear = model._power_curve(delta=8.0, **figures)  # 8 points: nearly every draw at 5,000
    assert clear(5000) > 0.95
    judged.clear()
    assert model._power_curve(delta=8.0, **figures).reaches(5000, TARGET)
    assert sum(judged) == least


def test_without_the_power_at_n_the_search_finds_the_same_n() -> None:
    rng = np.random.default_rng(5)
    for figures in _cases(6, 12):
        figures.pop("seed")
        candidates = [int(c) for c in np.sort(rng.integers(5, 5000, 14))]
        for kwargs in ({}, {"candidates": candidates}):
            full = responses_for_verdict(**figures, seed=1, **kwargs)
            quick = responses_for_verdict(**figures, seed=1, achieved=False, **kwargs)
            assert quick == (full[0], None)
    counts = rng.integers(0, 40, (8, 5))
    table = CountTable([f"o{i}" for i in range(8)], [1, 2, 3, 4, 5], counts)
    for kwargs in ({}, {"candidates": [20 * m for m in (1, 2, 4, 8, 16, 32)]}):
        full = time_to_verdict(table, 2, 25.0, min_n=10, draws=300, **kwargs)
        quick = time_to_verdict(table, 2, 25.0, min_n=10, draws=300, achieved=False, **kwargs)
        assert (quick.needed, quick.achieved) == (full.needed, None)
        assert full.achieved is not None


def test_with_figures_it_takes_only_the_tables_n_and_still_refuses_a_one_level_scale() -> None:
    counts = np.array([[12.0], [30.0], [25.0], [40.0]])
    table = CountTable(["a", "b", "c", "d"], [3.0], counts)
    with pytest.raises(ValueError, match="one level"):
        time_to_verdict(table, 0, 5.0, figures=(np.zeros(4), np.ones(4), 10.0))


def test_a_change_without_its_effect_size_has_the_same_figures() -> None:
    rng = np.random.default_rng(8)
    levels = [1.0, 1.5, 2.0, 2.5, 3.0]
    for _ in range(30):
        before, after = rng.integers(0, 60, 5), rng.integers(0, 60, 5)
        noise = (float(rng.uniform(0, 2)), float(rng.uniform(0, 2)), 0.0)
        full = change(before, after, levels, index_noise=noise)
        quick = change(before, after, levels, index_noise=noise, effect=False)
        assert quick.effect_size is None and full.effect_size is not None
        assert (quick.difference, quick.ci_low, quick.ci_high, quick.pvalue) == (
            full.difference, full.ci_low, full.ci_high, full.pvalue,
        )  # fmt: skip


def test_the_screen_still_clips_estimates_far_off_the_table() -> None:
    # y far outside 0–100 moves the Φ table's index beyond what a cast can hold: clipped first
    t2 = np.linspace(0.0, 10.0, 120) ** 2
    vo, yo = np.full(5, 0.01), np.array([60.0, 61.0, 59.0, 62.0, 58.0])
    wo = 1.0 / (vo[None, :] + t2[:, None])
    trap = np.full(120, np.sqrt(t2[1]))
    trap[[0, -1]] /= 2
    sums = (wo.sum(axis=1), wo @ yo, wo @ (yo * yo), np.log(vo[None, :] + t2[:, None]).sum(axis=1))
    ys = np.array([-1e13, 61.0, 1e13])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy warns of a cast out of range
        prob, _, _ = model._screened(1e-12, ys, t2, *sums, trap, 1.0)
    assert prob[0] == pytest.approx(0.0, abs=1e-3) and prob[2] == pytest.approx(1.0, abs=1e-3)


def test_the_bound_counts_no_draw_the_exact_step_would_not_and_most_that_it_would() -> None:
    counted = verdicts = 0
    for figures in _cases(9, 30):
        curve = model._power_curve(**figures)
        for n in SIZES:
            vs, ys, coefficients = curve._draws_at(float(n))
            found = model._certified(coefficients, ys, curve.sign, curve.tail,
                                     curve.min_difference)  # fmt: skip
            sums = (curve.t2, curve.big_w, curve.big_s, curve.big_t, curve.big_l, curve.trap)
            prob, diff = model._verdict_draws(vs, ys, *sums, curve.sign)
            verdict = (prob >= curve.tail) & (diff >= curve.min_difference)
            assert verdict[found].all()
            counted += int(found.sum())
            verdicts += int(verdict.sum())
    assert counted > 0.7 * verdicts  # 79% here (a third of the networks small and wide)


def test_the_pages_model_skips_only_the_summary_no_page_shows() -> None:
    from analysis import fit_office_model
    from survey.dashboard.results import group_model, model_figures

    rng = np.random.default_rng(12)
    counts = CountTable([f"o{i}" for i in range(9)], [1, 2, 3, 4, 5], rng.integers(5, 80, (9, 5)))
    for benchmark in (False, True):
        found = group_model(counts, 10, benchmark=benchmark)
        n, y, v, sigma = model_figures(counts)
        draws = 1000 if benchmark else 1
        full = fit_office_model(counts.labels, n, y, v, sigma=sigma, min_n=10, draws=draws,
                                seed=0, funnel=benchmark)  # fmt: skip
        assert (found.mean_low, found.mean_high, found.tau_reml) == (None, None, None)
        assert full.tau_reml is not None
        assert found.offices == full.offices and found.mean == full.mean
        assert found.tau == full.tau and found.funnel_low95 == full.funnel_low95
        assert found.funnel_high998 == full.funnel_high998


def test_an_offices_second_forecast_reuses_the_screens_coefficients(monkeypatch: Any) -> None:
    worked: list[int] = []
    coefficients = model._coefficients

    def counting(vs: Any, *args: Any) -> Any:
        worked.append(vs.size)
        return coefficients(vs, *args)

    monkeypatch.setattr(model, "_coefficients", counting)
    rng = np.random.default_rng(3)
    y, v = rng.normal(62, 4, 12), rng.uniform(0.005, 0.05, 12)
    candidates = [40 * m for m in (1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 18, 24, 30, 36)]
    model._others.cache_clear()
    kwargs = dict(sigma=20.0, draws=500, candidates=candidates, achieved=False)
    tried = 4  # the largest n and the three the bisection tries when each reaches it (q30)
    own = responses_for_verdict(y, v, 4, 0.4, **kwargs)
    assert worked == [tried]
    typical = responses_for_verdict(y, v, 4, 5.0, **kwargs)
    assert worked == [tried]  # the same n in the same direction: nothing new
    other_way = responses_for_verdict(y, v, 4, -5.0, **kwargs)
    assert worked == [tried] * 2
    model._others.cache_clear()
    monkeypatch.undo()
    assert (own, typical, other_way) == tuple(
        responses_for_verdict(y, v, 4, d, **kwargs) for d in (0.4, 5.0, -5.0)
    )


def test_a_fit_without_intervals_draws_no_ranks_and_gives_the_point_rank(monkeypatch: Any) -> None:
    from analysis import fit_office_model

    rng = np.random.default_rng(4)
    n = rng.integers(20, 400, 9).astype(float)
    y, sigma = rng.normal(60, 6, 9), 20.0
    full = fit_office_model([str(i) for i in range(9)], n, y, sigma**2 / n, sigma=sigma,
                            draws=1, funnel=False)  # fmt: skip
    monkeypatch.setattr(model, "_rank_draws", lambda *a, **k: pytest.fail("ranks drawn"))
    quick = fit_office_model([str(i) for i in range(9)], n, y, sigma**2 / n, sigma=sigma,
                             draws=1, funnel=False, intervals=False)  # fmt: skip
    for a, b in zip(quick.offices, full.offices, strict=True):
        assert (a.verdict, a.difference, a.prob_above, a.rank) == (
            b.verdict, b.difference, b.prob_above, b.rank,
        )  # fmt: skip
        assert a.rank_low == a.rank_high == a.rank


def test_the_forecasts_of_a_group_build_its_table_once(monkeypatch: Any) -> None:
    from survey.dashboard import results
    from survey.dashboard.disclosure import INDEX_LEVELS

    rng = np.random.default_rng(6)
    matrix = rng.integers(30, 400, (6, len(INDEX_LEVELS))).astype(np.float64)
    tables = []

    def stand_in(table: Any, *args: Any, **kwargs: Any) -> Any:
        tables.append(table)
        return SimpleNamespace(needed=None)

    monkeypatch.setattr(results, "time_to_verdict", stand_in)
    figures = np.concatenate([rng.normal(60, 3, 6), np.full(6, 0.5), [20.0]]).tobytes()
    results._needed.cache_clear()
    for office, delta in ((0, 0.5), (0, 5.0), (3, -5.0)):
        results._needed(matrix.tobytes(), 6, office, delta, 30, 10, figures)
    results._needed.cache_clear()
    assert len(tables) == 3 and tables[0] is tables[1] is tables[2]
    assert np.array_equal(tables[0].counts, matrix) and tables[0].labels == tuple("012345")
