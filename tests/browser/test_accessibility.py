"""WCAG 2.1 AA on the respondent pages in every language, checked with axe-core.

One browser page is reused for all languages and states; axe is injected into each page.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from survey.i18n import RESPOND_LOCALES
from tests.browser.conftest import DemoServer
from tests.browser.pages import SurveyPage

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_21_AA}, "resultTypes": ["violations"]}


@pytest.fixture(scope="module")
def axe() -> Any:
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


@pytest.fixture(scope="module")
def small_phone(browser: Any) -> Iterator[Any]:
    """One page for the whole module: a small phone (360 px), German browser."""
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True, locale="de-DE"
    )
    page = context.new_page()
    yield page
    context.close()


AXE_LOADED = "() => typeof window.axe === 'object' && typeof window.axe.run === 'function'"
AXE_RUN = "options => window.axe.run(document, options).then(results => results.violations)"


def _violations(axe: Any, page: Any, state: str) -> list[str]:
    """axe-core's WCAG 2.1 AA violations on the page as it is now. axe's script (570 kB) is
    injected once per document, not before each run in it (a page checked at two widths,
    a form in two states), and only the violations come back (`axe.run(page)` of
    axe_playwright_python injected the script before every run and returned the whole
    results: the same run, 0.05-0.1 s more of Chromium's and the driver's CPU each)."""
    if not page.evaluate(AXE_LOADED):
        page.evaluate(axe.axe_script)
    violations = page.evaluate(AXE_RUN, AXE_OPTIONS)
    return [
        f"{state}: {v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(n["target"]) for n in v["nodes"][:3])
        for v in violations
    ]


# Every state in one language of each kind of script and direction (German, Cyrillic, right
# to left); the other languages differ from these only in their texts, so their question page
# is checked (what axe can find in a text: its language, direction and contrast of the words
# as set). Their privacy and thank-you pages were checked as well until 2026-11-29: the same
# base template and stylesheet as the three languages' privacy and thank-you pages, with their
# `lang` and `dir` checked in every language by test_i18n.py. Leichte Sprache (de-x-ls) had
# every state checked until 2026-11-30: its pages are German's (`<html lang="de"
# dir="ltr">`, the same templates and stylesheet, test_i18n.py's
# test_it_marks_leichte_sprache_as_german_for_screen_readers) with other words.
EVERY_STATE = ("de", "uk", "ar")
FIT_WIDTHS = (320, 640)
"""Every language's question page, as loaded, fits these widths too (640 CSS px is a 1280 px
window at 200 % zoom): the page resized, as the stylesheet follows a resize (respond.css has
no script that lays it out)."""
OVERFLOWING = """() => [...document.querySelectorAll('.opt, .q, legend, .langs a, .send')]
    .filter(e => e.scrollWidth > e.clientWidth + 1)
    .map(e => e.textContent.trim().slice(0, 40))"""


@pytest.mark.parametrize("lang", RESPOND_LOCALES)
def test_every_page_state_has_no_wcag_21_aa_violation(
    lang: str, small_phone: Any, axe: Any, demo_server: DemoServer
) -> None:
    page = small_phone
    survey = SurveyPage(page).open(f"{demo_server.respondent_url}?lang={lang}")
    found = _violations(axe, page, "question page")
    try:  # 320 px and 200 % zoom without sideways scrolling (WCAG 1.4.10), the page as loaded
        for width in FIT_WIDTHS:
            page.set_viewport_size({"width": width, "height": 700})
            assert page.evaluate("document.documentElement.scrollWidth") <= width, (lang, width)
            assert page.evaluate(OVERFLOWING) == [], (lang, width)
    finally:
        page.set_viewport_size({"width": 360, "height": 740})
    if lang not in EVERY_STATE:
        assert found == [], "\n".join(found)
        return
    survey.answer({"respect": 4}).send()
    page.wait_for_selector("[data-testid=confirm]:not([hidden])")
    found += _violations(axe, page, "send anyway?")
    survey.answer_out_of_range("understood").send_anyway()
    page.wait_for_selector("[data-testid=error-summary]")
    found += _violations(axe, page, "validation error")
    page.goto(f"{demo_server.respondent_url}/privacy?lang={lang}")
    found += _violations(axe, page, "privacy notice")
    page.goto(f"{demo_server.respondent_url}/thanks?lang={lang}")
    found += _violations(axe, page, "thank-you")
    page.goto(f"{demo_server.kiosk_url}?lang={lang}")
    found += _violations(axe, page, "kiosk question page")
    if lang == "de":  # the start screen speaks the tablet's language, whatever was chosen
        page.goto(demo_server.kiosk_url)
        found += _violations(axe, page, "kiosk start")
    page.goto(f"{demo_server.kiosk_url}/thanks?lang={lang}")
    found += _violations(axe, page, "kiosk thank-you")
    assert found == [], "\n".join(found)


def test_the_kiosk_returns_to_an_empty_survey_in_its_own_language_unless_someone_is_reading(
    browser: Any, demo_server: DemoServer
) -> None:
    context = browser.new_context(viewport={"width": 800, "height": 1280}, locale="de-DE")
    page = context.new_page()
    page.clock.install()
    page.goto(f"{demo_server.kiosk_url}/thanks?lang=uk")
    assert page.url == demo_server.kiosk_url, "a reload from here starts the next client"
    page.clock.run_for(5_000)
    page.keyboard.press("Tab")
    page.clock.run_for(5_000)
    assert page.get_by_test_id("thanks").is_visible(), "a key press postpones the reset"
    page.clock.run_for(5_000)
    page.get_by_test_id("kiosk-start").wait_for()
    assert page.get_attribute("html", "lang") == "de", (
        "the next client starts in the tablet's language"
    )
    context.close()


def test_every_target_is_at_least_44_by_44_css_px(
    small_phone: Any, demo_server: DemoServer
) -> None:
    page = small_phone
    for lang in ("de", "ar", "de-x-ls"):
        page.goto(f"{demo_server.respondent_url}?lang={lang}")
        small = page.evaluate(
            """() => [...document.querySelectorAll('a:not(.skip), button, label.opt, textarea')]
                 .filter(e => e.getClientRects().length)  // shown; a hidden one is no target
                 .map(e => [e.textContent.trim().slice(0, 30), e.getBoundingClientRect()])
                 .filter(([, r]) => r.width < 44 || r.height < 44)
                 .map(([t, r]) => `${t} ${Math.round(r.width)}x${Math.round(r.height)}`)"""
        )
        assert small == [], (lang, small)


def test_it_works_by_keyboard_alone_with_visible_focus(
    small_phone: Any, demo_server: DemoServer
) -> None:
    page = small_phone
    page.goto(demo_server.respondent_url)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    assert page.evaluate("document.activeElement.getBoundingClientRect().top") >= 0
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.dataset.testid") == "respect-1"
    page.keyboard.press("ArrowDown")
    assert page.get_by_test_id("respect-2").is_checked()
    outline = page.evaluate("getComputedStyle(document.activeElement.closest('.opt')).outlineStyle")
    assert outline == "solid", "the focused option shows a visible outline"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "understood"


def test_the_error_summary_takes_focus_and_links_to_the_question(
    small_phone: Any, demo_server: DemoServer
) -> None:
    page = small_phone
    survey = SurveyPage(page).open(demo_server.respondent_url)
    survey.answer_out_of_range("respect").send().send_anyway()
    page.wait_for_selector("[data-testid=error-summary]")
    page.wait_for_function("document.activeElement.id === 'error-summary'")
    first = page.get_by_test_id("error-summary").locator("a").first
    assert first.inner_text() == "Frage 1: Bitte wählen Sie eine der angezeigten Antworten."
    first.click()
    assert page.url.endswith("#q-respect")


def test_the_send_anyway_question_takes_focus_and_links_to_what_is_left_out(
    small_phone: Any, demo_server: DemoServer
) -> None:
    page = small_phone
    survey = SurveyPage(page).open(demo_server.respondent_url)
    survey.answer({"respect": 4, "understood": 4, "explained": 4, "next_steps": 4}).send()
    page.wait_for_function("document.activeElement.id === 'confirm'")
    links = page.get_by_test_id("confirm").locator("a")
    assert links.all_inner_texts() == ["Frage 5", "Frage 6", "Frage 7", "Frage 8"]
    links.first.click()
    assert page.url.endswith("#q-fits")


def test_read_aloud_appears_only_with_a_voice_for_the_language(
    browser: Any, demo_server: DemoServer
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="de-DE")
    page = context.new_page()
    page.goto(demo_server.respondent_url)
    assert page.locator(".read").count() == 0, "no voice, no button"
    context.add_init_script(
        """(() => {
          const spoken = window.__spoken = [];
          const voice = {lang: 'de-DE', name: 'Test', default: true, localService: true};
          speechSynthesis.getVoices = () => [voice];
          speechSynthesis.speak = u => spoken.push([u.lang, u.text]);
          speechSynthesis.cancel = () => {};
        })()"""
    )
    page.goto(demo_server.respondent_url)
    button = page.get_by_test_id("read-respect")
    assert button.inner_text() == "Vorlesen"
    button.click()
    spoken = page.evaluate("window.__spoken")
    assert spoken[0][0] == "de"
    assert spoken[0][1].startswith("1. Ich wurde respektvoll behandelt.")
    assert "trifft voll zu" in spoken[0][1]
    page.goto(f"{demo_server.respondent_url}?lang=ar")
    assert page.locator(".read").count() == 0, "a German voice does not read Arabic"
    context.close()


def test_the_axe_check_does_see_a_violation(
    small_phone: Any, axe: Any, demo_server: DemoServer
) -> None:
    """Guards the guard: pale text on the page must make axe complain, and a second run in
    the same document (axe injected once a document, `_violations`) reads the page anew."""
    page = small_phone
    page.goto(demo_server.respondent_url)
    page.evaluate("document.querySelector('h1').style.color = '#c8c8c8'")
    assert any("color-contrast" in v for v in _violations(axe, page, "pale heading"))
    page.evaluate("document.querySelector('h1').style.color = ''")
    assert not any("color-contrast" in v for v in _violations(axe, page, "heading as set"))
