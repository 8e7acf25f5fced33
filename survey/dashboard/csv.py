"""CSV downloads for the spreadsheet people open them with: the columns are the fields of the
row structs the JSON API returns, with headings in the page's language.

German pages get German CSV (semicolon, decimal comma), English pages English CSV (comma,
decimal point); both UTF-8 with a BOM so that Excel reads umlauts. Numeric columns hold
numbers only: a withheld figure is an empty cell, and the row's `status` column says why.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import Any

import msgspec
import xlsxwriter
from babel.numbers import format_decimal

from survey.dashboard import words
from survey.dashboard.schemas import Filters, OfficeRow
from survey.i18n import N_
from survey.spreadsheet import text_cell

HEADINGS = {
    "office_id": N_("office id"),
    "office": N_("office"),
    "organization": N_("job centre"),
    "id": N_("id"),
    "name": N_("name"),
    "level": N_("level"),
    "month": N_("month"),
    "first": N_("counted together from month"),
    "item": N_("item"),
    "text": N_("question"),
    "n": N_("responses"),
    "index": N_("index"),
    "index_low": N_("index, lower limit"),
    "index_high": N_("index, upper limit"),
    "top_box": N_("top two answers (%)"),
    "top_box_low": N_("top two answers, lower limit"),
    "top_box_high": N_("top two answers, upper limit"),
    "previous_n": N_("responses in the previous period"),
    "change": N_("change of the index"),
    "change_low": N_("change, lower limit"),
    "change_high": N_("change, upper limit"),
    "change_pvalue": N_("change, p-value"),
    "verdict": N_("rank test against the others"),
    "model_verdict": N_("compared with the average (model)"),
    "difference": N_("difference from the average (model)"),
    "difference_low": N_("difference, lower limit"),
    "difference_high": N_("difference, upper limit"),
    "qvalue": N_("q-value"),
    "effect_size": N_("effect size r"),
    "shrunken": N_("smoothed index"),
    "shrunken_low": N_("smoothed index, lower limit"),
    "shrunken_high": N_("smoothed index, upper limit"),
    "rank": N_("rank"),
    "rank_low": N_("rank, best possible"),
    "rank_high": N_("rank, worst possible"),
    "of": N_("ranked units"),
    "funnel": N_("funnel plot"),
    "status": N_("status"),
    "target": N_("target"),
    "target_status": N_("target reached?"),
    "needed": N_("responses still needed (about)"),
    "nps": N_("Net Promoter Score"),
    "nps_low": N_("Net Promoter Score, lower limit"),
    "nps_high": N_("Net Promoter Score, upper limit"),
    "forecast_difference": N_("time to verdict: difference assumed (points)"),
    "forecast_months": N_("time to verdict: months of answers"),
    "forecast": N_("time to verdict"),
    "adjusted": N_("index adjusted for client mix"),
    "adjusted_low": N_("adjusted index, lower limit"),
    "adjusted_high": N_("adjusted index, upper limit"),
}
"""The heading of each column (staff catalog); `n_3` and the like (answers per level) stay."""

FUNNEL_WORDS = {
    "within": N_("within the limits"),
    "above 95%": N_("above the 95% limit"),
    "below 95%": N_("below the 95% limit"),
    "above 99.8%": N_("above the 99.8% limit"),
    "below 99.8%": N_("below the 99.8% limit"),
    "too few responses": N_("too few responses"),
    "withheld": N_("withheld"),
    "too few offices": N_("too few units to compare"),
}


FORECAST_COLUMNS = ["forecast_difference", "forecast_months", "forecast"]
"""The overview's time to verdict (OfficeRow.forecast) as columns: the difference of the
forecast that gives a time (or of the last one tried), the months of answers (empty: not
within the longest period tried, see the words) and the page's words."""


def forecast_columns(row: OfficeRow, gettext: Callable[[str], str], locale: str) -> dict[str, Any]:
    """An overview row for CSV and XLSX: its fields with the time to verdict as columns; empty
    text, not None, where there is no forecast (nothing is withheld there)."""
    out = {k: v for k, v in msgspec.structs.asdict(row).items() if k != "forecast"}
    last = next((f for f in row.forecast if f.months is not None), None) or (
        row.forecast[-1] if row.forecast else None
    )
    num = partial(format_decimal, format="#,##0.0", locale=locale)
    return out | {
        "forecast_difference": "" if last is None else last.difference,
        "forecast_months": "" if last is None or last.months is None else last.months,
        "forecast": words.time_to_verdict(row.forecast, gettext, num),
    }


def columns(row_type: type[msgspec.Struct], leave_out: Sequence[str] = ()) -> list[str]:
    return [f.name for f in msgspec.structs.fields(row_type) if f.name not in leave_out]


def table(
    rows: Iterable[msgspec.Struct | Mapping[str, Any]],
    header: Sequence[str],
    gettext: Callable[[str], str],
    withheld: str,
    convert: Mapping[str, Callable[[Any], Any]] | None = None,
) -> tuple[list[str], list[list[Any]]]:
    """The headings (in the reader's language) and the values of each row, ending in `status`.

    None is a figure withheld (too few responses, or it would reveal a unit): it stays None
    (an empty cell) and the row's last column, `status`, says `withheld: ` and the columns
    left empty. `convert` turns a column's values into what the reader should see (a
    translated verdict).
    """
    convert = convert or {}
    headings = [gettext(HEADINGS[h]) if h in HEADINGS else h for h in [*header, "status"]]
    out = []
    for row in rows:
        values = []
        missing = []
        for heading, name in zip(headings, header, strict=False):
            value = row.get(name) if isinstance(row, Mapping) else getattr(row, name)
            if name in convert:
                value = convert[name](value)
            if value is None:
                missing.append(heading)
            values.append(value)
        out.append([*values, f"{withheld}: {', '.join(missing)}" if missing else ""])
    return headings, out


def to_csv(
    rows: Iterable[msgspec.Struct | Mapping[str, Any]],
    header: Sequence[str],
    locale: str,
    gettext: Callable[[str], str],
    withheld: str,
    convert: Mapping[str, Callable[[Any], Any]] | None = None,
) -> bytes:
    """One line per struct (or dict), in the dialect of `locale` ("de": `;` and `,`); the
    columns of `table`."""
    german = locale == "de"
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";" if german else ",", lineterminator="\r\n")
    headings, values = table(rows, header, gettext, withheld, convert)
    writer.writerow(headings)
    for row in values:
        writer.writerow([_cell(v, german) for v in row])
    return ("\ufeff" + buf.getvalue()).encode()


def to_xlsx(
    rows: Iterable[msgspec.Struct | Mapping[str, Any]],
    header: Sequence[str],
    sheet: str,
    gettext: Callable[[str], str],
    withheld: str,
    convert: Mapping[str, Callable[[Any], Any]] | None = None,
    about: Sequence[tuple[str, str]] = (),
) -> bytes:
    """The same columns as `to_csv` as an Excel workbook: numbers as numbers (Excel shows
    them in the reader's own format), text always as text (a name that starts with "=" is
    never a formula), the heading row bold and frozen; `about` (what the table holds: period,
    filter, comparison group, adjustment) on a second sheet."""
    headings, values = table(rows, header, gettext, withheld, convert)
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    book.set_properties({"title": sheet, "author": "Resonanz"})
    bold = book.add_format({"bold": True, "text_wrap": True, "valign": "top"})
    page = book.add_worksheet(_sheet_name(sheet))
    page.freeze_panes(1, 0)
    for col, heading in enumerate(headings):
        page.write_string(0, col, heading, bold)
    widths = [min(40, max(8, len(h) // 2 + 2)) for h in headings]
    for r, row in enumerate(values, start=1):
        for col, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, bool):
                page.write_boolean(r, col, value)
            elif isinstance(value, int | float):
                page.write_number(r, col, value)
            else:
                text = value.isoformat() if isinstance(value, dt.date) else str(value)
                page.write_string(r, col, text)
                widths[col] = min(40, max(widths[col], len(text) + 1))
    for col, width in enumerate(widths):
        page.set_column(col, col, width)
    if about:
        notes = book.add_worksheet(_sheet_name(gettext(ABOUT_SHEET)))
        for r, (label, value) in enumerate(about):
            notes.write_string(r, 0, label, bold)
            notes.write_string(r, 1, value)
        notes.set_column(0, 0, max(12, *(len(label) + 2 for label, _ in about)))
        notes.set_column(1, 1, min(80, max(12, *(len(value) + 2 for _, value in about))))
    book.close()
    return out.getvalue()


ABOUT_SHEET = N_("About this table")
FILTER_NAMES = {"service_type": N_("Service type"), "locale": N_("Language"), "mode": N_("Mode")}
_ASCII = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def ascii_slug(text: str) -> str:
    """`Übersicht` as `uebersicht`: letters a–z, digits and hyphens only (a file name every
    system and mail program keeps as it is)."""
    folded = unicodedata.normalize("NFKD", text.lower().translate(_ASCII))
    plain = folded.encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")


def file_name(words: Sequence[str], filters: Filters, gettext: Callable[[str], str]) -> str:
    """A download's name from the page's words (translated here; an empty word adds none, as
    gettext("") is the catalog's header), the period and the filter:
    `uebersicht-2025-11_2026-10-sprache-ar`. Two downloads of one page with another period
    or filter no longer both end up as `overview.csv`."""
    parts = [ascii_slug(gettext(w)) for w in words if w]
    parts.append(f"{filters.first_month}_{filters.last_month}")
    if filters.dimension is not None:
        parts.append(ascii_slug(gettext(FILTER_NAMES[filters.dimension])))
        parts.append(ascii_slug(str(getattr(filters, filters.dimension))))
    if filters.adjust == "none":
        parts.append(ascii_slug(gettext(N_("unadjusted"))))
    return "-".join(p for p in parts if p)


def about_rows(
    title: str,
    filters: Filters,
    group: str,
    gettext: Callable[[str], str],
    value_name: Callable[[str, str], str],
) -> list[tuple[str, str]]:
    """What a table holds, for the second sheet of its XLSX: `value_name(dimension, value)`
    is the filter value as the page names it."""
    dimension = filters.dimension
    adjusted = filters.adjust == "mix" and dimension is None  # a filtered view never is
    return [
        (gettext(N_("Table")), title),
        (gettext(N_("Period")), f"{filters.first_month} – {filters.last_month}"),
        (
            gettext(N_("Filter")),
            gettext(N_("none"))
            if dimension is None
            else f"{gettext(FILTER_NAMES[dimension])}: "
            f"{value_name(dimension, str(getattr(filters, dimension)))}",
        ),
        (gettext(N_("Comparison group")), group),
        (
            gettext(N_("Adjustment")),
            gettext(N_("verdicts, funnel and ranks on the index adjusted for client mix"))
            if adjusted
            else gettext(N_("none: the observed index")),
        ),
    ]


def _sheet_name(name: str) -> str:
    """A worksheet name Excel accepts: at most 31 characters, none of []:*?/\\."""
    cleaned = "".join(" " if c in "[]:*?/\\" else c for c in name).strip()
    return cleaned[:31] or "Sheet1"


def _cell(value: Any, german: bool) -> Any:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        text = repr(value)  # the shortest exact form: 0.0004 stays 0.0004, not 0.0
        return text.replace(".", ",") if german else text
    if isinstance(value, str):
        return text_cell(value)  # office names and labels are typed by admins
    return value
