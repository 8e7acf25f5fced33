"""What the dashboards and the results API give: the same structs for pages, CSV and JSON.

Every count is a protected count (see survey/dashboard/disclosure.py): rounded slightly at
random, the same way every time. A figure is None where its protected n is below
`min_responses`, and then its n is None too; the verdict says "too few responses".
"""

from __future__ import annotations

from typing import Literal

import msgspec

Verdict = Literal["better", "worse", "no clear difference", "withheld", "too few responses"]
"""The rank test's verdict (Mann–Whitney against the rest of the comparison group, BH q and
|r| ≥ 0.1); "withheld" where the group's own figure is withheld (the verdict, effect size
and q would give it back)."""
ModelVerdict = Literal[
    "above", "below", "no clear difference", "withheld", "too few responses", "too few offices"
]
"""The random-effects model's verdict (analysis.model): "above"/"below" when the 95%
interval of (office − average of the group's offices) excludes 0; "too few offices" when
fewer than three units of the group have enough responses for a model. The funnel
position, shrunken index and rank interval come from the same model."""


class Filters(msgspec.Struct, frozen=True):
    """Whole months (YYYY-MM) and at most one filter value."""

    first_month: str
    last_month: str
    previous_first_month: str
    previous_last_month: str
    """The previous period: as many months, just before."""
    service_type: str | None = None
    locale: str | None = None
    mode: str | None = None
    adjust: Literal["mix", "none"] = "mix"
    """Whether verdicts, funnel and ranks use the client-mix adjusted index (the default) or
    the observed one; a filtered view is never adjusted (survey/dashboard/casemix.py)."""

    @property
    def dimension(self) -> str | None:
        """The filtered column (service_type, locale or mode), or None."""
        for name in ("service_type", "locale", "mode"):
            if getattr(self, name) is not None:
                return name
        return None

    @property
    def value(self) -> str | None:
        return None if self.dimension is None else getattr(self, self.dimension)


class Forecast(msgspec.Struct):
    """When an office without a verdict yet would get one (`analysis.time_to_verdict`, the
    model's rule simulated): if its true difference from the group's average were
    `difference` (index points), with `per_month` responses a month it would have the
    verdict with 80% probability once its period holds `needed` responses, about `months`
    months of answers. `needed` and `months` are None when that takes longer than
    `max_months`."""

    difference: float
    per_month: int
    needed: int | None
    months: int | None
    max_months: int


class MixAdjustment(msgspec.Struct):
    """How a page's verdicts, funnel and ranks treat client mix."""

    applied: bool
    """Whether they come from the adjusted index (else from the observed one)."""
    asked: Literal["mix", "none"]
    """What the page was asked for (`adjust=`)."""
    adjusters: list[str]
    """What the adjustment allows for: service_type, language (German, Leichte Sprache,
    other), mode. Age is not asked, so it is not among them."""
    reason: str | None = None
    """Why a page asked to adjust is not adjusted (a filtered view; too few units)."""
    coefficients: dict[str, float] = msgspec.field(default_factory=dict)
    """Index points of each adjuster value against its reference value (within offices)."""


class OfficeRow(msgspec.Struct):
    """One office in the current period against its comparison group."""

    office_id: int
    office: str
    organization: str
    n: int | None
    index: float | None
    index_low: float | None
    index_high: float | None
    top_box: float | None
    """Share of the two best answers to the overall-satisfaction item, percent."""
    top_box_low: float | None
    top_box_high: float | None
    previous_n: int | None
    change: float | None
    """Index now minus index in the previous period (same length, just before)."""
    change_low: float | None
    change_high: float | None
    change_pvalue: float | None
    verdict: Verdict
    qvalue: float | None
    effect_size: float | None
    model_verdict: ModelVerdict = "too few responses"
    difference: float | None = None
    """The model's estimate of the office's true index minus the group's average (index
    points, shrunken), with its 95% interval: of the adjusted index where `adjusted` is
    given, else of the observed one."""
    difference_low: float | None = None
    difference_high: float | None = None
    nps: float | None = None
    """Net Promoter Score (−100…100) of the recommend question with its adjusted-Wald 95%
    interval, from the protected counts; withheld with the index, and below the minimum of
    answers to that question."""
    nps_low: float | None = None
    nps_high: float | None = None
    adjusted: float | None = None
    """The index adjusted for client mix (the index the office would have with the group's
    mix of service types, language groups and modes), with its 95% interval; None where the
    page is not adjusted (`MixAdjustment.applied`) or the index is withheld."""
    adjusted_low: float | None = None
    adjusted_high: float | None = None
    forecast: list[Forecast] = msgspec.field(default_factory=list)
    """Time to verdict while the model sees no clear difference (the office page's): for the
    model's estimate of the difference, and for 5 points when that would take longer than
    `max_months`. Empty where there is a verdict or the verdict is withheld."""


class Overview(msgspec.Struct):
    filters: Filters
    min_responses: int
    group: str
    group_n: int | None
    group_index: float | None
    rows: list[OfficeRow]
    group_hidden: str | None = None
    """Why `group_index` is withheld although there are enough responses: it would reveal a
    single office or job centre the user may not see (by subtraction)."""
    group_nps: float | None = None
    """The group's Net Promoter Score with its 95% interval: withheld with `group_index`,
    and where the pooled answers to the recommend question would reveal a unit."""
    group_nps_low: float | None = None
    group_nps_high: float | None = None

    adjustment: MixAdjustment | None = None
    """What the page's verdicts, funnel and ranks are based on (None: not adjusted)."""


class ItemResult(msgspec.Struct):
    item: str
    text: str
    n: int | None
    levels: list[int]
    counts: list[int] | None
    index: float | None
    top_box: float | None
    nps: list[float | None] | None = None
    """Net Promoter Score, lower and upper 95% limit (−100…100): 0–10 recommend items only."""


class TrendPoint(msgspec.Struct):
    month: str
    n: int | None
    index: float | None
    index_low: float | None
    index_high: float | None
    first: str | None = None
    """Where the point counts several months together, the first of them; it stands at the
    last (`month`). Such a block is what the office's months come in when each has fewer
    than the minimum of responses (docs/methods.md, "Blocks of months"); its figure is the
    one a period of exactly these months shows. None: the month by itself."""


class ComparisonRow(msgspec.Struct):
    level: Literal["office", "organization", "network"]
    name: str
    n: int | None
    index: float | None
    index_low: float | None
    index_high: float | None
    hidden: str | None = None
    """Why a pooled figure is withheld: it would reveal a single office or job centre."""


class Comment(msgspec.Struct):
    month: str
    text: str
    """Masked automatically: names, phone numbers, e-mail addresses and customer numbers are
    replaced (the masking may miss something; an admin can hide a comment)."""
    key: str
    """Names the comment for an admin who hides it; says nothing about when it was written."""


class OfficeResult(msgspec.Struct):
    filters: Filters
    min_responses: int
    office: OfficeRow
    items: list[ItemResult]
    trend: list[TrendPoint]
    comparison: list[ComparisonRow]
    comments: list[Comment]
    """By month, newest month first; within a month in an order unrelated to submission."""
    comments_withheld: list[str]
    """Months of the period whose comments are not shown: too few responses that month."""
    forecast: list[Forecast] = msgspec.field(default_factory=list)
    """Time to verdict: for the model's estimate of the difference, and for a difference
    of 5 points when that estimate would not be clear within `max_months`."""

    adjustment: MixAdjustment | None = None
    """What the page's verdicts, funnel and ranks are based on (None: not adjusted)."""
    comments_readable: bool = True
    """False for a user who sees the office's statistics but not its clients' comments (a
    network coordinator of another job centre's office): `comments` is then empty."""
    comments_filtered: bool = False
    """True for a view with a filter (service type, language or mode): `comments` is then
    empty, and the view without a filter shows them. A comment in the lists of two filtered
    views (a mode and a service type) would be tied to the few clients of both, which no
    noise hides: a list is exact."""


class BenchmarkRow(msgspec.Struct):
    id: int
    name: str
    n: int | None
    index: float | None
    index_low: float | None
    index_high: float | None
    shrunken: float | None
    """The random-effects model's estimate of the true index (posterior mean): small
    offices are pulled towards the group's average."""
    shrunken_low: float | None
    shrunken_high: float | None
    rank: int | None
    rank_low: int | None
    rank_high: int | None
    of: int | None
    verdict: Verdict
    qvalue: float | None
    funnel: str
    """Position on the model's funnel plot: within, above/below 95% or 99.8%, too few
    responses, withheld. Beyond the 95% line ⇔ `model_verdict` above/below."""
    hidden: str | None = None
    """Why a job centre's figures are withheld: they would reveal a single office."""
    model_verdict: ModelVerdict = "too few responses"
    """The verdict of the model that gives the shrunken index, rank interval and funnel
    position (on the adjusted index where `adjusted` is given); `verdict` and `qvalue` are
    the rank test's (never adjusted)."""
    adjusted: float | None = None
    """The index adjusted for client mix, with its 95% interval (see OfficeRow.adjusted)."""
    adjusted_low: float | None = None
    adjusted_high: float | None = None


class Benchmark(msgspec.Struct):
    filters: Filters
    min_responses: int
    level: Literal["office", "organization"]
    group: str
    target: float | None
    """The group's average: the model's estimate of the mean of the units' true indices
    (the centre line of the funnel)."""
    rows: list[BenchmarkRow]
    target_hidden: str | None = None
    """Why `target` is withheld: it would reveal a single office or job centre. Shrunken
    indices and ranks are then withheld too (they are computed from the target)."""

    adjustment: MixAdjustment | None = None
    """What the page's verdicts, funnel and ranks are based on (None: not adjusted)."""


class BestUnit(msgspec.Struct):
    """An office or job centre in "learning from the best"."""

    id: int
    name: str
    organization: str
    own: bool
    """Whether the user may see this unit's results (only then are all its verdicts shown)."""
    verdicts: list[Verdict | None]
    """Per question (in the order of `Learning.items`), against the rest of the comparison
    group; None where nothing is said: a unit the user may not see is named only where it is
    clearly better."""


class BestItem(msgspec.Struct):
    item: str
    text: str
    better: list[int]
    """The ids of the units clearly better than the rest of the group on this question."""
    withheld: str | None = None
    """Why no verdict is shown for this question (the group's own figure is withheld)."""


class Learning(msgspec.Struct):
    """Learning from the best: per question, who is clearly better or worse than the rest of
    the comparison group (the benchmark's test and rule), so a team lead knows whom to ask."""

    filters: Filters
    min_responses: int
    level: Literal["office", "organization"]
    group: str
    items: list[BestItem]
    units: list[BestUnit]
    """The user's own units, and the others that are clearly better on some question."""
