"""Staff read the dashboards in headless Chromium at 1366×768, as each demo role."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from analysis import CountTable, funnel_limits, funnel_plot
from survey.demo import ALIKE_OFFICES, BETTER_OFFICE, WORSE_OFFICE
from tests.browser.conftest import DemoServer, keep_screenshot
from tests.browser.pages import DashboardPage, StaffPages, switch_staff_language


def _console_errors(page) -> list[str]:  # type: ignore[no-untyped-def]
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


ROLES = [
    "network",
    "manager",
    pytest.param("admin", marks=pytest.mark.slow),
]
"""The admin of a job centre reads the dashboards its manager reads (the same offices, the
same views, the same verdicts and comments): `-m slow` runs them as the admin as well, and
test_it_walks_every_role_over_every_dashboard_route (tests/integration/test_dashboard.py)
opens every dashboard page as every role."""


@pytest.mark.parametrize("role", ROLES)
def test_it_shows_each_role_its_dashboards_filters_and_csv(
    desktop,
    demo_server: DemoServer,
    artifacts_dir,
    role: str,  # type: ignore[no-untyped-def]
) -> None:
    errors = _console_errors(desktop)
    dashboard = StaffPages(desktop, demo_server.base_url).as_user(*demo_server.logins[role])
    assert desktop.url.endswith("/dashboard")
    verdicts = dashboard.verdicts
    # in a network of eight job centres "the rest of the network" reveals no single hidden
    # one, so admin and manager get verdicts too (with two job centres they would be
    # withheld: issue 10)
    assert verdicts[BETTER_OFFICE] == "besser"
    for name in ALIKE_OFFICES:
        assert verdicts[name] == "kein klarer Unterschied"
    assert (WORSE_OFFICE in verdicts) == (role == "network")
    if role == "network":
        assert verdicts[WORSE_OFFICE] == "schlechter"
    keep_screenshot(desktop, artifacts_dir / f"dashboard-{role}-overview.png", full_page=True)
    assert desktop.evaluate("document.documentElement.scrollWidth") <= 1366

    dashboard.filter(responses="service_type:benefits")
    assert "filter=service_type%3Abenefits" in desktop.url, "one filter at a time"
    assert desktop.get_by_test_id("protection-note").is_visible()
    csv = dashboard.download_csv()
    assert csv.splitlines()[0].startswith("Standort-Nr.;Standort;Jobcenter;Antworten;Index")
    assert BETTER_OFFICE in csv

    dashboard.open_office(BETTER_OFFICE).wait_for_charts()
    assert "service_type=benefits" in desktop.url, "the filters stay on"
    ticks = " ".join(desktop.locator(".xtick text").all_text_contents())
    assert ticks and not re.search(r"\b(Mar|May|Oct|Dec)\b", ticks), ticks  # German months
    # German numbers in every chart (axes and hovers): decimal comma, thousands point
    separators = desktop.evaluate(
        "[...document.querySelectorAll('[data-figure]')].map(e => e._fullLayout.separators)"
    )
    assert separators and set(separators) == {",."}, separators
    # the demo's comments are drawn relative to today: which personal data a shown month's
    # comments held changed with the date (only "[Kundennummer]" was looked for until
    # 2026-11-29, when none of the shown months had one); any masked kind will do
    kinds = "Name|Telefon|Kundennummer|Aktenzeichen|E-Mail|IBAN|Adresse|Geburtsdatum"
    masked = re.search(rf"\[({kinds})\]", desktop.content())
    if role == "network":  # the coordinator reads the members' figures, not their comments
        assert desktop.get_by_test_id("comments-not-readable").is_visible()
        assert not masked and desktop.get_by_test_id("comment").count() == 0
    else:  # a filtered view lists no comments (t22), the view without a filter does
        assert desktop.get_by_test_id("comments-filtered").is_visible()
        assert not masked and desktop.get_by_test_id("comment").count() == 0
        desktop.get_by_test_id("comments-unfiltered").click()
        desktop.wait_for_load_state()
        assert "service_type" not in desktop.url
        masked = re.search(rf"\[({kinds})\]", desktop.content())
        assert masked or "zu wenige Antworten" in desktop.content()
        desktop.go_back()
        desktop.wait_for_load_state()
    keep_screenshot(desktop, artifacts_dir / f"dashboard-{role}-office.png", full_page=True)
    assert "Monat" in dashboard.download_csv("csv-trend").splitlines()[0]

    dashboard.open_benchmark().wait_for_charts()
    # in a network of eight job centres the comparison value reveals no single hidden one,
    # so admin and manager get the funnel too (with two job centres they did not)
    assert desktop.locator(".modebar").count() >= 2, "plotly toolbar for PNG/SVG downloads"
    assert desktop.get_by_test_id("funnel-withheld").count() == 0
    keep_screenshot(desktop, artifacts_dir / f"dashboard-{role}-benchmark.png", full_page=True)
    assert "Rang" in dashboard.download_csv().splitlines()[0]
    assert errors == [], errors
    dashboard.sign_out()
    assert desktop.url.endswith("/login")


def test_it_refuses_the_researcher_and_works_without_javascript(
    browser,
    demo_server: DemoServer,
    artifacts_dir,  # type: ignore[no-untyped-def]
) -> None:
    context = browser.new_context(
        viewport={"width": 1366, "height": 768}, locale="de-DE", java_script_enabled=False
    )
    page = context.new_page()
    try:
        pages = StaffPages(page, demo_server.base_url)
        pages.as_user(*demo_server.logins["researcher"])
        assert page.url.endswith("/export")  # a researcher has exports only
        page.goto(f"{demo_server.base_url}/dashboard")
        assert page.get_by_test_id("error-page").is_visible()
        assert "Ihre Rolle umfasst keine Auswertungen." in page.content()
        keep_screenshot(page, artifacts_dir / "dashboard-researcher-403.png")
        page.get_by_test_id("error-logout").click()
        assert page.url.endswith("/login")
        pages.as_user(*demo_server.logins["manager"])
        page.get_by_test_id("sort-index").click()
        page.get_by_test_id("sort-index").click()
        assert "sort=-index" in page.url
        # the URL changes when the navigation commits, before the new page's rows are there
        page.wait_for_load_state()
        page.locator("[data-testid=office-row]").first.wait_for()
        names = list(DashboardPage(page).verdicts)
        assert names[0] == BETTER_OFFICE
        switch_staff_language(page, "en")
        assert "Client satisfaction by office" in page.content()
        assert "sort=-index" in page.url, "switching the language keeps the page as it was"
        keep_screenshot(page, artifacts_dir / "dashboard-manager-nojs-en.png", full_page=True)
        switch_staff_language(page, "de")
    finally:
        context.close()


ARTIFACTS = Path(os.environ.get("RESONANZ_TEST_ARTIFACTS", "test-artifacts"))
"""The `artifacts_dir` fixture's, for the checks other tests run (screenshots are kept only
when RESONANZ_TEST_ARTIFACTS names it)."""
PLOTLY = next((Path(__file__).parents[2] / "frontend/static/vendor").glob("plotly-*.min.js"))


def test_it_shows_whole_funnel_labels_also_at_the_edge_of_the_plot(
    desktop,
    artifacts_dir,  # type: ignore[no-untyped-def]
) -> None:
    names = [f"Standort {i}" for i in range(8)] + ["Jobcenter Nordheide-Hauptstelle"]
    counts = [[1, 2, 10, 20, 17]] * 8 + [[1, 3, 10, 25, 300]]  # the biggest is far above
    fig = funnel_plot(funnel_limits(CountTable(names, [1, 2, 3, 4, 5], counts)), names=True)
    desktop.set_content("<div id='funnel' style='width: 600px; height: 450px'></div>")
    desktop.add_script_tag(path=str(PLOTLY))
    desktop.evaluate("fig => Plotly.newPlot('funnel', fig.data, fig.layout)", fig.to_plotly_json())
    figure = desktop.locator("#funnel .main-svg").first.bounding_box()
    labels = desktop.locator("#funnel .scatterlayer .textpoint text")
    assert labels.all_text_contents() == ["Jobcenter Nordheide-Hauptstelle"]
    box = labels.first.bounding_box()
    assert figure["x"] <= box["x"] and box["x"] + box["width"] <= figure["x"] + figure["width"]
    assert figure["y"] <= box["y"], "the label stays inside the figure"
    assert labels.first.evaluate("t => t.closest('[clip-path]')") is None, "and is not clipped"
    keep_screenshot(desktop.locator("#funnel"), artifacts_dir / "funnel-label-at-the-edge.png")


WRAPS_THAT_SCROLL = """() => [...document.querySelectorAll('.table-wrap')]
    .filter(w => w.scrollWidth > w.clientWidth + 1).map(w => w.getAttribute('aria-label'))"""


def the_best_matrix_fits_a_desktop(page: Any, demo_server: DemoServer, lang: str) -> None:
    """t21: at 1280 px the matrix of eight questions scrolled sideways inside its card (its
    question columns were at least 8rem each); the page itself was no wider than the window.

    This and the checks below run in test_staff_pages.py's test of the coordinator's pages
    (`CHECKS`), on the pages it loads at 360 px and resizes to 768 and 1280 px, in both
    languages: they were tests of their own until 2026-11-30 (test_the_best_matrix_fits_a_
    desktop_and_keeps_its_first_column_on_a_phone, test_the_matrix_headers_the_rank_and_the_
    curl_example_stay_readable, test_the_office_types_show_the_effect_size_their_verdict_
    rests_on), each signing the coordinator in and loading those pages again."""
    assert page.get_by_test_id("best-row").count() > 20
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.evaluate(WRAPS_THAT_SCROLL) == [], lang
    keep_screenshot(page, ARTIFACTS / f"best-1280-{lang}.png", full_page=True)


def the_best_matrix_keeps_its_first_column_on_a_phone(
    page: Any, demo_server: DemoServer, lang: str
) -> None:
    """A phone: the page stays in the window, the matrix scrolls in its own box and its first
    column (the office) stays in view beside a question's column."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    wrap = page.get_by_test_id("best-table").locator("xpath=..")
    assert wrap.get_attribute("role") == "region" and wrap.get_attribute("tabindex")
    wrap.evaluate("w => { w.scrollLeft = w.scrollWidth; }")
    box = wrap.bounding_box()
    row = page.get_by_test_id("best-row").first
    first, last = row.locator("th").bounding_box(), row.locator("td").last.bounding_box()
    assert box and first and last
    assert box["x"] - 1 <= first["x"], "the first column stays in view"
    assert first["x"] + first["width"] <= last["x"] + 1, "and leaves a question's room"
    assert last["x"] + last["width"] <= box["x"] + box["width"] + 1
    keep_screenshot(page, ARTIFACTS / f"best-360-{lang}.png", full_page=True)
    wrap.evaluate("w => { w.scrollLeft = 0; }")
    if lang == "en":
        the_matrix_headers_stay_on_top_on_a_phone(page)


IN_VIEW = """(el, wrap) => { const b = el.getBoundingClientRect(), w = wrap.getBoundingClientRect();
    return b.width > 0 && b.left >= Math.max(0, w.left) - 1
        && b.right <= Math.min(window.innerWidth, w.right) + 1; }"""
MODEBAR_ON_TICKS = """() => [...document.querySelectorAll('.figure')].some(f => {
    const bars = [...f.querySelectorAll('.modebar')].map(m => m.getBoundingClientRect())
        .filter(b => b.width > 0 && b.height > 0);
    return [...f.querySelectorAll('.ytick text, .g-ytitle')].some(t => {
        const r = t.getBoundingClientRect();
        return bars.some(b => r.left < b.right && b.left < r.right && r.top < b.bottom
            && b.top < r.bottom);
    }); })"""

TITLES_OUTSIDE = """() => [...document.querySelectorAll('[data-figure]')].flatMap(f => {
    const box = f.getBoundingClientRect();
    return [...f.querySelectorAll('.g-xtitle, .g-ytitle')].filter(t => {
        const r = t.getBoundingClientRect();
        return r.width > 0 && (r.left < box.left - 1 || r.right > box.right + 1
            || r.top < box.top - 1 || r.bottom > box.bottom + 1);
    }).map(t => t.textContent); })"""

TITLES_CHANGED = """() => [...document.querySelectorAll('[data-figure]')].flatMap(f => {
    const given = JSON.parse(document.getElementById(f.dataset.figure).textContent).layout;
    return ['xaxis', 'yaxis'].filter(a => given[a] && given[a].title
        && given[a].title.text !== f.layout[a].title.text); })"""


def test_the_dashboards_fit_a_phone_with_sign_out_index_and_verdict_in_view(
    browser,
    demo_server: DemoServer,
    artifacts_dir,  # type: ignore[no-untyped-def]
) -> None:
    # t21 at 360 px: the account block stuck out to 380 px ("Abmelden" cut off), the overview
    # and comparison tables showed names and responses with the index, its interval and the
    # verdict off-screen inside the scrolled table, and plotly's toolbar covered the "100"
    context = browser.new_context(viewport={"width": 1280, "height": 740}, locale="de-DE")
    page = context.new_page()
    try:
        # signed in onto the first page the loop reads (the German overview at 1280 px)
        dashboard = StaffPages(page, demo_server.base_url).as_user(
            *demo_server.logins["manager"], next_page="/dashboard?lang=de"
        )
        office = str(page.get_by_test_id("office-link").first.get_attribute("href"))
        pages = {
            "overview": ("/dashboard?", "overview-table"),
            "office": (office + "&" if "?" in office else office + "?", "comparison-table"),
            "benchmark": ("/dashboard/benchmark?", "benchmark-table"),
        }
        for lang in ("de", "en"):
            for name, (path, table_id) in pages.items():
                for width in (1280, 360, 320):  # each loaded at its width: plotly draws once
                    if (name, width) == ("overview", 360):
                        continue  # checked on test_staff_pages' load of it (CHECKS)
                    page.set_viewport_size({"width": width, "height": 740})
                    if (lang, name, width) != ("de", "overview", 1280):  # the sign-in's page
                        page.goto(f"{demo_server.base_url}{path}lang={lang}")
                    dashboard.wait_for_charts()
                    where = f"{name} {lang} {width}"
                    if name == "office" and lang == "de" and width != 320:  # see below
                        the_charts_of_an_office_fit(page, width, where)
                    the_page_fits(page, name, table_id, width, where)
                    keep_screenshot(page, artifacts_dir / f"phone-{name}-{lang}-{width}.png")
            # the role=table and its rows stay a table for screen readers on a phone
            snapshot = page.get_by_test_id("benchmark-table").aria_snapshot()
            assert "- table" in snapshot and "- row" in snapshot and "- cell" in snapshot
    finally:
        context.close()


def the_page_fits(page: Any, name: str, table_id: str, width: int, where: str) -> None:
    """The manager's overview, an office or the benchmark (`name`, its main table), loaded at
    `width`: on a desktop its tables as tables and the charts' titles as given; on a phone the
    page in the window, the sign-out button, each table's index and verdict in view, no table
    scrolling sideways in its card, no plotly toolbar on the ticks, the axis titles inside
    their charts."""
    table = page.get_by_test_id(table_id)
    # the targets (the manager's four offices; one on its page) are cards too
    targets = page.get_by_test_id("targets-table")
    tables = [table] if name == "benchmark" else [table, targets]
    if name == "overview":  # and the office types (main offices, outreach)
        tables.append(page.get_by_test_id("kinds-table"))
    if width == 1280:  # the desktop keeps its table as it was
        for t in tables:
            assert t.evaluate("t => getComputedStyle(t).display") == "table"
        assert page.evaluate(TITLES_CHANGED) == [], "a desktop's titles as given"
        return
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), where
    out = page.get_by_test_id("logout").bounding_box()
    assert out and out["x"] >= 0 and out["x"] + out["width"] <= width, where
    wrap = table.locator("xpath=..").element_handle()
    row = table.locator("tbody tr").first
    verdict = row.get_by_test_id("model-verdict")
    if name == "office":  # the office's verdict is under its comparison table
        verdict = page.get_by_test_id("office-verdict").get_by_test_id("model-verdict")
    for cell in (row.get_by_test_id("index"), verdict):
        box = cell.evaluate_handle("c => c.closest('.table-wrap, .card')")
        assert cell.evaluate(IN_VIEW, box), f"{where}: {cell}"
    assert row.get_by_test_id("index").evaluate(IN_VIEW, wrap), where
    if name != "benchmark":
        target = targets.locator("tbody tr").first
        targets_wrap = targets.locator("xpath=..").element_handle()
        for test_id in ("target-now", "target-status"):
            cell = target.get_by_test_id(test_id)
            assert cell.evaluate(IN_VIEW, targets_wrap), f"{where}: {test_id}"
    for t in tables:  # no table scrolls sideways inside its card
        fits = "t => t.parentElement.scrollWidth <= t.parentElement.clientWidth + 1"
        assert t.evaluate(fits), f"{where}: {t}"
    assert not page.evaluate(MODEBAR_ON_TICKS), where
    # the axis titles inside their chart (the funnel's and the caterpillar's
    # x-axis titles ran out of it at 360 px: broken into lines or shortened)
    assert page.evaluate(TITLES_OUTSIDE) == [], where


def the_overview_fits_a_phone(page: Any, demo_server: DemoServer, lang: str) -> None:
    """The manager's overview at 360 px, run by test_staff_pages.py's manager test on the
    overview it loads at 360 px in both languages (`CHECKS`; the phone test above loaded it
    again at 360 px until 2026-11-30)."""
    the_page_fits(page, "overview", "overview-table", 360, f"overview {lang} 360")


KIND_WORDS = {
    "en": ("better", "worse", "difference too small to matter", "no clear difference"),
    "de": ("besser", "schlechter", "Unterschied zu klein, um ins Gewicht zu fallen",
           "kein klarer Unterschied"),
}  # fmt: skip


def _decimal(text: str) -> float:
    return float(text.strip().replace(",", ".").replace("−", "-"))


def the_office_types_show_the_effect_size_their_verdict_rests_on(
    page: Any, demo_server: DemoServer, lang: str
) -> None:
    """t23, 4: "no clear difference, p = 0.029" for the branches against the main offices,
    their intervals apart: the verdict needs an effect of |r| ≥ 0.1 as well, and r was not
    shown. Every compared type now shows r, and one beyond chance but below the effect is
    called too small to matter, on a desktop and on a phone (the coordinator's overview)."""
    width = page.viewport_size["width"]
    better, worse, small, none = KIND_WORDS[lang]
    rows = page.get_by_test_id("kind-row")
    compared = 0
    for i in range(rows.count()):
        row = rows.nth(i)
        if row.get_by_test_id("kind-verdict").count() == 0:
            continue  # the main offices themselves
        word = row.get_by_test_id("kind-verdict").inner_text()
        r = _decimal(row.get_by_test_id("kind-effect").inner_text().split("=")[1])
        p = re.search(r"p ([=<]) ([\d.,]+)", row.inner_text())
        assert p, row.inner_text()
        beyond = _decimal(p[2]) < 0.05
        where = (lang, width, word, r, p[0])
        if word in (better, worse):
            assert beyond and abs(r) >= 0.1, where
        elif beyond:
            assert word == small and abs(r) < 0.1, where
        else:
            assert word == none, where
        assert row.get_by_test_id("kind-effect").is_visible(), where
        # the words in full inside the card (a long badge ran out of it at 360 px)
        badge = row.get_by_test_id("kind-verdict").bounding_box()
        box = page.get_by_test_id("office-kinds").bounding_box()
        assert badge and box, where
        assert badge["x"] + badge["width"] <= box["x"] + box["width"], where
        compared += 1
    assert compared >= 2, "branches and outreach points against the main offices"
    card = page.get_by_test_id("office-kinds")
    fits = "c => c.scrollWidth <= c.clientWidth + 1"
    assert card.evaluate(fits), (lang, width)
    keep_screenshot(card, ARTIFACTS / f"office-kinds-{lang}-{width}.png")


CHART_TEXT_OUTSIDE = """() => [...document.querySelectorAll('[data-figure]')].flatMap(f => {
    const box = f.getBoundingClientRect();
    return [...f.querySelectorAll('.ytick text, .annotation-text, .legendtext')].filter(t => {
        const r = t.getBoundingClientRect();
        return r.width > 0 && (r.left < box.left - 1 || r.right > box.right + 1);
    }).map(t => `${f.id}: ${t.textContent}`); })"""

LEGENDS_SCROLLED = """() => [...document.querySelectorAll('[data-figure]')].filter(f => {
    const legend = f._fullLayout.legend;  // plotly scrolls what does not fit in its height
    return legend && legend._height > legend._effHeight + 1; }).map(f => f.id)"""

NAMES_SHOWN = """f => f.layout.yaxis.categoryarray.filter(name =>
    [...f.querySelectorAll('.ytick text, .annotation-text')].some(t => t.textContent === name))"""

LAYOUT_CHANGED = """() => [...document.querySelectorAll('[data-figure]')].flatMap(f => {
    const given = JSON.parse(document.getElementById(f.dataset.figure).textContent).layout;
    const now = f.layout, plain = v => JSON.stringify(v === undefined ? null : v);
    return [
        ['height', given.height, given.height && f._fullLayout.height],
        ['legend.xref', (given.legend || {}).xref, (now.legend || {}).xref],
        ['yaxis.showticklabels', (given.yaxis || {}).showticklabels, now.yaxis.showticklabels],
        ['annotations', (given.annotations || []).length, (now.annotations || []).length],
    ].filter(([, a, b]) => plain(a) !== plain(b)).map(([what]) => `${f.id}: ${what}`); })"""


def the_charts_of_an_office_fit(page: Any, width: int, where: str) -> None:
    """At 360 px the legend of an office's single-question chart stood one entry under
    another and plotly scrolled it; at 1280 px every chart is drawn as the server gave it.
    The manager's office page in German, as test_the_dashboards_fit_a_phone_with_sign_out_
    index_and_verdict_in_view loads it at 1280, 360 and 320 px (the test below loaded it
    again at 1280 and 360 px until 2026-11-30)."""
    if width == 1280:
        assert page.evaluate(LAYOUT_CHANGED) == [], where
        return
    assert page.evaluate(CHART_TEXT_OUTSIDE) == [], where
    assert page.evaluate(LEGENDS_SCROLLED) == [], where


def test_office_names_and_legends_fit_a_phone_and_a_desktop_keeps_its_charts(
    browser,
    demo_server: DemoServer,
    artifacts_dir,  # type: ignore[no-untyped-def]
) -> None:
    """At 320 px the coordinator's caterpillar cut long office names at the figure's left
    edge ("…schaftszentrum Weidenweg") and its legend at the right. On a phone the names now
    stand above their rows, a legend starts at the figure's left edge and the figure grows by
    the height its legend lacks; at 1280 px every chart is drawn as the server gave it. (An
    office's charts, the manager's: `the_charts_of_an_office_fit`.)"""
    context = browser.new_context(viewport={"width": 1280, "height": 740}, locale="de-DE")
    page = context.new_page()
    try:
        for role, widths in (("network", (1280, 320)),):
            path = "/dashboard/benchmark"  # signed in onto it, at 1280 px
            dashboard = StaffPages(page, demo_server.base_url).as_user(
                *demo_server.logins[role], next_page=path
            )
            for width in widths:
                page.set_viewport_size({"width": width, "height": 740})
                if width != 1280:
                    page.goto(demo_server.base_url + path)
                dashboard.wait_for_charts()
                keep_screenshot(page, artifacts_dir / f"charts-{role}-{width}.png", full_page=True)
                where = f"{role} {width}"
                if width == 1280:
                    assert page.evaluate(LAYOUT_CHANGED) == [], where
                    continue
                assert page.evaluate(CHART_TEXT_OUTSIDE) == [], where
                assert page.evaluate(LEGENDS_SCROLLED) == [], where
                if role == "network":
                    caterpillar = page.get_by_test_id("chart-caterpillar")
                    names = caterpillar.evaluate("f => f.layout.yaxis.categoryarray")
                    assert len(names) > 20 and "Gemeinschaftszentrum Weidenweg" in names
                    assert caterpillar.evaluate(NAMES_SHOWN) == names, "every name, whole"
    finally:
        context.close()


def the_matrix_headers_stay_on_top_on_a_phone(page: Any) -> None:
    """t23, 19: on a phone the strengths matrix lost its question headers when scrolled."""
    wrap = page.get_by_test_id("best-table").locator("xpath=..")
    wrap.evaluate("w => { w.scrollIntoView(); w.scrollTop = w.scrollHeight; }")
    assert wrap.evaluate("w => w.scrollTop") > 0, "the matrix scrolls in its own box"
    header = page.locator(".matrix thead th.q").first.bounding_box()
    box = wrap.bounding_box()
    assert header and box and abs(header["y"] - box["y"]) <= 1, "its header stays on top"
    wrap.evaluate("w => { w.scrollTop = 0; }")


def the_curl_example_breaks_no_word_on_a_phone(
    page: Any, demo_server: DemoServer, lang: str
) -> None:
    """t23, 19: the export's curl example broke mid-word ("responses.parqu / et")."""
    example = page.get_by_test_id("api-example")
    lines = example.evaluate(
        "e => e.getBoundingClientRect().height / parseFloat(getComputedStyle(e).lineHeight)"
    )
    assert lines < 4, "three lines, none broken inside a word"
    assert example.evaluate("e => e.scrollWidth > e.clientWidth"), "it scrolls instead"


def the_rank_stays_on_one_line_on_a_desktop(page: Any, demo_server: DemoServer, lang: str) -> None:
    """t23, 19: on a desktop "rank 10–32 of 33" wrapped inside its column."""
    lines = page.get_by_test_id("rank").evaluate_all(
        "cs => cs.map(c => { const r = document.createRange(); r.selectNodeContents(c);"
        " return new Set([...r.getClientRects()].map(b => Math.round(b.top))).size; })"
    )
    assert lines and max(lines) == 1, lines
