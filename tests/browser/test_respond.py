"""A client answers the survey on a phone in headless Chromium."""

from __future__ import annotations

import sqlite3

from tests.browser.conftest import DemoServer
from tests.browser.pages import SurveyPage
from tests.builders import FULL_ANSWERS

ANSWERS = {**FULL_ANSWERS, "comment": "Danke für die Hilfe"}


def _responses(server: DemoServer) -> int:
    with sqlite3.connect(server.database) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM response").fetchone()[0])


def test_it_answers_the_survey_on_a_phone_and_reaches_thanks(
    phone,
    demo_server: DemoServer,
    artifacts_dir,  # type: ignore[no-untyped-def]
) -> None:
    before = _responses(demo_server)
    survey = SurveyPage(phone).open(demo_server.respondent_url)
    phone.screenshot(path=artifacts_dir / "respond-phone-de.png", full_page=True)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390, "no sideways scrolling"
    assert phone.context.cookies() == []
    survey.answer(ANSWERS).send()
    phone.wait_for_url("**/thanks**")
    assert survey.thanked
    phone.screenshot(path=artifacts_dir / "respond-phone-thanks.png")
    assert _responses(demo_server) == before + 1
    assert phone.context.cookies() == []


def test_it_points_to_missing_answers_without_javascript(
    browser,
    demo_server: DemoServer,
    artifacts_dir,  # type: ignore[no-untyped-def]
) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, java_script_enabled=False, locale="de-DE"
    )
    page = context.new_page()
    survey = SurveyPage(page).open(demo_server.respondent_url)
    survey.answer({"respect": 4}).send()
    assert survey.error_summary.is_visible()
    assert "Bitte wählen Sie eine Antwort." in page.content()
    page.screenshot(path=artifacts_dir / "respond-phone-error.png", full_page=True)
    survey.answer({k: v for k, v in ANSWERS.items() if k != "respect"}).send()
    page.wait_for_url("**/thanks**")
    assert survey.thanked
    context.close()
