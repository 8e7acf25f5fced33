"""The dashboards' CSV downloads open in the spreadsheet of the page's language: German CSV
(semicolon, decimal comma, German headings) from German pages, English CSV from English ones;
numeric columns hold numbers only and a status column says why a cell is empty.

SQLite only: how the figures are written, not how they are read (docs/testing.md)."""

from __future__ import annotations

import csv
import io

from litestar import Litestar

from tests.builders import (
    FULL_ANSWERS,
    in_closed_month,
    make_link,
    make_office,
    make_organization,
    make_responses,
    make_staff_user,
    responses_with_counts,
)
from tests.conftest import ONE_ENGINE, StaffClient


def _rows(body: bytes, delimiter: str) -> list[dict[str, str]]:
    text = body.decode("utf-8")
    assert text.startswith("\ufeff"), "a BOM, so that Excel reads UTF-8"
    return list(csv.DictReader(io.StringIO(text[1:]), delimiter=delimiter))


@ONE_ENGINE
async def test_german_pages_download_german_csv_and_english_pages_english_csv(
    staff: StaffClient, app: Litestar
) -> None:
    org = await make_organization()
    offices = [await make_office(organization=org) for _ in range(4)]
    when = in_closed_month()
    for k, office in enumerate(offices[:3]):
        answers = responses_with_counts("overall", [2, 3, 5 + k, 10, 10 + 3 * k])
        await make_responses(app.state.engine, await make_link(office), answers, when=when)
    await make_responses(
        app.state.engine, await make_link(offices[3]), [FULL_ANSWERS] * 2, when=when
    )
    await make_staff_user("max", "max-password-1", "manager", organization=org)
    await staff.login("max", "max-password-1")

    german = await staff.client.get("/dashboard/overview.csv")
    assert german.headers["content-type"].startswith("text/csv")
    rows = {int(r["Standort-Nr."]): r for r in _rows(german.content, ";")}
    big = rows[offices[2]]
    model, rank_test = "im Vergleich zum Durchschnitt (Modell)", "Rangtest gegen die anderen"
    assert set(big) >= {"Antworten", "Index", rank_test, model, "q-Wert", "Status"}
    assert "," in big["Index"] and float(big["Index"].replace(",", ".")) > 0
    assert big["Antworten"].isdigit() and big["q-Wert"] != ""
    assert big["Status"] in (
        "",
        "zurückgehalten: Antworten im Vorzeitraum, Veränderung des Index, "
        "Veränderung, untere Grenze, Veränderung, obere Grenze, "
        "Veränderung, p-Wert",
    ), "no previous period: only the change is empty"
    assert -100 <= float(big["Weiterempfehlung (NPS)"].replace(",", ".")) <= 100
    assert big[rank_test] in {"besser", "schlechter", "kein klarer Unterschied"}
    assert big[model] in {
        "klar über dem Durchschnitt",
        "klar unter dem Durchschnitt",
        "kein klarer Unterschied",
        "zu wenige Einheiten zum Vergleich",
    }
    small = rows[offices[3]]
    assert small["Index"] == small["Antworten"] == "", "withheld: empty, not words in a number"
    assert small["Status"].startswith("zurückgehalten: Antworten, Index, ")

    english = await staff.client.get("/dashboard/overview.csv?lang=en")
    rows_en = {int(r["office id"]): r for r in _rows(english.content, ",")}
    assert "." in rows_en[offices[2]]["index"] and "," not in rows_en[offices[2]]["index"]
    assert float(rows_en[offices[2]]["index"]) == float(big["Index"].replace(",", "."))
    assert rows_en[offices[3]]["status"].startswith("withheld: responses, index, ")

    bench = _rows((await staff.client.get("/dashboard/benchmark.csv")).content, ";")
    assert {r["Trichterdiagramm"] for r in bench} <= {
        "innerhalb der Grenzen", "über der 95-%-Grenze", "unter der 95-%-Grenze",
        "über der 99,8-%-Grenze", "unter der 99,8-%-Grenze", "zu wenige Antworten",
    }  # fmt: skip
    trend = _rows(
        (await staff.client.get(f"/dashboard/offices/{offices[2]}/trend.csv")).content, ";"
    )
    assert {"Monat", "Antworten", "Index", "Status"} <= set(trend[0])


def test_p_and_q_values_keep_three_significant_digits() -> None:
    from survey.dashboard.results import _p

    assert _p(0.0000321987) == 3.22e-05 and _p(0.04567) == 0.0457 and _p(None) is None
    assert _p(float("nan")) is None and _p(0.0) == 0.0


@ONE_ENGINE
async def test_downloads_are_named_after_page_period_and_filter_and_the_workbook_says_so(
    staff: StaffClient, app: Litestar
) -> None:
    """t23's finding 8: every overview download was `overview.csv` (English on German pages),
    and neither file said which period or filter it held."""
    import re

    import openpyxl

    org = await make_organization()
    office = await make_office(organization=org)
    await make_responses(
        app.state.engine, await make_link(office), [FULL_ANSWERS] * 3, when=in_closed_month()
    )
    await make_staff_user("max", "max-password-1", "manager", organization=org)
    await staff.login("max", "max-password-1")

    def name(answer: object) -> str:
        found = re.search(r'filename="([^"]+)"', answer.headers["content-disposition"])  # type: ignore[attr-defined]
        assert found
        return found[1]

    period = "from=2025-11&to=2026-10"
    plain = await staff.client.get(f"/dashboard/overview.csv?{period}&lang=de")
    assert name(plain) == "uebersicht-2025-11_2026-10.csv"
    arabic = await staff.client.get(f"/dashboard/overview.xlsx?{period}&filter=language:ar&lang=de")
    assert name(arabic) == "uebersicht-2025-11_2026-10-sprache-ar.xlsx"
    english = await staff.client.get(f"/dashboard/overview.csv?{period}&adjust=none&lang=en")
    assert name(english) == "overview-2025-11_2026-10-unadjusted.csv"
    items = await staff.client.get(f"/dashboard/offices/{office}/items.csv?{period}&lang=de")
    assert name(items) == f"standort-{office}-fragen-2025-11_2026-10.csv"
    # targets are judged without a filter only (a filtered targets.csv answers 400, v24)
    targets = await staff.client.get(f"/dashboard/targets.csv?{period}&lang=de")
    assert name(targets).startswith("ziele-2025-11_2026-10")
    benchmark = await staff.client.get(f"/dashboard/benchmark.csv?{period}&lang=de")
    assert name(benchmark) == "vergleich-standorte-2025-11_2026-10.csv"
    assert all(name(a).isascii() for a in (plain, arabic, english, items, targets))
    assert plain.content.decode("utf-8-sig").startswith("Standort-Nr.;"), "a CSV stays a table"

    book = openpyxl.load_workbook(io.BytesIO(arabic.content))
    assert book.sheetnames == ["Übersicht", "Angaben zur Tabelle"]
    about = {r[0]: r[1] for r in book["Angaben zur Tabelle"].iter_rows(values_only=True)}
    assert about["Zeitraum"] == "2025-11 – 2026-10"
    assert about["Filter"] == "Sprache: Arabisch"
    assert about["Vergleichsgruppe"]
    assert about["Bereinigung"].startswith("keine")
    unfiltered = await staff.client.get(f"/dashboard/overview.xlsx?{period}&lang=en")
    sheet = openpyxl.load_workbook(io.BytesIO(unfiltered.content))["About this table"]
    about = {r[0]: r[1] for r in sheet.iter_rows(values_only=True)}
    assert about["Filter"] == "none" and "adjusted for client mix" in about["Adjustment"]
