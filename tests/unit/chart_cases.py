"""Charts drawn from fixed inputs, for tests/unit/test_chart_json.py: every builder of
analysis.charts and every chart of the office and benchmark pages (survey/dashboard/charts.py),
in both languages, with the options the pages use."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import analysis
from analysis import (
    CountTable,
    Estimate,
    compare_offices,
    funnel_limits,
    satisfaction_index,
    shrunken_indices,
)
from survey.dashboard import charts
from survey.dashboard.results import DEFINITION, SCALE_ITEMS, scale_levels
from survey.dashboard.schemas import ItemResult, MixAdjustment, TrendPoint
from survey.i18n import translations

LEVELS = [1, 2, 3, 4, 5]
TABLE = CountTable(
    ["Nord", "Süd", "Ost", "Klein"],
    LEVELS,
    [[0, 1, 5, 20, 40], [10, 20, 20, 5, 1], [2, 5, 20, 20, 10], [0, 0, 1, 1, 1]],
)
EDGE = CountTable(
    [f"Standort {i}" for i in range(8)] + ["Jobcenter Nordheide-Hauptstelle", "Weserau-Hafen"],
    LEVELS,
    [[1, 2, 10, 20, 17]] * 8 + [[1, 3, 10, 25, 300], [40, 30, 10, 5, 2]],
)
BIG = CountTable(
    ["Klein", "Mittel", "Groß"], LEVELS,
    [[1, 2, 3, 2, 4], [10, 20, 60, 80, 30], [100, 200, 600, 900, 700]],
)  # fmt: skip


def _trend_estimates() -> list[Estimate]:
    return [
        satisfaction_index([1, 2, 5, 10, 8], LEVELS),
        Estimate(None, None, None, 0, None, "withheld"),
        satisfaction_index([2, 2, 5, 9, 8], LEVELS),
        satisfaction_index([3, 2, 5, 9, 8], LEVELS),
        Estimate(None, None, None, 0, None, "n == 0"),
    ]


def _office_result() -> Any:
    items = []
    for k, item in enumerate(SCALE_ITEMS):
        levels = [int(v) for v in scale_levels(item.code)]
        counts = None if k == 2 else [(3 * k + 5 * j) % 17 + 1 for j in range(len(levels))]
        text = DEFINITION.text(item.text, "de")
        items.append(ItemResult(item.code, text, None if counts is None else sum(counts), levels,
                                counts, None, None))  # fmt: skip
    months = [f"2025-{m:02d}" for m in range(1, 13)]
    points = [
        TrendPoint(m, None, None, None, None) if i in (3, 4) else
        TrendPoint(m, 30 + i, 60.0 + i, 55.5 + i, 64.25 + i)
        for i, m in enumerate(months)
    ]  # fmt: skip
    return SimpleNamespace(items=items, trend=points)


def _parts(table: CountTable, level: str, applied: bool) -> Any:
    comparison = compare_offices(table, min_n=10)
    funnel = funnel_limits(table, min_n=10)
    words = {0: "above 99.8%", 1: "below 95%"}
    funnel = dataclasses.replace(
        funnel,
        offices=tuple(
            dataclasses.replace(p, position=words.get(i, p.position))
            for i, p in enumerate(funnel.offices)
        ),
    )
    adjustment = MixAdjustment(applied, "mix", ["service_type"] if applied else [])
    result = SimpleNamespace(level=level, adjustment=adjustment)
    return SimpleNamespace(result=result, comparison=comparison, funnel=funnel)


def cases(spec: bool = True) -> Iterator[tuple[str, Callable[[], Any]]]:
    """(name, a function drawing one figure or a dict of figures); the figures as specs
    (plain dictionaries, as the pages draw them) or, with `spec=False`, as the public
    functions' plotly figures."""
    end = "_spec" if spec else ""
    caterpillar = getattr(analysis, "caterpillar" + end)
    funnel_plot = getattr(analysis, ("funnel_spec" if spec else "funnel_plot"))
    diverging_bars = getattr(analysis, "diverging_bars" + end)
    trend = getattr(analysis, "trend" + end)
    comparison = compare_offices(TABLE, min_n=10)
    yield "caterpillar en", lambda: caterpillar(comparison, lang="en")
    yield "caterpillar de offices", lambda: caterpillar(comparison.offices, lang="de", title="T")
    yield "caterpillar shrunken", lambda: caterpillar(shrunken_indices(TABLE).index, lang="en")
    yield "funnel de names", lambda: funnel_plot(funnel_limits(TABLE, min_n=10), names=True)
    yield "funnel edge", lambda: funnel_plot(funnel_limits(EDGE, min_n=10), names=True)
    for lang in ("de", "en"):
        yield (
            f"funnel log {lang}",
            lambda lang=lang: funnel_plot(  # type: ignore[misc]
                funnel_limits(BIG, min_n=10), lang=lang, title="Trichter"
            ),
        )
    no_target = dataclasses.replace(
        funnel_limits(TABLE, min_n=10), target=None, grid_n=(), low95=(), high95=(),
        low998=(), high998=(),
    )  # fmt: skip
    yield "funnel no target", lambda: funnel_plot(no_target, lang="en", names=True)
    yield "bars table", lambda: diverging_bars(TABLE, level_labels=["--", "-", "0", "+", "++"],
                                               lang="en", title="Items", min_n=5)  # fmt: skip
    yield "bars empty", lambda: diverging_bars(["respect", "overall"], [[0, 0, 0], [1, 2, 3]])
    yield "bars even", lambda: diverging_bars(
        ["Wie wahrscheinlich würden Sie die Beratung hier jemandem empfehlen?", "kurz"],
        [[1, 2, 3, 4], [4, 3, 2, 1]], ["a", "b", "c", "d"], lang="de",
    )  # fmt: skip
    yield "bars one level", lambda: diverging_bars(["x"], [[3]], ["only"])
    months = [dt.date(2026, m, 1) for m in (1, 2, 3, 4, 5)]
    yield "trend", lambda: trend(months, _trend_estimates(), lang="en", labels={"month": "M"})
    yield "trend strings", lambda: trend([m.isoformat()[:7] for m in months], _trend_estimates(),
                                         lang="de", title="Verlauf", y_title="Y")  # fmt: skip
    for lang in ("de", "en"):
        gettext = translations(lang, "staff").gettext
        yield (
            f"office page {lang}",
            lambda lang=lang, gettext=gettext: charts.office_charts(  # type: ignore[misc]
                _office_result(), lang, gettext
            ),
        )
        yield (
            f"benchmark page {lang}",
            lambda lang=lang, gettext=gettext: charts.benchmark_charts(  # type: ignore[misc]
                _parts(EDGE, "office", False), lang, gettext
            ),
        )
    gettext = translations("de", "staff").gettext
    yield (
        "benchmark few adjusted",
        lambda: charts.benchmark_charts(_parts(TABLE, "organization", True), "de", gettext),
    )
