"""A client answers the survey on a phone in headless Chromium."""

from __future__ import annotations

import sqlite3

from playwright.sync_api import expect

from tests.browser.conftest import DemoServer, keep_screenshot
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
    keep_screenshot(phone, artifacts_dir / "respond-phone-de.png", full_page=True)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390, "no sideways scrolling"
    assert phone.context.cookies() == []
    survey.answer(ANSWERS).send()
    phone.wait_for_url("**/thanks**")
    assert survey.thanked
    keep_screenshot(phone, artifacts_dir / "respond-phone-thanks.png")
    assert _responses(demo_server) == before + 1
    assert phone.context.cookies() == []


def test_it_asks_before_sending_with_questions_left_out_without_javascript(
    browser,
    demo_server: DemoServer,
    artifacts_dir,  # type: ignore[no-untyped-def]
) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, java_script_enabled=False, locale="de-DE"
    )
    page = context.new_page()
    before = _responses(demo_server)
    survey = SurveyPage(page).open(demo_server.respondent_url)
    survey.answer({"respect": 4}).send()
    # without JavaScript the question is a page of its own: click() returns when the POST's
    # answer commits, before it is parsed (r30), so wait for it
    page.get_by_test_id("confirm").wait_for()
    assert survey.asks_to_confirm
    assert "Nicht jede Frage ist beantwortet" in page.content()
    keep_screenshot(page, artifacts_dir / "respond-phone-confirm.png", full_page=True)
    assert page.get_by_test_id("respect-4").is_checked(), "the answer given is kept"
    survey.send_anyway()
    page.wait_for_url("**/thanks**")
    assert survey.thanked
    assert _responses(demo_server) == before + 1
    with sqlite3.connect(demo_server.database) as conn:
        last = conn.execute(
            "SELECT item, value FROM answer WHERE response = (SELECT MAX(id) FROM response)"
        ).fetchall()
    assert last == [("respect", 4)]
    context.close()


def test_send_back_send_on_a_personal_link_stores_one_response(
    phone,
    demo_server: DemoServer,  # type: ignore[no-untyped-def]
) -> None:
    before = _responses(demo_server)
    phone.goto(f"{demo_server.respondent_url}/privacy")  # where the client came from
    survey = SurveyPage(phone).open(demo_server.respondent_url)
    survey.answer(ANSWERS).send()
    phone.wait_for_url("**/thanks**")
    phone.go_back()
    phone.wait_for_load_state()
    assert "/privacy" in phone.url, "the thank-you page took the form's place in the history"
    assert phone.get_by_test_id("survey-form").count() == 0
    phone.go_forward()
    phone.wait_for_load_state()
    assert survey.thanked
    assert _responses(demo_server) == before + 1


def test_a_network_cut_while_sending_keeps_the_answers_and_sends_them_once(
    phone,
    demo_server: DemoServer,  # type: ignore[no-untyped-def]
) -> None:
    before = _responses(demo_server)
    survey = SurveyPage(phone).open(demo_server.respondent_url)
    survey.answer(ANSWERS)
    phone.context.set_offline(True)
    survey.send()
    phone.get_by_test_id("survey-form").locator("#offline").wait_for()
    assert "Keine Verbindung" in phone.get_by_test_id("survey-form").inner_text()
    assert phone.get_by_test_id("respect-5").is_checked(), "the answers are still there"
    phone.context.set_offline(False)
    survey.send()
    phone.wait_for_url("**/thanks**")
    assert _responses(demo_server) == before + 1


def test_a_slow_answer_shows_that_the_answers_are_being_sent(
    phone,
    demo_server: DemoServer,  # type: ignore[no-untyped-def]
) -> None:
    """On a slow line the API's answer takes seconds: the button greys out and the page says
    in the client's language that the answers are on their way (t23's finding 10)."""
    before = _responses(demo_server)
    held = []
    phone.route("**/api/v1/responses", lambda route: held.append(route))
    survey = SurveyPage(phone).open(demo_server.respondent_url)
    status = phone.get_by_test_id("sending")
    assert status.inner_text() == "", "nothing said before sending"
    survey.answer(ANSWERS).send()
    expect(status).to_have_text("Ihre Antworten werden gesendet …")
    assert status.get_attribute("role") == "status"
    assert phone.get_by_test_id("submit").is_disabled()
    assert phone.get_by_test_id("survey-form").get_attribute("aria-busy") == "true"
    button = phone.get_by_test_id("submit").evaluate("b => getComputedStyle(b).opacity")
    assert float(button) < 1, "a disabled button looks disabled"
    while not held:
        phone.wait_for_timeout(50)
    held[0].continue_()
    phone.wait_for_url("**/thanks**")
    assert _responses(demo_server) == before + 1
