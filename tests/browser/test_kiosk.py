"""The office tablet: clients one after another, the network cut, reloads, Back, switched off."""

from __future__ import annotations

import datetime as dt
import secrets
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from survey.respond.stamp import make_stamp
from tests.browser.conftest import CHROMIUM_ARGS, DemoServer, chromium_path, keep_screenshot
from tests.browser.pages import KioskPage

CLIENTS = {
    "ar": {"respect": 5, "overall": 4, "comment": "شكرا"},
    "uk": {"respect": 2, "understood": 3, "overall": 2},
    "en": {"respect": 4, "waiting": 1, "overall": 5, "recommend": 10},
}


def _db(server: DemoServer) -> sqlite3.Connection:
    return sqlite3.connect(server.database, timeout=10)


def _responses_since(server: DemoServer, after_id: int) -> list[tuple[int, str]]:
    with _db(server) as conn:
        return conn.execute(
            "SELECT id, locale FROM response WHERE id > ? ORDER BY id", (after_id,)
        ).fetchall()


def _last_id(server: DemoServer) -> int:
    with _db(server) as conn:
        return int(conn.execute("SELECT COALESCE(MAX(id), 0) FROM response").fetchone()[0])


def _answers(server: DemoServer, response_id: int) -> dict[str, object]:
    with _db(server) as conn:
        values = conn.execute(
            "SELECT item, value FROM answer WHERE response = ?", (response_id,)
        ).fetchall()
        texts = conn.execute(
            "SELECT item, text FROM text_answer WHERE response = ?", (response_id,)
        ).fetchall()
    return dict(values) | dict(texts)


def _new_kiosk_link(server: DemoServer) -> str:
    """A kiosk link of its own (a copy of the demo's), so switching it off harms no other test."""
    token = secrets.token_urlsafe(16)
    demo_token = server.kiosk_url.rsplit("/", 1)[1]
    with _db(server) as conn:
        conn.execute(
            "INSERT INTO link (token, office, version, service_type, mode, label, active, "
            "created_at, idle_seconds, codes_required) SELECT ?, office, version, service_type, "
            "mode, label, 1, created_at, 60, 0 FROM link WHERE token = ?",
            (token, demo_token),
        )
    return f"{server.base_url}/k/{token}"


def _wait_for(predicate: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    pytest.fail(f"waited {seconds} s for {what}")


@pytest.fixture
def tablet(browser: Any) -> Iterator[Any]:
    """A 1280×800 tablet in landscape, German, with service workers."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 800},
        locale="de-DE",
        has_touch=True,
        service_workers="allow",
    )
    yield context
    context.close()


def test_three_clients_answer_offline_and_each_answer_arrives_once_after_a_reload(
    tablet: Any, demo_server: DemoServer, artifacts_dir: Any
) -> None:
    page = tablet.new_page()
    kiosk = KioskPage(page).open(_new_kiosk_link(demo_server))
    kiosk.wait_until_ready_offline()
    keep_screenshot(page, artifacts_dir / "kiosk-start.png")
    before = _last_id(demo_server)
    tablet.set_offline(True)
    for lang, answers in CLIENTS.items():
        kiosk.choose(lang)
        assert page.get_attribute("html", "lang") == lang
        kiosk.survey.answer(answers).send()
        kiosk.survey.send_anyway()
        kiosk.wait_for_thanks()
        if lang == "ar":
            keep_screenshot(page, artifacts_dir / "kiosk-thanks-offline.png")
        kiosk.start_again()
    kiosk.expect_waiting(3)  # staff see how many answers wait
    page.reload()  # still offline: the service worker serves the start screen
    kiosk.wait_for_start()
    kiosk.expect_waiting(3)
    assert _responses_since(demo_server, before) == []
    tablet.set_offline(False)
    _wait_for(lambda: len(_responses_since(demo_server, before)) >= 3, 90, "the queue")
    # it showed 3: hidden now means the queue was sent and the flush is over (kiosk.js shows
    # the count when a flush ends, and runs one flush at a time): nothing more will arrive
    # (this waited 2 s instead until 2026-11-30)
    kiosk.expect_waiting(0)
    stored = _responses_since(demo_server, before)
    assert sorted(locale for _, locale in stored) == ["ar", "en", "uk"]
    for response_id, locale in stored:
        assert _answers(demo_server, response_id) == CLIENTS[locale]


def test_after_a_reset_back_shows_nothing_of_the_previous_client(
    tablet: Any, demo_server: DemoServer
) -> None:
    page = tablet.new_page()
    kiosk = KioskPage(page).open(_new_kiosk_link(demo_server))
    kiosk.choose("tr")
    kiosk.survey.answer({"respect": 1, "overall": 1, "comment": "çok kötü"})
    page.get_by_test_id("lang-ar").click()  # a language change mid-survey replaces the page
    page.wait_for_load_state()
    kiosk.survey.answer({"respect": 2, "comment": "سري"}).send()
    kiosk.survey.send_anyway()
    kiosk.wait_for_thanks()
    kiosk.start_again()
    assert page.evaluate("history.length") <= 2, "each screen replaced the one before"
    page.go_back()
    page.wait_for_load_state()
    assert "/k/" not in page.url or page.get_by_test_id("kiosk-start").is_visible()
    assert page.locator("input:checked").count() == 0
    assert "سري" not in page.content() and "kötü" not in page.content()
    page.go_forward()
    page.wait_for_load_state()
    assert page.locator("input:checked, textarea:not(:placeholder-shown)").count() == 0
    assert (
        page.evaluate("Object.keys(localStorage).length + Object.keys(sessionStorage).length") == 0
    )
    assert tablet.cookies() == []


def test_a_half_filled_survey_goes_back_to_the_start_when_left_alone(
    tablet: Any, demo_server: DemoServer
) -> None:
    page = tablet.new_page()
    page.clock.install()
    kiosk = KioskPage(page).open(_new_kiosk_link(demo_server))
    kiosk.choose("de")
    kiosk.survey.answer({"respect": 3})
    page.clock.run_for(50_000)
    # any touch or key postpones it (a key: Chromium acknowledges a wheel event before the
    # page's passive listener has run, so the fake clock could move first)
    still_there = page.locator("#still-there")
    assert still_there.is_visible(), "asked 20 s before"
    page.keyboard.press("Shift")
    # the key has been seen once it closed the question: only then may the fake clock move
    # (at load 9 it moved first: the reset came at 60 s, or after the 115 s below)
    still_there.wait_for(state="hidden")
    page.clock.run_for(50_000)
    assert page.get_by_test_id("respect-3").is_checked(), "still there: someone is answering"
    page.clock.run_for(15_000)
    kiosk.wait_for_start()
    assert page.locator("input:checked").count() == 0


def test_a_half_filled_survey_asks_are_you_still_there_before_it_is_cleared(
    tablet: Any, demo_server: DemoServer
) -> None:
    """t23 #20: a slow reader who touched nothing for 60 s lost their answers without a
    warning. 20 s before, a dialog in the survey's language takes the focus; Continue keeps
    the answers (and chooses nothing underneath), and left alone it still clears them."""
    page = tablet.new_page()
    page.clock.install()
    kiosk = KioskPage(page).open(_new_kiosk_link(demo_server))
    kiosk.choose("ar")
    kiosk.survey.answer({"respect": 3})
    dialog = page.get_by_role("alertdialog", name="هل ما زلت هنا؟")
    page.clock.run_for(39_000)
    assert dialog.is_hidden()
    page.clock.run_for(2_000)
    assert dialog.is_visible()
    go_on = dialog.get_by_role("button", name="متابعة")
    assert page.evaluate("document.activeElement.dataset.testid") == "still-there-continue"
    box = go_on.bounding_box()
    assert box is not None and box["height"] >= 48 and box["width"] >= 200, box
    keep_screenshot(page, Path("test-artifacts") / "kiosk-still-there.png")
    go_on.tap()  # the dialog closes on the click Chromium makes of the tap, after tap() returns
    dialog.wait_for(state="hidden")
    assert page.get_by_test_id("respect-3").is_checked(), "the answers are kept"
    assert page.locator("input:checked").count() == 1, "the tap chose nothing underneath"
    page.clock.run_for(39_000)
    assert dialog.is_hidden(), "the idle time starts again"
    page.clock.run_for(2_000)
    assert dialog.is_visible()
    page.mouse.move(20, 20)
    page.mouse.wheel(0, 300)  # r27: a scroll left it showing and silently restarted the wait
    dialog.wait_for(state="hidden")
    page.clock.run_for(39_000)
    assert dialog.is_hidden(), "a scroll is someone there: the idle time starts again"
    page.clock.run_for(22_000)
    kiosk.wait_for_start()
    assert page.locator("input:checked").count() == 0


def test_a_switched_off_kiosk_takes_the_queued_answers_and_refuses_new_ones(
    tablet: Any, demo_server: DemoServer
) -> None:
    url = _new_kiosk_link(demo_server)
    token = url.rsplit("/", 1)[1]
    page = tablet.new_page()
    kiosk = KioskPage(page).open(url)
    kiosk.wait_until_ready_offline()
    before = _last_id(demo_server)
    tablet.set_offline(True)
    kiosk.choose("de")
    kiosk.survey.answer({"respect": 4, "overall": 4}).send()
    kiosk.survey.send_anyway()
    kiosk.wait_for_thanks()
    kiosk.start_again()
    time.sleep(1.1)  # the switch comes after the page was served, in whole seconds
    off = dt.datetime.now(dt.UTC)
    with _db(demo_server) as conn:
        conn.execute(
            "UPDATE link SET active = 0, deactivated_at = ? WHERE token = ?",
            (off.isoformat(sep=" "), token),
        )
    tablet.set_offline(False)
    _wait_for(lambda: len(_responses_since(demo_server, before)) == 1, 90, "the queued answer")
    page.goto(url)
    assert "Diese Umfrage ist beendet" in page.content()
    secret = demo_server.database.with_suffix(".secret").read_text().strip()
    fresh = make_stamp(secret, token)
    refused = page.evaluate(
        """async ([token, stamp]) => {
             const r = await fetch('/api/v1/responses', {method: 'POST',
               headers: {'content-type': 'application/json'},
               body: JSON.stringify({link: token, submission_id: crypto.randomUUID(),
                                     locale: 'de', issued: stamp, answers: {respect: 5}})});
             return [r.status, (await r.json()).message];
           }""",
        [token, fresh],
    )
    assert refused == [410, "Diese Umfrage ist beendet. Danke, dass Sie teilnehmen wollten."]
    assert len(_responses_since(demo_server, before)) == 1


def _shows_the_start_in_german(page: Any, kiosk: KioskPage, *traces: str) -> None:
    kiosk.wait_for_start()
    assert page.get_attribute("html", "lang") == "de", "the tablet's language, not the client's"
    assert "lang=" not in page.url
    assert page.locator("input:checked").count() == 0
    for trace in traces:
        assert trace not in page.content()


def test_a_reload_after_sending_starts_the_next_client_in_the_tablets_language(
    tablet: Any, demo_server: DemoServer
) -> None:
    """The thank-you screen must not keep the client's ?lang=: a reload (or the browser
    restoring its tabs) would show the next client the last one's survey and language."""
    page = tablet.new_page()
    kiosk = KioskPage(page).open(_new_kiosk_link(demo_server))
    before = _last_id(demo_server)
    kiosk.choose("ar")
    kiosk.survey.answer(CLIENTS["ar"]).send()
    kiosk.survey.send_anyway()
    kiosk.wait_for_thanks()
    assert "lang=" not in page.url, "the thank-you screen has the start's address"
    page.reload()
    _shows_the_start_in_german(page, kiosk, "شكرا")
    # the answers still arrive from the queue
    _wait_for(lambda: len(_responses_since(demo_server, before)) == 1, 60, "the queued answer")
    # without the queue (no IndexedDB: the plain form POST), the thank-you page does the same
    kiosk.choose("uk")
    kiosk.survey.answer(CLIENTS["uk"])
    page.evaluate(
        """() => {
             const form = document.getElementById('survey');
             form.insertAdjacentHTML('beforeend', '<input name="incomplete" value="1">');
             HTMLFormElement.prototype.submit.call(form);
           }"""
    )
    page.get_by_test_id("thanks").wait_for()
    page.wait_for_function("!location.search")
    page.reload()
    _shows_the_start_in_german(page, kiosk)
    locales = [locale for _, locale in _responses_since(demo_server, before)]
    assert locales == ["ar", "uk"]


def test_an_offline_reload_after_sending_starts_in_the_tablets_language_and_keeps_the_queue(
    tablet: Any, demo_server: DemoServer
) -> None:
    page = tablet.new_page()
    kiosk = KioskPage(page).open(_new_kiosk_link(demo_server))
    kiosk.wait_until_ready_offline()
    before = _last_id(demo_server)
    tablet.set_offline(True)
    kiosk.choose("tr")
    kiosk.survey.answer({"respect": 1, "overall": 2, "comment": "çok yavaş"}).send()
    kiosk.survey.send_anyway()
    kiosk.wait_for_thanks()
    page.reload()  # the service worker answers: the start screen, in German
    _shows_the_start_in_german(page, kiosk, "çok yavaş")
    kiosk.expect_waiting(1)
    tablet.set_offline(False)
    _wait_for(lambda: len(_responses_since(demo_server, before)) == 1, 90, "the queued answer")
    assert [locale for _, locale in _responses_since(demo_server, before)] == ["tr"]


def test_without_javascript_the_thank_you_page_names_no_language_and_a_reload_shows_the_tablets(
    browser: Any, demo_server: DemoServer
) -> None:
    """The plain form POST of a tablet without JavaScript: the thank-you page was at
    /k/<token>/thanks?lang=<the client's>, so a reload showed the next client the last one's
    language for the 8 s before the reset. It is the POST's own answer now, at the start's
    address; a reload sends the same answers again and is thanked in the tablet's language."""
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, locale="de-DE", java_script_enabled=False
    )
    page = context.new_page()
    try:
        url = _new_kiosk_link(demo_server)
        kiosk = KioskPage(page).open(url)
        before = _last_id(demo_server)
        kiosk.choose("ar")
        kiosk.survey.answer(CLIENTS["ar"]).send()
        kiosk.survey.send_anyway()  # the server asks about the questions left out
        page.get_by_test_id("thanks").wait_for()
        assert page.get_attribute("html", "lang") == "ar", "thanked in the client's language"
        assert page.url == url, "the start's address, no language in it"
        page.reload()
        page.get_by_test_id("thanks").wait_for()
        assert page.get_attribute("html", "lang") == "de", "the tablet's language, not the client's"
        assert "lang=" not in page.url
        assert "شكرا" not in page.content()
        assert (
            page.get_by_test_id("again").get_attribute("href")
            == url.removeprefix(demo_server.base_url) + "/next"
        )
        assert [locale for _, locale in _responses_since(demo_server, before)] == ["ar"]
    finally:
        context.close()


def _without_javascript(browser: Any, **options: Any) -> Any:
    """A tablet with JavaScript switched off: its <noscript> path."""
    return browser.new_context(
        viewport={"width": 360, "height": 740},
        locale="de-DE",
        java_script_enabled=False,
        **options,
    )


def _answer_until_thanked(page: Any, url: str) -> None:
    """An Arabic client without JavaScript: one answer and a comment, "send anyway?", the
    thank-you page (whose <noscript> refresh leads to the start screen 8 s later)."""
    kiosk = KioskPage(page).open(url)
    kiosk.choose("ar")
    kiosk.survey.answer({"respect": 5, "comment": "سري"}).send()
    kiosk.survey.send_anyway()
    page.get_by_test_id("thanks").wait_for()


def _locales_by_link(server: DemoServer, url: str) -> list[str]:
    token = url.rsplit("/", 1)[1]
    with _db(server) as conn:
        rows = conn.execute(
            "SELECT r.locale FROM response r JOIN link l ON l.id = r.link WHERE l.token = ? "
            "ORDER BY r.id",
            (token,),
        ).fetchall()
    return [locale for (locale,) in rows]


def _back_through_the_history(page: Any, url: str) -> list[str]:
    """The next client presses Back until the kiosk's pages are behind them, and on a page
    the browser will not show again without sending its form (ERR_CACHE_MISS: "Confirm form
    resubmission") presses Reload, which sends it. What each page showed: its language,
    whether it had an answer or the comment on it."""
    from playwright.sync_api import Error as PlaywrightError

    seen = []
    for _ in range(8):
        try:
            page.go_back(wait_until="commit")
        except PlaywrightError as exc:
            assert "ERR_CACHE_MISS" in str(exc), exc
            page.wait_for_url(lambda shown: shown.startswith("chrome-error:"))
            page.reload()  # the browser sends that page's form again
        if not page.url.startswith(url):
            break
        # the footer ends every respondent page (a page from the back-forward cache fires no
        # load event of its own)
        page.get_by_test_id("privacy").wait_for(state="attached")
        lang = page.get_attribute("html", "lang")
        answered = page.locator("input:checked").count() > 0 or "سري" in page.content()
        seen.append(f"{page.url.removeprefix(url)} {lang}{' with answers' if answered else ''}")
    return seen


def test_without_javascript_back_after_the_reset_shows_nothing_of_the_last_client(
    browser: Any, demo_server: DemoServer
) -> None:
    """Back from the start screen reached the "send anyway?" page (a POST: Reload sent it
    again and showed the last client's answers) and the empty form in their language at
    /k/<token>?lang=ar. Now the form's address leads to the start screen once its answers
    are stored, and the form sent again to the neutral thank-you page, both in German.

    And with the back-forward cache: Chromium keeps no-store pages for Back in it (Playwright
    switches that off; the second tablet's browser has it on): Back after the reset showed
    the form as the last client had left it, in Arabic with their answer chosen, without
    asking the server. The thank-you page now goes back to /k/<token>/next, whose
    Clear-Site-Data empties that cache, so Back asks the server, which answers as without it.

    Two tablets, one in each browser: the second client answers while the first tablet's 8 s
    reset runs, and each then goes back through its history (two tests until 2026-11-30,
    test_without_javascript_back_after_the_reset_finds_no_page_kept_of_the_last_client the
    second, each waiting the 8 s on its own: the same clients, pages and assertions)."""
    # the desktop browser itself (`chromium`), not the headless shell the other tests use:
    # the back-forward cache this is about is the desktop browser's
    kept = browser.browser_type.launch(
        executable_path=chromium_path(),
        args=CHROMIUM_ARGS,
        ignore_default_args=["--disable-back-forward-cache"],
    )
    plain = _without_javascript(browser)
    try:
        tablets = [plain.new_page(), _without_javascript(kept).new_page()]
        urls = [_new_kiosk_link(demo_server) for _ in tablets]
        for page, url in zip(tablets, urls, strict=True):
            _answer_until_thanked(page, url)
        for page, url, kind in zip(tablets, urls, ("plain", "back-forward cache"), strict=True):
            KioskPage(page).wait_for_start()  # the <noscript> refresh, 8 s after the thanks
            seen = _back_through_the_history(page, url)
            assert seen, f"{kind}: Back reached the client's pages"
            assert all(shown.endswith(" de") for shown in seen), (kind, seen)
            assert _locales_by_link(demo_server, url) == ["ar"], kind  # stored once
    finally:
        plain.close()
        kept.close()
