"""A client picks their language by its own name; right-to-left reads right to left.

The survey in German, Arabic, Ukrainian and Leichte Sprache fits a phone and a desktop; their
screenshots are kept in the artifacts directory when RESONANZ_TEST_ARTIFACTS names one
(`keep_screenshot`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import DemoServer, keep_screenshot
from tests.browser.pages import LanguageChooser, SurveyPage
from tests.browser.test_respond import ANSWERS

SIZES = {"phone": (390, 844), "desktop": (1280, 800)}


@pytest.mark.parametrize("size", list(SIZES))
def test_it_keeps_screenshots_of_four_languages(
    size: str, browser: Any, demo_server: DemoServer, artifacts_dir: Path
) -> None:
    width, height = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height}, locale="de-DE")
    page = context.new_page()
    for lang in ("de", "ar", "uk", "de-x-ls"):
        page.goto(f"{demo_server.respondent_url}?lang={lang}")
        keep_screenshot(
            page, artifacts_dir / f"languages-{lang}-{width}x{height}.png", full_page=True
        )
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    context.close()


def test_it_switches_language_by_link_without_javascript_or_storage(
    browser: Any, demo_server: DemoServer
) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, java_script_enabled=False, locale="de-DE"
    )
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    SurveyPage(page).open(demo_server.respondent_url)
    chooser = LanguageChooser(page)
    assert chooser.names()["ar"] == "العربية"
    assert chooser.names()["de-x-ls"] == "Leichte Sprache"
    chooser.choose("ar")
    assert page.url.endswith("?lang=ar")
    assert page.get_attribute("html", "dir") == "rtl"
    chooser.choose("uk")
    assert page.get_attribute("html", "lang") == "uk"
    SurveyPage(page).answer(ANSWERS).send()
    page.wait_for_url("**/thanks?lang=uk")
    assert "Дякуємо!" in page.content()
    assert context.cookies() == []
    host = urlsplit(demo_server.base_url).netloc
    assert {urlsplit(url).netloc for url in requests} == {host}, "no third-party request"
    context.close()


def test_the_scale_runs_right_to_left_in_arabic(desktop: Any, demo_server: DemoServer) -> None:
    desktop.goto(f"{demo_server.respondent_url}?lang=ar")
    low = desktop.get_by_test_id("respect-1").bounding_box()
    high = desktop.get_by_test_id("respect-5").bounding_box()
    assert low is not None and high is not None
    assert low["x"] > high["x"], "the scale starts on the right"
    label = desktop.locator("label.opt", has=desktop.get_by_test_id("respect-1"))
    assert label.inner_text() == "لا أوافق إطلاقًا"
    assert desktop.evaluate("localStorage.length + sessionStorage.length") == 0
