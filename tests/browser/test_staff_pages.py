"""Every staff page, for every demo role, fits a phone (360 px), a tablet (768 px) and a
desktop (1280 px) in German and English without sideways scrolling, its charts follow the
width, and it has no WCAG 2.1 AA violation that axe-core finds.

Lean by design (the suite has a time budget): one browser context per role; each page is
loaded once per language at phone width and then resized (the stylesheet and the charts
follow a resize, as they do when a tablet turns); axe runs once per page template, in the
first language and for the first role that opens it, whichever process runs it (`AXE_BY`:
the languages, roles and levels see the same markup with other words and rows). The
administration's own pages are checked in depth by test_manage.py.

Every "?" beside a figure leads to a section of the help page in both languages.

Found this way, and mended: a chart's box had role="img" around plotly's buttons (nested
interactive controls), and tables that scroll inside their card could not be reached with
the keyboard.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser import test_dashboard
from tests.browser.conftest import DemoServer
from tests.browser.pages import StaffPages
from tests.browser.test_accessibility import _violations

WIDTHS = ((360, 740), (768, 1024), (1280, 800))
"""A phone (360 px: 390 until 2026-11-30; the narrower of the two common phones, the one
test_dashboard.py's checks below were written for), a tablet, a desktop."""
DASHBOARDS = (
    "/dashboard",
    "/dashboard/offices/{office}",
    "/dashboard/benchmark",
    "/dashboard/benchmark?level=organization",
    "/dashboard/best",
    "/dashboard/best?level=organization",
    "/dashboard/help",
    "/dashboard/no-such-page",
)
MANAGER_DASHBOARDS = tuple(
    p for p in DASHBOARDS if p not in ("/dashboard/offices/{office}", "/dashboard/benchmark")
)
PAGES = {
    "network": (*DASHBOARDS, "/manage", "/manage/tokens", "/export"),
    "admin": (*DASHBOARDS, "/manage", "/manage/tokens", "/export"),
    # an office and the benchmark of the manager's offices (their rows and withheld verdicts)
    # are test_dashboard.py's, at 1280, 360 and 320 px in both languages, and the network's
    # here: not again (the overview stays: its targets and office kinds are the manager's)
    "manager": (*MANAGER_DASHBOARDS, "/manage/tokens", "/export", "/account", "/account/password"),
    "researcher": ("/export", "/manage/tokens", "/dashboard"),  # the last: 403, a way onward
}
CHARTS_DRAWN = """() => [...document.querySelectorAll('[data-figure]')]
    .every(f => f.hasAttribute('data-drawn'))"""
CHARTS_FIT = """() => [...document.querySelectorAll('[data-figure] .main-svg')]
    .every(s => s.getBoundingClientRect().width
                <= s.closest('[data-figure]').getBoundingClientRect().width + 1)"""
CHART_WIDTHS = """() => [...document.querySelectorAll('[data-figure] .main-svg')]
    .map(s => [s.closest('[data-figure]').dataset.figure, s.getBoundingClientRect().width,
               s.closest('[data-figure]').getBoundingClientRect().width])"""
HELP_ANCHORS = """() => [...document.querySelectorAll('a.help-link')]
    .map(a => new URL(a.href).hash.slice(1))"""
IDS = "() => [...document.querySelectorAll('[id]')].map(e => e.id)"
"""Every id on the help page as loaded for the widths above: each "?" must lead to exactly one
(the help page was loaded again in both languages at the end until 2026-11-30)."""
ROLES_IN_ORDER = ("network", "manager", "researcher", "admin")
CHECKS: dict[tuple[str, str, str, int], tuple[Any, ...]] = (
    {
        ("network", "/dashboard", lang, width): (
            test_dashboard.the_office_types_show_the_effect_size_their_verdict_rests_on,
        )
        for lang in ("de", "en")
        for width in (360, 1280)
    }
    | {
        ("network", "/dashboard/best", lang, 360): (
            test_dashboard.the_best_matrix_keeps_its_first_column_on_a_phone,
        )
        for lang in ("de", "en")
    }
    | {
        ("network", "/dashboard/best", lang, 1280): (test_dashboard.the_best_matrix_fits_a_desktop,)
        for lang in ("de", "en")
    }
    | {
        ("network", "/export", "en", 360): (
            test_dashboard.the_curl_example_breaks_no_word_on_a_phone,
        ),
        ("network", "/dashboard/benchmark", "en", 1280): (
            test_dashboard.the_rank_stays_on_one_line_on_a_desktop,
        ),
    }
    | {
        ("manager", "/dashboard", lang, 360): (test_dashboard.the_overview_fits_a_phone,)
        for lang in ("de", "en")
    }
)
"""test_dashboard.py's checks of single pages (the office types' verdicts and effects, the
strengths matrix, the curl example, the rank, the manager's overview on a phone), run here
on the page as it is loaded and resized for (role, page, language, width), instead of
signing in and loading it again."""


def _axe_key(role: str, template: str) -> str:
    """What axe checks once: a page's template, whoever opens it and at whichever level (the
    benchmark's and the matrix's job centres, `?level=organization`, are the offices' markup
    with plain names for the office links and without the job centre under each name: axe
    checks the offices' page, whose elements are a superset); the researcher's /dashboard is
    the 403 page, not the overview."""
    template = template.split("?level=")[0]
    return f"{template} (403)" if role == "researcher" and template == "/dashboard" else template


AXE_BY = {
    key: role
    for role in reversed(ROLES_IN_ORDER)
    for key in (_axe_key(role, path) for path in PAGES[role])
}
"""Which role's test runs axe on each page (in the first language): the first in
`ROLES_IN_ORDER` that opens it, the network's coordinator for every page the manager shares
with them. Fixed here, not by which test ran first in a process: a role whose test ran in
another xdist process than the network's ran axe on every page it opened (axe takes 1.2-1.9 s
of Chromium's CPU on a dashboard page), and the researcher's 403 page at /dashboard was
never checked where the network's /dashboard had been."""


@pytest.fixture(scope="module")
def axe() -> Any:
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


ROLES = [
    "network",  # sees every page, both levels of the benchmark, the administration
    "manager",  # the team lead: their job centre's offices, verdicts withheld where needed
    "researcher",  # exports, and the 403 page with its way onward
    pytest.param("admin", marks=pytest.mark.slow),  # the manager's pages plus /manage
]
"""The admin's pages are the manager's plus the network's /manage: `-m slow` runs them."""


@pytest.mark.parametrize("role", ROLES)
def test_every_staff_page_fits_every_width_in_both_languages_and_is_axe_clean(
    role: str, browser: Any, demo_server: DemoServer, axe: Any
) -> None:
    started = time.monotonic()
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="de-DE")
    page = context.new_page()
    try:
        # signed in through the form onto the first page in the first language, at 360 px
        # as the loop below loads each page (it landed on the overview until 2026-11-30 and
        # loaded the first page again)
        first = PAGES[role][0]
        StaffPages(page, demo_server.base_url).as_user(
            *demo_server.logins[role], next_page=f"{first}?lang=de"
        )
        office = ""
        wide: list[str] = []
        found: list[str] = []
        anchors: set[str] = set()
        help_ids: dict[str, list[str]] = {}  # the ids on the help page, by language
        checked: set[str] = set()  # by axe
        ran: list[tuple[str, str, str, int]] = []  # CHECKS
        for path in PAGES[role]:
            path = path.format(office=office)
            for lang in ("de", "en"):
                page.set_viewport_size({"width": 360, "height": 740})
                joiner = "&" if "?" in path else "?"
                if (path, lang) != (first, "de"):  # (that one the sign-in has loaded)
                    answer = page.goto(f"{demo_server.base_url}{path}{joiner}lang={lang}")
                    assert answer is not None and answer.status < 500, (role, path, lang)
                assert page.locator("html").get_attribute("lang") == lang, (role, path)
                page.wait_for_function(CHARTS_DRAWN)
                anchors.update(page.evaluate(HELP_ANCHORS))
                if path == "/dashboard" and role != "researcher" and not office:
                    link = page.get_by_test_id("office-link").first.get_attribute("href") or ""
                    office = urlsplit(link).path.rsplit("/", 1)[-1]  # the overview's first
                if path == "/dashboard/help":
                    help_ids[lang] = page.evaluate(IDS)
                template = path.replace(f"/{office}", "/{office}") if office else path
                key = _axe_key(role, template)
                if lang == "de" and AXE_BY[key] == role and key not in checked:
                    checked.add(key)  # once a template
                    found += _violations(axe, page, f"{role} {path} {lang}")
                for width, height in WIDTHS:
                    page.set_viewport_size({"width": width, "height": height})
                    try:  # plotly redraws on the resize: under load that can take seconds
                        page.wait_for_function(CHARTS_FIT, timeout=20_000)
                    except PlaywrightTimeout:
                        widths = page.evaluate(CHART_WIDTHS)
                        wide.append(f"{path} ({lang}): charts at {width} px: {widths}")
                    scroll = page.evaluate("document.documentElement.scrollWidth")
                    if scroll > width:
                        wide.append(f"{path} ({lang}) is {scroll} px wide at {width} px")
                    for check in CHECKS.get((role, template, lang, width), ()):
                        check(page, demo_server, lang)
                        ran.append((role, template, lang, width))
        for lang in ("de", "en") if anchors else ():  # every "?" leads to its section
            if lang not in help_ids:  # (every role with a "?" loads the help page above)
                page.goto(f"{demo_server.base_url}/dashboard/help?lang={lang}")
                help_ids[lang] = page.evaluate(IDS)
            missing = [a for a in sorted(anchors) if help_ids[lang].count(a) != 1]
            assert missing == [], (role, lang, missing)
        assert wide == [], "\n".join(wide)
        assert found == [], "\n".join(found)
        assert sorted(ran) == sorted(k for k in CHECKS if k[0] == role), "each check ran once"
    finally:
        context.close()
    print(f"{role}: {len(PAGES[role])} pages × 2 languages × 3 widths in "
          f"{time.monotonic() - started:.1f} s")  # fmt: skip
