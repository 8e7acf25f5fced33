"""The dashboards' per-process cache of closed months (survey/dashboard/cache.py) publishes
exactly the figures the pages work out without it, for every filter and every user."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from litestar import Litestar

from survey.dashboard import queries, rolled_counts, stored
from survey.dashboard import warm as warm_module
from survey.dashboard.cache import forget_values
from survey.dashboard.filters import month_index, month_name, published_through, today
from survey.dashboard.warm import warm
from survey.demo import DEMO_USERS
from survey.manage import retention
from survey.tables import Organization, TextAnswer
from tests.builders import (
    FULL_ANSWERS,
    in_closed_month,
    make_link,
    make_network,
    make_office,
    make_organization,
    make_responses,
    make_staff_user,
    two_job_centres,
)
from tests.conftest import ONE_ENGINE, StaffClient, page_figures

PASSWORDS = {username: password for _, username, password in DEMO_USERS}
USERS = {role: username for role, username, _ in DEMO_USERS}

VIEWS = (
    "/api/v1/results/overview",
    "/api/v1/results/overview?language=de",
    "/api/v1/results/overview?mode=kiosk&from={eighteen_months_ago}",
    "/api/v1/results/benchmark?level=organization&service_type=placement",
    "/api/v1/results/targets",
)


async def _forget(app: Litestar) -> None:
    """Every cache emptied: the process's, and the figures kept in the database."""
    app.state.dashboard_cache = None
    forget_values()
    await stored.forget()


async def test_the_cache_publishes_the_same_figures_as_working_them_out_again(
    staff: StaffClient, app: Litestar, demo: object
) -> None:
    await staff.login(USERS["network"], PASSWORDS[USERS["network"]])
    offices = [r["office_id"] for r in (await page_figures(staff, [VIEWS[0]]))[VIEWS[0]]["rows"]]
    back = month_index(published_through(today())) - 17
    paths = [v.format(eighteen_months_ago=month_name(back)) for v in VIEWS]
    paths += [f"/dashboard/offices/{offices[1]}", f"/dashboard/offices/{offices[0]}",
              f"/api/v1/results/offices/{offices[0]}", f"/api/v1/results/offices/{offices[1]}",
              f"/api/v1/results/offices/{offices[0]}?language=de",
              "/dashboard/benchmark"]  # fmt: skip
    await _forget(app)
    first = await page_figures(staff, paths)  # fills the caches
    cache = app.state.dashboard_cache
    assert len(cache) >= 6, "the closed months' tables were kept"
    hits = cache.hits
    assert await page_figures(staff, paths) == first
    assert cache.hits > hits, "the second round came from the cache"
    await _forget(app)  # without the caches, in the other order
    assert await page_figures(staff, paths[::-1]) == first

    # a manager of one job centre shares the network's tables (the same comparison group)
    # and sees exactly what they see without them
    await staff.login(USERS["manager"], PASSWORDS[USERS["manager"]])
    mine = [r["office_id"] for r in (await page_figures(staff, [VIEWS[0]]))[VIEWS[0]]["rows"]]
    paths = [*paths[:2], *(f"/api/v1/results/offices/{o}" for o in mine[:1])]
    warm = await page_figures(staff, paths)
    await _forget(app)
    assert await page_figures(staff, paths) == warm


async def test_a_kept_comment_list_loses_a_hidden_or_deleted_comment_at_once(
    staff: StaffClient, app: Litestar
) -> None:
    """The office page keeps the comments of closed months; hiding one (in any process: the
    kept list is checked against a mark in the database, not told by the hiding request) and
    retention's deletion show on the next view."""
    org = await make_organization()
    office = await make_office(organization=org)
    link = await make_link(office)
    for back, word in ((1, "neu"), (3, "alt")):
        answers = [{**FULL_ANSWERS, "comment": f"{word} {k}"} for k in range(20)]
        await make_responses(app.state.engine, link, answers, when=in_closed_month(back))
    await make_staff_user("max", "max-password-1", "manager", organization=org)
    await staff.login("max", "max-password-1")
    url = f"/api/v1/results/offices/{office}"

    async def texts() -> list[str]:
        return sorted(c["text"] for c in (await staff.client.get(url)).json()["comments"])

    everything = await texts()
    assert len(everything) == 40  # 20 a month: its published n stays at 10 or more
    assert await texts() == everything
    assert app.state.dashboard_cache.hits, "the second view came from the kept list"
    hidden = await TextAnswer.select(TextAnswer.id).where(TextAnswer.text == "neu 3").first()
    await queries.hide_comment(hidden["id"])  # as another process's admin would
    assert await texts() == [t for t in everything if t != "neu 3"]
    # two months: the comments of three months ago go, last month's stay
    await Organization.update({Organization.retention_months: 2}).where(Organization.id == org)
    await retention.apply()
    assert await texts() == [t for t in everything if t.startswith("neu") and t != "neu 3"]


def _count_work(monkeypatch: Any) -> list[str]:
    """The names of the functions that read counts or work out figures, as they are called."""
    from survey.dashboard import best, charts, disclosure, results

    worked_out: list[str] = []
    for module, name in ((rolled_counts, "count_columns"), (disclosure, "protect"),
                         (results, "office_rows"), (results, "benchmark"), (best, "learning"),
                         (charts, "office_charts"), (charts, "benchmark_charts")):  # fmt: skip
        inner = getattr(module, name)

        def counted(*args: Any, _inner: Any = inner, _name: str = name, **kwargs: Any) -> Any:
            worked_out.append(_name)
            return _inner(*args, **kwargs)

        monkeypatch.setattr(module, name, counted)
    return worked_out


@ONE_ENGINE  # what the warming works out and keeps in the process: not SQL (docs/testing.md)
async def test_warming_works_out_a_managers_own_default_views(
    staff: StaffClient, app: Litestar, monkeypatch: Any
) -> None:
    """A job centre's manager sees their offices only, and a pooled figure that would give
    away the offices they may not see is withheld for them (here the network's: its rest is
    one office of another job centre), with the verdicts made against it: their figures are
    not the coordinator's narrowed down. The warming works out their default views as well
    (one per distinct set of offices seen, as their requests load it): their first views
    then read no count and work out no figure, and show exactly what they show worked out
    from nothing without the warming (what they showed before it warmed them): nothing of
    another job centre's office."""
    from survey.tables import Membership

    network = await make_network()
    orgs = [await make_organization(network=network) for _ in range(2)]
    offices = [await make_office(organization=orgs[0]) for _ in range(2)]
    other = await make_office(organization=orgs[1])
    alone = await make_office(organization=await make_organization())  # a group of its own
    for k, office in enumerate([*offices, other, alone]):
        answers = [{**FULL_ANSWERS, "overall": 1 + (k + i) % 5} for i in range(20)]
        await make_responses(app.state.engine, await make_link(office), answers,
                             when=in_closed_month())  # fmt: skip
    await make_staff_user("max", "max-password-1", "manager", organization=orgs[0])
    await make_staff_user("moritz", "moritz-password-1", "admin", organization=orgs[0])
    user = await make_staff_user("nora", "nora-password-1", "network")
    await Membership.update({Membership.network: network}).where(Membership.user == user)
    paths = ["/dashboard", f"/dashboard/offices/{offices[1]}", f"/dashboard/offices/{offices[0]}",
             "/dashboard/benchmark", "/dashboard/best", "/dashboard/best?level=organization",
             "/api/v1/results/overview", "/api/v1/results/benchmark", "/api/v1/results/best",
             f"/api/v1/results/offices/{offices[0]}"]  # fmt: skip
    await staff.login("max", "max-password-1")
    await _forget(app)
    before = await page_figures(staff, paths)  # worked out from nothing, no warming
    overview = before["/api/v1/results/overview"]
    assert {r["office_id"] for r in overview["rows"]} == set(offices)
    assert overview["group_hidden"] and overview["group_index"] is None, "rest: one office"
    assert {r["id"] for r in before["/api/v1/results/benchmark"]["rows"]} == set(offices)
    assert (await staff.client.get(f"/dashboard/offices/{other}")).status_code == 403
    await staff.login("nora", "nora-password-1")  # the coordinator sees the network's figure
    coordinator = (await staff.client.get("/api/v1/results/overview")).json()
    assert coordinator["group_index"] is not None and coordinator["group_hidden"] is None

    await _forget(app)
    monkeypatch.setattr(warm_module, "SHARE", 0.0)
    # the groups' views (overview, benchmark and learning count one each, then each office),
    # the network's coordinator's, then the job centre's (its manager and admin see the same)
    assert await warm(app.state, controls=False) == (3 + 1) + (3 + 3) + (3 + 2)
    for user, password in (("max", "max-password-1"), ("moritz", "moritz-password-1")):
        await staff.login(user, password)
        worked_out = _count_work(monkeypatch)
        for path in paths[:6]:  # the pages (the JSON office figures: the office's own detail)
            response = await staff.client.get(path)
            assert response.status_code == 200, path
            assert not worked_out, (user, path, worked_out)
        monkeypatch.undo()
        monkeypatch.setattr(warm_module, "SHARE", 0.0)
        found = await page_figures(staff, paths)
        if user == "max":
            assert found == before


@ONE_ENGINE  # what the warming works out and keeps in the process: not SQL (docs/testing.md)
async def test_warming_works_out_the_results_api_of_a_token_limited_to_a_job_centre(
    staff: StaffClient, app: Litestar, monkeypatch: Any
) -> None:
    """k27: an API token limited to some job centres sees only their offices, a scope no user
    has, so the warming never worked out its views: a script's first request after a restart
    or a month's publication worked them out from the counts. The warming now works out the
    results API's default views of each distinct scope of the active tokens (here a network
    coordinator's token limited to one of two job centres; a revoked token's scope is not
    warmed): its first requests then read no count and work out no figure, and answer the
    same bytes as without the warming."""
    import datetime as dt

    from survey.auth.guard import hash_token
    from survey.tables import ApiToken, Membership

    network, orgs, offices = await two_job_centres(app.state.engine)
    user = await make_staff_user("nora", "nora-password-1", "network")
    await Membership.update({Membership.network: network}).where(Membership.user == user)
    token = "rz_test_limited_" + "l" * 30
    now = dt.datetime.now(dt.UTC)
    await ApiToken(user=user, name="limited", token_hash=hash_token(token), created_at=now,
                   organizations=[orgs[0]]).save()  # fmt: skip
    await ApiToken(user=user, name="revoked", token_hash=hash_token("rz_test_revoked_" + "r" * 30),
                   created_at=now, organizations=[orgs[1]], revoked=True).save()  # fmt: skip
    bearer = {"authorization": f"Bearer {token}"}
    paths = ["/api/v1/results/overview", "/api/v1/results/benchmark", "/api/v1/results/best",
             "/api/v1/results/targets",
             *(f"/api/v1/results/offices/{o}" for o in offices[:2])]  # fmt: skip
    await _forget(app)
    before = {}
    for path in paths:  # worked out from nothing, no warming
        response = await staff.client.get(path, headers=bearer)
        assert response.status_code == 200, path
        before[path] = response.content
    rows = {r["office_id"] for r in msgspec.json.decode(before[paths[0]])["rows"]}
    assert rows == set(offices[:2]), "the token sees its job centre's offices only"
    assert (await staff.client.get(f"/api/v1/results/offices/{offices[2]}",
                                   headers=bearer)).status_code == 403  # fmt: skip

    await _forget(app)
    monkeypatch.setattr(warm_module, "SHARE", 0.0)
    # the network's pages, its coordinator's (the same scope), then the token's API views
    assert await warm(app.state, controls=False) == (3 + 4) + (3 + 2)
    worked_out = _count_work(monkeypatch)
    for path in paths:
        response = await staff.client.get(path, headers=bearer)
        assert response.status_code == 200, path
        assert not worked_out, (path, worked_out)
        assert response.content == before[path], path


async def test_the_reads_of_a_cold_page_roll_up_once(monkeypatch: Any) -> None:
    """A cold page's reads all ask for the day's rollup at once; one rollup runs and the
    others wait for it (two at once deadlocked on PostgreSQL, inserting the same keys)."""
    import asyncio

    from litestar.datastructures import State

    from survey.dashboard import routes

    started: list[object] = []

    async def rollup(day: object) -> queries.Rolled:
        started.append(day)
        await asyncio.sleep(0.01)
        return queries.Rolled(None)

    monkeypatch.setattr(queries, "ensure_rollups", rollup)
    state = State()
    found = await asyncio.gather(*(routes._rolled(state) for _ in range(11)))
    assert started == [today()] and found == [queries.Rolled(None)] * 11
    assert not state.dashboard_pending, "nothing left under way"


def _form_views(page: str) -> tuple[str, list[str]]:
    """The period the filter form of `page` sends, and the query of each view it offers with
    one control changed: each option of the filter select, and the observed index."""
    import re

    select = page[page.index('name="filter"') : page.index("</select>")]
    first = re.search(r'name="from"[^>]* value="([^"]+)"', page)
    last = re.search(r'name="to"[^>]* value="([^"]+)"', page)
    assert first and last
    period = f"?from={first[1]}&to={last[1]}"
    chosen = re.findall(r'<option value="([^"]+)"', select)
    return period, [f"{period}&filter=&adjust=none",
                    *(f"{period}&filter={value}&adjust=mix" for value in chosen)]  # fmt: skip


async def test_the_warming_knows_every_view_the_filter_form_offers(
    staff: StaffClient, app: Litestar
) -> None:
    from survey.dashboard.filters import parse_filters, publication_day

    org = await make_organization()
    await make_office(organization=org)
    await make_staff_user("nina", "nina-password-1", "manager", organization=org)
    await staff.login("nina", "nina-password-1")
    period, offered = _form_views((await staff.client.get("/dashboard")).text)
    assert len(offered) == 1 + 4 + 12 + 2, "the observed index; each service type, language, mode"
    on = publication_day(app.state.settings)
    default = parse_filters(dict(p.split("=") for p in period[1:].split("&")), on)
    assert default == parse_filters({}, on)
    parsed = [parse_filters(dict(p.partition("=")[::2] for p in q[1:].split("&")), on)
              for q in offered]  # fmt: skip
    assert sorted(map(repr, parsed)) == sorted(map(repr, warm_module.control_views(default)))


@ONE_ENGINE  # what the warming works out and keeps in the process: not SQL (docs/testing.md)
async def test_the_warming_works_out_every_view_the_pages_controls_offer(
    staff: StaffClient, app: Litestar, monkeypatch: Any
) -> None:
    """After the warming, a coordinator's first view of the default period with one of the
    pages' controls changed (an option of the filter select, the observed index, the
    benchmark's other level, each sort order of the overview) reads no count and works out
    no figure: everything comes from what the warming kept. Three languages of the twelve
    (two with responses, one without) keep the test short; the test above checks that the
    warming knows every option."""
    import re

    from survey.tables import Membership

    network = await make_network()
    org = await make_organization(network=network)
    offices = [await make_office(organization=org) for _ in range(2)]
    for k, office in enumerate(offices):
        for service, mode, locale in (("benefits", "personal", "de"), ("placement", "kiosk", "ar")):
            link = await make_link(office, service_type=service, mode=mode)
            answers = [{**FULL_ANSWERS, "overall": 1 + (k + i) % 5} for i in range(12)]
            await make_responses(app.state.engine, link, answers, locale=locale,
                                 when=in_closed_month())  # fmt: skip
    user = await make_staff_user("nora", "nora-password-1", "network")
    await Membership.update({Membership.network: network}).where(Membership.user == user)
    await staff.login("nora", "nora-password-1")
    await _forget(app)
    monkeypatch.setattr(warm_module, "SHARE", 0.0)  # no pauses as long as each view took
    monkeypatch.setattr(warm_module, "LOCALES", ("de", "ar", "pl"))
    await warm(app.state)

    overview = (await staff.client.get("/dashboard")).text
    _, offered = _form_views(overview)
    offered = [q for q in offered
               if re.search(r"language:(?!(de|ar|pl)&)", q) is None]  # fmt: skip
    assert len(offered) == 1 + 4 + 3 + 2
    sorts = sorted(set(re.findall(r'href="(\?[^"]*sort=[^"]+)"', overview)))
    assert len(sorts) >= 7, "a link on each column heading"
    paths = [f"/dashboard{q}" for q in offered]
    paths += [f"/dashboard{s.replace('&amp;', '&')}" for s in sorts]
    paths += ["/dashboard/benchmark?level=organization"]
    paths += [f"/dashboard/benchmark{q}{level}" for q in offered
              for level in ("", "&level=organization")]  # fmt: skip
    paths += [f"/dashboard/offices/{o}{q}" for o in offices for q in offered]

    worked_out = _count_work(monkeypatch)
    for path in paths:
        response = await staff.client.get(path)
        assert response.status_code == 200, path
        assert not worked_out, (path, worked_out)


@ONE_ENGINE  # what the warming works out and keeps in the process: not SQL (docs/testing.md)
async def test_after_the_warming_the_default_views_are_the_last_to_leave_a_full_cache(
    staff: StaffClient, app: Litestar, monkeypatch: Any
) -> None:
    """r25: the control views were warmed after the default views, so once the process cache
    was full they pushed the default views out, the ones opened most. The warming now reads
    the default views last; a coordinator's default overview and office page then come from
    the process cache, without reading the kept rows."""
    from survey.dashboard.cache import BoundedCache

    offices = await _network_of_two(app)
    await staff.login("nora", "nora-password-1")
    monkeypatch.setattr(warm_module, "SHARE", 0.0)
    monkeypatch.setattr(warm_module, "LOCALES", ("de",))
    await _forget(app)
    await warm(app.state, controls=False)
    defaults = len(app.state.dashboard_cache)
    await _forget(app)  # a cache that holds the default views and a few more
    app.state.dashboard_cache = BoundedCache(max_entries=defaults + 4)
    await warm(app.state)
    read: list[str] = []
    inner = stored._read

    async def counted(key: str, secret: bytes) -> Any:
        read.append(key)
        return await inner(key, secret)

    monkeypatch.setattr(stored, "_read", counted)
    for path in ("/dashboard", f"/dashboard/offices/{offices[0]}"):
        assert (await staff.client.get(path)).status_code == 200, path
    assert read == [], "the default views were pushed out of the process cache"


async def _network_of_two(app: Litestar) -> list[int]:
    """A network of one job centre with two offices (12 responses each, last month) and its
    coordinator nora; returns the offices."""
    from survey.tables import Membership

    network = await make_network()
    org = await make_organization(network=network)
    offices = [await make_office(organization=org) for _ in range(2)]
    for office in offices:
        link = await make_link(office)
        await make_responses(app.state.engine, link, [FULL_ANSWERS] * 12, when=in_closed_month())
    user = await make_staff_user("nora", "nora-password-1", "network")
    await Membership.update({Membership.network: network}).where(Membership.user == user)
    return offices


async def test_pruning_deletes_the_control_views_before_the_default_views(
    staff: StaffClient, app: Litestar, monkeypatch: Any
) -> None:
    """r25: pruning kept the newest rows, and the warming writes the default views first, so
    past MAX_ROWS (about 550 offices) the warming's own pruning deleted the default views,
    the ones opened most; and a default view a user opened before the warming is older
    still. The warming now marks the rows of the default views, read or written, and
    pruning deletes every other row first."""
    from survey.tables import DashboardFigure

    await _network_of_two(app)
    await staff.login("nora", "nora-password-1")
    monkeypatch.setattr(warm_module, "SHARE", 0.0)
    monkeypatch.setattr(warm_module, "LOCALES", ("de",))

    async def keys() -> set[str]:
        rows = await DashboardFigure.select(DashboardFigure.key, DashboardFigure.kind)
        return {r["key"] + " " + r["kind"] for r in rows}

    await _forget(app)
    await warm(app.state, controls=False)
    defaults = await keys()
    await _forget(app)
    assert (await staff.client.get("/dashboard")).status_code == 200  # before the warming
    monkeypatch.setattr(stored, "MAX_ROWS", len(defaults) + 3)
    monkeypatch.setattr(stored, "PRUNE_EVERY", 1)  # as after many writes: at each
    await warm(app.state)
    left = await keys()
    assert len(left) <= len(defaults) + 3
    assert defaults <= left, f"{len(defaults - left)} of {len(defaults)} default views pruned"


@pytest.mark.parametrize(
    "where", ["results.unsorted_overview", "casemix._mix_of", "rolled_counts._held"]
)
async def test_a_request_is_answered_while_a_views_figures_are_worked_out(
    staff: StaffClient, app: Litestar, monkeypatch: Any, where: str
) -> None:
    """r25: the figure work of a view ran on the event loop between its awaits, so a
    respondent's submission or any other request that came meanwhile waited for all of it
    (a new overview: 0.3-0.4 s of CPU at the million, a fresh one 2 s). It runs in a worker
    thread now: a health check sent while a view's figures are being worked out is answered
    before they are done. Also the client-mix margins (`casemix._mix_of`) and the arrays of
    the group's rolled-up rows (`rolled_counts._held`), which w26 left on the loop."""
    import asyncio
    import importlib
    import threading

    module_name, name = where.split(".")
    module = importlib.import_module(f"survey.dashboard.{module_name}")

    await _network_of_two(app)
    await staff.login("nora", "nora-password-1")
    await _forget(app)
    started, release = threading.Event(), threading.Event()
    order: list[str] = []
    inner = getattr(module, name)

    def held(*args: Any, **kwargs: Any) -> Any:
        started.set()
        release.wait(10)  # on the event loop (before) this held the loop, and the test, so long
        order.append("view worked out")
        return inner(*args, **kwargs)

    monkeypatch.setattr(module, name, held)
    view = asyncio.ensure_future(staff.client.get("/dashboard"))
    while not started.is_set():
        assert not view.done(), f"the overview did not call {where}"
        await asyncio.sleep(0.01)
    assert (await staff.client.get("/healthz")).status_code == 200
    order.append("health answered")
    release.set()
    assert (await view).status_code == 200
    assert order == ["health answered", "view worked out"]


def test_the_warming_compiles_the_templates_of_every_page_it_works_out() -> None:
    """Jinja compiles a template on its first use, and what it extends and imports on its
    first render (0.3-0.4 s of a restarted server's first dashboard view, at the million
    the whole of a manager's first overview after the warming): the warming compiles the
    templates of the pages it works out and all they extend and import (before: the pages
    but learning from the best, and none of what they extend or import)."""
    import re
    from pathlib import Path

    from survey.dashboard import routes

    root = Path(routes.__file__).parents[2] / "frontend" / "templates"
    pages = set(re.findall(r'Template\("(dashboard/[^"]+)"', Path(routes.__file__).read_text()))
    assert pages - {"dashboard/help.html"} <= set(warm_module.PAGES)
    used, todo = set(), list(warm_module.PAGES)
    while todo:
        name = todo.pop()
        if name not in used:
            used.add(name)
            todo += re.findall(r'{%-? (?:extends|from|import|include) "([^"]+)"',
                               (root / name).read_text())  # fmt: skip
    assert used <= {*warm_module.PAGES, *warm_module.LAYOUT}


@ONE_ENGINE  # what the warming works out and keeps in the process: not SQL (docs/testing.md)
async def test_a_started_app_serves_with_its_dashboard_templates_compiled(
    settings: Any,
) -> None:
    """k27: the templates were compiled by the warming, 30 s after start-up, so in those
    seconds a restarted server's first view of each page compiled its template (at the
    million a coordinator's first overview 0.2 s of CPU of its 0.25, the figures being kept
    rows). A server with a warming compiles them before it serves."""
    import dataclasses

    from survey.app import create_app

    app = create_app(dataclasses.replace(settings, warm_after_seconds=3600))
    engine = app.template_engine.engine
    assert not engine.cache, "a new app has compiled none"
    async with warm_module.warming(app):
        compiled = {name for _, name in engine.cache}
        assert {*warm_module.PAGES, *warm_module.LAYOUT} <= compiled


async def test_a_started_app_reads_its_counts_at_once_not_with_the_warming(
    staff: StaffClient, app: Litestar, monkeypatch: Any
) -> None:
    """k27: after a restart the default views are kept rows, but the first view nobody asked
    for yet (a period typed in) read the group's rolled-up counts and imported scipy's
    statistics itself until the warming did, 30 s after start-up (at the million 2.2-2.7 s
    of CPU for that view). A started app does both at once, before its warming's delay."""
    import asyncio
    import dataclasses

    await _network_of_two(app)
    await staff.login("nora", "nora-password-1")
    await _forget(app)
    rolled_counts.forget(app.state)
    app.state.dashboards_prepared = False
    loads: list[object] = []
    inner = rolled_counts._load

    async def load(*args: Any, **kwargs: Any) -> Any:
        loads.append(args[0])
        return await inner(*args, **kwargs)

    monkeypatch.setattr(rolled_counts, "_load", load)
    later = dataclasses.replace(app.state.settings, warm_after_seconds=3600)
    monkeypatch.setattr(app.state, "settings", later)
    async with warm_module.warming(app):
        for _ in range(3000):  # a bound for a hang, not a time measured
            if getattr(app.state, "dashboards_prepared", False):
                break
            await asyncio.sleep(0.01)
        assert len(loads) == 1, "the group's counts were read before the warming's delay"
        back = month_name(month_index(published_through(today())) - 2)
        response = await staff.client.get(f"/api/v1/results/overview?from={back}")
        assert response.status_code == 200
        assert len(loads) == 1, "the period typed in read no counts again"
