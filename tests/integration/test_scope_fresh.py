"""A signed-in user's scope is read on every request (survey/auth/queries.load_scope): only
the resolving of the rows read is shared between requests, keyed by those rows, so no change of
the user's rights or of the offices outlives the request it was made before (issue 17, k28)."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from survey.auth import guard, queries
from survey.manage import retention
from survey.tables import Membership, Office, Organization, User
from tests.builders import make_network, make_office, make_organization, make_staff_user
from tests.conftest import StaffClient

PASSWORD = "correct-horse-battery"


async def _manager(org: int, username: str = "alice", role: str = "manager") -> int:
    return await make_staff_user(username, PASSWORD, role, organization=org, display_name=username)


async def _sees(client: httpx.AsyncClient, office: int) -> int:
    return (await client.get(f"/dashboard/offices/{office}")).status_code


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(guard, "DELAY_BASE_SECONDS", 0.0)


async def test_a_role_taken_away_or_narrowed_counts_from_the_next_request(
    staff: StaffClient, client: httpx.AsyncClient
) -> None:
    org = await make_organization()
    first, second = await make_office(organization=org), await make_office(organization=org)
    user = await _manager(org)
    await staff.login("alice", PASSWORD)
    assert await _sees(client, first) == await _sees(client, second) == 200
    await Membership.update({Membership.office: first}).where(Membership.user == user)
    assert await _sees(client, first) == 200
    assert await _sees(client, second) == 403, "narrowed to one office: at once"
    await Membership.delete().where(Membership.user == user)
    assert await _sees(client, first) == 403, "no role left: no dashboards"


async def test_a_deactivated_locked_or_signed_out_user_is_refused_at_the_next_request(
    staff: StaffClient, client: httpx.AsyncClient
) -> None:
    org = await make_organization()
    office = await make_office(organization=org)
    user = await _manager(org)
    await staff.login("alice", PASSWORD)
    assert await _sees(client, office) == 200
    await User.update({User.active: False}).where(User.id == user)
    assert await _sees(client, office) == 303, "deactivated: back to the sign-in page"
    await User.update({User.active: True}).where(User.id == user)
    assert await _sees(client, office) == 200
    until = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=15)
    await User.update({User.locked_until: until}).where(User.id == user)
    assert await _sees(client, office) == 303, "locked (SQLite gives the time as text)"
    past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    await User.update({User.locked_until: past}).where(User.id == user)
    assert await _sees(client, office) == 200, "a lock that has run out locks nothing"
    await queries.end_sessions(user)  # signed out (in another browser), or locked out
    assert await _sees(client, office) == 303


async def test_an_office_moved_to_another_job_centre_leaves_the_old_one_s_scope_at_once(
    staff: StaffClient, client: httpx.AsyncClient
) -> None:
    network = await make_network()
    mine, other = await make_organization(network=network), await make_organization()
    office = await make_office(organization=mine)
    await make_office(organization=mine)
    await _manager(mine)
    await staff.login("alice", PASSWORD)
    assert await _sees(client, office) == 200
    before = await queries.load_scope(await _id("alice"))
    assert before is not None and office in before.visible
    await Office.update({Office.organization: other}).where(Office.id == office)
    assert await _sees(client, office) == 403, "moved out of the job centre: at once"
    after = await queries.load_scope(await _id("alice"))
    assert after is not None and office not in after.visible
    assert office not in {o.id for o in after.group}, "nor in the comparison group"


async def test_a_renamed_job_centre_or_network_is_named_anew(
    staff: StaffClient, client: httpx.AsyncClient
) -> None:
    network = await make_network()
    org = await make_organization(network=network)
    await make_office(organization=org)
    await _manager(org)
    user = await _id("alice")
    before = await queries.load_scope(user)
    await Organization.update({Organization.name: "Jobcenter Umbenannt"}).where(
        Organization.id == org
    )
    after = await queries.load_scope(user)
    assert before is not None and after is not None
    assert {o.organization for o in after.group} == {"Jobcenter Umbenannt"}
    assert before.group != after.group


async def test_an_erased_job_centre_s_offices_leave_every_scope_at_once(
    staff: StaffClient, client: httpx.AsyncClient
) -> None:
    network = await make_network()
    kept, erased = (
        await make_organization(network=network),
        await make_organization(network=network),
    )
    mine = await make_office(organization=kept)
    gone = await make_office(organization=erased)
    await make_staff_user("coord", PASSWORD, "network", display_name="coord")
    coord = await _id("coord")
    await Membership.update({Membership.network: network, Membership.organization: None}).where(
        Membership.user == coord
    )
    await staff.login("coord", PASSWORD)
    assert await _sees(client, mine) == await _sees(client, gone) == 200
    slug = (await Organization.select(Organization.slug).where(Organization.id == erased).first())[
        "slug"
    ]
    await retention.erase(slug)
    assert await _sees(client, gone) == 403, "erased: gone from the network's scope at once"
    assert await _sees(client, mine) == 200
    scope = await queries.load_scope(coord)
    assert scope is not None and gone not in scope.visible
    assert gone not in {o.id for o in scope.group}


async def test_the_same_rows_resolve_to_the_same_scope_once(
    staff: StaffClient, client: httpx.AsyncClient
) -> None:
    org = await make_organization()
    await make_office(organization=org)
    user = await _manager(org)
    queries._resolved.cache_clear()
    first, again = await queries.load_scope(user), await queries.load_scope(user)
    assert first == again
    assert queries._resolved.cache_info().hits == 1, "resolved once, for the same rows"


async def _id(username: str) -> int:
    row = await User.select(User.id).where(User.username == username).first()
    assert row is not None
    return int(row["id"])
