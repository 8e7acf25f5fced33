"""The dashboards' Excel files: the CSV's columns, numbers as numbers, text never a formula."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from survey.dashboard.csv import to_csv, to_xlsx
from survey.spreadsheet import text_cell


def test_text_that_looks_like_a_formula_stays_text_and_withheld_cells_stay_empty() -> None:
    rows = [
        {"name": '=HYPERLINK("http://x.invalid","klick")', "n": 12, "index": 61.5},
        {"name": "+49 30 1234", "n": None, "index": None},
    ]
    body = to_xlsx(rows, ["name", "n", "index"], "Übersicht: [Mai]", str, "withheld")
    book = load_workbook(io.BytesIO(body))
    sheet = book.active
    assert sheet is not None and sheet.title == "Übersicht   Mai"
    assert [c.value for c in sheet[1]] == ["name", "responses", "index", "status"]
    formula, phone = sheet[2][0], sheet[3][0]
    assert formula.data_type == "s" and formula.value.startswith("=HYPERLINK")
    assert phone.data_type == "s"
    assert sheet[2][1].value == 12 and sheet[2][2].value == 61.5
    assert sheet[3][1].value is None and sheet[3][3].value == "withheld: responses, index"


def test_the_csv_writes_typed_text_that_looks_like_a_formula_as_text_and_numbers_as_numbers() -> (
    None
):
    rows = [
        {"name": '=HYPERLINK("http://x.invalid","klick")', "n": 12, "index": -1.5},
        {"name": "@SUM(1+1)", "n": 10, "index": 61.25},
        {"name": "Mitte", "n": 11, "index": 50.0},
    ]
    for locale, sep, minus in (("en", ",", "-1.5"), ("de", ";", "-1,5")):
        body = to_csv(rows, ["name", "n", "index"], locale, str, "withheld").decode("utf-8-sig")
        lines = list(csv.reader(io.StringIO(body), delimiter=sep))
        assert [r[0] for r in lines[1:]] == [
            '\'=HYPERLINK("http://x.invalid","klick")',
            "'@SUM(1+1)",
            "Mitte",
        ]
        assert lines[1][2] == minus  # a negative number keeps its minus


def test_only_text_starting_as_a_formula_gets_the_apostrophe() -> None:
    for typed in ("=1+1", "+49 30", "-x", "@a", "\tx", "\rx"):
        assert text_cell(typed) == "'" + typed
    for typed in ("", "Mitte", "a=b", " =1", "'quoted"):
        assert text_cell(typed) == typed
