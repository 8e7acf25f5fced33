"""The administration's tables on a phone: each row is a card with every value after its
column's name, so nothing hides to the right of a 360 px screen (the page itself never
scrolled sideways; the tables scrolled inside their cards, showing the first column and
white space). On a desktop they stay tables. The markup keeps the table's roles for screen
readers. test_manage.py's axe test checks the tables on the pages it loads (TABLES,
`the_table_is_cards_on_a_phone_and_a_table_on_a_desktop`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.browser.conftest import DemoServer, keep_screenshot
from tests.browser.pages import LoginPage

TABLES = {
    "/manage/users": "users-table",
    "/manage/links": "links-table",
    "/manage/tokens": "tokens-table",
    "/manage/audit": "audit-table",
    "/manage/targets": "targets-table",
}
SCROLLS = """() => [...document.querySelectorAll('.table-wrap')]
    .filter(w => w.scrollWidth > w.clientWidth + 1).map(w => w.getAttribute('aria-label'))"""
UNLABELLED = """id => [...document.querySelectorAll(`[data-testid=${id}] tbody td`)]
    .filter(td => !td.hasAttribute('colspan') && td.cellIndex > 0 && !td.dataset.label).length"""


def create_a_token(page: Any, demo_server: DemoServer) -> None:
    if page.url != f"{demo_server.base_url}/manage/tokens":  # (signed in onto it)
        page.goto(f"{demo_server.base_url}/manage/tokens")
    page.get_by_test_id("token-name").fill("phone layout check")
    page.get_by_test_id("create-token").click()
    page.get_by_test_id("secret-value").wait_for()  # the POST's answer: shown only this once


def the_table_is_cards_on_a_phone_and_a_table_on_a_desktop(
    page: Any, path: str, width: int
) -> None:
    """The administration table of the page at `path`, loaded and resized to `width`: at 360
    px each row a card with every value after its column's name, on a desktop a table.

    Run by test_manage.py's test_every_administration_page_is_axe_clean_and_fits_a_phone on
    the pages it loads at 360 px and resizes to 1280 px (this file's own test loaded them again
    until 2026-11-30)."""
    table = TABLES[path]
    rows = page.get_by_test_id(table).locator("tbody tr")
    assert rows.count() >= 1, path
    first = rows.first.locator("td").nth(1)
    if width > 640:  # a desktop keeps its tables
        assert first.evaluate("td => getComputedStyle(td).display") == "table-cell", path
        return
    assert width == 360, width
    assert page.evaluate(SCROLLS) == [], f"{path}: a table scrolls sideways at 360 px"
    assert page.evaluate(UNLABELLED, table) == 0, f"{path}: a value without its name"
    assert page.get_by_role("table").count() >= 1, path  # still a table to a reader
    label = first.evaluate("td => getComputedStyle(td, '::before').content")
    assert label.startswith('"') and ': "' in label, (path, label)  # its column's name


NAMES_FIT = """() => [...document.querySelectorAll('input.name')].filter(i => i.value)
    .filter(i => i.scrollWidth > i.clientWidth + 1).map(i => i.value)"""


def test_the_coordinator_reads_whole_job_centre_names_and_a_label_on_every_box(
    browser: Any, demo_server: DemoServer
) -> None:
    """t23's finding 15: names were cut off in their boxes at 1280 px, and on a phone the
    retention box had no visible label (its column heading scrolled out of sight)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    try:
        page.goto(f"{demo_server.base_url}/login?next=/manage/network")
        LoginPage(page).sign_in(*demo_server.logins["network"])
        page.goto(f"{demo_server.base_url}/manage/network?lang=en")
        assert page.locator("input.name").count() >= 9
        assert page.evaluate(NAMES_FIT) == []
        keep_screenshot(page, Path("test-artifacts") / "manage-network-desk.png", full_page=True)
        page.set_viewport_size({"width": 360, "height": 740})
        page.goto(f"{demo_server.base_url}/manage/network?lang=en")
        label = page.locator("[data-testid^=retention-label-]").first
        box = label.bounding_box()
        assert label.is_visible() and box and box["width"] > 50 and box["height"] > 5
        assert "Keep free-text answers" in label.inner_text()
        name = page.locator("[data-testid^=org-name-]").first
        field = name.bounding_box()
        assert field and field["x"] + field["width"] <= 360, "the box fits the phone"
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        keep_screenshot(page, Path("test-artifacts") / "manage-network-phone.png", full_page=True)
    finally:
        context.close()
