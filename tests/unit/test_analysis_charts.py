"""Dashboard figures: plain results in, light plotly figures out, in German and English."""

from __future__ import annotations

import datetime as dt

import numpy as np
import plotly.graph_objects as go
import pytest

from analysis import (
    CountTable,
    Estimate,
    caterpillar,
    compare_offices,
    diverging_bars,
    funnel_limits,
    funnel_plot,
    satisfaction_index,
    shrunken_indices,
    trend,
)
from analysis.benchmark import Funnel, FunnelPoint
from analysis.charts import funnel_spec, round_ticks, wrap_label
from survey.dashboard.charts import benchmark_charts
from survey.i18n import translations
from tests.unit.chart_cases import TABLE as CASES_TABLE
from tests.unit.chart_cases import _parts

LEVELS = [1, 2, 3, 4, 5]
COUNTS = [[0, 1, 5, 20, 40], [10, 20, 20, 5, 1], [2, 5, 20, 20, 10], [0, 0, 1, 1, 1]]
TABLE = CountTable(["Nord", "Süd", "Ost", "Klein"], LEVELS, COUNTS)


def test_it_draws_a_caterpillar_plot_without_offices_that_have_too_few_responses():
    comparison = compare_offices(TABLE, min_n=10)
    fig = caterpillar(comparison, lang="en")
    assert isinstance(fig, go.Figure)
    names = [y for trace in fig.data for y in trace.y]
    assert sorted(names) == ["Nord", "Ost", "Süd"]
    assert {trace.name for trace in fig.data} == {"better", "worse", "no clear difference"}
    assert "1 office(s) with too few responses" in fig.layout.xaxis.title.text
    german = caterpillar(comparison.offices, lang="de")
    assert {trace.name for trace in german.data} == {"besser", "schlechter",
                                                     "kein klarer Unterschied"}  # fmt: skip
    assert german.layout.xaxis.title.text.startswith("Zufriedenheitsindex (0–100)<br>")


def test_the_benchmark_caterpillar_fits_its_axis_to_the_intervals_and_draws_the_average():
    """t23 #13: it ran on 0–100 with no line at the value its colours compare with, so an
    interval 2–12 points wide was a short stroke and whether it crossed the average was
    guesswork."""
    parts = _parts(CASES_TABLE, "office", False)
    fig = benchmark_charts(parts, "en", translations("en", "staff").gettext)["caterpillar"]
    shown = [
        (x - minus, x + plus)
        for t in fig["data"]
        for x, minus, plus in zip(
            t["x"], t["error_x"]["arrayminus"], t["error_x"]["array"], strict=True
        )
    ]
    low, high = fig["layout"]["xaxis"]["range"]
    assert low <= min(a for a, _ in shown) and high >= max(b for _, b in shown)
    span = max(b for _, b in shown) - min(a for a, _ in shown)
    assert high - low <= span + 2 * max(2, span / 10) + 2 and [low, high] != [0, 100]
    (line,) = fig["layout"]["shapes"]
    target = parts.funnel.target
    assert line["x0"] == line["x1"] == target and line["showlegend"]
    assert line["name"] == f"average of the offices: {target:.1f}"
    assert low < target < high


def test_it_draws_shrunken_estimates_as_a_caterpillar_too():
    fig = caterpillar(shrunken_indices(TABLE).index, lang="en")
    assert len(fig.data[0].x) == 4


def test_it_draws_a_funnel_plot_with_both_limits_and_the_offices():
    funnel = funnel_limits(TABLE, min_n=10)
    fig = funnel_plot(funnel, lang="de", names=True)
    names = {trace.name for trace in fig.data}
    assert {"95%-Grenze", "99,8%-Grenze", "Standort"} <= names
    points = fig.data[-1]
    assert list(points.customdata) == ["Nord", "Süd", "Ost"]
    (centre,) = fig.layout.shapes
    assert centre.y0 == centre.y1 == funnel.target
    # the plotly template draws shapes with width 0 unless told: the comparison line must show
    template_width = fig.layout.template.layout.shapedefaults.line.width
    assert (centre.line.width if centre.line.width is not None else template_width) > 0


@pytest.mark.parametrize(("lang", "words"), [("de", "Vergleichswert"), ("en", "comparison value")])
def test_the_funnel_names_its_comparison_line_in_the_legend_where_no_point_lies(
    lang: str, words: str
) -> None:
    # t21: "Vergleichswert", written on the plot at the line's left end, covered the points
    # of the small offices there (the office level of the demo network)
    layout = funnel_spec(funnel_limits(TABLE, min_n=10), lang=lang, names=True)["layout"]  # type: ignore[arg-type]
    (line,) = layout["shapes"]
    assert (line["name"], line["showlegend"]) == (words, True)
    assert [a for a in layout.get("annotations", []) if a["text"] == words] == []


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("de", "1 Einheit(en) ohne Wert nicht gezeigt"),
        ("en", "1 unit(s) without a value not shown"),
    ],
)
def test_the_note_of_units_left_out_stands_under_the_x_axis_title_not_on_it(
    lang: str, words: str
) -> None:
    # t21: placed at a share of the plot's height (y = -0.25), the note fell on the x-axis
    # title of a short plot (the funnel of job centres, the caterpillar of one language)
    gettext = translations(lang, "staff").gettext
    figures = benchmark_charts(_parts(CASES_TABLE, "organization", False), lang, gettext)  # type: ignore[arg-type]
    for name, fig in figures.items():
        layout = fig["layout"]
        assert [a for a in layout.get("annotations", []) if words in a["text"]] == [], name
        # the title's own second line: plotly sets it below the tick labels with the title
        title = layout["xaxis"]["title"]["text"]
        assert title.endswith(f'<br><span style="font-size:11px">{words}</span>'), name
        assert title.count("<br>") == 1 and layout["xaxis"]["automargin"] is True, name
        # and the legend below both, at the figure's bottom edge (not at a share of the plot)
        legend = layout["legend"]
        assert (legend["yref"], legend["y"], legend["yanchor"]) == ("container", 0, "bottom")


def test_the_funnel_axes_hold_the_points_not_the_lines_of_tiny_units():
    # t20: job centres of thousands of responses on a grid from 5: the points squeezed at the
    # right edge, the axis from about -25 to 150 for a 0-100 index
    grid = np.geomspace(5, 11000, 40)
    spread = 3.09 * 50 / np.sqrt(grid)
    points = tuple(FunnelPoint(f"JC {i}", n, 60.0 + i, None, "within", n * 0.8)
                   for i, n in enumerate((900, 2500, 6000, 10000)))  # fmt: skip
    funnel = Funnel("index", 61.0, 20.0, tuple(grid), tuple(61 - spread / 1.6),
                    tuple(61 + spread / 1.6), tuple(61 - spread), tuple(61 + spread), None, None,
                    None, "random-effects model", False, points)  # fmt: skip
    layout = funnel_spec(funnel, lang="en")["layout"]
    assert 10 ** layout["xaxis"]["range"][0] == pytest.approx(900 * 0.8 / 2)
    low, high = layout["yaxis"]["range"]
    assert 0 <= low < 60 and 63 < high <= 100 and high - low < 25
    assert min(funnel.low998) < 0 and max(funnel.high998) > 100  # the lines do reach past


EDGE = CountTable(
    [f"Standort {i}" for i in range(8)] + ["Jobcenter Nordheide-Hauptstelle", "Weserau-Hafen"],
    LEVELS,
    [[1, 2, 10, 20, 17]] * 8 + [[1, 3, 10, 25, 300], [40, 30, 10, 5, 2]],
)
"""The biggest office, at the right end of the x-axis, lies far above the limits."""


def test_it_writes_funnel_labels_towards_the_middle_so_an_edge_does_not_cut_them():
    fig = funnel_plot(funnel_limits(EDGE, min_n=10), names=True)
    points = fig.data[-1]
    where = dict(zip(points.customdata, points.textposition, strict=True))
    assert where["Jobcenter Nordheide-Hauptstelle"].endswith("left")  # at the right edge
    assert where["Weserau-Hafen"].endswith("right")  # left of the middle
    assert points.cliponaxis is False


def test_a_log_funnel_axis_has_round_ticks_written_in_the_pages_language():
    big = CountTable(
        ["Klein", "Mittel", "Groß"], LEVELS,
        [[1, 2, 3, 2, 4], [10, 20, 60, 80, 30], [100, 200, 600, 900, 700]],
    )  # fmt: skip
    axes = {
        lang: funnel_plot(funnel_limits(big, min_n=10), lang=lang).layout.xaxis
        for lang in ("de", "en")
    }
    assert axes["de"].type == "log"
    assert list(axes["de"].tickvals) == [5, 10, 20, 50, 100, 200, 500, 1000, 2000]
    assert list(axes["de"].ticktext)[-2:] == ["1.000", "2.000"]
    assert list(axes["en"].ticktext)[-2:] == ["1,000", "2,000"]
    assert round_ticks(5, 99) == [5, 10, 20, 50]


def test_long_question_texts_are_wrapped_so_a_phone_has_room_for_the_bars():
    text = "Wie wahrscheinlich würden Sie die Beratung hier jemandem in Ihrer Lage empfehlen?"
    wrapped = wrap_label(text)
    assert wrapped.replace("<br>", " ") == text
    assert max(len(line) for line in wrapped.split("<br>")) <= 24
    assert wrap_label("Wartezeit") == "Wartezeit"
    assert wrap_label("Donaudampfschifffahrtsgesellschaftskapitän ok") == (
        "Donaudampfschifffahrtsgesellschaftskapitän<br>ok"
    )
    fig = diverging_bars([text, "kurz"], [[1, 2, 3], [3, 2, 1]], lang="de")
    assert fig.data[0].y[0] == wrapped
    assert fig.layout.height > diverging_bars(["a", "b"], [[1, 2, 3], [3, 2, 1]]).layout.height


def test_it_draws_diverging_bars_that_put_low_answers_left_of_zero():
    fig = diverging_bars(TABLE, level_labels=["--", "-", "0", "+", "++"], lang="en")
    by_name: dict[str, list[float]] = {}
    for trace in fig.data:
        by_name.setdefault(trace.name, []).extend(trace.x)
    assert all(v <= 0 for v in by_name["--"] + by_name["-"])
    assert all(v >= 0 for v in by_name["+"] + by_name["++"])
    # The middle level is split across zero; each office's bars add up to 100%.
    total = np.sum([np.abs(trace.x) for trace in fig.data], axis=0)
    assert total[:3] == pytest.approx([100, 100, 100], abs=0.05)


def test_it_lists_the_answer_levels_in_their_order_in_the_legend():
    labels = ["--", "-", "0", "+", "++"]
    fig = diverging_bars(TABLE, level_labels=labels, lang="en")
    shown = [t for t in fig.data if t.showlegend is not False]  # plotly: by rank, then order
    shown.sort(key=lambda t: 1000 if t.legendrank is None else t.legendrank)
    assert [t.name for t in shown] == labels


def test_it_leaves_items_without_answers_without_a_bar():
    fig = diverging_bars(["respect", "overall"], [[0, 0, 0], [1, 2, 3]], lang="de")
    assert all(trace.x[0] == 0 for trace in fig.data)
    assert fig.data[0].y[0].replace("<br>", " ") == "respect (keine Antworten)"


def test_it_draws_a_trend_with_gaps_for_months_without_a_value():
    months = [dt.date(2026, m, 1) for m in (1, 2, 3, 4)]
    estimates = [
        satisfaction_index([1, 2, 5, 10, 8], LEVELS),
        Estimate(None, None, None, 0, None, "withheld"),
        satisfaction_index([2, 2, 5, 9, 8], LEVELS),
        Estimate(None, None, None, 0, None, "n == 0"),
    ]
    fig = trend(months, estimates, lang="en", labels={"month": "Monat"})
    line = fig.data[-1]
    assert line.y[0] == pytest.approx(estimates[0].value)
    assert line.y[1] is None and line.y[3] is None
    bands = [t for t in fig.data[:-1]]
    assert [list(t.x) for t in bands] == [["2026-01-01"]] * 2 + [["2026-03-01"]] * 2
    assert fig.layout.xaxis.title.text == "Monat"


def test_the_trend_legend_stays_under_the_month_axis_title_on_a_phone():
    # at 360 px plotly turns the month labels, which pushed the axis title down onto a legend
    # placed at y = -0.2 of the plot (the office page on a phone)
    months = [dt.date(2026, m, 1) for m in range(1, 13)]
    fig = trend(months, [satisfaction_index([1, 2, 5, 10, 8], LEVELS)] * 12, lang="de")
    legend = fig.layout.legend
    assert (legend.yref, legend.y, legend.yanchor) == ("container", 0, "bottom")
    assert fig.layout.xaxis.automargin is True


def test_it_refuses_an_unknown_language():
    with pytest.raises(ValueError, match="lang"):
        caterpillar(compare_offices(TABLE), lang="fr")  # type: ignore[arg-type]
