"""Page objects: what a test does on a page, by stable data-testid selectors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote


class SurveyPage:
    def __init__(self, page: Any) -> None:
        self.page = page

    def open(self, url: str) -> SurveyPage:
        self.page.goto(url)
        return self

    def choose(self, item: str, value: int) -> None:
        self.page.get_by_test_id(f"{item}-{value}").check()

    def answer(self, answers: Mapping[str, int | str]) -> SurveyPage:
        for item, value in answers.items():
            if isinstance(value, str):
                self.page.get_by_test_id(item).fill(value)
            else:
                self.choose(item, value)
        return self

    def answer_out_of_range(self, item: str) -> SurveyPage:
        """Tamper with an option's value, as a forged form would, and choose it."""
        option = self.page.get_by_test_id(f"{item}-1")
        option.evaluate("input => { input.value = '99'; }")
        option.check()
        return self

    def send(self) -> SurveyPage:
        self.page.get_by_test_id("submit").click()
        return self

    def send_anyway(self) -> SurveyPage:
        self.page.get_by_test_id("send-anyway").click()
        return self

    @property
    def asks_to_confirm(self) -> bool:
        return self.page.get_by_test_id("confirm").is_visible()

    @property
    def thanked(self) -> bool:
        return self.page.get_by_test_id("thanks").is_visible()

    @property
    def error_summary(self) -> Any:
        return self.page.get_by_test_id("error-summary")


class KioskPage:
    """The office tablet: the start screen with its language buttons, the questions, thanks."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.survey = SurveyPage(page)

    def open(self, url: str) -> KioskPage:
        self.page.goto(url)
        self.wait_for_start()
        return self

    def wait_for_start(self) -> None:
        self.page.get_by_test_id("kiosk-start").wait_for()

    def wait_until_ready_offline(self) -> None:
        """Until the service worker controls the page and holds every language's page."""
        for _ in range(120):
            ready = self.page.evaluate(
                """async () => {
                     if (!navigator.serviceWorker.controller) return false;
                     const wanted = [...document.querySelectorAll('a.choice')].map(a => a.href);
                     const cache = await caches.open('resonanz-kiosk-1');
                     const have = (await cache.keys()).map(r => r.url);
                     return wanted.length > 0 && wanted.every(url => have.includes(url));
                   }"""
            )
            if ready:
                return
            self.page.wait_for_timeout(500)
        raise AssertionError("the service worker did not take the kiosk's pages in 60 s")

    def choose(self, code: str) -> None:
        self.page.get_by_test_id(f"choose-{code}").click()
        self.page.get_by_test_id("survey-form").wait_for()
        # the form is there once parsed; kiosk.js (deferred) arms the idle time before the
        # load event: a fake clock moved before that moves no timer (CI, 2026-11-29, at load 10)
        self.page.wait_for_load_state()

    def wait_for_thanks(self) -> None:
        self.page.get_by_test_id("kiosk-thanks").wait_for()
        # the questions have left the screen, and so has the link that skipped to them
        assert self.page.locator("a.skip").count() == 0

    def start_again(self) -> None:
        self.page.get_by_test_id("kiosk-thanks").get_by_test_id("again").click()
        self.wait_for_start()

    def expect_waiting(self, count: int) -> None:
        """The staff's mark shows `count` answers waiting to be sent (hidden at 0). It is read
        from IndexedDB after the page shows: wait for it (a fixed 300 ms before reading it once
        could be too short on a loaded machine, r30)."""
        from playwright.sync_api import expect

        mark = self.page.get_by_test_id("queue")
        if count:
            expect(mark).to_have_text(f"\u25cf {count}", timeout=30_000)
        else:
            expect(mark).to_be_hidden(timeout=30_000)


class LanguageChooser:
    """The language links at the top of the survey page."""

    def __init__(self, page: Any) -> None:
        self.page = page

    def choose(self, code: str) -> None:
        self.page.get_by_test_id(f"lang-{code}").click()
        self.page.wait_for_load_state()

    def names(self) -> dict[str, str]:
        links = self.page.get_by_test_id("languages").locator("a")
        return {
            str(link.get_attribute("data-testid"))[5:]: link.inner_text() for link in links.all()
        }


# ---- staff pages: sign-in and dashboards ---------------------------------------------------


class LoginPage:
    def __init__(self, page: Any) -> None:
        self.page = page

    def open(self, base_url: str, next_page: str | None = None) -> LoginPage:
        """The sign-in page; with `next_page` (a staff path), the one it leads to once signed in."""
        query = f"?next={quote(next_page, safe='/')}" if next_page else ""
        self.page.goto(f"{base_url}/login{query}")
        return self

    def sign_in(self, username: str, password: str) -> DashboardPage:
        self.page.get_by_test_id("username").fill(username)
        self.page.get_by_test_id("password").fill(password)
        self.page.get_by_test_id("sign-in").click()
        self.page.wait_for_load_state()
        return DashboardPage(self.page)


class DashboardPage:
    def __init__(self, page: Any) -> None:
        self.page = page

    @property
    def verdicts(self) -> dict[str, str]:
        """Office name -> the rank test's verdict word shown in its row (overview or
        benchmark); "" where the row shows none (too few responses, or withheld: the overview
        then names no rank test at all)."""
        rows = self.page.locator("[data-testid=office-row], [data-testid=benchmark-row]")
        rows.first.wait_for()
        return {
            str(row.get_attribute("data-office")): (
                word.inner_text() if (word := row.get_by_test_id("verdict")).count() else ""
            )
            for row in rows.all()
        }

    def filter(self, **choices: str) -> DashboardPage:
        for name, value in choices.items():
            field = self.page.get_by_test_id(f"filter-{name}")
            if name in ("from", "to"):
                field.fill(value)
            else:
                field.select_option(value)
        self.page.get_by_test_id("apply-filters").click()
        self.page.wait_for_load_state()
        return self

    def open_office(self, name: str) -> DashboardPage:
        self.page.locator(f"[data-office='{name}']").get_by_test_id("office-link").click()
        self.page.wait_for_load_state()
        return self

    def open_benchmark(self) -> DashboardPage:
        self.page.get_by_test_id("nav-benchmark").click()
        self.page.wait_for_load_state()
        return self

    def wait_for_charts(self) -> DashboardPage:
        for chart in self.page.locator("[data-figure]").all():
            chart.locator("xpath=.").and_(self.page.locator("[data-drawn]")).wait_for()
        return self

    def download_csv(self, test_id: str = "csv") -> str:
        with self.page.expect_download() as info:
            self.page.get_by_test_id(test_id).click()
        path = info.value.path()
        return open(path, encoding="utf-8-sig").read()

    def sign_out(self) -> None:
        self.page.get_by_test_id("logout").click()
        self.page.wait_for_load_state()


class StaffPages:
    """Sign in as a demo role and land on the overview, or on `next_page`."""

    def __init__(self, page: Any, base_url: str) -> None:
        self.page = page
        self.base_url = base_url

    def as_user(self, username: str, password: str, next_page: str | None = None) -> DashboardPage:
        """Through the sign-in form. `next_page`: the page a test reads first, where the form
        leads once signed in (as a link to a staff page does), instead of the overview a
        test would leave at once: the overview's charts drawn for nothing (0.3-0.5 s of
        Chromium's CPU) and the admin's first overview worked out by the server."""
        login = LoginPage(self.page).open(self.base_url, next_page)
        dashboard = login.sign_in(username, password)
        if next_page:  # that page, and not a staff error page (as a load's status < 400)
            assert self.page.url == self.base_url + next_page, (self.page.url, next_page)
            assert self.page.get_by_test_id("error-page").count() == 0, next_page
        return dashboard


def switch_staff_language(page: Any, code: str) -> None:
    """Press a signed-in page's language button and wait for the page in that language.

    The button posts a form and the answer redirects: the click returns once the navigation
    has started, and reading the page then can give the empty document in between (CI,
    2026-11-29: `page.content()` was '' right after the click)."""
    page.get_by_test_id(f"lang-{code}").click()
    page.locator(f"html[lang={code}]").wait_for(state="attached")
    page.wait_for_load_state()


# ---- administration ---------------------------------------------------------------------


class ManagePages:
    """What an admin does under /manage, by data-testid."""

    def __init__(self, page: Any, base_url: str) -> None:
        self.page = page
        self.base_url = base_url

    def go(self, path: str) -> ManagePages:
        self.page.goto(f"{self.base_url}{path}")
        return self

    def submit(self, test_id: str) -> None:
        self.page.get_by_test_id(test_id).click()
        self.page.wait_for_load_state()

    def create_office(self, name: str, code: str, kind: str) -> None:
        if self.page.url != f"{self.base_url}/manage/offices":  # (signed in onto it)
            self.go("/manage/offices")
        self.page.get_by_test_id("office-name").fill(name)
        self.page.get_by_test_id("office-code").fill(code)
        self.page.get_by_test_id("office-kind").select_option(kind)
        self.submit("create-office")

    def create_questionnaire(self, name: str, code: str) -> None:
        self.go("/manage/questionnaires")
        self.page.get_by_test_id("questionnaire-name").fill(name)
        self.page.get_by_test_id("questionnaire-code").fill(code)
        self.submit("create-questionnaire")

    def add_item(self, code: str) -> None:
        self.page.get_by_test_id("bank-item").select_option(code)
        self.submit("add-item")

    def set_text(self, lang: str, item: str, text: str) -> None:
        self.page.get_by_test_id("text-language").select_option(lang)
        self.page.get_by_test_id("text-language").locator("xpath=../..").locator("button").click()
        self.page.wait_for_load_state()
        self.page.get_by_test_id(f"text-{item}").fill(text)
        self.submit("save-texts")

    def create_link(self, office: str, version_label: str, service: str, mode: str) -> str:
        self.go("/manage/links")
        self.page.get_by_test_id("link-office").select_option(label=office)
        self.page.get_by_test_id("link-version").select_option(label=version_label)
        self.page.get_by_test_id("link-service").select_option(service)
        self.page.get_by_test_id("link-mode").select_option(mode)
        self.submit("create-link")
        row = self.page.locator("tr:target")
        return str(row.get_by_test_id("link-url").inner_text())


class ExportPage:
    """The researcher's export page (/export)."""

    def __init__(self, page: Any) -> None:
        self.page = page

    def choose(self, **choices: str) -> ExportPage:
        for name, value in choices.items():
            field = self.page.get_by_test_id(f"export-{name}")
            if name in ("from", "to"):
                field.fill(value)
            else:
                field.select_option(value)
        return self

    def preview(self) -> ExportPage:
        self.page.get_by_test_id("export-preview").click()
        self.page.wait_for_load_state()
        return self

    @property
    def rows(self) -> int:
        return int(self.page.get_by_test_id("export-rows").inner_text())

    def download(self, test_id: str = "export-download") -> tuple[str, bytes]:
        with self.page.expect_download() as info:
            self.page.get_by_test_id(test_id).click()
        return info.value.suggested_filename, open(info.value.path(), "rb").read()
