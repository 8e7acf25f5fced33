"""The dashboards' Excel files: the CSV's columns, numbers as numbers, text never a formula."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from survey.dashboard.csv import to_xlsx


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
