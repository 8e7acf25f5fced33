"""The rolled-up months' counts held in memory (survey/dashboard/rolled_counts.py): a view
worked out from them publishes exactly what it publishes from the database's rows, and never
a stale figure (after a month's rollup, a late response, an erasure)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from litestar import Litestar

from survey.dashboard import queries, rolled_counts
from survey.dashboard.cache import forget_values
from survey.dashboard.filters import month_index, month_name, parse_filters, today
from survey.demo import DEMO_USERS
from survey.manage import retention
from survey.respond.schemas import LinkInfo
from survey.tables import DashboardFigure, Organization, RollupCount
from tests.builders import (
    FULL_ANSWERS,
    in_closed_month,
    make_link,
    make_network,
    make_office,
    make_organization,
    make_responses,
    make_staff_user,
)
from tests.conftest import StaffClient, page_figures

PASSWORDS = {username: password for _, username, password in DEMO_USERS}
USERS = {role: username for role, username, _ in DEMO_USERS}


def _new_views(app: Litestar) -> None:
    """What a process has before a view nobody asked for yet: no kept table or figure (but
    the counts it holds)."""
    app.state.dashboard_cache = None
    forget_values()


async def _from_the_database(
    app: Litestar, staff: StaffClient, paths: list[str], monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    """The views worked out from the database's rows alone (nothing held, nothing kept)."""

    async def nothing(*args: Any) -> None:
        return None

    async def statement(state: object, *args: Any) -> list[queries.MixRow]:
        return await queries.mix_rows(*args)

    await DashboardFigure.delete(force=True)
    _new_views(app)
    with monkeypatch.context() as patch:
        patch.setattr(rolled_counts, "held", nothing)
        patch.setattr(rolled_counts, "mix_rows", statement)
        return await page_figures(staff, paths)


async def test_views_from_the_counts_in_memory_publish_what_the_database_gives(
    staff: StaffClient, app: Litestar, demo: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    await staff.login(USERS["network"], PASSWORDS[USERS["network"]])
    offices = [r["office_id"] for r in (await page_figures(staff, ["/api/v1/results/overview"]))[
        "/api/v1/results/overview"]["rows"]]  # fmt: skip
    back = month_name(month_index(today().isoformat()[:7]) - 18)
    paths = [
        "/api/v1/results/overview",
        "/api/v1/results/overview?language=de",
        f"/api/v1/results/overview?mode=kiosk&from={back}",
        "/api/v1/results/benchmark?level=organization&service_type=placement",
        f"/api/v1/results/offices/{offices[0]}",
        f"/api/v1/results/offices/{offices[1]}?language=de",
        f"/api/v1/results/offices/{offices[0]}?from={back}&to={today().isoformat()[:7]}",
        f"/dashboard/offices/{offices[1]}",
        "/dashboard",
        "/dashboard/benchmark",
        "/api/v1/results/targets",
    ]
    await DashboardFigure.delete(force=True)
    _new_views(app)
    held = await page_figures(staff, paths)
    assert len(app.state.rolled_counts), "worked out from the counts held"
    assert held == await _from_the_database(app, staff, paths, monkeypatch)


async def _three_offices_with_two_links_each() -> tuple[list[int], list[LinkInfo]]:
    """Three offices, each with a kiosk link for benefits and a personal one for placement."""
    offices = [await make_office(), await make_office(), await make_office()]
    links = [await make_link(o, mode=m, service_type=s) for o in offices
             for m, s in (("kiosk", "benefits"), ("personal", "placement"))]  # fmt: skip
    return offices, links


async def test_the_rows_held_are_the_rows_the_statements_read(
    app: Litestar, client: object
) -> None:
    """For every filter, with and without a detailed office, for periods of rolled-up months
    only and reaching into months not rolled up, and for each filter's numbers of responses."""
    day = today()
    offices, links = await _three_offices_with_two_links_each()
    for k, days_ago in enumerate([0, 1, 2, 20, 33, 61, 95, 200, 370, 400, 500]):
        when = dt.datetime.combine(day - dt.timedelta(days=days_ago), dt.time(10), tzinfo=dt.UTC)
        answers = [{**FULL_ANSWERS, "respect": 1 + (k + j) % 5, "overall": 1 + j % 5}
                   for j in range(k + 3)]  # fmt: skip
        await make_responses(app.state.engine, links[k % len(links)], answers,
                             locale=("de", "en", "ar")[k % 3], when=when)  # fmt: skip
    done = await queries.ensure_rollups(day)
    assert done.month is not None
    state = app.state
    items = ["_index", "respect", "overall", "understood", "explained", "next_steps", "fits"]
    start = f"{day.year - 1}-{day.month:02d}"
    rolled_through = done.month.isoformat()[:7]
    compared = 0
    for case in ({}, {"mode": "kiosk"}, {"language": "en"}, {"service_type": "placement"},
                 {"language": "fa"}):  # fmt: skip
        filters = parse_filters({**case, "from": start}, day)
        first = filters.previous_first_month[:4] + "-01"
        for last in (rolled_through, filters.last_month, day.isoformat()[:7], first):
            for detail in (None, offices[1]):
                args = (offices, items, filters, done, first, last)
                from_rows = await queries.count_columns(*args, detail_office=detail)
                held = await rolled_counts.count_columns(state, *args, detail_office=detail)
                assert sorted(held.rows()) == sorted(from_rows.rows()), (case, last, detail)
                compared += len(from_rows)
        for dimension in ("service_type", "locale", "mode"):
            for last in (rolled_through, day.isoformat()[:7]):
                args2 = (offices, dimension, done, first, last)
                from_rows2 = await queries.dimension_rows(*args2)
                held2 = await rolled_counts.dimension_rows(state, *args2)
                assert {v: sorted(c.rows()) for v, c in held2.items()} == {
                    v: sorted(c.rows()) for v, c in from_rows2.items()
                }, (dimension, last)
    assert compared > 500
    assert len(state.rolled_counts) == 1, "one group, read once"


async def test_the_client_mix_cells_held_are_the_cells_the_statement_sums(
    app: Litestar, client: object
) -> None:
    """`rolled_counts.mix_rows` against `queries.mix_rows`: periods of rolled-up months only,
    reaching into months not rolled up, of one month, before the first response, and the
    offices of a part of the group (held for their own key)."""
    day = today()
    offices, links = await _three_offices_with_two_links_each()
    for k, days_ago in enumerate([0, 1, 2, 20, 33, 61, 95, 200, 370, 400, 500]):
        when = dt.datetime.combine(day - dt.timedelta(days=days_ago), dt.time(10), tzinfo=dt.UTC)
        await make_responses(app.state.engine, links[k % len(links)], [FULL_ANSWERS] * (k + 2),
                             locale=("de", "en", "ar")[k % 3], when=when)  # fmt: skip
    done = await queries.ensure_mix_rollups(day)
    assert done.month is not None
    now = month_index(day.isoformat()[:7])
    rolled = done.month.isoformat()[:7]
    compared = 0
    for group in (offices, offices[:2]):
        for first, last in [(month_name(now - 23), rolled), (month_name(now - 11), rolled),
                            (month_name(now - 13), month_name(now)), (rolled, rolled),
                            (month_name(now - 2), month_name(now - 2)),
                            (month_name(now - 40), month_name(now - 30))]:  # fmt: skip
            found = await rolled_counts.mix_rows(app.state, group, done, first, last)
            expected = await queries.mix_rows(group, done, first, last)
            assert sorted(found) == sorted(expected), (group, first, last)
            compared += len(expected)
    assert compared > 20
    assert len(app.state.rolled_counts) == 2, "each group's cells read once"


async def test_a_month_rolled_up_later_is_read_with_its_rows(
    staff: StaffClient, app: Litestar, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The counts held are those of the last rolled-up month: when the next month is rolled
    up, a new view reads it (held again), not the month from the counts held before."""
    org = await make_organization()
    offices = [await make_office(organization=org) for _ in range(3)]
    for k, office in enumerate(offices):
        for back in (1, 2, 3):
            answers = [{**FULL_ANSWERS, "overall": 1 + (k + i + back) % 5} for i in range(12)]
            await make_responses(app.state.engine, await make_link(office), answers,
                                 when=in_closed_month(back))  # fmt: skip
    await make_staff_user("max", "max-password-1", "manager", organization=org)
    await staff.login("max", "max-password-1")
    done = await queries.ensure_rollups(today())
    assert done.month is not None
    # the last month as if not rolled up yet: a view reads it from the daily counts
    await RollupCount.raw("DELETE FROM rollup_count WHERE start = {}", done.month)
    app.state.rolled_on = None
    paths = ["/api/v1/results/overview", f"/api/v1/results/offices/{offices[0]}",
             "/api/v1/results/benchmark"]  # fmt: skip
    with monkeypatch.context() as patch:
        patch.setattr(queries, "ensure_rollups", lambda day: queries.rolled())
        before = await page_figures(staff, paths)
    earlier = await queries.rolled()
    assert earlier.month is not None and earlier.month < done.month
    assert len(app.state.rolled_counts), "the months before it held"
    # it is rolled up (the next day's first view does it): a new view reads it from the rollup
    app.state.rolled_on = None
    await DashboardFigure.delete(force=True)
    _new_views(app)
    after = await page_figures(staff, paths)
    assert (await queries.rolled()) == done
    assert after == before
    assert after == await _from_the_database(app, staff, paths, monkeypatch)


async def test_an_erased_job_centre_s_counts_are_never_shown_again(
    staff: StaffClient, app: Litestar, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Erasing a job centre deletes its counts; SQLite may give a new office the id of an
    erased one, and the comparison group then has the same offices as before: the counts held
    and the protected tables the process keeps are made again after an erasure (its mark is
    part of their keys), and the new office shows none of the erased one's responses (each
    fails on SQLite without it)."""
    network = await make_network()
    orgs = [await make_organization(network=network) for _ in range(2)]
    offices = [await make_office(organization=orgs[0]) for _ in range(2)]
    offices.append(await make_office(organization=orgs[1]))  # the newest: its id may return
    for k, office in enumerate(offices):
        answers = [{**FULL_ANSWERS, "overall": 1 + (k + i) % 5} for i in range(14)]
        for back in (1, 2):
            await make_responses(app.state.engine, await make_link(office), answers,
                                 when=in_closed_month(back))  # fmt: skip
    await make_staff_user("max", "max-password-1", "manager", organization=orgs[0])
    await staff.login("max", "max-password-1")
    paths = ["/api/v1/results/overview", "/api/v1/results/benchmark",
             f"/api/v1/results/offices/{offices[0]}"]  # fmt: skip
    await page_figures(staff, paths)
    assert len(app.state.rolled_counts), "held"
    slug = (await Organization.select(Organization.slug).where(Organization.id == orgs[1])
            .first())["slug"]  # fmt: skip
    await retention.erase(slug)
    joining = await make_organization(network=network)
    new_office = await make_office(organization=joining)  # SQLite: often the erased one's id
    after = await page_figures(staff, paths)
    assert after == await _from_the_database(app, staff, paths, monkeypatch)
    again = await rolled_counts.count_columns(
        app.state, [*offices[:2], new_office], ["_index"],
        parse_filters({}, today()), await queries.rolled(), in_closed_month(2).strftime("%Y-%m"),
        in_closed_month(1).strftime("%Y-%m"),
    )  # fmt: skip
    assert new_office not in set(again.office.tolist()), "nothing of the erased office"


async def test_a_group_above_the_bound_is_read_from_the_database(
    staff: StaffClient, app: Litestar, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = await make_organization()
    office = await make_office(organization=org)
    await make_responses(app.state.engine, await make_link(office), [FULL_ANSWERS] * 12,
                         when=in_closed_month())  # fmt: skip
    await make_staff_user("max", "max-password-1", "manager", organization=org)
    await staff.login("max", "max-password-1")
    monkeypatch.setattr(rolled_counts, "MAX_ROWS", 5)
    paths = ["/api/v1/results/overview", f"/api/v1/results/offices/{office}"]
    found = await page_figures(staff, paths)
    held = [v for k, (v, _) in app.state.rolled_counts._items.items() if k[0] == "rolled counts"]
    assert held == [(None,)], "not held"
    assert found == await _from_the_database(app, staff, paths, monkeypatch)
