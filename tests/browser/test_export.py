"""The researcher's export page in a real browser: German and English, phone and desktop."""

from __future__ import annotations

import csv
import io
from typing import Any

import pyarrow.parquet as pq

from tests.browser.conftest import DemoServer, keep_screenshot
from tests.browser.pages import ExportPage, StaffPages, switch_staff_language
from tests.browser.test_accessibility import _violations


def test_a_researcher_lands_on_the_export_page_and_downloads_csv_and_parquet(
    browser: Any, demo_server: DemoServer, artifacts_dir: Any, tmp_path: Any
) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="de-DE", java_script_enabled=False
    )
    page = context.new_page()
    try:
        StaffPages(page, demo_server.base_url).as_user(*demo_server.logins["researcher"])
        assert page.url.endswith("/export")
        assert page.get_by_test_id("nav-overview").count() == 0
        export = ExportPage(page)
        total = export.rows
        assert total > 0
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        keep_screenshot(page, artifacts_dir / "export-researcher-phone-de.png", full_page=True)
        page.set_viewport_size({"width": 360, "height": 740})  # the separator's long choices
        outside = page.evaluate("""() => [...document.querySelectorAll('form select')]
            .filter(e => e.getBoundingClientRect().right
                         > e.closest('form').getBoundingClientRect().right + 1)
            .map(e => e.name)""")
        assert outside == [], f"form fields out of their card at 360 px: {outside}"
        page.set_viewport_size({"width": 390, "height": 844})
        name, body = export.download()
        assert name.endswith(".csv")
        table = list(csv.reader(io.StringIO(body.decode()), delimiter=";"))  # German default
        assert table[0][:4] == ["jobcentre", "office", "office_type", "service_type"]
        assert len(table) - 1 == total
        export.choose(language="ps").preview()
        assert export.rows == 0  # the demo's few Pashto responses only ever leave as "other"
        switch_staff_language(page, "en")
        assert "Anonymized responses for research" in page.content()
        export.choose(format="parquet", language="", labels="en")
        name, body = export.download()
        (tmp_path / name).write_bytes(body)
        parquet = pq.read_table(tmp_path / name)
        assert parquet.num_rows == total
        assert parquet.schema.field("overall").metadata[b"label"].startswith(b"Overall")
        switch_staff_language(page, "de")
    finally:
        context.close()


def test_a_period_starting_mid_quarter_is_warned_about_and_widened_to_whole_quarters(
    browser: Any, demo_server: DemoServer, artifacts_dir: Any
) -> None:
    from axe_playwright_python.sync_playwright import Axe

    from survey.export.microdata import last_complete_month

    axe = Axe()
    last = last_complete_month()
    index = int(last[:4]) * 12 + int(last[5:7]) - 1 - 3  # a month of a complete quarter
    start = index - index % 3 + 1  # the second month of that quarter
    month = f"{start // 12:04d}-{start % 12 + 1:02d}"
    quarter = f"Q{(start % 12) // 3 + 1} {start // 12}"
    for width, height, lang in ((360, 740, "de"), (1280, 800, "en")):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        try:
            StaffPages(page, demo_server.base_url).as_user(*demo_server.logins["researcher"])
            page.goto(f"{demo_server.base_url}/export?from={month}&lang={lang}")
            warning = page.get_by_test_id("export-partial-quarter")
            assert warning.is_visible() and quarter in warning.inner_text()
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            keep_screenshot(page, artifacts_dir / f"export-partial-quarter-{width}.png",
                            full_page=True)  # fmt: skip
            # the researcher's export page, with its warning, at both widths; the page without
            # one is checked at 390 px by test_staff_pages.py (the network's /export)
            found = _violations(axe, page, f"/export?from={month} at {width} px")
            assert found == [], "\n".join(found)
            before = ExportPage(page).rows
            page.get_by_test_id("export-aligned-period").click()
            page.wait_for_load_state()
            assert page.get_by_test_id("export-partial-quarter").count() == 0
            assert ExportPage(page).rows > before  # the whole first quarter, and its quarter rows
        finally:
            context.close()
