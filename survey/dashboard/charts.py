"""The charts of the office and benchmark pages: analysis.charts draws them whole; this module
only picks the figures and passes the words, translated from the staff catalog."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any, Literal

from analysis import (
    Estimate,
    caterpillar_spec,
    diverging_bars_spec,
    funnel_spec,
    trend_spec,
    update_spec,
)
from survey.dashboard.results import DEFINITION, BenchmarkParts
from survey.dashboard.schemas import ItemResult, OfficeResult
from survey.dashboard.words import number
from survey.i18n import N_

WORDS = {
    "index": N_("Satisfaction index (0–100)"),
    "top_box": N_("Top-box share (%)"),
    "office": N_("Office"),
    "n": N_("responses"),
    "n_effective": N_("responses (effective: as precise as the value)"),
    "effective": N_("effective"),
    "better": N_("better"),
    "worse": N_("worse"),
    "no clear difference": N_("no clear difference"),
    "withheld": N_("comparison not shown"),
    "too few": N_("{count} unit(s) without a value not shown"),
    "overall": N_("all offices"),
    "target": N_("comparison value"),
    "limit95": N_("95% limit"),
    "limit998": N_("99.8% limit"),
    "ci": N_("95% confidence interval"),
    "month": N_("Month"),
    "share": N_("share of responses (%)"),
    "no answers": N_("too few responses"),
    "estimate": N_("estimate"),
    "together": N_("months counted together"),
}


def words(gettext: Callable[[str], str]) -> dict[str, str]:
    return {key: gettext(text) for key, text in WORDS.items()}


def office_charts(result: OfficeResult, lang: str, gettext: Callable[[str], str]) -> dict[str, Any]:
    """The trend, and one answer chart per scale ("items-<scale>") so that every item is
    drawn with the words its own answer levels have (agree, satisfied, ...)."""
    labels = words(gettext)
    charts: dict[str, Any] = {}
    for scale, items in _items_by_scale(result.items).items():
        level_words = _level_labels(scale, lang)
        if level_words is None:  # a scale that labels only its ends (0-10) stays in the table
            continue
        charts[f"items-{scale}"] = diverging_bars_spec(
            [i.text for i in items],
            [i.counts or [0] * len(level_words) for i in items],
            level_words,
            labels=labels,
        )
    estimates = [Estimate(p.index, p.index_low, p.index_high, p.n or 0) for p in result.trend]
    charts["trend"] = trend_spec([p.month for p in result.trend], estimates, labels=labels,
                                 firsts=[p.first for p in result.trend])  # fmt: skip
    return charts


def _items_by_scale(items: Iterable[ItemResult]) -> dict[str, list[ItemResult]]:
    """Items grouped by the code of their scale, scales in questionnaire order."""
    out: dict[str, list[ItemResult]] = defaultdict(list)
    for i in items:
        item = DEFINITION.item(i.item)
        if item is not None and item.scale is not None:
            out[item.scale].append(i)
    return dict(out)


def _level_labels(scale: str, lang: str) -> list[str] | None:
    """The questionnaire's word for every level of `scale` in `lang` (else its source
    language), or None when some level has no word."""
    defined = DEFINITION.scales[scale]
    found = defined.labels.get(lang) or defined.labels.get(DEFINITION.source_locale, {})
    labels = [found.get(str(v)) for v in range(defined.min, defined.max + 1)]
    return None if None in labels else [str(label) for label in labels]


ADJUSTED_AXIS = N_("Index adjusted for client mix (0–100)")
"""The caterpillar's axis when the model runs on the adjusted index
(survey/dashboard/casemix.py)."""
ADJUSTED_AXIS_SHORT = N_("Adjusted index (0–100)")
"""The funnel's vertical axis, too short for the long title on a phone; also the
caterpillar's axis on a phone."""
INDEX_AXIS_SHORT = N_("Index (0–100)")
"""The caterpillar's axis on a phone, where its names leave the plot about 100 px."""
MODEL_WORDS = {"above": N_("clearly above average"), "below": N_("clearly below average")}
LEVEL_WORDS = {
    "office": {
        "office": N_("Office"),
        "overall": N_("all offices"),
        "average": N_("average of the offices"),
    },
    "organization": {
        "office": N_("Job centre"),
        "overall": N_("all job centres"),
        "average": N_("average of the job centres"),
    },
}
"""The words of the benchmark charts that follow the level compared (offices or job centres)."""


def benchmark_charts(
    parts: BenchmarkParts, lang: Literal["de", "en"], gettext: Callable[[str], str]
) -> dict[str, Any]:
    level = LEVEL_WORDS[parts.result.level]
    labels = words(gettext) | {key: gettext(text) for key, text in level.items()}
    # colours and legend of the caterpillar are the model's verdicts (results.benchmark)
    labels |= {"better": gettext(MODEL_WORDS["above"]), "worse": gettext(MODEL_WORDS["below"])}
    mix = parts.result.adjustment
    adjusted = {"index": gettext(ADJUSTED_AXIS)} if mix is not None and mix.applied else {}
    # the funnel's vertical axis is short (on a phone about 200 px): a short title
    upright = {"index": gettext(ADJUSTED_AXIS_SHORT)} if adjusted else {}
    funnel = funnel_spec(parts.funnel, lang=lang, names=True, labels=labels | upright)
    _labels_by_importance(funnel, parts)
    # its line is the value the verdicts (its colours) compare with, named with its figure
    average = parts.funnel.target
    if average is not None:
        labels["average"] = f"{labels['average']}: {number(average, lang)}"
    caterpillar = caterpillar_spec(
        parts.comparison.offices, labels=labels | adjusted, average=average
    )
    # where its title would take more than a line (a phone), the page shows this one
    short = gettext(ADJUSTED_AXIS_SHORT if adjusted else INDEX_AXIS_SHORT)
    caterpillar["layout"].setdefault("meta", {})["short_titles"] = {"xaxis": short}
    # where its office names would take much of its width (a phone), each stands above its row
    caterpillar["layout"]["meta"]["labels_above"] = True
    charts = {"funnel": funnel, "caterpillar": caterpillar}
    return charts  # their legends and notes stay clear of the x-axis title (analysis.charts)


FEW_POINTS = 5
"""Up to this many points in a funnel plot, every point is named (a manager's own offices)."""


def _labels_by_importance(fig: Any, parts: BenchmarkParts) -> None:
    """Rank the funnel's names by importance (outside the 99.8% limits, then the 95% limits,
    the farther out the earlier) as `layout.meta.label_order` (positions among the named
    points), and with few points name them all. The page hides a name that would overlap one
    before it in that order (dashboard.js), so the names shown never overlap, whatever the
    width; the points keep their order (the legend takes its colour from the first)."""
    trace = next((t for t in fig["data"] if t.get("customdata") is not None), None)
    if trace is None or not trace["x"]:
        return
    position = {p.label: p.position for p in parts.funnel.offices}
    target = parts.funnel.target
    names = list(trace["customdata"])
    rank = {"above 99.8%": 0, "below 99.8%": 0, "above 95%": 1, "below 95%": 1}

    def importance(i: int) -> tuple[int, float]:
        far = abs(trace["y"][i] - target) if target is not None else 0.0
        return rank.get(position.get(names[i], ""), 2), -far

    if len(names) <= FEW_POINTS:
        trace["text"] = names
    labelled = [i for i, text in enumerate(trace["text"]) if text]  # plotly draws only these
    order = sorted(range(len(labelled)), key=lambda j: importance(labelled[j]))
    update_spec(fig["layout"], {"meta": {"label_order": order}})
