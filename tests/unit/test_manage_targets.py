"""Targets: met, missed or undecided by a one-sided test on the published index and interval."""

from __future__ import annotations

import math

from scipy import stats

from survey.manage.targets import judge


def test_it_meets_misses_and_leaves_undecided_by_a_one_sided_test() -> None:
    # index 80, 95 % interval 76.08–83.92: se = 2.0, one-sided margin 3.29
    assert judge(80.0, 76.08, 83.92, 100, 76.0).status == "met"  # 80 - 3.29 = 76.71 >= 76
    assert judge(80.0, 76.08, 83.92, 100, 77.0).status == "undecided"
    assert judge(80.0, 76.08, 83.92, 100, 83.5).status == "missed"  # 80 + 3.29 < 83.5
    assert judge(None, None, None, 0, 70.0) is None, "nothing judged from a withheld figure"


def test_the_responses_needed_are_the_fewest_that_make_the_difference_significant() -> None:
    index, low, high, n, target = 80.0, 76.08, 83.92, 100, 78.0
    verdict = judge(index, low, high, n, target)
    assert verdict is not None and verdict.status == "undecided" and verdict.needed
    se = (high - low) / (2 * stats.norm.ppf(0.975))

    def p_value(total: int) -> float:  # the spread shrinks with 1/sqrt(n)
        return float(stats.norm.sf((index - target) / (se * math.sqrt(n / total))))

    assert p_value(n + verdict.needed) <= 0.05 < p_value(n + verdict.needed - 1)
