"""Resonanz analysis engine: satisfaction indices and significance tests from count tables.

Pure numpy/scipy (plotly for charts). Every function takes count vectors — one count per
answer level, levels ascending — and never needs individual responses. See docs/methods.md.
"""

from __future__ import annotations

from analysis.benchmark import (
    Comparison,
    Funnel,
    FunnelPoint,
    OfficeComparison,
    compare_offices,
    funnel_limits,
)
from analysis.casemix import Adjustment, adjust, adjust_from_margins, adjusted_model
from analysis.charts import (
    Spec,
    caterpillar,
    caterpillar_spec,
    diverging_bars,
    diverging_bars_spec,
    funnel_plot,
    funnel_spec,
    spec_json,
    trend,
    trend_spec,
    update_spec,
)
from analysis.counts import CountTable
from analysis.indices import (
    Alpha,
    Estimate,
    cronbach_alpha,
    net_promoter,
    satisfaction_index,
    top_box,
)
from analysis.model import (
    OfficeEffect,
    OfficeModel,
    VerdictForecast,
    fit_office_model,
    office_model,
    time_to_verdict,
    verdict_power,
)
from analysis.ranking import (
    Detectable,
    Ranking,
    RankInterval,
    Shrinkage,
    Shrunken,
    detectable_difference,
    rank_intervals,
    responses_needed,
    shrunken_indices,
)
from analysis.significance import (
    Change,
    Dunn,
    Kruskal,
    MannWhitney,
    adjust_pvalues,
    change,
    dunn,
    kruskal,
    mann_whitney,
)

__all__ = [
    "Adjustment",
    "Alpha",
    "Change",
    "Comparison",
    "CountTable",
    "Detectable",
    "Dunn",
    "Estimate",
    "Funnel",
    "FunnelPoint",
    "Kruskal",
    "MannWhitney",
    "OfficeComparison",
    "OfficeEffect",
    "OfficeModel",
    "RankInterval",
    "Ranking",
    "Shrinkage",
    "Shrunken",
    "Spec",
    "VerdictForecast",
    "adjust",
    "adjust_from_margins",
    "adjust_pvalues",
    "adjusted_model",
    "caterpillar",
    "caterpillar_spec",
    "change",
    "compare_offices",
    "cronbach_alpha",
    "detectable_difference",
    "diverging_bars",
    "diverging_bars_spec",
    "dunn",
    "fit_office_model",
    "funnel_limits",
    "funnel_plot",
    "funnel_spec",
    "kruskal",
    "mann_whitney",
    "net_promoter",
    "office_model",
    "rank_intervals",
    "responses_needed",
    "satisfaction_index",
    "shrunken_indices",
    "spec_json",
    "time_to_verdict",
    "top_box",
    "trend",
    "trend_spec",
    "update_spec",
    "verdict_power",
]
