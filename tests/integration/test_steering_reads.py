"""A page's targets and kinds of office are read in one statement on every view
(steering.targets_and_kinds, issue 17, k28): the same as `targets_of` and `office_kinds`
read apart, and a change an admin makes counts from the next view."""

from __future__ import annotations

import datetime as dt

import httpx

from survey.auth import queries
from survey.dashboard import steering
from survey.dashboard.schemas import Filters
from survey.tables import Office, Target
from tests.builders import make_office, make_organization, make_staff_user

FILTERS = Filters("2026-01", "2026-06", "2025-07", "2025-12")
TODAY = dt.date(2026, 9, 15)


async def _target(office: int, item: str, value: float, start: str, end: str) -> None:
    await Target(
        office=office, item=item, value=value,
        valid_from=dt.date.fromisoformat(start), valid_to=dt.date.fromisoformat(end),
    ).save()  # fmt: skip


async def _office_kinds(office_ids: list[int]) -> dict[int, str]:
    """The kinds of these offices read on their own (the reference: what the overview read
    before, `steering.office_kinds`)."""
    rows = await Office.select(Office.id, Office.kind).where(Office.id.is_in(office_ids or [-1]))
    return {int(r["id"]): str(r["kind"]) for r in rows}


async def test_targets_and_kinds_read_at_once_are_those_read_apart(
    client: httpx.AsyncClient,
) -> None:
    org = await make_organization()
    main, branch, other = [await make_office(organization=org) for _ in range(3)]
    outside = await make_office()  # another job centre: never read
    await Office.update({Office.kind: "branch"}).where(Office.id == branch)
    await Office.update({Office.kind: "outreach"}).where(Office.id == outside)
    await _target(main, "_index", 80.0, "2026-01-01", "2026-12-31")
    await _target(main, "respect", 72.5, "2026-01-01", "2026-12-31")
    await _target(main, "not_an_item", 50.0, "2026-01-01", "2026-12-31")  # not judged
    await _target(branch, "_index", 75.0, "2025-01-01", "2025-12-31")  # over before the day
    await _target(branch, "_index", 77.0, "2026-06-30", "2026-07-31")  # valid on the day
    await _target(other, "_index", 70.0, "2026-07-01", "2026-12-31")  # not yet
    await _target(outside, "_index", 90.0, "2026-01-01", "2026-12-31")
    user = await make_staff_user("anna", "correct-horse-battery", "manager", organization=org)
    scope = await queries.load_scope(user)
    assert scope is not None
    apart = (
        await steering.targets_of(scope, FILTERS, TODAY),
        await _office_kinds(sorted(scope.visible)),
    )
    together = await steering.targets_and_kinds(scope, FILTERS, TODAY)
    assert together == apart
    assert together[0] == {
        (main, "_index"): 80.0,
        (main, "respect"): 72.5,
        (branch, "_index"): 77.0,
    }
    assert together[1] == {main: "main", branch: "branch", other: "main"}
    one = await steering.targets_and_kinds(scope, FILTERS, TODAY, main)
    assert one == ({(main, "_index"): 80.0, (main, "respect"): 72.5}, {})
    assert await steering.targets_and_kinds(scope, FILTERS, TODAY, outside) == ({}, {}), (
        "an office the user does not see has no targets for them"
    )
    await Target.update({Target.value: 85.0}).where(Target.office == main, Target.item == "_index")
    await Office.update({Office.kind: "outreach"}).where(Office.id == other)
    again = await steering.targets_and_kinds(scope, FILTERS, TODAY)
    assert again[0][main, "_index"] == 85.0 and again[1][other] == "outreach", "read anew"


async def test_a_user_who_sees_no_office_reads_no_target(client: httpx.AsyncClient) -> None:
    user = await make_staff_user("bob", "correct-horse-battery", "researcher")
    scope = await queries.load_scope(user)
    assert scope is not None and not scope.visible
    assert await steering.targets_and_kinds(scope, FILTERS, TODAY) == ({}, {})
