"""What the dashboards and the results API give: the same structs for pages, CSV and JSON.

A figure is None where fewer than `min_responses` answers stand behind it; the verdict then
says "too few responses" and `needed`/`needed_by` say how many more and by when.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec

Verdict = Literal["better", "worse", "no clear difference", "too few responses"]


class Filters(msgspec.Struct, frozen=True):
    date_from: dt.date
    date_to: dt.date
    previous_from: dt.date
    previous_to: dt.date
    service_type: str | None = None
    locale: str | None = None
    mode: str | None = None

    @property
    def recent_from(self) -> dt.date:
        """Start of the last 28 days of the period: the office's recent response rate."""
        return max(self.date_from, self.date_to - dt.timedelta(days=27))

    @property
    def recent_days(self) -> int:
        return (self.date_to - self.recent_from).days + 1


class OfficeRow(msgspec.Struct):
    """One office in the current period against its comparison group."""

    office_id: int
    office: str
    organization: str
    n: int
    index: float | None
    index_low: float | None
    index_high: float | None
    top_box: float | None
    """Share of the two best answers to the overall-satisfaction item, percent."""
    top_box_low: float | None
    top_box_high: float | None
    previous_n: int
    change: float | None
    """Index now minus index in the previous period (same length, just before)."""
    change_low: float | None
    change_high: float | None
    change_pvalue: float | None
    verdict: Verdict
    qvalue: float | None
    effect_size: float | None
    needed: int | None = None
    """More responses needed for figures (only when there are too few)."""
    needed_by: dt.date | None = None
    """When the office reaches them at its rate of the last 28 days (None: no recent answers)."""


class Overview(msgspec.Struct):
    filters: Filters
    min_responses: int
    group: str
    group_n: int
    group_index: float | None
    rows: list[OfficeRow]
    group_hidden: str | None = None
    """Why `group_index` is withheld although there are enough responses: it would reveal a
    single office or job centre the user may not see (by subtraction)."""


class ItemResult(msgspec.Struct):
    item: str
    text: str
    n: int
    levels: list[int]
    counts: list[int] | None
    index: float | None
    top_box: float | None


class TrendPoint(msgspec.Struct):
    month: str
    n: int
    index: float | None
    index_low: float | None
    index_high: float | None


class ComparisonRow(msgspec.Struct):
    level: Literal["office", "organization", "network"]
    name: str
    n: int
    index: float | None
    index_low: float | None
    index_high: float | None
    hidden: str | None = None
    """Why a pooled figure is withheld: it would reveal a single office or job centre."""


class Comment(msgspec.Struct):
    day: dt.date
    locale: str
    text: str
    """Masked: names, phone numbers, e-mail addresses and customer numbers are replaced."""


class OfficeResult(msgspec.Struct):
    filters: Filters
    min_responses: int
    office: OfficeRow
    items: list[ItemResult]
    trend: list[TrendPoint]
    comparison: list[ComparisonRow]
    comments: list[Comment]
    comments_hidden: bool
    """True when the office has too few responses for its comments to be shown."""


class BenchmarkRow(msgspec.Struct):
    id: int
    name: str
    n: int
    index: float | None
    index_low: float | None
    index_high: float | None
    shrunken: float | None
    """Empirical-Bayes index: small offices are pulled towards the group mean."""
    shrunken_low: float | None
    shrunken_high: float | None
    rank: int | None
    rank_low: int | None
    rank_high: int | None
    of: int
    verdict: Verdict
    qvalue: float | None
    funnel: str
    """Position on the funnel plot: within, above/below 95% or 99.8%, too few responses."""
    hidden: str | None = None
    """Why a job centre's figures are withheld: they would reveal a single office."""


class Benchmark(msgspec.Struct):
    filters: Filters
    min_responses: int
    level: Literal["office", "organization"]
    group: str
    target: float | None
    rows: list[BenchmarkRow]
    target_hidden: str | None = None
    """Why `target` is withheld: it would reveal a single office or job centre."""
