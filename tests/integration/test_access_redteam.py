"""What a red-team review (t22, 2026-11-29) found on the staff side, each mended and pinned:

- a network coordinator invited a manager into a member job centre (or reset a member's
  password) and signed in as them: the member's clients' comments, which the privacy notice
  keeps within the job centre, were theirs to read;
- a token limited to one job centre was unlimited on the administration's HTML pages;
- the comment lists of two filtered views, intersected, tied a comment to a handful of
  clients (a list is exact: no noise);
- the too-fast note told 0 from 1 in any filtered view;
- the questionnaire-version note was read from the month in progress: it told that a client
  had just answered through an old link;
- the administration's JSON answers (users, links, audit) carried no Cache-Control."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import httpx
from litestar import Litestar

from survey.manage.questionnaires import _standard
from survey.tables import Membership, Network, Questionnaire, QuestionnaireVersion, User
from tests.builders import (
    FULL_ANSWERS,
    in_closed_month,
    make_link,
    make_office,
    make_organization,
    make_responses,
    make_staff_user,
)
from tests.conftest import ONE_ENGINE, StaffClient

PASSWORD = "a-long-password-1"


async def _csrf(client: httpx.AsyncClient) -> dict[str, str]:
    page = await client.get("/manage/tokens")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text[:300]
    return {"x-csrf-token": found[1]}


async def _coordinator(network: int) -> int:
    user = User(username="coord", password_hash="", created_at=dt.datetime.now(dt.UTC))
    from survey.auth.passwords import hash_password

    user.password_hash = hash_password(PASSWORD)
    await user.save()
    await Membership(user=user.id, role="network", network=network).save()
    return int(user.id)


async def test_a_coordinator_invites_only_a_member_s_first_admin_and_touches_no_member_s_people(
    staff: StaffClient,
) -> None:
    network = Network(name="Netz", slug="netz")
    await network.save()
    a = await make_organization("Jobcenter A", network=network.id)
    c = await make_organization("Jobcenter C", network=network.id)  # new, no admin yet
    await make_staff_user("admin.a", PASSWORD, "admin", organization=a)
    manager = await make_staff_user("manager.a", PASSWORD, "manager", organization=a)
    await _coordinator(network.id)
    await staff.login("coord", PASSWORD)
    headers = await _csrf(staff.client)

    def post(path: str, body: Any = None) -> Any:
        return staff.client.post(path, json=body, headers=headers)

    sock = {"username": "sock.puppet", "role": "manager", "organization_id": a}
    refused = [
        await post("/api/v1/users", sock),
        await post("/api/v1/users", sock | {"role": "admin"}),  # A has its admin
        await post(f"/api/v1/users/{manager}/password-reset"),
        await staff.client.put(
            f"/api/v1/users/{manager}/roles",
            json={"role": "admin", "organization_id": a},
            headers=headers,
        ),
        await staff.client.patch(
            f"/api/v1/users/{manager}", json={"active": False}, headers=headers
        ),
    ]
    assert [r.status_code for r in refused] == [403] * 5, [r.text for r in refused]
    assert "first admin" in refused[0].json()["detail"]
    assert await User.count().where(User.username == "sock.puppet") == 0
    listed = (await staff.client.get("/api/v1/users")).json()
    assert "manager.a" not in {u["username"] for u in listed}
    assert "manager.a" not in (await staff.client.get("/manage/users")).text
    first = await post("/api/v1/users", {"username": "admin.c", "role": "admin",
                                         "organization_id": c})  # fmt: skip
    assert first.status_code == 201, first.text
    second = await post("/api/v1/users", {"username": "admin.c2", "role": "admin",
                                          "organization_id": c})  # fmt: skip
    assert second.status_code == 403, "C has its first admin now: its people are theirs"
    # r23: a centre run by an office's manager has no admin of the whole centre, but people
    d = await make_organization("Jobcenter D", network=network.id)
    await make_staff_user("manager.d", PASSWORD, "manager", office=await make_office("D1", d))
    staffed = await post("/api/v1/users", {"username": "admin.d", "role": "admin",
                                           "organization_id": d})  # fmt: skip
    assert staffed.status_code == 403, "D has its people: no admin made by the coordinator"
    # the job centre's own admin still does all of it
    await staff.login("admin.a", PASSWORD)
    headers.update(await _csrf(staff.client))
    reset = await staff.client.post(f"/api/v1/users/{manager}/password-reset", headers=headers)
    assert reset.status_code == 201, reset.text


async def test_a_token_limited_to_one_job_centre_is_limited_on_the_administration_pages(
    staff: StaffClient,
) -> None:
    a = await make_organization("Jobcenter Aachen")
    b = await make_organization("Jobcenter Bonn")
    await make_office("Aachen-Mitte", a)
    await make_office("Bonn-Mitte", b)
    both = await make_staff_user("admin.ab", PASSWORD, "admin", organization=a)
    await Membership(user=both, role="admin", organization=b).save()
    await make_staff_user("only.aachen", PASSWORD, "manager", organization=a)
    await staff.login("admin.ab", PASSWORD)
    made = await staff.client.post(
        "/api/v1/tokens",
        json={"name": "bonn only", "organization_ids": [b]},
        headers=await _csrf(staff.client),
    )
    assert made.status_code == 201, made.text
    bearer = {"authorization": f"Bearer {made.json()['token']}"}
    staff.client.cookies.clear()  # the token alone
    c = staff.client
    users = await c.get("/manage/users", headers=bearer)
    offices = await c.get("/manage/offices", headers=bearer)
    audit = await c.get("/manage/audit.csv", headers=bearer)
    erase = await c.get(f"/manage/organizations/{a}/erase", headers=bearer)
    own = await c.get(f"/manage/organizations/{b}/erase", headers=bearer)
    assert users.status_code == offices.status_code == 200
    assert "only.aachen" not in users.text and "Aachen-Mitte" not in offices.text
    assert "Bonn-Mitte" in offices.text, "the token's own job centre is there"
    assert "Aachen" not in audit.text
    assert (erase.status_code, own.status_code) == (403, 200)


async def _comments_world(app: Litestar) -> tuple[int, int]:
    org = await make_organization()
    office = await make_office(organization=org)
    for mode in ("personal", "kiosk"):
        answers = [{**FULL_ANSWERS, "comment": f"{mode} Kommentar {k}"} for k in range(12)]
        await make_responses(app.state.engine, await make_link(office, mode=mode), answers,
                             when=in_closed_month())  # fmt: skip
    await make_staff_user("max", PASSWORD, "manager", organization=org)
    return org, office


async def test_comments_are_listed_in_the_view_without_a_filter_only(
    staff: StaffClient, app: Litestar
) -> None:
    _, office = await _comments_world(app)
    await staff.login("max", PASSWORD)
    whole = (await staff.client.get(f"/api/v1/results/offices/{office}")).json()
    assert len(whole["comments"]) == 24 and not whole["comments_filtered"]
    for query in ("mode=kiosk", "mode=personal", "service_type=benefits", "language=de"):
        api = (await staff.client.get(f"/api/v1/results/offices/{office}?{query}")).json()
        assert api["comments"] == [] and api["comments_filtered"], query
        page = await staff.client.get(f"/dashboard/offices/{office}?{query}")
        assert 'data-testid="comments-filtered"' in page.text, query
        assert "kiosk Kommentar" not in page.text, query
        assert "personal Kommentar" not in page.text, query
    page = await staff.client.get(f"/dashboard/offices/{office}")
    assert page.text.count('data-testid="comment"') == 24


async def test_the_too_fast_note_tells_no_small_count_and_nothing_in_a_filtered_view(
    staff: StaffClient, app: Litestar
) -> None:
    org = await make_organization()
    office = await make_office(organization=org)
    link = await make_link(office)
    await make_responses(app.state.engine, link, [FULL_ANSWERS] * 12, when=in_closed_month())
    await make_responses(app.state.engine, link, [FULL_ANSWERS] * 3, when=in_closed_month(),
                         flagged=True)  # fmt: skip
    await make_staff_user("max", PASSWORD, "manager", organization=org)
    await staff.login("max", PASSWORD)
    url = f"/dashboard/offices/{office}"
    assert 'data-testid="flagged"' not in (await staff.client.get(url)).text, "1-4: nothing"
    await make_responses(app.state.engine, link, [FULL_ANSWERS] * 6, when=in_closed_month(),
                         flagged=True)  # fmt: skip
    note = re.search(r'data-testid="flagged">([^<]*)<', (await staff.client.get(url)).text)
    assert note and re.search(r"\b10\b", note[1]), "9 as about 10"
    filtered = (await staff.client.get(f"{url}?mode=personal")).text
    assert 'data-testid="flagged"' not in filtered


async def test_the_version_note_waits_for_the_month_in_progress_to_be_published(
    staff: StaffClient, app: Litestar
) -> None:
    org = await make_organization()
    q = Questionnaire(organization=org, code="two", name="Zwei")
    await q.save()
    versions = []
    for number in (1, 2):
        v = QuestionnaireVersion(questionnaire=q.id, number=number, definition=_standard(),
                                 published_at=dt.datetime.now(dt.UTC))  # fmt: skip
        await v.save()
        versions.append(v.id)
    offices = []
    for when in (None, in_closed_month()):  # the old link answered just now, or last month
        office = await make_office(organization=org)
        new = await make_link(office, version=versions[1])
        old = await make_link(office, version=versions[0])
        await make_responses(app.state.engine, new, [FULL_ANSWERS] * 12, when=in_closed_month())
        await make_responses(app.state.engine, old, [FULL_ANSWERS], when=when)
        offices.append(office)
    await make_staff_user("max", PASSWORD, "manager", organization=org)
    await staff.login("max", PASSWORD)
    period = f"from={in_closed_month().strftime('%Y-%m')}&to={dt.date.today().strftime('%Y-%m')}"
    now, before = [(await staff.client.get(f"/dashboard/offices/{o}?{period}")).text
                   for o in offices]  # fmt: skip
    assert 'data-testid="versions-note"' not in now, (
        "the month in progress tells nothing, not even which link a client just answered"
    )
    assert 'data-testid="versions-note"' in before, "a published month's versions are told"


@ONE_ENGINE  # the answers' headers: not SQL (docs/testing.md)
async def test_the_administration_s_json_answers_are_never_cached(staff: StaffClient) -> None:
    org = await make_organization()
    await make_office(organization=org)
    await make_staff_user("ada", PASSWORD, "admin", organization=org)
    await staff.login("ada", PASSWORD)
    for path in ("/api/v1/users", "/api/v1/links", "/api/v1/audit", "/api/v1/offices",
                 "/api/v1/targets", "/api/v1/tokens"):  # fmt: skip
        answer = await staff.client.get(path)
        assert answer.status_code == 200, (path, answer.text)
        assert answer.headers.get("cache-control") == "no-store", path
