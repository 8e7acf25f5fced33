"""Plotly figures for the dashboards, built from the plain results of the other modules.

Every builder takes `labels`, the words of the chart already translated (the keys of
`LABELS["en"]`; missing keys fall back to `lang`, "de" or "en"). Offices without a value
are never drawn with a number; a note under the x-axis title says how many were left out.
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, ParamSpec

import numpy as np
import plotly.graph_objects as go
from plotly.colors import sample_colorscale

from analysis.benchmark import Comparison, Funnel, OfficeComparison
from analysis.counts import CountTable, as_count_matrix
from analysis.indices import Estimate
from analysis.ranking import Shrunken

Lang = Literal["de", "en"]

LABELS: dict[str, dict[str, str]] = {
    "de": {
        "index": "Zufriedenheitsindex (0–100)",
        "top_box": "Anteil Top-Box (%)",
        "office": "Standort",
        "n": "Antworten",
        "n_effective": "Antworten (wirksam: so genau wie der Wert)",
        "effective": "wirksam",
        "better": "besser",
        "worse": "schlechter",
        "no clear difference": "kein klarer Unterschied",
        "withheld": "Vergleich nicht gezeigt",
        "too few": "{count} Standort(e) mit zu wenigen Antworten ohne Wert",
        "overall": "alle Standorte",
        "average": "Durchschnitt der Standorte",
        "target": "Vergleichswert",
        "limit95": "95%-Grenze",
        "limit998": "99,8%-Grenze",
        "ci": "95%-Konfidenzintervall",
        "month": "Monat",
        "share": "Anteil der Antworten (%)",
        "no answers": "keine Antworten",
        "estimate": "Schätzung",
        "together": "Monate zusammengezählt",
    },
    "en": {
        "index": "Satisfaction index (0–100)",
        "top_box": "Top-box share (%)",
        "office": "Office",
        "n": "responses",
        "n_effective": "responses (effective: as precise as the value)",
        "effective": "effective",
        "better": "better",
        "worse": "worse",
        "no clear difference": "no clear difference",
        "withheld": "comparison not shown",
        "too few": "{count} office(s) with too few responses not shown",
        "overall": "all offices",
        "average": "average of the offices",
        "target": "comparison value",
        "limit95": "95% limit",
        "limit998": "99.8% limit",
        "ci": "95% confidence interval",
        "month": "Month",
        "share": "share of responses (%)",
        "no answers": "no responses",
        "estimate": "estimate",
        "together": "months counted together",
    },
}

VERDICT_COLOURS = {
    "better": "#1a7f37",
    "worse": "#c62828",
    "no clear difference": "#5f6b7a",
    "withheld": "#8a94a3",
}
""""withheld": the comparison value is not shown, so neither is a verdict against it."""


def _labels(lang: str, labels: Mapping[str, str] | None = None) -> dict[str, str]:
    if lang not in LABELS:
        raise ValueError(f'lang must be "de" or "en", got {lang!r}')
    return LABELS[lang] | dict(labels or {})


TEMPLATE = "simple_white"
"""The plotly template every chart is drawn with. The figures leave it out
(`layout.template` is empty): the dashboards send it to the browser once, as a cached file,
and dashboard.js applies it. Setting it here copied and validated its 8 kB into every
figure: 140 ms per figure on a busy 2-core machine, most of the office page's time."""

Spec = dict[str, Any]
"""A figure as plotly.js reads it: {"data": [traces], "layout": {...}}, plain JSON values.

The builders write these dictionaries themselves: a plotly.graph_objects figure validated
every property on the way in and again on the way out, 100–200 ms per chart on a busy 2-core
machine, longer than the rest of a page's first view. The public functions without `_spec`
return the same figure as a `go.Figure` (validated, for notebooks and scripts); its JSON is
the spec's (tests/unit/test_chart_json.py)."""
EMPTY_TEMPLATE = {"data": {"scatter": [{"type": "scatter"}]}}
"""What plotly writes for the empty template a figure is drawn with (`go.Figure(layout=
{"template": {}})`): the dashboards apply TEMPLATE in the browser."""


def _spec() -> Spec:
    """An empty figure without plotly's default template (which would be copied into it)."""
    return {"data": [], "layout": {"template": _copy(EMPTY_TEMPLATE)}}


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def update_spec(target: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """Merge `changes` into `target` as plotly's `update_layout` does: dictionaries property
    by property, everything else replaced."""
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            update_spec(target[key], value)
        else:
            target[key] = _copy(dict(value)) if isinstance(value, Mapping) else value
    return target


def _title(text: str | None) -> dict[str, str]:
    return {} if text is None else {"text": text}


def _layout(fig: Spec, title: str | None) -> Spec:
    layout = fig["layout"]
    update_spec(layout, {
        "title": _title(title),
        "margin": {"l": 10, "r": 10, "t": 50 if title else 20, "b": 60},
        "legend": {"orientation": "h", "y": -0.2},
    })  # fmt: skip
    return fig


NOTE_SIZE = 11
"""Font size (px) of a chart's note under its x-axis title."""


def _below_axis(fig: Spec, note: str | None) -> Spec:
    """The legend at the figure's bottom edge and `note` as the x-axis title's second line:
    plotly lays out the tick labels, the axis title with the note and the legend one below
    the other in pixels (`automargin`), so none covers another at any height or width. (A
    note placed at a share of the plot's height, y = -0.25, fell on the axis title of a
    short plot.)"""
    layout = fig["layout"]
    update_spec(layout, {
        "legend": {"yref": "container", "y": 0, "yanchor": "bottom"},
        "xaxis": {"automargin": True},
    })  # fmt: skip
    if note:
        title = layout["xaxis"]["title"]
        title["text"] = f'{title["text"]}<br><span style="font-size:{NOTE_SIZE}px">{note}</span>'
    return fig


def _vline(fig: Spec, x: float, text: str) -> None:
    """plotly's `add_vline(x, line_dash="dot", line_color="#333", annotation_text=text)`."""
    layout = fig["layout"]
    layout.setdefault("shapes", []).append({
        "type": "line", "x0": x, "x1": x, "xref": "x", "y0": 0, "y1": 1, "yref": "y domain",
        "line": {"color": "#333", "dash": "dot"},
    })  # fmt: skip
    layout.setdefault("annotations", []).append({
        "text": text, "showarrow": False, "x": x, "xref": "x", "xanchor": "left", "y": 1,
        "yref": "y domain", "yanchor": "top",
    })  # fmt: skip


def _hline(fig: Spec, y: float, text: str) -> None:
    """plotly's `add_hline(y, line_color="#333", line_width=1.5, name=text, showlegend=True)`:
    the line's words are its legend entry, where no point can lie under them (written on
    the plot beside the line, they covered the points of small units near the target)."""
    fig["layout"].setdefault("shapes", []).append({
        "type": "line", "x0": 0, "x1": 1, "xref": "x domain", "y0": y, "y1": y, "yref": "y",
        "line": {"color": "#333", "width": 1.5}, "name": text, "showlegend": True,
    })  # fmt: skip


def _vline_legend(fig: Spec, x: float, text: str) -> None:
    """A dashed vertical line at `x` named in the legend (like `_hline`): words written on the
    plot beside it fell on the points and names of the rows near the top."""
    fig["layout"].setdefault("shapes", []).append({
        "type": "line", "x0": x, "x1": x, "xref": "x", "y0": 0, "y1": 1, "yref": "y domain",
        "line": {"color": "#333", "width": 1.5, "dash": "dash"}, "layer": "below",
        "name": text, "showlegend": True,
    })  # fmt: skip


def index_range(lows: Sequence[float], highs: Sequence[float]) -> list[float]:
    """The x range of an index chart (0–100): from the lowest to the highest value given,
    with a margin of a tenth of that span but at least 2 points each side, in whole points
    and within 0–100; the whole scale when nothing is given. An interval 2–12 points wide was
    hard to see on the whole 0–100 scale, and so was whether it crossed the average."""
    if not lows or not highs:
        return [0, 100]
    low, high = min(lows), max(highs)
    margin = max(2.0, (high - low) / 10)
    return [max(0, math.floor(low - margin)), min(100, math.ceil(high + margin))]


def spec_json(spec: Spec) -> str:
    """The JSON of a spec as plotly writes a figure's: numpy values as plain numbers and
    lists, NaN and infinities as null (the funnel's limits are NaN where no estimate gets
    the verdict)."""

    def plain(value: Any) -> Any:
        if isinstance(value, np.ndarray):
            return value.tolist()
        if isinstance(value, np.generic):
            return value.item()
        raise TypeError(f"{type(value).__name__} in a chart")

    raw = json.dumps(spec, default=plain, separators=(",", ":"))
    if "NaN" in raw or "Infinity" in raw:  # (also in a text: then parsed once more, as plotly)
        raw = json.dumps(json.loads(raw, parse_constant=lambda _: None), separators=(",", ":"))
    return raw


def figure(spec: Spec) -> go.Figure:
    """A spec as a plotly figure (validated)."""
    return go.Figure(spec)


P = ParamSpec("P")


def _as_figure(build: Callable[P, Spec], name: str) -> Callable[P, go.Figure]:
    """`build` (a `*_spec` function) returning a plotly figure: the public chart functions
    of before the specs, with the same parameters."""

    def made(*args: P.args, **kwargs: P.kwargs) -> go.Figure:
        return figure(build(*args, **kwargs))

    made.__name__ = made.__qualname__ = name
    made.__doc__ = f"`{build.__name__}` as a plotly figure."
    made.__signature__ = inspect.signature(build).replace(  # type: ignore[attr-defined]
        return_annotation="go.Figure"
    )
    return made


def caterpillar_spec(
    offices: Comparison | Sequence[OfficeComparison] | Sequence[Shrunken],
    *,
    lang: Lang = "de",
    title: str | None = None,
    labels: Mapping[str, str] | None = None,
    average: float | None = None,
) -> Spec:
    """Index by office with 95% intervals, sorted, coloured by verdict.

    Takes a `compare_offices` result (or its offices) or `shrunken_indices(...).index`.
    Offices without a value (too few responses, n == 0) are left out and counted in a note.
    `average`: the value the verdicts compare with (the model's average of the offices), a
    dashed line named `labels["average"]` in the legend; else a `compare_offices` result's
    pooled index is a dotted line. The x axis spans the intervals and the line
    (`index_range`).
    """
    text = _labels(lang, labels)
    rows: tuple[OfficeComparison | Shrunken, ...] = (
        offices.offices if isinstance(offices, Comparison) else tuple(offices)
    )
    verdict: str
    shown: list[tuple[str, float, float, float, str, int]] = []
    for o in rows:
        if isinstance(o, OfficeComparison):
            value, low, high, verdict = o.index, o.index_low, o.index_high, o.verdict
        else:
            value, low, high, verdict = o.value, o.ci_low, o.ci_high, "no clear difference"
        if value is None:
            continue
        shown.append(
            (o.label, value, value if low is None else low, value if high is None else high,
             verdict, o.n)
        )  # fmt: skip
    shown.sort(key=lambda r: r[1])
    fig = _spec()
    for verdict, colour in VERDICT_COLOURS.items():
        part = [r for r in shown if r[4] == verdict]
        if not part:
            continue
        fig["data"].append({
            "type": "scatter",
            "x": [r[1] for r in part],
            "y": [r[0] for r in part],
            "mode": "markers",
            "name": text[verdict],
            "marker": {"color": colour, "size": 7},
            "error_x": {
                "type": "data",
                "symmetric": False,
                "array": [r[3] - r[1] for r in part],
                "arrayminus": [r[1] - r[2] for r in part],
                "thickness": 1.5,
                "width": 0,
            },
            "text": [f"{text['n']}: {r[5]}" for r in part],
            "hovertemplate": "%{y}: %{x:.1f}<br>%{text}<extra></extra>",
        })  # fmt: skip
    lows, highs = [r[2] for r in shown], [r[3] for r in shown]
    if average is not None:
        _vline_legend(fig, average, text["average"])
        lows, highs = [*lows, average], [*highs, average]
    elif isinstance(offices, Comparison) and offices.overall_index.value is not None:
        _vline(fig, offices.overall_index.value, text["overall"])
        lows, highs = [*lows, offices.overall_index.value], [*highs, offices.overall_index.value]
    update_spec(fig["layout"], {
        "xaxis": {"title": {"text": text["index"]}, "range": index_range(lows, highs)},
        "yaxis": {"title": {"text": text["office"]}, "categoryorder": "array",
                  "categoryarray": [r[0] for r in shown]},
    })  # fmt: skip
    left_out = len(rows) - len(shown)
    note = text["too few"].format(count=left_out) if left_out else None
    fig["layout"]["height"] = max(300, 18 * len(shown) + 140)
    return _below_axis(_layout(fig, title), note)


def funnel_spec(
    funnel: Funnel,
    *,
    lang: Lang = "de",
    title: str | None = None,
    names: bool = False,
    labels: Mapping[str, str] | None = None,
) -> Spec:
    """Funnel plot: offices' values against n, with the 95% and 99.8% limits around the target.

    `names=True` writes office names next to the points outside the 95% limits, on the
    side towards the middle of the plot and not clipped by the axes, so that a name at an
    edge stays readable.
    """
    text = _labels(lang, labels)
    fig = _spec()
    grid = list(funnel.grid_n)
    for key, lows, highs, dash in (
        ("limit998", funnel.low998, funnel.high998, "dash"),
        ("limit95", funnel.low95, funnel.high95, "dot"),
    ):
        for i, line in enumerate((lows, highs)):
            fig["data"].append({
                "type": "scatter", "x": grid, "y": list(line), "mode": "lines",
                "name": text[key], "showlegend": i == 0, "legendgroup": key,
                "line": {"color": "#5f6b7a", "dash": dash, "width": 1}, "hoverinfo": "skip",
            })  # fmt: skip
    if funnel.target is not None:
        _hline(fig, funnel.target, text["target"])
    points = [p for p in funnel.offices if p.value is not None]
    outside = {"above 95%", "below 95%", "above 99.8%", "below 99.8%"}
    colours = [
        "#c62828" if p.position.startswith("below") else
        "#1a7f37" if p.position.startswith("above") else "#1f4e79"
        for p in points
    ]  # fmt: skip
    log_x = bool(grid) and max(grid) > 1000
    # at the n whose line holds the point's variance (the model's funnel), else at its n
    effective = any(p.effective_n is not None for p in points)
    xs = [p.n if p.effective_n is None else p.effective_n for p in points]
    counts = [
        f"{text['n']}: {_thousands(p.n, lang)}"
        + ("" if p.effective_n is None else f" ({text['effective']}: {p.effective_n:.0f})")
        for p in points
    ]
    ys = [p.value for p in points if p.value is not None]
    fig["data"].append({
        "type": "scatter",
        "x": xs,
        "y": ys,
        "mode": "markers+text" if names else "markers",
        "text": [p.label if names and p.position in outside else "" for p in points],
        "textposition": _label_positions(
            xs, ys, [*grid, *xs], [*funnel.low998, *funnel.high998, *ys], log_x
        ),
        "cliponaxis": False,
        "marker": {"color": colours, "size": 7},
        "name": text["office"],
        "customdata": [p.label for p in points],
        "hovertext": counts,
        "hovertemplate": "%{customdata}: %{y:.1f}<br>%{hovertext}<extra></extra>",
    })  # fmt: skip
    y_title = text["index"] if funnel.measure == "index" else text["top_box"]
    x_title = text["n_effective"] if effective else text["n"]
    xaxis: dict[str, Any] = {"title": {"text": x_title}, "type": "log" if log_x else "linear"}
    if log_x:  # round ticks (10, 20, 50, 100, …) instead of plotly's "2 5" between decades
        ticks = round_ticks(min(grid), max(grid))
        xaxis |= {"tickvals": ticks, "ticktext": [_thousands(t, lang) for t in ticks]}
    yaxis: dict[str, Any] = {"title": {"text": y_title}}
    shown = _funnel_ranges(funnel, xs, ys, log_x)
    if shown is not None:
        xaxis["range"], yaxis["range"] = shown
    update_spec(fig["layout"], {"xaxis": xaxis, "yaxis": yaxis})
    left_out = len(funnel.offices) - len(points)
    note = text["too few"].format(count=left_out) if left_out else None
    return _below_axis(_layout(fig, title), note)


def _funnel_ranges(
    funnel: Funnel, xs: Sequence[float], ys: Sequence[float], log_x: bool
) -> tuple[list[float], list[float]] | None:
    """The funnel's axes around its points: n from half the smallest point's (the lines
    further left, drawn for offices far smaller than any compared, only squeezed the points
    to one edge: job centres of thousands of responses on a grid from 5), and the values the
    points and the lines there take, within the scale's 0–100 (the 99.8% lines of a few
    responses reach past both ends). None without points."""
    if not xs:
        return None
    grid = np.asarray(funnel.grid_n, dtype=np.float64)
    x_low = min(xs) / 2
    x_high = max([*xs, *(grid.tolist() or [0.0])]) * 1.05
    lines = np.array([funnel.low998, funnel.high998, funnel.low95, funnel.high95], dtype=float)
    seen = lines[:, grid >= x_low] if grid.size and lines.shape[-1] == grid.size else lines[:, :0]
    values = [*ys, *seen[np.isfinite(seen)].tolist()]
    if funnel.target is not None:
        values.append(funnel.target)
    pad = max(2.0, 0.04 * (max(values) - min(values)))
    y_range = [max(0.0, min(values) - pad), min(100.0, max(values) + pad)]
    x_range = [math.log10(x_low), math.log10(x_high)] if log_x else [0.0, x_high]
    return x_range, y_range


def round_ticks(low: float, high: float) -> list[int]:
    """1, 2 and 5 times the powers of ten from `low` to `high` (both included when round)."""
    ticks = []
    decade = 1
    while decade <= high:
        ticks += [m * decade for m in (1, 2, 5) if low <= m * decade <= high]
        decade *= 10
    return ticks


def _thousands(value: int, lang: str) -> str:
    """1000 as "1.000" in German and "1,000" in English."""
    return f"{value:,}".replace(",", "." if lang == "de" else ",")


def _label_positions(
    xs: Sequence[float],
    ys: Sequence[float],
    x_span: Sequence[float],
    y_span: Sequence[float],
    log_x: bool,
) -> list[str]:
    """Where each point's label goes so that it stays inside the figure: towards the middle
    of the x-axis (a label centred on a point at the edge runs out of the plot), and under
    the point in the top tenth of the y-axis."""

    def share(v: float, span: Sequence[float], log: bool) -> float:
        f = np.log10 if log else float
        low, high = f(min(span)), f(max(span))
        return 0.5 if high <= low else float((f(v) - low) / (high - low))

    return [
        ("bottom" if share(y, y_span, False) > 0.9 else "top")
        + (" left" if share(x, x_span, log_x) > 0.5 else " right")
        for x, y in zip(xs, ys, strict=True)
    ]


BARS_MARGIN_BOTTOM = 110
"""Pixels under the bars for tick labels, the axis title and the legend."""


def diverging_bars_spec(
    items: CountTable | Sequence[str],
    counts: Any = None,
    level_labels: Sequence[str] | None = None,
    *,
    lang: Lang = "de",
    title: str | None = None,
    min_n: int = 1,
    labels: Mapping[str, str] | None = None,
) -> Spec:
    """Diverging stacked bars of the answer distribution per item (percent of answers).

    Levels below the middle go left of zero, levels above go right; an odd middle level
    is split half and half across zero (Robbins & Heiberger 2011, "Plotting Likert and
    other rating scales", JSM Proceedings). Items with fewer than `min_n` answers get no bar.
    """
    text = _labels(lang, labels)
    if isinstance(items, CountTable):
        names, matrix = list(items.labels), items.counts
        level_labels = level_labels or [f"{v:g}" for v in items.levels]
    else:
        if counts is None:
            raise ValueError("give counts (items × levels) with the item names")
        names, matrix = list(items), as_count_matrix(counts)
        if len(names) != matrix.shape[0]:
            raise ValueError(f"{len(names)} item names but {matrix.shape[0]} rows of counts")
    n_levels = matrix.shape[1]
    level_labels = list(level_labels or [str(i + 1) for i in range(n_levels)])
    if len(level_labels) != n_levels:
        raise ValueError(f"{len(level_labels)} level labels but {n_levels} levels")
    n = matrix.sum(axis=1)
    keep = n >= max(min_n, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(keep[:, None], 100.0 * matrix / n[:, None], 0.0)
    y_names = [
        wrap_label(nm if k else f"{nm} ({text['no answers']})")
        for nm, k in zip(names, keep, strict=True)
    ]
    half = n_levels // 2
    palette = _diverging_palette(n_levels)
    fig = _spec()
    # Left side, drawn from the middle outwards so the stacks grow away from zero.
    order = list(range(half - 1, -1, -1))
    if n_levels % 2:
        order = [half, *order]
    for j in order:
        part = share[:, j] / 2 if (n_levels % 2 and j == half) else share[:, j]
        fig["data"].append(_bar(-part, y_names, level_labels[j], palette[j], keep, share[:, j],
                                rank=j, show=j != half or not n_levels % 2))  # fmt: skip
    right = list(range(half + n_levels % 2, n_levels))
    if n_levels % 2:
        right = [half, *right]
    for j in right:
        part = share[:, j] / 2 if (n_levels % 2 and j == half) else share[:, j]
        fig["data"].append(_bar(part, y_names, level_labels[j], palette[j], keep, share[:, j], j))
    update_spec(fig["layout"], {
        "barmode": "relative", "bargap": 0.3,
        "xaxis": {"title": {"text": text["share"]}, "zeroline": True, "zerolinecolor": "#333"},
        "yaxis": {"autorange": "reversed"},
    })  # fmt: skip
    _layout(fig, title)
    # The legend sits in the bottom margin, measured from the figure's edge in pixels: placed
    # relative to the plot area it runs into the axis title when there are only one or two items.
    update_spec(fig["layout"], {
        "height": sum(max(40, 16 * label.count("<br>") + 30) for label in y_names)
        + 80 + BARS_MARGIN_BOTTOM,
        "margin": {"b": BARS_MARGIN_BOTTOM},
        "legend": {"yref": "container", "y": 0, "yanchor": "bottom"},
    })  # fmt: skip
    return fig


LABEL_WIDTH = 24
"""Characters per line of an axis label: a question text on one line leaves a phone's chart
no room for its bars."""


def wrap_label(text: str, width: int = LABEL_WIDTH) -> str:
    """`text` broken at spaces into lines of at most `width` characters (a longer word stays
    whole), joined with plotly's <br>."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "<br>".join(lines) or text


def _bar(
    x: Any,
    y: list[str],
    name: str,
    colour: str,
    keep: Any,
    full: Any,
    rank: int,
    show: bool = True,
) -> dict[str, Any]:
    return {
        "type": "bar",
        "x": np.where(keep, x, 0.0).round(2).tolist(),
        "y": y,
        "orientation": "h",
        "name": name,
        "legendgroup": name,
        "legendrank": rank,  # the legend lists the levels in order, not in drawing order
        "showlegend": show,
        "marker": {"color": colour},
        "text": [f"{v:.0f}%" if k else "" for v, k in zip(full, keep, strict=True)],
        "hovertemplate": f"{name}: %{{text}}<extra></extra>",
        "textposition": "none",
    }


@functools.lru_cache(maxsize=32)
def _diverging_palette(n_levels: int) -> tuple[str, ...]:
    """The bars' colours of `n_levels` levels, sampled once per number of levels: plotly's
    `sample_colorscale` looks its named scales up anew on each call (0.6 ms, two charts of
    an office page)."""
    if n_levels == 1:
        return ("#92c5de",)
    return tuple(sample_colorscale("RdBu", np.linspace(0.05, 0.95, n_levels).tolist()))


def trend_spec(
    months: Sequence[str | dt.date],
    estimates: Sequence[Estimate],
    *,
    lang: Lang = "de",
    title: str | None = None,
    y_title: str | None = None,
    labels: Mapping[str, str] | None = None,
    firsts: Sequence[str | None] | None = None,
) -> Spec:
    """Index (or any 0–100 figure) by month with its 95% interval as a band.

    `firsts`: of a point that counts several months together, the first of them (the point
    stands at the last); its hover text names them.

    Months whose estimate has no value (too few responses: the caller decides) are gaps in
    the line and in the band. plotly's fill="tonexty" would join a band across a gap into a
    wrong shape, so each run of months with values gets its own pair of band traces.
    """
    text = _labels(lang, labels)
    if len(months) != len(estimates):
        raise ValueError(f"{len(months)} months but {len(estimates)} estimates")
    x = [m.isoformat() if isinstance(m, dt.date) else str(m) for m in months]
    runs: list[list[int]] = [[]]
    for i, e in enumerate(estimates):
        if e.value is None or e.ci_low is None or e.ci_high is None:
            runs.append([])
        else:
            runs[-1].append(i)
    fig = _spec()
    for k, run in enumerate(r for r in runs if r):
        xs = [x[i] for i in run]
        fig["data"].append({
            "type": "scatter", "x": xs, "y": [estimates[i].ci_high for i in run],
            "mode": "lines", "line": {"width": 0}, "showlegend": False, "hoverinfo": "skip",
            "legendgroup": "ci",
        })  # fmt: skip
        fig["data"].append({
            "type": "scatter", "x": xs, "y": [estimates[i].ci_low for i in run],
            "mode": "lines", "line": {"width": 0}, "fill": "tonexty",
            "fillcolor": "rgba(31,78,121,0.2)", "name": text["ci"], "hoverinfo": "skip",
            "legendgroup": "ci", "showlegend": k == 0,
        })  # fmt: skip
    fig["data"].append({
        "type": "scatter", "x": x, "y": [e.value for e in estimates], "mode": "lines+markers",
        "name": text["estimate"], "line": {"color": "#1f4e79"},
        "text": [("" if e.value is None else f"{text['n']}: {e.n}" if not f else
                  f"{f} – {m} ({text['together']})<br>{text['n']}: {e.n}")
                 for e, f, m in zip(estimates, firsts or [None] * len(x), x, strict=True)],
        "hovertemplate": "%{x|%B %Y}: %{y:.1f}<br>%{text}<extra></extra>",  # "Mai 2026"
    })  # fmt: skip
    update_spec(fig["layout"], {
        "xaxis": {"title": {"text": text["month"]}},
        "yaxis": {"title": {"text": y_title or text["index"]}, "range": [0, 100]},
    })  # fmt: skip
    return _below_axis(_layout(fig, title), None)


caterpillar = _as_figure(caterpillar_spec, "caterpillar")
funnel_plot = _as_figure(funnel_spec, "funnel_plot")
diverging_bars = _as_figure(diverging_bars_spec, "diverging_bars")
trend = _as_figure(trend_spec, "trend")
