"""The dashboards' charts, built as plain dictionaries (analysis.charts `*_spec`), are the very
figures plotly.graph_objects built before: tests/unit/charts_before.json holds the JSON that
`fig.to_json()` gave for each case of chart_cases.py with the plotly-object builders of commit
d76563f (parsed, so only the values count, not the spacing or the escapes). One change made
on purpose since: the funnel's vertical axis on the adjusted index is titled "Bereinigter
Index (0–100)" (3b81c54; "benchmark few adjusted"), and the funnel's points name their
number of responses in `hovertext` (2026-11-29: a point may stand at its effective n), and
its axes have ranges around the points (2026-11-29, `_funnel_ranges`), and its comparison line
is named in the legend instead of by words on the plot (2026-11-29, `_hline`), and the funnel's
and caterpillar's note of units left out is the x-axis title's second line (it was an
annotation at y = -0.25 of the plot, on the title of a short plot), with their legend and the
trend's at the figure's bottom edge and `xaxis.automargin` (2026-11-29, `_below_axis`), and
the benchmark page's caterpillar names a shorter x-axis title for a phone in
`layout.meta.short_titles` (2026-11-29, dashboard.js shows it where the title needs lines)
and asks in `layout.meta.labels_above` for its office names above their rows where they would
take much of its width (2026-11-29, dashboard.js: on a phone), and every caterpillar's x axis
spans its intervals and its line with a margin instead of 0–100, and the benchmark page's has a
dashed line at the average its colours compare with, named in the legend with its value
(2026-11-29, t23 #13: `index_range`, `_vline_legend`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import pytest

from analysis import spec_json
from survey.dashboard.routes import figure_json
from tests.unit.chart_cases import cases

BEFORE = json.loads((Path(__file__).parent / "charts_before.json").read_text())
CASES = dict(cases())
FIGURES = dict(cases(spec=False))


def _json(fig: Any) -> Any:
    if "data" in fig:
        return json.loads(spec_json(fig))
    return {name: json.loads(figure_json(spec)) for name, spec in fig.items()}


@pytest.mark.parametrize("name", list(CASES))
def test_it_draws_the_chart_plotly_drew_before(name: str) -> None:
    assert _json(CASES[name]()) == BEFORE[name]


@pytest.mark.parametrize(
    "name", [n for n in FIGURES if n.split()[0] not in ("office", "benchmark")]
)
def test_the_public_functions_give_the_same_chart_as_a_plotly_figure(name: str) -> None:
    fig = FIGURES[name]()
    assert isinstance(fig, go.Figure)
    before = BEFORE[name]
    if before["layout"].get("title") == {}:  # plotly leaves out an empty title it is given
        before = before | {"layout": {k: v for k, v in before["layout"].items() if k != "title"}}
    assert json.loads(fig.to_json()) == before


def test_it_writes_nan_as_null_and_numpy_numbers_as_numbers() -> None:
    import numpy as np

    raw = spec_json({"data": [{"x": np.arange(3), "y": [np.float64("nan"), np.int64(2)]}]})
    assert json.loads(raw) == {"data": [{"x": [0, 1, 2], "y": [None, 2]}]}
