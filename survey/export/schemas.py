"""What an export is asked for and what describes it: the request, variables, the codebook."""

from __future__ import annotations

from typing import Literal

import msgspec

Format = Literal["csv", "parquet", "sav", "dta"]
FORMATS: tuple[str, ...] = ("csv", "parquet", "sav", "dta")
NOT_ANSWERED = -1
NOT_ASKED = -2
WITHHELD = -3
OTHER_LANGUAGE_CODE = 99


class ExportRequest(msgspec.Struct, frozen=True):
    format: str = "csv"
    date_from: str | None = None
    """First month, YYYY-MM (default: the first month with responses)."""
    date_to: str | None = None
    """Last month, YYYY-MM (default and latest: the last complete month)."""
    service_type: str | None = None
    language: str | None = None
    mode: str | None = None
    office: int | None = None
    jobcentre: int | None = None
    lang: str = "de"
    """Language of variable and value labels in the file (de or en)."""
    sep: str = ","
    """CSV only: "," or ";" (what Excel expects in German regional settings)."""


class Text(msgspec.Struct, frozen=True):
    de: str
    en: str


class Variable(msgspec.Struct, frozen=True):
    name: str
    label: Text
    kind: Literal["identifier", "period", "item"]
    values: dict[int, Text] = {}
    """Value labels: every code that occurs (for items: the scale's labelled levels)."""
    missing: dict[int, Text] = {}
    question: Text | None = None
    scale: str | None = None
    levels: list[int] = []
    dtype: str = "int16"
    measure: str = "nominal"


class VariableCounts(msgspec.Struct):
    """Rows of the export whose column carries a coarser code (language 99 "other") or the
    missing code -3 (withheld: the office where the row has only its office type or job
    centre, the month where it has only its quarter)."""

    generalized: int = 0
    withheld: int = 0


class Accounting(msgspec.Struct):
    """Every response of the export's period (by its true month) in the job centres the export
    covers (the `jobcentre` filter, else all the user's), in all their offices whatever the
    other filters, by what became of it; the five counts add up to `responses`. Only
    `exported` (the file's rows) and `not_selected` (the rest) depend on the other filters
    and the user's offices, so no count is finer than the rows themselves."""

    responses: int
    exported: int
    """Rows of this export."""
    left_out: int
    """No step of the ladder reached k."""
    held_back: int
    """Need a quarter step in a quarter still running: exported once it is over."""
    partial_quarter: int
    """Published for a quarter that the period covers only in part, so outside the period."""
    not_selected: int
    """Published for the period but not in this file: not selected by the filters (which
    select by published values), or outside the offices the user may export."""
    partial_quarters: list[str]
    """Complete quarters the period covers only in part, as 2025-Q4."""
    aligned_from: str | None
    """The period widened to whole quarters (where a quarter is complete): first month
    (None: from the first month with responses) ..."""
    aligned_to: str
    """... and last month."""


class Anonymization(msgspec.Struct):
    k: int
    period: str
    quasi_identifiers: list[str]
    ladder: list[str]
    rows_by_step: dict[str, int]
    """Rows of this export by the ladder step they were published at."""
    variables: dict[str, VariableCounts]
    """Values generalized or withheld in this export, per variable."""
    suppressed_in_scope: int
    """Responses of the exported job centres left out because no step reached k (all
    periods; `accounting` has those of this export's period)."""
    pending_in_scope: int
    """Responses of an incomplete quarter that need a quarter step: exported once it is over
    (all periods, as above)."""
    office_types: bool
    smallest_class: int | None
    accounting: Accounting
    """What became of every response of the period: exported, left out, held back, ..."""


class Codebook(msgspec.Struct):
    title: str
    generated: str
    """Date of the export (a day, as a record of when the file was made)."""
    rows: int
    format: str
    filters: dict[str, str]
    jobcentres: list[str]
    period_from: str
    period_to: str
    missing_codes: dict[int, Text]
    variables: list[Variable]
    anonymization: Anonymization
    notes: list[Text]
