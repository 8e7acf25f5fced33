"""Attacks on the anonymity of the dashboards, each played through HTTP as a staff member
with an ordinary account (issue 10): period differencing, pool subtraction across periods,
counts of hidden units, inverting shrinkage, comment order and timing, and an averaging
attacker who collects every allowed pair of figures that differ by one response.

The attacker uses whatever the server accepts: days where it takes days (the dashboards did
before issue 10), whole months where it insists on them. Record keys come from a fixed seed
(tests/builders.py), so the noise, and with it each outcome, is the same on every run.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
from typing import Any

import httpx
from litestar import Litestar

from survey.questionnaire import LOCAL_ZONE
from survey.tables import Membership
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
from tests.conftest import ONE_ENGINE, StaffClient

ITEMS = ("respect", "understood", "explained", "next_steps", "fits", "waiting", "overall",
         "recommend")  # fmt: skip
LEVELS = {item: range(1, 6) for item in ITEMS} | {"recommend": range(0, 11)}
PLANTED = {**{item: 1 for item in ITEMS}, "recommend": 0}
"""Distinctive answers: the worst level everywhere (the background answers 2 to 5)."""


def _today() -> dt.date:
    """Yesterday: the month it falls in is the month in progress for the dashboards (a month
    is published on the second day after it), so that `back` = 1 is always published."""
    return dt.datetime.now(LOCAL_ZONE).date() - dt.timedelta(days=1)


def _month(back: int) -> tuple[int, int]:
    """(year, month) `back` months before the current one."""
    today = _today()
    index = today.year * 12 + today.month - 1 - back
    return index // 12, index % 12 + 1


def _name(back: int) -> str:
    year, month = _month(back)
    return f"{year:04d}-{month:02d}"


def _when(back: int) -> dt.datetime:
    """Ten o'clock on a day of the month `back` months ago (today for the current month)."""
    year, month = _month(back)
    day = _today().day if back == 0 else 10
    return dt.datetime(year, month, day, 10, tzinfo=dt.UTC)


async def _get(client: httpx.AsyncClient, url: str, first: int, last: int,
               **params: str) -> Any:  # fmt: skip
    """GET a results route for the months `first` to `last` months back; where the server
    wants days, the first and last day of those months. None when the figure is refused."""
    query = {"from": _name(first), "to": _name(last), **params}
    answer = await client.get(url, params=query)
    if answer.status_code == 400 and "date" in answer.text:  # a server that takes days
        year, month = _month(last)
        end = dt.date(year, month, calendar.monthrange(year, month)[1])
        query |= {"from": _name(first) + "-01", "to": min(end, _today()).isoformat()}
        answer = await client.get(url, params=query)
    assert answer.status_code in (200, 400), answer.text[:300]
    return answer.json() if answer.status_code == 200 else None


def _items(office: Any) -> dict[str, list[int]] | None:
    """The published answer counts per item, or None when withheld."""
    if office is None:
        return None
    counts = {i["item"]: i["counts"] for i in office["items"]}
    return None if any(c is None for c in counts.values()) else counts


def _guess(votes: dict[str, list[float]]) -> dict[str, int | None]:
    """The answer the attacker reads off summed differences: the level that grew most (None
    when two levels tie)."""
    out: dict[str, int | None] = {}
    for item, v in votes.items():
        best = max(v)
        levels = [level for level, x in zip(LEVELS[item], v, strict=True) if x == best]
        out[item] = levels[0] if len(levels) == 1 else None
    return out


def _minus(a: dict[str, list[int]], b: dict[str, list[int]]) -> dict[str, list[float]]:
    return {item: [x - y for x, y in zip(a[item], b[item], strict=True)] for item in ITEMS}


async def _manager_of(network: bool = False) -> dict[str, int]:
    """A network with job centres A (two offices) and B (one); user "mara" manages A, or
    coordinates the network with `network=True`."""
    net = await make_network()
    a, b = await make_organization(network=net), await make_organization(network=net)
    ids = {"a1": await make_office(organization=a), "a2": await make_office(organization=a),
           "b1": await make_office(organization=b), "a": a, "b": b}  # fmt: skip
    if network:
        user = await make_staff_user("mara", "mara-password-1", "network")
        await Membership.update({Membership.network: net}).where(Membership.user == user)
    else:
        await make_staff_user("mara", "mara-password-1", "manager", organization=a)
    return ids


async def test_period_differencing_does_not_give_the_answers_of_the_one_client_of_a_day(
    staff: StaffClient, app: Litestar
) -> None:
    """Finding 1: `from=D0&to=D` minus `to=D-1` gave the exact answers of the client who
    answered on day D, and the comments list showed their comment with day and language."""
    org = await make_organization()
    office = await make_office(organization=org)
    engine = app.state.engine
    link = await make_link(office)
    await make_responses(engine, link, [FULL_ANSWERS] * 15, locale="ar", when=_when(1))
    await make_responses(engine, link, [{**PLANTED, "comment": "Danke!"}], locale="ar",
                         when=_when(0))  # fmt: skip
    await make_staff_user("mara", "mara-password-1", "manager", organization=org)
    await staff.login("mara", "mara-password-1")
    url = f"/api/v1/results/offices/{office}"
    today = _today()
    day_answer = await staff.client.get(
        url, params={"from": _name(1) + "-01", "to": today.isoformat(), "language": "ar"}
    )
    if today.day != calendar.monthrange(today.year, today.month)[1]:
        assert day_answer.status_code == 400, "a period ending on a day is refused"
        assert "whole months" in day_answer.json()["detail"]
    both = _items(await _get(staff.client, url, 1, 0, language="ar"))
    before = _items(await _get(staff.client, url, 1, 1, language="ar"))
    assert both is not None and before is not None
    guess = _guess(_minus(both, before))
    assert guess != PLANTED, "the difference of two periods gives one client's answers"
    result = await _get(staff.client, url, 1, 0, language="ar")
    for comment in result["comments"]:
        assert set(comment) <= {"month", "text", "key"}, "no day, no language on a comment"
    assert "Danke!" not in str(result["comments"]), "the month of one response shows none"


@ONE_ENGINE  # what the published figures give away: not SQL (docs/testing.md)
async def test_a_pool_cannot_be_subtracted_across_two_periods(
    staff: StaffClient, app: Litestar
) -> None:
    """Finding 2: April–July minus April–June gave the withheld July pool of a job centre
    down to a single response. Here job centre B has 15 responses a month and, in the last
    month, one client alone; the attacker subtracts B's pooled figures of two periods."""
    ids = await _manager_of(network=True)
    engine = app.state.engine
    link = await make_link(ids["b1"])
    for back in (3, 2):
        await make_responses(engine, link, [FULL_ANSWERS] * 15, when=_when(back))
    await make_responses(engine, link, [PLANTED], when=_when(1))
    for office in ("a1", "a2"):
        await make_responses(engine, await make_link(ids[office]), [FULL_ANSWERS] * 20,
                             when=_when(2))  # fmt: skip
    await staff.login("mara", "mara-password-1")
    rows = []
    for last in (2, 1):
        bench = await _get(staff.client, "/api/v1/results/benchmark", 3, last,
                           level="organization")  # fmt: skip
        rows.append(next(r for r in bench["rows"] if r["id"] == ids["b"]))
    shorter, longer = rows
    assert shorter is not None and longer is not None
    if longer["n"] is not None and shorter["n"] is not None and longer["index"] is not None:
        n = longer["n"] - shorter["n"]
        total = longer["index"] * longer["n"] - shorter["index"] * shorter["n"]
        exact = n == 1 and abs(total) < 1.0  # the planted client's index is 0
        assert not exact, "two periods of a pool give one client's index"


@ONE_ENGINE  # what the published figures give away: not SQL (docs/testing.md)
async def test_a_withheld_unit_shows_no_count_anywhere(staff: StaffClient, app: Litestar) -> None:
    """Finding 3: comparison rows showed n when the figure was withheld, so network n minus
    job-centre n gave the other job centre's exact count per month and filter."""
    ids = await _manager_of()
    engine = app.state.engine
    for office, count in (("a1", 30), ("a2", 30), ("b1", 25)):
        await make_responses(
            engine, await make_link(ids[office]), [FULL_ANSWERS] * count, when=in_closed_month()
        )
    await staff.login("mara", "mara-password-1")
    result = (await staff.client.get(f"/api/v1/results/offices/{ids['a1']}")).json()
    network = result["comparison"][-1]
    assert network["index"] is None and network["hidden"], "the network pool reveals B"
    assert network.get("n") is None, "a withheld pool shows no n"
    overview = (await staff.client.get("/api/v1/results/overview")).json()
    assert overview["group_index"] is None and overview["group_n"] is None
    download = await staff.client.get(f"/dashboard/offices/{ids['a1']}/comparison.csv")
    last = download.content.decode("utf-8-sig").splitlines()[-1].split(";")
    assert not any(cell.isdigit() for cell in last[2:]), last


@ONE_ENGINE  # what the published figures give away: not SQL (docs/testing.md)
async def test_shrinkage_and_ranks_do_not_give_back_a_withheld_comparison_value(
    staff: StaffClient, app: Litestar
) -> None:
    """Finding 4: est = μ + (1 − b)(y − μ) gives the withheld target μ from two visible
    shrunken indices, and "rank 1 of 2" says where the hidden unit stands."""
    ids = await _manager_of()
    engine = app.state.engine
    for office, answers in (("a1", FULL_ANSWERS), ("a2", {**FULL_ANSWERS, "respect": 3}),
                            ("b1", PLANTED)):  # fmt: skip
        await make_responses(
            engine, await make_link(ids[office]), [answers] * 30, when=in_closed_month()
        )
    await staff.login("mara", "mara-password-1")
    for level in ("office", "organization"):
        bench = (await staff.client.get(f"/api/v1/results/benchmark?level={level}")).json()
        assert bench["target"] is None and bench["target_hidden"], level
        for row in bench["rows"]:
            assert row["shrunken"] is None and row["shrunken_low"] is None, (level, row)
            assert row["rank"] is None and row.get("of") is None, (level, row)


async def test_comments_carry_no_day_and_are_not_in_submission_order(
    staff: StaffClient, app: Litestar
) -> None:
    """Finding 5: comments were listed in exact submission order with their day."""
    org = await make_organization()
    office = await make_office(organization=org)
    engine = app.state.engine
    link = await make_link(office)
    for k in range(20):  # one call each: ids in submission order
        await make_responses(engine, link, [{**FULL_ANSWERS, "comment": f"c{k:02d}"}],
                             when=_when(1))  # fmt: skip
    await make_responses(engine, link, [{**FULL_ANSWERS, "comment": "lonely"}] * 3,
                         when=_when(0))  # fmt: skip
    await make_staff_user("mara", "mara-password-1", "manager", organization=org)
    await staff.login("mara", "mara-password-1")
    result = await _get(staff.client, f"/api/v1/results/offices/{office}", 1, 0)
    texts = [c["text"] for c in result["comments"]]
    submitted = [f"c{k:02d}" for k in range(20)]
    assert sorted(texts) == submitted, texts
    assert texts not in (submitted, submitted[::-1]), "comments follow submission order"
    for comment in result["comments"]:
        assert "day" not in comment and "locale" not in comment
    assert "lonely" not in texts, "a month with 3 responses shows no comment"


@ONE_ENGINE  # what the published figures give away: the noise, not SQL (docs/testing.md)
async def test_an_averaging_attacker_recovers_no_planted_response(
    staff: StaffClient, app: Litestar
) -> None:
    """20 clients with distinctive answers, each the only Pashto-speaking client of an office
    in a month (two offices, ten months each), between months with 12 Pashto responses. The
    attacker fetches every period the dashboards allow, takes every pair of overlapping
    periods that differ by exactly one client and votes. Chance alone recovers a full answer
    vector (seven items of 5 levels, one of 11) once in about 860,000 tries."""
    org = await make_organization()
    offices = [await make_office(organization=org), await make_office(organization=org)]
    engine = app.state.engine
    rng = random.Random(10)
    planted: dict[tuple[int, int], dict[str, int]] = {}
    for office in offices:
        link = await make_link(office)
        for back in (11, 0):
            await make_responses(engine, link, [FULL_ANSWERS] * 12, locale="ps",
                                 when=_when(back))  # fmt: skip
        for back in range(1, 11):
            answers = {item: rng.choice(list(LEVELS[item])) for item in ITEMS}
            planted[(office, back)] = answers
            await make_responses(engine, link, [answers], locale="ps", when=_when(back))
    await make_staff_user("mara", "mara-password-1", "manager", organization=org)
    await staff.login("mara", "mara-password-1")
    recovered, right_items = 0, 0
    for office in offices:
        url = f"/api/v1/results/offices/{office}"
        older = {last: _items(await _get(staff.client, url, 11, last, language="ps"))
                 for last in range(11, -1, -1)}  # fmt: skip
        newer = {first: _items(await _get(staff.client, url, first, 0, language="ps"))
                 for first in range(11, -1, -1)}  # fmt: skip
        for back in range(1, 11):
            votes = {item: [0.0] * len(LEVELS[item]) for item in ITEMS}
            pairs = [(older[back], older[back + 1]), (newer[back], newer[back - 1])]
            for with_it, without in pairs:
                if with_it is not None and without is not None:
                    for item, diff in _minus(with_it, without).items():
                        votes[item] = [v + d for v, d in zip(votes[item], diff, strict=True)]
            guess = _guess(votes)
            truth = planted[(office, back)]
            recovered += guess == truth
            right_items += sum(guess[item] == truth[item] for item in ITEMS)
    assert recovered == 0, f"{recovered} of 20 answer vectors recovered ({right_items} items)"


async def test_three_views_of_one_filter_do_not_subtract_down_to_the_rest(
    staff: StaffClient, app: Litestar
) -> None:
    """Three-way difference: in each of four closed months an office had 20 German and 15
    Turkish clients and one Arabic client. "all" − "de" − "tr" is the Arabic client. Each
    view looked safe on its own (the responses outside "de" were 16, outside "tr" 21, both
    at least 10), so the old rule published all three and their difference read the client
    with the noise of three cells. Now a language view of a block is published only where
    every language in it has none or at least 10 responses: never all three here."""
    org = await make_organization()
    office = await make_office(organization=org)
    engine = app.state.engine
    link = await make_link(office)
    rng = random.Random(3)
    planted = {}
    for back in range(1, 5):
        planted[back] = {item: rng.choice(list(LEVELS[item])) for item in ITEMS}
        background = [{**FULL_ANSWERS, **{i: 3 + k % 3 for i in ITEMS}} for k in range(20)]
        await make_responses(engine, link, background, when=_when(back))
        await make_responses(engine, link, background[:15], locale="tr", when=_when(back))
        await make_responses(engine, link, [planted[back]], locale="ar", when=_when(back))
    await make_staff_user("mara", "mara-password-1", "manager", organization=org)
    await staff.login("mara", "mara-password-1")
    url = f"/api/v1/results/offices/{office}"
    exposed = right = 0
    for back in range(1, 5):
        views = [_items(await _get(staff.client, url, back, back, **v))
                 for v in ({}, {"language": "de"}, {"language": "tr"})]  # fmt: skip
        everything, de, tr = views
        if everything is None or de is None or tr is None:
            continue
        exposed += 1
        rest = {item: [a - b - c for a, b, c in zip(everything[item], de[item], tr[item],
                                                    strict=True)] for item in ITEMS}  # fmt: skip
        guess = _guess(rest)
        right += sum(guess[item] == planted[back][item] for item in ITEMS)
    assert exposed == 0, f"all, de and tr shown in {exposed} of 4 months ({right} of 32 right)"
