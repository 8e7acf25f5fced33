"""Administration: setup and import from an empty database, and who may change what."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from survey.dashboard import filters, queries
from survey.manage import importer
from survey.respond.stamp import make_stamp
from survey.settings import Settings
from survey.tables import (
    ApiToken,
    AuditLog,
    BankItem,
    Link,
    Membership,
    Office,
    Organization,
    Target,
    User,
)
from tests.builders import (
    FULL_ANSWERS,
    make_link,
    make_office,
    make_organization,
    make_staff_user,
)
from tests.cli import run_cli
from tests.conftest import ONE_ENGINE, SECRET, StaffClient

PASSWORD = "a-long-password-2026"


def _cli(
    args: list[str], cwd: Path, settings: Settings, *, process: bool = True
) -> subprocess.CompletedProcess[str]:
    """`resonanz ARGS` in a process of its own, or with `process=False` in this one
    (tests/cli.py: a second call of a command the test has already started as a process)."""
    env = {"RESONANZ_DATABASE_URL": settings.database_url}
    env["RESONANZ_SECRET_KEY"] = settings.secret_key
    env["RESONANZ_BASE_URL"] = "http://testserver.local"
    if not process:
        with contextlib.chdir(cwd):
            return run_cli(args, **env)
    env = {**os.environ, **env}
    return subprocess.run(
        [sys.executable, "-m", "survey.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


STRUCTURE = """\
service_types:
  - {code: migration, name_de: Migrationsberatung, name_en: Migration counseling}
job_centres:
  - slug: jobcenter-musterstadt
    name: Jobcenter Musterstadt
    offices:
      - code: MS-M
        name: Musterstadt-Mitte
        kind: main
        service_types: [benefits, migration]
        links: [personal]
      - code: MS-T
        name: Stadtteiltreff Hafen
        kind: outreach
        service_types: [placement]
        links: [personal, kiosk]
"""


async def _csrf(client: httpx.AsyncClient, path: str = "/manage/tokens") -> str:
    page = await client.get(path)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text[:500]
    return found[1]


def _publish_month_in_progress(app: Any) -> None:
    """Move the dashboards' clock (RESONANZ_TODAY, `Settings.today`) to the second day of
    the next month, when the month in progress is published (issue 10)."""
    later = queries.next_month(filters.today()) + dt.timedelta(days=1)
    app.state.settings = dataclasses.replace(app.state.settings, today=later)


async def test_from_an_empty_database_setup_import_a_link_a_response_and_a_figure(
    settings: Settings,
    app: Any,
    client: httpx.AsyncClient,
    staff: StaffClient,
    tmp_path: Path,
) -> None:
    made = _cli(
        [
            "setup",
            "--job-centre-name",
            "Jobcenter Musterstadt",
            "--job-centre-slug",
            "jobcenter-musterstadt",
            "--admin",
            "chef",
            "--no-input",
        ],
        tmp_path,
        settings,
        # a process on one engine (that `resonanz setup` and `import` start and read their
        # environment is the same on both); on PostgreSQL in this process (tests/cli.py)
        process=settings.is_sqlite,
    )
    assert made.returncode == 0, made.stderr
    link = re.search(r"^set the password .*: (http\S+)$", made.stdout, re.M)
    assert link and "sign in: http://testserver.local/login" in made.stdout
    (tmp_path / "structure.yaml").write_text(STRUCTURE)
    dry = _cli(
        ["import", "structure", "structure.yaml", "--dry-run"], tmp_path, settings, process=False
    )
    assert dry.returncode == 0, dry.stderr
    assert "would create office jobcenter-musterstadt/MS-T (Stadtteiltreff Hafen, outreach)" in (
        dry.stdout
    )
    assert await Office.count() == 0, "a dry run writes nothing"
    done = _cli(
        ["import", "structure", "structure.yaml"], tmp_path, settings, process=settings.is_sqlite
    )
    assert done.returncode == 0, done.stderr
    again = _cli(["import", "structure", "structure.yaml"], tmp_path, settings, process=False)
    assert again.stdout.strip() == "nothing to change"
    assert await Link.count() == 4

    path = link[1].removeprefix("http://testserver.local")
    assert (await client.get(path)).status_code == 200
    set_pw = await client.post(path, data={"password": PASSWORD, "repeat": PASSWORD})
    assert set_pw.status_code == 303
    assert (
        await client.post(path, data={"password": PASSWORD, "repeat": PASSWORD})
    ).status_code == 404
    assert (await staff.login("chef", PASSWORD)).status_code == 303

    links = (await client.get("/api/v1/links")).json()
    mitte = next(x for x in links if x["office"] == "Musterstadt-Mitte")
    token = mitte["url"].rsplit("/", 1)[1]
    for _ in range(30):
        stored = await client.post(
            "/api/v1/responses",
            json={
                "link": token,
                "submission_id": str(uuid.uuid4()),
                "answers": FULL_ANSWERS,
                # a page served a minute ago: unsigned or faster answers are not counted
                "issued": make_stamp(SECRET, token, time.time() - 60),
            },
        )
        assert stored.status_code in (200, 201), stored.text
    rows = (await client.get("/api/v1/results/overview")).json()["rows"]
    figure = next(r for r in rows if r["office"] == "Musterstadt-Mitte")
    assert figure["n"] is None, "the month in progress is published once it is over (issue 10)"
    # on the second day of the next month the month is published: its figures appear
    _publish_month_in_progress(app)
    rows = (await client.get("/api/v1/results/overview")).json()["rows"]
    figure = next(r for r in rows if r["office"] == "Musterstadt-Mitte")
    # a published n carries the noise of the nine index classes of its month: at most 9 × 2
    assert abs(figure["n"] - 30) <= 18, figure
    assert figure["index"] is not None


async def test_a_bad_structure_file_is_refused_by_file_and_line_and_nothing_is_written(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        STRUCTURE.replace("[placement]", "[placement, astrology]").replace("MS-T", "MS-M")
    )
    with pytest.raises(importer.ImportRefused) as refused:
        await importer.plan(bad.name, importer.read(bad))
    assert refused.value.problems == [
        "bad.yaml:12: duplicate office code 'MS-M' in jobcenter-musterstadt (first on line 7)",
        "bad.yaml:12: unknown service type 'astrology' (known: benefits, case_management, "
        "migration, placement, under_25)",
    ]
    csv_file = tmp_path / "offices.csv"
    csv_file.write_text(
        "job_centre;job_centre_name;office_code;office_name;kind;service_types;links\n"
        "jc-a;Jobcenter A;A1;A-Mitte;main;benefits;personal\n"
        "jc-a;Jobcenter A;A2;A-Nord;palace;benefits|nothing;\n"
        "jc-a;Jobcenter A;A3;a-mitte ;main;benefits;\n"
    )
    with pytest.raises(importer.ImportRefused) as refused:
        await importer.plan(csv_file.name, importer.read(csv_file))
    assert refused.value.problems[0].startswith("offices.csv:3: unknown office kind 'palace'")
    assert "offices.csv:3: unknown service type 'nothing'" in refused.value.problems[1]
    assert (
        "offices.csv:4: two offices named 'a-mitte' in jc-a (first on line 2)"
        in (refused.value.problems[2])
    )
    assert await Organization.count() == 0 and await Office.count() == 0
    # named like an office already in the database that the file leaves as it is (t20, f20a)
    org = await make_organization()
    office = await make_office(organization=org)
    held = await Office.select(Office.name, Office.code).where(Office.id == office).first()
    slug = await Organization.select(Organization.slug).where(Organization.id == org).first()
    head = "job_centre;job_centre_name;office_code;office_name;kind;service_types;links\n"
    line = f"{slug['slug']};Jobcenter;{{}};{{}};main;benefits;\n"
    csv_file.write_text(head + line.format("B1", held["name"].upper()))
    with pytest.raises(importer.ImportRefused) as refused:
        await importer.plan(csv_file.name, importer.read(csv_file))
    assert refused.value.problems == [
        f"offices.csv:2: {slug['slug']} has an office named {held['name'].upper()!r} already "
        f"(code {held['code']})"
    ]
    # the same name is free when the file renames the office that held it
    csv_file.write_text(head + line.format("B1", held["name"]) + line.format(held["code"], "X"))
    assert (await importer.plan(csv_file.name, importer.read(csv_file))).changes
    (tmp_path / "x.txt").write_text("x")
    with pytest.raises(importer.ImportRefused, match="must end in"):
        importer.read(tmp_path / "x.txt")
    (tmp_path / "broken.yaml").write_text("job_centres:\n  - slug: [\n")
    with pytest.raises(importer.ImportRefused, match=r"broken\.yaml:\d+: not valid YAML"):
        importer.read(tmp_path / "broken.yaml")


# ---- personas: admin of A, admin of B, a manager of A, a coordinator ------------------------


class World:
    def __init__(self) -> None:
        self.ids: dict[str, int] = {}

    async def build(self) -> World:
        from survey.demo import ensure_standard_questionnaire
        from survey.tables import Network

        await ensure_standard_questionnaire()
        network = Network(name="Netz", slug="netz")
        await network.save()
        a = await make_organization("Jobcenter A", network=network.id)
        b = await make_organization("Jobcenter B")
        self.ids |= {
            "network": network.id,
            "a": a,
            "b": b,
            "office_a": await make_office("A-Mitte", a),
            "office_b": await make_office("B-Mitte", b),
        }
        self.ids["admin_a"] = await make_staff_user("admin.a", PASSWORD, "admin", organization=a)
        self.ids["admin_b"] = await make_staff_user("admin.b", PASSWORD, "admin", organization=b)
        self.ids["manager_a"] = await make_staff_user(
            "manager.a", PASSWORD, "manager", organization=a
        )
        coordinator = await make_staff_user("coord", PASSWORD, "admin", organization=a)
        await Membership(user=coordinator, role="network", network=network.id).save()
        self.ids["coord"] = coordinator
        return self


@pytest.fixture
async def world(client: httpx.AsyncClient) -> World:
    return await World().build()


async def _api(staff: StaffClient, method: str, path: str, json: Any = None) -> httpx.Response:
    headers = {"x-csrf-token": await _csrf(staff.client)}
    return await staff.client.request(method, path, json=json, headers=headers)


async def test_an_admin_of_a_gets_the_same_403_for_b_as_for_nothing(
    staff: StaffClient, world: World
) -> None:
    await staff.login("admin.a", PASSWORD)
    ids = world.ids
    answers = []
    for office in (ids["office_b"], 987654):
        answers.append(await _api(staff, "PATCH", f"/api/v1/offices/{office}", {"name": "X"}))
        answers.append(
            await _api(
                staff,
                "POST",
                "/api/v1/offices",
                {
                    "organization_id": ids["b"] if office != 987654 else 987654,
                    "name": "X",
                    "code": "X",
                    "service_types": ["benefits"],
                },
            )
        )
        answers.append(
            await _api(
                staff,
                "POST",
                "/api/v1/links",
                {"office_id": office, "version_id": 1, "service_type": "benefits"},
            )
        )
        answers.append(
            await _api(
                staff,
                "PATCH",
                f"/api/v1/users/{ids['admin_b'] if office != 987654 else 987654}",
                {"active": False},
            )
        )
    assert {a.status_code for a in answers} == {403}
    assert len({a.json()["detail"] for a in answers}) == 1
    assert (await Office.select(Office.name).where(Office.id == ids["office_b"]).first())[
        "name"
    ] != "X"
    page = await staff.client.post(
        f"/manage/offices/{ids['office_b']}",
        data={"csrf_token": await _csrf(staff.client), "name": "X", "save": "1"},
    )
    assert page.status_code == 403 and "B-Mitte" not in page.text
    huge = await staff.client.post(
        "/manage/links/99999999999/active", data={"csrf_token": await _csrf(staff.client)}
    )
    assert huge.status_code == 403, "an impossible id is refused like a foreign one, not a 500"
    assert (await staff.client.get("/api/v1/links?office_id=99999999999")).status_code == 400


async def test_it_creates_an_office_a_link_and_refuses_bad_input_without_half_saving(
    staff: StaffClient, world: World
) -> None:
    from survey.demo import ensure_standard_questionnaire

    version = await ensure_standard_questionnaire()
    await staff.login("admin.a", PASSWORD)
    a = world.ids["a"]
    bad = await _api(
        staff,
        "POST",
        "/api/v1/offices",
        {"organization_id": a, "name": "Treff", "code": "T1", "service_types": ["nope"]},
    )
    assert bad.status_code == 422 and "nope" in bad.json()["detail"]
    assert not await Office.exists().where(Office.code == "T1")
    malformed = await _api(staff, "POST", "/api/v1/offices", {"organization_id": "a"})
    assert malformed.status_code == 400
    created = await _api(
        staff,
        "POST",
        "/api/v1/offices",
        {
            "organization_id": a,
            "name": "Treff",
            "code": "T1",
            "kind": "outreach",
            "service_types": ["benefits"],
        },
    )
    assert created.status_code == 201, created.text
    office = created.json()
    twice = await _api(staff, "POST", "/api/v1/offices",
                       {"organization_id": a, "name": "Y", "code": "T1",
                        "service_types": ["benefits"]})  # fmt: skip
    assert twice.status_code == 409
    # without a service type no link could be made for it: refused as on the form (t18)
    for none in ({}, {"service_types": []}):
        bare = await _api(staff, "POST", "/api/v1/offices",
                          {"organization_id": a, "name": "Y", "code": "T2", **none})  # fmt: skip
        assert bare.status_code == 400 and "service_types" in bare.json()["detail"], bare.text
    assert not await Office.exists().where(Office.code == "T2")
    emptied = await _api(staff, "PATCH", f"/api/v1/offices/{office['id']}", {"service_types": []})
    assert emptied.status_code == 400 and "service_types" in emptied.json()["detail"], emptied.text
    wrong_service = await _api(
        staff,
        "POST",
        "/api/v1/links",
        {"office_id": office["id"], "version_id": version, "service_type": "placement"},
    )
    assert wrong_service.status_code == 422
    link = await _api(
        staff,
        "POST",
        "/api/v1/links",
        {"office_id": office["id"], "version_id": version, "service_type": "benefits"},
    )
    assert link.status_code == 201, link.text
    url = link.json()["url"]
    assert url.startswith("http") and "/s/" in url
    token = link.json()["token"]
    assert re.fullmatch(r"[a-km-np-z2-9]{22}", token), "t20: no l, I, O, 0, - or _ on a poster"
    assert (await staff.client.get(f"/s/{token.upper()}")).status_code == 200
    off = await _api(staff, "PATCH", f"/api/v1/links/{link.json()['id']}", {"active": False})
    assert off.status_code == 204
    listed = (await staff.client.get(f"/api/v1/links?office_id={office['id']}")).json()
    assert [x["active"] for x in listed] == [False]
    before = await make_link(office["id"])  # mixed case, as links were made before
    for typed in (before.token, before.token.lower(), before.token.swapcase()):
        assert (await staff.client.get(f"/s/{typed}")).status_code == 200, typed
    gone = await _api(staff, "PATCH", f"/api/v1/offices/{office['id']}", {"active": False})
    assert gone.status_code == 204
    assert (await staff.client.get("/api/v1/offices")).json()[-1]["active"] is False
    no_csrf = await staff.client.post(
        "/api/v1/offices", json={"organization_id": a, "name": "Z", "code": "Z1"}
    )
    assert no_csrf.status_code == 403
    page_no_csrf = await staff.client.post(
        "/manage/offices", data={"organization_id": a, "name": "Z", "code": "Z1"}
    )
    assert page_no_csrf.status_code == 403
    assert not await Office.exists().where(Office.code == "Z1")
    actions = {r["action"] for r in await AuditLog.select(AuditLog.action)}
    assert {"office_created", "link_created", "link_deactivated", "office_deactivated"} <= actions


async def test_users_invite_reset_unlock_deactivate_and_the_last_admin_stays(
    staff: StaffClient, world: World, client: httpx.AsyncClient
) -> None:
    await staff.login("admin.b", PASSWORD)
    last = await _api(staff, "PATCH", f"/api/v1/users/{world.ids['admin_b']}", {"active": False})
    assert last.status_code == 409 and "last admin" in last.json()["detail"]
    invited = await _api(
        staff,
        "POST",
        "/api/v1/users",
        {"username": "neu", "role": "manager", "organization_id": world.ids["b"]},
    )
    assert invited.status_code == 201, invited.text
    assert invited.headers["cache-control"] == "no-store"
    path = invited.json()["set_password_url"].split("testserver.local", 1)[-1]
    other = httpx.AsyncClient(transport=client._transport, base_url=str(client.base_url))
    async with other:
        assert (
            await other.post(path, data={"password": "short", "repeat": "short"})
        ).status_code == 422
        assert (
            await other.post(path, data={"password": PASSWORD, "repeat": PASSWORD})
        ).status_code == 303
        newbie = StaffClient(other)
        assert (await newbie.login("neu", PASSWORD)).status_code == 303
        assert (await other.get("/dashboard")).status_code in (200, 403)
        user_id = invited.json()["user"]["id"]
        # locked by failed sign-ins, then unlocked by the admin
        await User.update({User.failed_logins: 5, User.locked_until: _in_an_hour()}).where(
            User.id == user_id
        )
        listed = {u["username"]: u for u in (await staff.client.get("/api/v1/users")).json()}
        assert listed["neu"]["locked"] is True
        assert (await _api(staff, "POST", f"/api/v1/users/{user_id}/unlock")).status_code == 204
        assert (await newbie.login("neu", PASSWORD)).status_code == 303
        token = (
            await other.post(
                "/api/v1/tokens",
                json={"name": "script"},
                headers={"x-csrf-token": await _csrf(other)},
            )
        ).json()["token"]
        bearer = {"authorization": f"Bearer {token}"}
        assert (await other.get("/api/v1/tokens", headers=bearer)).status_code == 200
        # deactivated: the session and the token stop at once
        assert (
            await _api(staff, "PATCH", f"/api/v1/users/{user_id}", {"active": False})
        ).status_code == 204
        assert (await other.get("/manage/tokens")).status_code == 303
        other.cookies.clear()
        assert (await other.get("/api/v1/tokens", headers=bearer)).status_code == 401
        assert (
            await _api(staff, "PATCH", f"/api/v1/users/{user_id}", {"active": True})
        ).status_code == 204
        assert (await other.get("/api/v1/tokens", headers=bearer)).status_code == 200
        reset = await _api(staff, "POST", f"/api/v1/users/{user_id}/password-reset")
        assert reset.status_code == 201
        assert (await newbie.login("neu", PASSWORD)).status_code == 401, "the old password stops"
        other.cookies.clear()
        assert (await other.get("/api/v1/tokens", headers=bearer)).status_code == 401, (
            "and so does a token made with it (r27)"
        )
        logged = await AuditLog.select(AuditLog.detail).where(AuditLog.action == "password_reset")
        assert [audit_detail(r["detail"]).get("tokens_revoked") for r in logged] == [1]


def audit_detail(raw: Any) -> dict[str, Any]:
    import json

    return raw if isinstance(raw, dict) else json.loads(str(raw))


def _in_an_hour() -> Any:
    import datetime as dt

    return dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)


async def test_tokens_are_shown_once_limited_revoked_and_listed_with_last_use(
    staff: StaffClient, world: World
) -> None:
    await staff.login("coord", PASSWORD)
    made = await _api(
        staff, "POST", "/api/v1/tokens", {"name": "nightly", "organization_ids": [world.ids["a"]]}
    )
    assert made.status_code == 201
    body = made.json()
    assert body["token"].startswith("rz_")
    stored = await ApiToken.select(ApiToken.token_hash).first()
    assert body["token"] not in str(stored)
    days = (body["details"]["expires_at"][:10], body["details"]["created_at"][:10])
    assert days[0] > days[1]
    bearer = {"authorization": f"Bearer {body['token']}"}
    orgs = (await staff.client.get("/api/v1/organizations", headers=bearer)).json()
    assert [o["id"] for o in orgs] == [world.ids["a"]]
    staff.client.cookies.clear()
    other_member = await make_office("C-Mitte", await make_organization("C", world.ids["network"]))
    assert (
        await staff.client.get(f"/api/v1/results/offices/{other_member}", headers=bearer)
    ).status_code == 403, "the results API keeps to the token's job centres too"
    assert (
        await staff.client.get(f"/api/v1/results/offices/{world.ids['office_a']}", headers=bearer)
    ).status_code == 200
    await staff.login("coord", PASSWORD)
    foreign = await _api(
        staff, "POST", "/api/v1/tokens", {"name": "x", "organization_ids": [world.ids["b"]]}
    )
    assert foreign.status_code == 403
    listed = (await staff.client.get("/api/v1/tokens")).json()
    assert listed[0]["last_used_at"] is not None
    gone = await _api(staff, "DELETE", f"/api/v1/tokens/{body['details']['id']}")
    assert gone.status_code == 204
    staff.client.cookies.clear()
    assert (await staff.client.get("/api/v1/tokens", headers=bearer)).status_code == 401


async def test_a_token_makes_no_token_and_a_limited_one_no_network_change(
    staff: StaffClient, world: World
) -> None:
    """A token limited to one job centre for a day must not make itself a wider, longer one,
    nor change the network (t21 found both: the child token exported every job centre)."""
    await staff.login("coord", PASSWORD)
    made = {}
    for name, orgs in (("limited", [world.ids["a"]]), ("whole", [])):
        answer = await _api(
            staff, "POST", "/api/v1/tokens", {"name": name, "days": 1, "organization_ids": orgs}
        )
        assert answer.status_code == 201
        made[name] = answer.json()
    staff.client.cookies.clear()
    for name in made:
        bearer = {"authorization": f"Bearer {made[name]['token']}"}
        child = await staff.client.post(
            "/api/v1/tokens", json={"name": "child", "days": 366}, headers=bearer
        )
        assert child.status_code == 403, child.text
        assert "signed-in session" in child.json()["detail"]
        other = made["whole" if name == "limited" else "limited"]["details"]["id"]
        revoked = await staff.client.delete(f"/api/v1/tokens/{other}", headers=bearer)
        assert revoked.status_code == 403
    assert await ApiToken.count() == 2, "no token made, none revoked"
    new_org = {"name": "Jobcenter N", "slug": "jc-n", "network_id": world.ids["network"]}
    limited = {"authorization": f"Bearer {made['limited']['token']}"}
    refused = await staff.client.post("/api/v1/organizations", json=new_org, headers=limited)
    assert refused.status_code == 403
    rename = await staff.client.patch(
        f"/api/v1/networks/{world.ids['network']}", json={"name": "Mein Netz"}, headers=limited
    )
    assert rename.status_code == 403
    whole = {"authorization": f"Bearer {made['whole']['token']}"}
    allowed = await staff.client.post("/api/v1/organizations", json=new_org, headers=whole)
    assert allowed.status_code == 201, "an unlimited token of the coordinator still may"


async def test_the_audit_log_filters_by_user_action_and_month_and_downloads(
    staff: StaffClient, world: World
) -> None:
    await staff.login("admin.a", PASSWORD)
    await _api(
        staff,
        "POST",
        "/api/v1/offices",
        {
            "organization_id": world.ids["a"],
            "name": "=HYPERLINK(1)",
            "code": "H1",
            "service_types": ["benefits"],
        },
    )
    rows = (await staff.client.get("/api/v1/audit?action=office_created")).json()
    assert [r["username"] for r in rows] == ["admin.a"]
    import datetime as dt

    from survey.questionnaire import LOCAL_ZONE

    month = dt.datetime.now(LOCAL_ZONE).strftime("%Y-%m")  # the audit's months are Berlin's
    assert (await staff.client.get(f"/api/v1/audit?month={month}&user=admin.a")).json()
    assert (await staff.client.get("/api/v1/audit?month=2001-01")).json() == []
    assert (await staff.client.get("/api/v1/audit?month=13-2026")).status_code == 400
    page = await staff.client.get("/manage/audit?action=office_created")
    assert page.status_code == 200 and "office_created" in page.text
    csv_text = (await staff.client.get("/manage/audit.csv")).text
    assert csv_text.startswith("\ufefftime (UTC);user;action")
    assert "office_created" in csv_text
    await staff.login("admin.b", PASSWORD)
    assert (await staff.client.get("/api/v1/audit?action=office_created")).json() == []
    await staff.login("manager.a", PASSWORD)
    assert (await staff.client.get("/manage/audit")).status_code == 403


async def test_the_audit_log_reads_in_the_page_s_language_and_the_job_centres_time(
    staff: StaffClient, world: World
) -> None:
    """t23's finding 12: raw action codes, English detail keys, a free-text action filter and
    times in UTC."""
    from survey.manage.audit import ACTIONS

    a = world.ids["a"]
    late = dt.datetime(2026, 3, 31, 22, 30, tzinfo=dt.UTC)  # 00:30 on 1 April in Berlin
    await AuditLog(at=late, username="admin.a", action="export", organization=a,
                   detail={"what": "responses", "format": "csv", "via": "page", "rows": 6,
                           "filters": {"from": "2026-01", "to": "2026-03"},
                           "period": ["2026-01", "2026-03"],
                           "anonymization": {"k": 5, "pending_in_scope": 1}}).save()  # fmt: skip
    await staff.login("admin.a", PASSWORD)
    page = await staff.client.get("/manage/audit?lang=de&action=export")
    assert page.status_code == 200
    row = re.search(r'<tr role="row" data-testid="audit-row">.*?</tr>', page.text, re.S)
    assert row, page.text
    assert '">2026-04-01 00:30</time>' in row[0], "the time the job centre's clock showed"
    assert 'title="export"' in row[0] and "Herunterladen oder Export" in row[0]
    assert "was: Antworten; Format: csv; über: Seite; Zeilen: 6" in row[0]
    assert "Filter: von 2026-01, bis 2026-03; Zeitraum: 2026-01 – 2026-03" in row[0]
    assert "<details><summary>Anonymisierung</summary>k 5, pending_in_scope 1</details>" in row[0]
    select = re.search(r'<select name="action".*?</select>', page.text, re.S)
    assert select, "a choice of actions, not a box to guess codes in"
    assert select[0].count("<option") == len(ACTIONS) + 1
    assert '<option value="office_created">Standort angelegt</option>' in select[0]
    april = await staff.client.get("/manage/audit?lang=de&month=2026-04&action=export")
    assert 'title="export"' in april.text and "Standort angelegt</option>" in april.text
    march = await staff.client.get("/manage/audit?month=2026-03&action=export")
    assert 'data-testid="audit-row"' not in march.text, "the month is the job centres' month"
    chosen = re.search(r'<option value="export" selected>', april.text)
    assert chosen
    await AuditLog(at=late, username="admin.a", action="export", organization=a,
                   detail={"what": "office trend.xlsx", "office": 3, "level": "organization",
                           "filters": {"adjust": "none"}}).save()  # fmt: skip
    table = await staff.client.get("/manage/audit?lang=de&action=export")
    assert "was: Standort, Verlauf (xlsx); Standort: 3; Ebene: Jobcenter" in table.text
    assert "Filter: Bereinigung keine (beobachteter Index)" in table.text
    english = await staff.client.get("/manage/audit?lang=en&action=export")
    assert "Download or export" in english.text and "what: responses" in english.text


async def test_the_audit_log_shows_typed_names_as_typed_even_when_they_equal_our_words(
    staff: StaffClient, world: World
) -> None:
    """r25's finding 9: a network renamed to "office" read "Standort", an office named
    "office trend" read "Standort, Verlauf ()": only the keys that carry our words are
    translated."""
    await AuditLog(at=dt.datetime(2026, 4, 2, 9, tzinfo=dt.UTC), username="admin.a",
                   action="network_renamed", organization=world.ids["a"],
                   detail={"name": "office", "was": "comments", "office": "office trend",
                           "comment": "none", "via": "page"}).save()  # fmt: skip
    await staff.login("admin.a", PASSWORD)
    page = await staff.client.get("/manage/audit?lang=de&action=network_renamed")
    row = re.search(r'<tr role="row" data-testid="audit-row">.*?</tr>', page.text, re.S)
    assert row, page.text
    detail = re.search(r'class="detail"[^>]*>(.*?)</td>', row[0], re.S)
    assert detail, row[0]
    assert ": office;" in detail[0] and ": comments;" in detail[0], detail[0]
    assert ": office trend;" in detail[0] and ": none;" in detail[0], detail[0]
    assert "Standort, Verlauf" not in detail[0] and "Kommentare" not in detail[0], detail[0]
    assert "über: Seite" in detail[0], "our own words are still translated"
    await AuditLog(at=dt.datetime(2026, 4, 2, 10, tzinfo=dt.UTC), username="admin.a",
                   action="password_reset", organization=world.ids["a"],
                   detail={"target": "leitung.ost", "tokens_revoked": 1}).save()  # fmt: skip
    reset = await staff.client.get("/manage/audit?lang=de&action=password_reset")
    assert "Benutzer: leitung.ost" in reset.text, "r27: a reset's target is its user"
    assert "Zielwert" not in reset.text.split('data-testid="audit-row"', 1)[1]


async def test_the_coordinator_creates_and_removes_member_job_centres(
    staff: StaffClient, world: World
) -> None:
    await staff.login("coord", PASSWORD)
    net = world.ids["network"]
    made = await _api(
        staff,
        "POST",
        "/api/v1/organizations",
        {"name": "Jobcenter C", "slug": "jobcenter-c", "network_id": net},
    )
    assert made.status_code == 201, made.text
    assert (
        await _api(staff, "PATCH", f"/api/v1/networks/{net}", {"name": "Südwest"})
    ).status_code == 204
    nets = (await staff.client.get("/api/v1/networks")).json()
    assert nets[0]["name"] == "Südwest" and made.json()["id"] in nets[0]["members"]
    out = await _api(staff, "DELETE", f"/api/v1/networks/{net}/members/{made.json()['id']}")
    assert out.status_code == 204
    foreign = await _api(
        staff, "POST", f"/api/v1/networks/{net}/members", {"organization_id": world.ids["b"]}
    )
    assert foreign.status_code == 403
    await staff.login("admin.b", PASSWORD)
    assert (
        await _api(staff, "POST", "/api/v1/organizations", {"name": "D", "slug": "d-d"})
    ).status_code == 403


ADMINS_A = {"admin.a", "coord"}
ADMINS = ADMINS_A | {"admin.b"}
EVERYONE = ADMINS | {"manager.a"}
PERSONAS = ("admin.a", "coord", "admin.b", "manager.a", None)


async def _fresh(world: World, persona: str) -> dict[str, int]:
    """Rows the walk may use up (publish, delete), made anew before each persona."""
    import datetime as dt

    from survey.demo import ensure_standard_questionnaire
    from survey.manage.questionnaires import _standard
    from survey.tables import Questionnaire, QuestionnaireVersion, Target
    from tests.builders import make_link

    n = PERSONAS.index(persona) if persona in PERSONAS else 8 if persona == "x" else 9
    q = Questionnaire(organization=world.ids["a"], code=f"walk-{n}", name="Walk")
    await q.save()
    v = QuestionnaireVersion(questionnaire=q.id, number=1, definition=_standard())
    await v.save()
    target = Target(
        office=world.ids["office_a"],
        item="_index",
        value=70,
        valid_from=dt.date(2026 - n, 1, 1),
        valid_to=dt.date(2026 - n, 12, 31),
    )
    await target.save()
    page_target = Target(
        office=world.ids["office_a"],
        item="overall",
        value=70,
        valid_from=dt.date(2026 - n, 1, 1),
        valid_to=dt.date(2026 - n, 12, 31),
    )
    await page_target.save()
    link = await make_link(world.ids["office_a"], version=await ensure_standard_questionnaire())
    token = ApiToken(
        user=world.ids["admin_a"],
        name=f"walk {n}",
        token_hash=f"walk-{n}",
        created_at=dt.datetime.now(dt.UTC),
        expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
    )
    await token.save()
    erase = {}  # one job centre of the network for each route that deletes one
    for key in ("erase_api", "erase_page"):
        slug = f"walk-{key.replace('_', '-')}-{n}"
        org = Organization(name=slug, slug=slug, network=world.ids["network"])
        await org.save()
        erase[key] = org.id
    return {
        **world.ids,
        **erase,
        "n": n,
        "questionnaire": q.id,
        "version": v.id,
        "target": target.id,
        "page_target": page_target.id,
        "link": link.id,
        "token": token.id,
    }


def _walk(w: dict[str, int]) -> list[tuple[str, str, dict[str, Any] | None, set[str]]]:
    """(method, path, body, personas whose role lets them through); the others get 403,
    anonymous 401 (API) or a redirect to sign in (pages). Letting through means any answer
    but 401, 403 or 5xx: the body may still be refused (409 for a name taken, ...)."""
    n = w["n"]
    office = {"organization_id": w["a"], "name": f"Walk {n}", "code": f"W{n}",
              "service_types": ["benefits"]}  # fmt: skip
    link = {"office_id": w["office_a"], "version_id": 1, "service_type": "benefits"}
    roles = {"role": "manager", "organization_id": w["a"]}
    target = {
        "office_id": w["office_a"],
        "item": "_index",
        "value": 70,
        "valid_from": "2030-01-01",
        "valid_to": "2030-12-31",
    }
    v, q, u = w["version"], w["questionnaire"], w["victim"]
    api = [
        ("GET", "/api/v1/networks", None, EVERYONE),
        ("POST", "/api/v1/networks", {"name": "N", "slug": f"walk-net-{n}"}, {"coord"}),
        ("PATCH", f"/api/v1/networks/{w['network']}", {"name": "Netz"}, {"coord"}),
        (
            "POST",
            f"/api/v1/networks/{w['network']}/members",
            {"organization_id": w["a"]},
            {"coord"},
        ),
        ("DELETE", f"/api/v1/networks/{w['network']}/members/{w['b']}", None, set()),
        ("GET", "/api/v1/organizations", None, EVERYONE),
        (
            "POST",
            "/api/v1/organizations",
            {"name": "J", "slug": f"walk-jc-{n}", "network_id": w["network"]},
            {"coord"},
        ),
        ("PATCH", f"/api/v1/organizations/{w['a']}", {"retention_months": 12}, ADMINS_A),
        ("GET", f"/api/v1/organizations/{w['a']}/erasure", None, ADMINS_A),
        (
            "POST",
            f"/api/v1/organizations/{w['erase_api']}/erasure",
            {"confirm": f"walk-erase-api-{n}"},
            {"coord"},
        ),
        ("GET", "/api/v1/service-types", None, EVERYONE),
        ("GET", "/api/v1/offices", None, EVERYONE),
        ("POST", "/api/v1/offices", office, ADMINS_A),
        ("PATCH", f"/api/v1/offices/{w['office_a']}", {"kind": "main"}, ADMINS_A),
        ("GET", "/api/v1/links", None, EVERYONE),
        ("POST", "/api/v1/links", link, ADMINS_A),
        ("PATCH", f"/api/v1/links/{w['link']}", {"active": True}, ADMINS_A),
        ("GET", "/api/v1/users", None, EVERYONE),
        (
            "POST",
            "/api/v1/users",
            {"username": f"walk.{n}", "role": "manager", "organization_id": w["a"]},
            ADMINS_A,
        ),
        ("PATCH", f"/api/v1/users/{u}", {"active": True}, ADMINS_A),
        ("PUT", f"/api/v1/users/{u}/roles", roles, ADMINS_A),
        ("POST", f"/api/v1/users/{u}/password-reset", None, ADMINS_A),
        ("POST", f"/api/v1/users/{u}/unlock", None, ADMINS_A),
        ("GET", "/api/v1/tokens", None, EVERYONE),
        ("POST", "/api/v1/tokens", {"name": "walk"}, EVERYONE),
        ("DELETE", f"/api/v1/tokens/{w['token']}", None, {"admin.a"}),
        ("GET", "/api/v1/item-bank", None, EVERYONE),
        ("GET", "/api/v1/questionnaires", None, ADMINS),
        (
            "POST",
            "/api/v1/questionnaires",
            {"organization_id": w["a"], "code": f"walk-q-{n}", "name": "Q"},
            ADMINS_A,
        ),
        ("POST", f"/api/v1/questionnaires/{q}/versions", {}, ADMINS_A),
        ("GET", f"/api/v1/questionnaire-versions/{v}", None, ADMINS_A),
        ("PATCH", f"/api/v1/questionnaire-versions/{v}", {"review": {"uk": "draft"}}, ADMINS_A),
        ("POST", f"/api/v1/questionnaire-versions/{v}/publish", None, ADMINS_A),
        ("GET", "/api/v1/targets", None, EVERYONE),
        ("POST", "/api/v1/targets", target, ADMINS_A),
        ("GET", f"/api/v1/targets/{w['target']}", None, ADMINS_A),
        ("PATCH", f"/api/v1/targets/{w['target']}", {"value": 71.5}, ADMINS_A),
        ("DELETE", f"/api/v1/targets/{w['target']}", None, ADMINS_A),
        ("GET", "/api/v1/audit", None, ADMINS),
    ]
    pages = [
        ("GET", "/manage", None, ADMINS),
        ("GET", "/manage/network", None, ADMINS),
        ("GET", "/manage/offices", None, ADMINS),
        ("GET", "/manage/links", None, ADMINS),
        ("GET", "/manage/users", None, ADMINS),
        ("GET", "/manage/tokens", None, EVERYONE),
        ("GET", "/manage/audit", None, ADMINS),
        ("GET", "/manage/audit.csv", None, ADMINS),
        ("GET", "/manage/questionnaires", None, ADMINS),
        ("GET", f"/manage/questionnaire-versions/{v}", None, ADMINS_A),
        ("GET", f"/manage/questionnaire-versions/{v}/preview", None, ADMINS_A),
        ("GET", "/manage/targets", None, ADMINS),
        ("POST", "/manage/networks", {"name": "N", "slug": f"walk-pnet-{n}"}, {"coord"}),
        ("POST", f"/manage/networks/{w['network']}", {"name": "Netz"}, {"coord"}),
        (
            "POST",
            f"/manage/networks/{w['network']}/members",
            {"organization_id": w["a"]},
            {"coord"},
        ),
        ("GET", f"/manage/networks/{w['network']}/members/{w['b']}/remove", None, set()),
        ("POST", f"/manage/networks/{w['network']}/members/{w['b']}/remove", {}, set()),
        (
            "POST",
            "/manage/organizations",
            {"name": "J", "slug": f"walk-pjc-{n}", "network_id": w["network"]},
            {"coord"},
        ),
        ("POST", f"/manage/organizations/{w['a']}", {"retention_months": "12"}, ADMINS_A),
        ("GET", f"/manage/organizations/{w['a']}/erase", None, ADMINS_A),
        (
            "POST",
            f"/manage/organizations/{w['erase_page']}/erase",
            {"confirm": f"walk-erase-page-{n}"},
            {"coord"},
        ),
        ("POST", "/manage/offices", {**office, "code": f"P{n}"}, ADMINS_A),
        ("POST", f"/manage/offices/{w['office_a']}", {"kind": "main"}, ADMINS_A),
        ("POST", "/manage/links", link, ADMINS_A),
        ("POST", f"/manage/links/{w['link']}/active", {"active": "1"}, ADMINS_A),
        (
            "POST",
            "/manage/users",
            {"username": f"walkp.{n}", "role": "manager", "organization_id": w["a"]},
            ADMINS_A,
        ),
        ("POST", f"/manage/users/{u}/active", {"active": "1"}, ADMINS_A),
        ("POST", f"/manage/users/{u}/roles", roles, ADMINS_A),
        ("POST", f"/manage/users/{u}/reset", {}, ADMINS_A),
        ("POST", f"/manage/users/{u}/unlock", {}, ADMINS_A),
        ("POST", "/manage/tokens", {"name": "walk"}, EVERYONE),
        ("POST", f"/manage/tokens/{w['token']}/revoke", {}, {"admin.a"}),
        (
            "POST",
            "/manage/questionnaires",
            {"organization_id": w["a"], "code": f"walk-pq-{n}", "name": "Q"},
            ADMINS_A,
        ),
        ("POST", f"/manage/questionnaires/{q}/versions", {}, ADMINS_A),
        (
            "POST",
            f"/manage/questionnaire-versions/{v}/items",
            {"action": "up", "code": "understood"},
            ADMINS_A,
        ),
        (
            "POST",
            f"/manage/questionnaire-versions/{v}/texts",
            {"lang": "en", "status": "draft"},
            ADMINS_A,
        ),
        ("POST", f"/manage/questionnaire-versions/{v}/publish", {}, ADMINS_A),
        ("POST", "/manage/targets", target, ADMINS_A),
        ("POST", f"/manage/targets/{w['page_target']}/delete", {}, ADMINS_A),
    ]
    return api + pages


async def test_it_walks_every_role_over_every_administration_route(
    staff: StaffClient, world: World, app: Any
) -> None:
    world.ids["victim"] = await make_staff_user(
        "victim.a", PASSWORD, "manager", organization=world.ids["a"]
    )
    routes = {
        (method, route.path)
        for route in app.routes
        if route.path.startswith(("/manage", "/api/v1/"))
        # the research exports have their own access tests in test_export.py
        and not route.path.startswith(("/api/v1/results", "/api/v1/responses", "/api/v1/exports"))
        and not route.path.endswith("/questionnaire")  # the respondents' questionnaire API
        # posters and slips: tests/integration/test_posters.py walks their roles
        and not route.path.endswith(("/poster.pdf", "/poster.svg", "slips.pdf"))
        for method in route.methods
        if method not in ("HEAD", "OPTIONS")
    }
    assert len(routes) > 60
    walked = {
        (m, re.sub(r"/\d+(?=/|$)", "/{id}", p)) for m, p, _, _ in _walk(await _fresh(world, "x"))
    }
    named = {(m, re.sub(r"\{[a-z_]+:(int|str)\}", "{id}", p).rstrip("/") or p) for m, p in routes}
    assert named - walked == set(), "every route is in the walk"
    for persona in PERSONAS:
        staff.client.cookies.clear()
        token = ""
        if persona:
            assert (await staff.login(persona, PASSWORD)).status_code == 303
            token = await _csrf(staff.client)  # bound to the session: the same for every form
        for method, path, body, allowed in _walk(await _fresh(world, persona or "anonymous")):
            headers: dict[str, str] = {}
            data = None
            if persona and method != "GET":
                headers["x-csrf-token"] = token
                if path.startswith("/manage"):
                    data = {"csrf_token": token, **(body or {})}
            answer = await staff.client.request(
                method,
                path,
                headers=headers,
                json=body if path.startswith("/api") and method != "GET" else None,
                data=data,
            )
            where = (persona, method, path, answer.status_code, answer.text[:300])
            if persona is None:
                assert answer.status_code == (401 if path.startswith("/api/") else 303), where
            elif persona in allowed:
                assert answer.status_code not in (401, 403) and answer.status_code < 500, where
            else:
                assert answer.status_code == 403, where
                assert "B-Mitte" not in answer.text or persona == "admin.b", where


@ONE_ENGINE  # the schema Litestar generates: not SQL (docs/testing.md)
async def test_the_openapi_schema_documents_bodies_errors_and_the_bearer_scheme(
    client: httpx.AsyncClient,
) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    offices = schema["paths"]["/api/v1/offices"]["post"]
    assert "requestBody" in offices
    assert {"401", "403", "409", "422"} <= set(offices["responses"])
    for path in (
        "/api/v1/organizations",
        "/api/v1/links",
        "/api/v1/users",
        "/api/v1/tokens",
        "/api/v1/tokens/{token_id}",
    ):
        assert path in schema["paths"], path


async def test_a_questionnaire_version_is_edited_as_a_draft_and_never_after_publishing(
    staff: StaffClient, world: World
) -> None:
    await staff.login("admin.a", PASSWORD)
    made = await _api(
        staff,
        "POST",
        "/api/v1/questionnaires",
        {"organization_id": world.ids["a"], "code": "jc-a", "name": "Unsere Befragung"},
    )
    assert made.status_code == 201, made.text
    draft = made.json()["versions"][0]
    assert [i["code"] for i in draft["items"]][:2] == ["respect", "understood"]
    bank = {b["code"] for b in (await staff.client.get("/api/v1/item-bank")).json()}
    assert {"respect", "language_help", "documents_clear"} <= bank
    items = [{"code": i["code"], "required": i["required"]} for i in draft["items"]]
    items.insert(1, {"code": "language_help", "text": {"ar": "هل كنت بحاجة إلى مساعدة لغوية؟"}})
    items = [i for i in items if i["code"] != "waiting"]
    changed = await _api(
        staff, "PATCH", f"/api/v1/questionnaire-versions/{draft['id']}", {"items": items}
    )
    assert changed.status_code == 200, changed.text
    codes = [i["code"] for i in changed.json()["items"]]
    assert codes[:2] == ["respect", "language_help"] and "waiting" not in codes
    assert changed.json()["items"][1]["text"]["ar"].startswith("هل")
    unknown = await _api(
        staff,
        "PATCH",
        f"/api/v1/questionnaire-versions/{draft['id']}",
        {"items": [{"code": "astrology"}]},
    )
    assert unknown.status_code == 422 and "astrology" in unknown.json()["detail"]
    no_german = [dict(i) for i in items]
    no_german[1] = {**no_german[1], "text": {"de": " "}}
    await _api(
        staff, "PATCH", f"/api/v1/questionnaire-versions/{draft['id']}", {"items": no_german}
    )
    refused = await _api(staff, "POST", f"/api/v1/questionnaire-versions/{draft['id']}/publish")
    assert refused.status_code == 422
    assert "language_help" in refused.json()["detail"] and "German" in refused.json()["detail"]
    items[1]["text"] = {"de": "Hätten Sie Hilfe bei der Sprache gebraucht?", "ar": "هل؟"}
    await _api(staff, "PATCH", f"/api/v1/questionnaire-versions/{draft['id']}", {"items": items})
    published = await _api(staff, "POST", f"/api/v1/questionnaire-versions/{draft['id']}/publish")
    assert published.status_code == 201, published.text
    frozen = await _api(
        staff, "PATCH", f"/api/v1/questionnaire-versions/{draft['id']}", {"items": items[:2]}
    )
    assert frozen.status_code == 409 and "never changes" in frozen.json()["detail"]
    again = await _api(staff, "POST", f"/api/v1/questionnaire-versions/{draft['id']}/publish")
    assert again.status_code == 409
    q_id = made.json()["id"]
    second = await _api(staff, "POST", f"/api/v1/questionnaires/{q_id}/versions", {})
    assert second.status_code == 201 and second.json()["number"] == 2
    assert second.json()["items"] == published.json()["items"]
    third = await _api(staff, "POST", f"/api/v1/questionnaires/{q_id}/versions", {})
    assert third.status_code == 409, "one draft at a time"
    standard = next(
        q
        for q in (await staff.client.get("/api/v1/questionnaires")).json()
        if q["code"] == "standard"
    )
    locked = await _api(
        staff,
        "PATCH",
        f"/api/v1/questionnaire-versions/{standard['versions'][0]['id']}",
        {"review": {"uk": "reviewed"}},
    )
    assert locked.status_code == 409
    preview = await staff.client.get(
        f"/manage/questionnaire-versions/{draft['id']}/preview?lang=ar"
    )
    assert preview.status_code == 200 and 'dir="rtl"' in preview.text and "هل؟" in preview.text
    await staff.login("admin.b", PASSWORD)
    foreign = await staff.client.get(f"/api/v1/questionnaire-versions/{draft['id']}")
    nothing = await staff.client.get("/api/v1/questionnaire-versions/987654")
    assert foreign.status_code == nothing.status_code == 403
    assert foreign.json() == nothing.json()


async def test_publishing_asks_about_translations_of_an_earlier_german_text_and_text_stays_optional(
    staff: StaffClient, world: World
) -> None:
    german = {"de": "Hätten Sie Hilfe bei der Sprache gebraucht?"}
    old = {"code": "language_help", "type": "scale", "scale": "yesno", "text": german}
    await BankItem(code="language_help", definition=old).save()  # from an older release
    await staff.login("admin.a", PASSWORD)
    bank = {b["code"]: b for b in (await staff.client.get("/api/v1/item-bank")).json()}
    assert {"de", "ar", "uk", "tr", "fa", "ps"} <= set(bank["language_help"]["text"])
    made = await _api(
        staff, "POST", "/api/v1/questionnaires",
        {"organization_id": world.ids["a"], "code": "jc-a", "name": "Unsere Befragung"},
    )  # fmt: skip
    draft = made.json()["versions"][0]
    path = f"/api/v1/questionnaire-versions/{draft['id']}"
    items = [{"code": i["code"], "required": False} for i in draft["items"]]
    compulsory = [{**i, "required": i["code"] == "comment"} for i in items]
    refused = await _api(staff, "PATCH", path, {"items": compulsory})
    assert refused.status_code == 422 and "free-text" in refused.json()["detail"]
    form = {"csrf_token": await _csrf(staff.client), "action": "required", "code": "comment"}
    page = f"/manage/questionnaire-versions/{draft['id']}"
    by_form = await staff.client.post(f"{page}/items", data=form)
    assert by_form.status_code == 422 and "Freitextfrage kann keine Pflichtfrage" in by_form.text
    editor = (await staff.client.get(page)).text
    rows = {
        c: editor.split(f'data-testid="item-{c}"')[1].split("</li>")[0]
        for c in ("respect", "comment")
    }
    assert 'value="required"' in rows["respect"] and 'value="required"' not in rows["comment"]

    reworded = [
        {**i, "text": {"de": "Man war höflich zu mir."}} if i["code"] == "respect" else i
        for i in items
    ]
    assert (await _api(staff, "PATCH", path, {"items": reworded})).status_code == 200
    outdated = (await staff.client.get(path)).json()["outdated_translations"]
    assert set(outdated) == {"respect"} and {"en", "uk", "ar", "de-x-ls"} <= set(
        outdated["respect"]
    )
    assert 'data-testid="outdated-translations"' in (await staff.client.get(page)).text
    stopped = await _api(staff, "POST", f"{path}/publish")
    assert stopped.status_code == 409 and "respect" in stopped.json()["detail"]
    reworded[0]["text"] = {"uk": "Зі мною були ввічливі."}  # the Ukrainian follows the German
    await _api(staff, "PATCH", path, {"items": reworded})
    assert "uk" not in (await staff.client.get(path)).json()["outdated_translations"]["respect"]
    published = await _api(staff, "POST", f"{path}/publish?outdated_translations=german")
    assert published.status_code == 201, published.text
    respect = published.json()["items"][0]["text"]
    assert set(respect) == {"de", "uk"}, "the others show the new German text"

    second = await _api(staff, "POST", f"/api/v1/questionnaires/{made.json()['id']}/versions", {})
    assert second.json()["outdated_translations"] == {}, "made for what version 1 published"
    path = f"/api/v1/questionnaire-versions/{second.json()['id']}"
    typo = [
        {**i, "text": {"de": "Mein Anliegen wurde verstanden!"}} if i["code"] == "understood" else i
        for i in items
    ]
    await _api(staff, "PATCH", path, {"items": typo})
    kept = await _api(staff, "POST", f"{path}/publish?outdated_translations=keep")
    assert kept.status_code == 201 and kept.json()["items"][1]["text"]["en"] == (
        "My concern was understood."
    )


async def test_targets_per_office_and_item_replace_overlapping_ones(
    staff: StaffClient, world: World
) -> None:
    await staff.login("admin.a", PASSWORD)
    body = {
        "office_id": world.ids["office_a"],
        "item": "_index",
        "value": 75,
        "valid_from": "2026-01-01",
        "valid_to": "2026-12-31",
    }
    first = await _api(staff, "POST", "/api/v1/targets", body)
    assert first.status_code == 201, first.text
    refused = await _api(staff, "POST", "/api/v1/targets", {**body, "value": 80.5})
    assert refused.status_code == 409, "an overlapping target is never replaced unasked"
    assert "75 (2026-01-01 – 2026-12-31" in refused.json()["detail"]
    again = await _api(staff, "POST", "/api/v1/targets", {**body, "value": 80.5, "replace": True})
    assert again.status_code == 201
    listed = (await staff.client.get("/api/v1/targets")).json()
    assert [(t["item"], t["value"]) for t in listed] == [("_index", 80.5)]
    bad = await _api(staff, "POST", "/api/v1/targets", {**body, "valid_to": "2025-01-01"})
    assert bad.status_code == 422
    assert (await _api(staff, "POST", "/api/v1/targets", {**body, "value": 101})).status_code == 400
    foreign = await _api(
        staff, "POST", "/api/v1/targets", {**body, "office_id": world.ids["office_b"]}
    )
    assert foreign.status_code == 403
    page = await staff.client.get("/manage/targets")
    assert page.status_code == 200 and "80.5" in page.text

    # a new value or period through PATCH, checked like a new target
    target = f"/api/v1/targets/{again.json()['id']}"
    assert (await staff.client.get(target)).json()["value"] == 80.5
    changed = await _api(staff, "PATCH", target, {"value": 82, "valid_to": "2026-06-30"})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["value"], changed.json()["valid_to"]) == (82.0, "2026-06-30")
    second = {**body, "valid_from": "2026-07-01", "value": 85}
    assert (await _api(staff, "POST", "/api/v1/targets", second)).status_code == 201
    overlap = await _api(staff, "PATCH", target, {"valid_to": "2026-09-30"})
    assert overlap.status_code == 409
    assert "covers 2026-07-01 to 2026-12-31" in overlap.json()["detail"]
    backwards = await _api(staff, "PATCH", target, {"valid_from": "2026-07-01"})
    assert backwards.status_code == 422 and "ends before it starts" in backwards.json()["detail"]
    for wrong in ({"value": -1}, {"value": "high"}, {"office_id": 1}, {"valid_to": "soon"}):
        assert (await _api(staff, "PATCH", target, wrong)).status_code == 400, wrong
    assert (await staff.client.get(target)).json()["value"] == 82.0, "nothing half-saved"
    entry = (await staff.client.get("/api/v1/audit?action=target_changed")).json()
    assert len(entry) == 1 and entry[0]["detail"]["was"] == "80.5 2026-01-01/2026-12-31"
    await staff.login("admin.b", PASSWORD)
    for path in (target, "/api/v1/targets/999999"):  # another's and none: the same 403
        assert (await staff.client.get(path)).status_code == 403
        assert (await _api(staff, "PATCH", path, {"value": 1})).status_code == 403


async def test_retention_deletes_only_old_free_text_and_a_job_centre_on_request(
    app: Any, client: httpx.AsyncClient, world: World
) -> None:
    import datetime as dt

    from survey.manage import retention
    from survey.tables import Answer, Response, TextAnswer
    from tests.builders import make_link, make_responses

    link_a = await make_link(world.ids["office_a"])
    link_b = await make_link(world.ids["office_b"])
    old = dt.datetime(2025, 1, 15, 10, tzinfo=dt.UTC)
    new = dt.datetime.now(dt.UTC)
    with_text = {**FULL_ANSWERS, "comment": "Danke"}
    await make_responses(app.state.engine, link_a, [with_text] * 3, when=old)
    await make_responses(app.state.engine, link_a, [with_text] * 2, when=new)
    await make_responses(app.state.engine, link_b, [with_text] * 4, when=old)
    await Organization.update({Organization.retention_months: 120}).where(
        Organization.id == world.ids["b"]
    )
    due = {r.slug: r.text_answers for r in await retention.due()}
    assert sorted(due.values()) == [0, 3]
    assert await TextAnswer.count() == 9, "counting deletes nothing"
    await retention.apply()
    assert await TextAnswer.count() == 6
    assert await Answer.count() == 9 * 8, "scale answers stay"
    assert (await retention.due())[0].text_answers == 0
    slug_b = (
        await Organization.select(Organization.slug)
        .where(Organization.id == world.ids["b"])
        .first()
    )["slug"]
    plan = await retention.erasure(slug_b)
    assert plan.counts["responses"] == 4 and plan.counts["text_answers"] == 4
    assert await Response.count() == 9, "a dry run deletes nothing"
    await retention.erase(slug_b)
    assert await Response.count() == 5
    assert not await Organization.exists().where(Organization.id == world.ids["b"])
    assert (await User.select(User.active).where(User.id == world.ids["admin_b"]).first())[
        "active"
    ] is False
    assert await AuditLog.exists().where(AuditLog.action == "organization_erased")


async def test_roles_change_to_some_offices_and_the_last_admin_keeps_the_role(
    staff: StaffClient, world: World
) -> None:
    await staff.login("admin.b", PASSWORD)
    own = await _api(
        staff,
        "PUT",
        f"/api/v1/users/{world.ids['admin_b']}/roles",
        {"role": "manager", "organization_id": world.ids["b"]},
    )
    assert own.status_code == 409, "the last admin cannot give up the role"
    await staff.login("admin.a", PASSWORD)
    narrowed = await _api(
        staff,
        "PUT",
        f"/api/v1/users/{world.ids['manager_a']}/roles",
        {
            "role": "manager",
            "organization_id": world.ids["a"],
            "office_ids": [world.ids["office_a"]],
        },
    )
    assert narrowed.status_code == 200, narrowed.text
    assert [(r["role"], r["office_id"]) for r in narrowed.json()["roles"]] == [
        ("manager", world.ids["office_a"])
    ]
    foreign_office = await _api(
        staff,
        "PUT",
        f"/api/v1/users/{world.ids['manager_a']}/roles",
        {
            "role": "manager",
            "organization_id": world.ids["a"],
            "office_ids": [world.ids["office_b"]],
        },
    )
    assert foreign_office.status_code == 403
    into_b = await _api(
        staff,
        "PUT",
        f"/api/v1/users/{world.ids['manager_a']}/roles",
        {"role": "admin", "organization_id": world.ids["b"]},
    )
    assert into_b.status_code == 403
    assert (await Membership.count().where(Membership.user == world.ids["manager_a"])) == 1, (
        "nothing half-saved"
    )


async def test_it_tells_when_a_period_spans_questionnaire_versions(
    app: Any, client: httpx.AsyncClient, world: World
) -> None:
    import datetime as dt

    from survey.manage.questionnaires import _standard, versions_in_period
    from survey.tables import Questionnaire, QuestionnaireVersion
    from tests.builders import make_link, make_responses

    q = Questionnaire(organization=world.ids["a"], code="two", name="Zwei")
    await q.save()
    ids = []
    for number in (1, 2):
        v = QuestionnaireVersion(
            questionnaire=q.id,
            number=number,
            definition=_standard(),
            published_at=dt.datetime.now(dt.UTC),
        )
        await v.save()
        ids.append(v.id)
    office = world.ids["office_a"]
    march = dt.datetime(2026, 3, 10, 9, tzinfo=dt.UTC)
    june = dt.datetime(2026, 6, 10, 9, tzinfo=dt.UTC)
    await make_responses(
        app.state.engine, await make_link(office, version=ids[0]), [FULL_ANSWERS], when=march
    )
    await make_responses(
        app.state.engine, await make_link(office, version=ids[1]), [FULL_ANSWERS], when=june
    )
    spring = await versions_in_period([office], dt.date(2026, 3, 1), dt.date(2026, 4, 30))
    year = await versions_in_period([office], dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert [v.number for v in spring] == [1]
    assert [(v.questionnaire, v.number) for v in year] == [("Zwei", 1), ("Zwei", 2)]
    assert (
        await versions_in_period(
            [world.ids["office_b"]], dt.date(2026, 1, 1), dt.date(2026, 12, 31)
        )
        == []
    )


async def test_all_data_of_a_job_centre_are_deleted_after_a_dry_run_and_its_name_typed(
    app: Any, staff: StaffClient, world: World
) -> None:
    from survey.tables import Response
    from tests.builders import in_closed_month, make_link, make_responses

    ids = world.ids
    await make_responses(
        app.state.engine, await make_link(ids["office_a"]), [FULL_ANSWERS] * 3,
        when=in_closed_month(),
    )  # fmt: skip
    await make_responses(app.state.engine, await make_link(ids["office_b"]), [FULL_ANSWERS] * 2)
    await staff.login("admin.a", PASSWORD)
    refused = [
        await staff.client.get(f"/api/v1/organizations/{ids['b']}/erasure"),
        await staff.client.get("/api/v1/organizations/987654/erasure"),
        await _api(staff, "POST", f"/api/v1/organizations/{ids['b']}/erasure", {"confirm": "x"}),
        await _api(staff, "POST", "/api/v1/organizations/987654/erasure", {"confirm": "x"}),
    ]
    assert [r.status_code for r in refused] == [403] * 4
    assert len({r.json()["detail"] for r in refused}) == 1, "the same answer, existing or not"
    page = await staff.client.get(f"/manage/organizations/{ids['b']}/erase")
    assert page.status_code == 403 and "Jobcenter B" not in page.text

    plan = await staff.client.get(f"/api/v1/organizations/{ids['a']}/erasure")
    assert plan.status_code == 200 and plan.json()["erased"] is False
    assert plan.json()["counts"]["responses"] == 3 and plan.json()["counts"]["offices"] == 1
    slug = plan.json()["slug"]
    wrong = await _api(
        staff, "POST", f"/api/v1/organizations/{ids['a']}/erasure", {"confirm": "jobcenter"}
    )
    assert wrong.status_code == 422 and slug in wrong.json()["detail"]
    missing = await _api(staff, "POST", f"/api/v1/organizations/{ids['a']}/erasure", {})
    assert missing.status_code == 400
    form = await staff.client.get(f"/manage/organizations/{ids['a']}/erase")
    assert form.status_code == 200 and slug in form.text and 'name="confirm"' in form.text
    typo = await staff.client.post(
        f"/manage/organizations/{ids['a']}/erase",
        data={"csrf_token": await _csrf(staff.client), "confirm": slug + "x"},
    )
    assert typo.status_code == 422
    assert await Response.count() == 5, "neither the dry runs nor a wrong name delete anything"

    done = await staff.client.post(
        f"/manage/organizations/{ids['a']}/erase",
        data={"csrf_token": await _csrf(staff.client), "confirm": slug},
    )
    assert done.status_code == 200 and 'data-testid="count-responses">3<' in done.text
    assert await Response.count() == 2, "B's responses stay"
    assert not await Organization.exists().where(Organization.id == ids["a"])
    entry = await AuditLog.select().where(AuditLog.action == "organization_erased").first()
    assert entry["username"] == "admin.a" and entry["organization"] is None
    # admin.b still administers B; manager.a had a role only in A and is deactivated
    assert (await User.select(User.active).where(User.id == ids["manager_a"]).first())[
        "active"
    ] is False
    again = await staff.client.post(
        f"/api/v1/organizations/{ids['a']}/erasure", json={"confirm": slug}
    )
    assert again.status_code == 401, "admin.a had no other role: deactivated, signed out"


def _erasure_counts(page: str) -> str:
    found = re.search(r'<table data-testid="erasure-counts">.*?</table>', page, re.S)
    assert found, page[:500]
    return found[0]


async def test_the_erasure_dry_run_does_not_move_when_a_client_answers_and_still_deletes_it(
    app: Any, staff: StaffClient, world: World
) -> None:
    """t22's finding 4: the dry run counted the month in progress, so asking before and
    after one response told who had just answered, how many items and whether with a
    comment. It counts up to the month in progress and says so; the erasure deletes all."""
    from survey.tables import Response
    from tests.builders import in_closed_month, make_responses

    # the first day of the month in progress as every figure sees it
    day = queries.next_month(in_closed_month().date()).isoformat()
    ids = world.ids
    link = await make_link(ids["office_a"])
    with_text = {**FULL_ANSWERS, "comment": "Danke"}
    await make_responses(app.state.engine, link, [with_text] * 3, when=in_closed_month())
    await staff.login("coord", PASSWORD)  # the network's coordinator may ask for every member
    api = f"/api/v1/organizations/{ids['a']}/erasure"
    page = f"/manage/organizations/{ids['a']}/erase"
    before = (await staff.client.get(api)).json()
    before_page = (await staff.client.get(page, params={"lang": "en"})).text
    assert (before["counts"]["responses"], before["counts"]["answers"]) == (3, 3 * 8)
    assert before["counts"]["text_answers"] == 3
    # a client answers the survey through its public link, with a comment
    sent = await staff.client.post(
        "/api/v1/responses",
        json={
            "link": link.token,
            "submission_id": str(uuid.uuid4()),
            "locale": "de",
            "answers": with_text,
            "issued": make_stamp(SECRET, link.token, time.time() - 60),
        },
    )
    assert sent.status_code == 201, sent.text
    assert await Response.count() == 4
    after = (await staff.client.get(api)).json()
    assert after == before, "the dry run moved with one response of the month in progress"
    after_page = (await staff.client.get(page, params={"lang": "en"})).text
    assert _erasure_counts(after_page) == _erasure_counts(before_page)
    # and it says in words that the month in progress is deleted too
    assert before["counted_before"] == day
    assert f"Responses received from {day} on (the month in progress) are deleted" in after_page
    de = await staff.client.get(page, params={"lang": "de"})
    assert f"Antworten, die ab dem {day} eingegangen sind" in de.text, de.text
    # the erasure deletes the response of the month in progress as well, and reports and
    # audits the dry run's counts
    done = await staff.client.post(
        api, json={"confirm": before["slug"]}, headers={"x-csrf-token": await _csrf(staff.client)}
    )
    assert done.status_code == 200, done.text
    assert done.json()["counts"] == before["counts"]
    assert await Response.count() == 0
    entry = await AuditLog.select().where(AuditLog.action == "organization_erased").first()
    detail = entry["detail"] if isinstance(entry["detail"], dict) else json.loads(entry["detail"])
    assert detail["responses"] == 3 and detail["counted_before"] == day


async def test_nothing_of_an_erased_job_centre_applies_to_a_later_one(
    app: Any, client: httpx.AsyncClient, staff: StaffClient, world: World
) -> None:
    """t22's finding 6: on SQLite a job centre made after the erasure of the newest one gets
    its id (and offices those of its offices). Its audit entries and the API tokens limited
    to it then applied to the new one: the new admin read the erased centre's log, and a
    token limited to the erased centre saw the new centre's offices. The erasure revokes
    every token whose limit names the centre and detaches its audit entries."""
    ids = world.ids
    await staff.login("coord", PASSWORD)

    async def job_centre(slug: str) -> tuple[int, int]:
        made = await _api(
            staff, "POST", "/api/v1/organizations",
            {"name": slug.title(), "slug": slug, "network_id": ids["network"]},
        )  # fmt: skip
        assert made.status_code == 201, made.text
        org = made.json()["id"]
        office = await _api(
            staff, "POST", "/api/v1/offices",
            {"organization_id": org, "name": f"{slug}-mitte", "code": slug[:8],
             "service_types": ["benefits"]},
        )  # fmt: skip
        assert office.status_code == 201, office.text
        return org, office.json()["id"]

    async def token(*organizations: int) -> str:
        made = await _api(
            staff, "POST", "/api/v1/tokens",
            {"name": "limited", "organization_ids": list(organizations)},
        )  # fmt: skip
        assert made.status_code == 201, made.text
        return str(made.json()["token"])

    old, old_office = await job_centre("jobcenter-alt")
    only_old, old_and_a, only_a = (
        await token(old),
        await token(old, ids["a"]),
        await token(ids["a"]),
    )
    assert await AuditLog.exists().where(AuditLog.organization == old)
    erased = await _api(
        staff, "POST", f"/api/v1/organizations/{old}/erasure", {"confirm": "jobcenter-alt"}
    )
    assert erased.status_code == 200, erased.text
    new, new_office = await job_centre("jobcenter-neu")
    if app.state.settings.is_sqlite:  # the case of the finding: the ids come again
        assert (new, new_office) == (old, old_office)
    await make_staff_user("admin.neu", PASSWORD, "admin", organization=new)

    def bearer(value: str) -> dict[str, str]:
        return {"authorization": f"Bearer {value}"}

    # the tokens limited to the erased centre are revoked (dropping it from the limit would
    # have widened the second to all of the coordinator's job centres); the others work
    for value in (only_old, old_and_a):
        refused = await client.get("/api/v1/results/overview", headers=bearer(value))
        assert refused.status_code == 401, refused.text
    assert (await client.get("/api/v1/results/overview", headers=bearer(only_a))).status_code == 200
    # the new centre's admin reads nothing of the erased centre in the audit log
    await staff.login("admin.neu", PASSWORD)
    log = await staff.client.get("/api/v1/audit")
    assert log.status_code == 200, log.text
    assert "jobcenter-alt" not in log.text and log.json(), log.text
    assert {e["organization_id"] for e in log.json()} <= {new, None}
    # the erased centre's entries are kept for the operator, under no job centre or account
    kept = await AuditLog.select(AuditLog.user, AuditLog.detail).where(
        AuditLog.organization.is_null()
    )
    details = [e["detail"] if isinstance(e["detail"], dict) else json.loads(e["detail"])
               for e in kept]  # fmt: skip
    detached = [e for e, d in zip(kept, details, strict=True)
                if d.get("erased_organization") == old]  # fmt: skip
    assert detached and all(e["user"] is None for e in detached)
    (record,) = [d for d in details if d.get("slug") == "jobcenter-alt" and "tokens_revoked" in d]
    assert record["tokens_revoked"] == 2 and record["audit_entries_detached"] == len(detached)


async def test_an_erasure_holds_the_write_lock_before_it_reads(
    app: Any, staff: StaffClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found trying finding 6 on the demo: erasing a job centre just after making one answered
    503 "database is locked" on SQLite. The erasure read in a deferred transaction, the
    dashboards' warming wrote meanwhile, and the erasure's first write then failed. It now
    takes the write lock first (IMMEDIATE; the job centre's row on PostgreSQL): another
    writer coming between its reading and its writing waits instead."""
    import sqlite3

    settings = app.state.settings
    raw = Organization.raw
    other_writer: list[bool] = []

    def writes_between(*args: Any) -> Any:
        if settings.is_sqlite and not other_writer and str(args[0]).startswith("DELETE"):
            other = sqlite3.connect(settings.sqlite_path, timeout=0)
            try:
                other.execute(
                    "INSERT INTO heartbeat (name, at) VALUES ('other', '2026-01-01') "
                    "ON CONFLICT (name) DO UPDATE SET at = excluded.at"
                )
                other.commit()
                other_writer.append(True)
            except sqlite3.OperationalError:  # locked: it would wait for the erasure
                other_writer.append(False)
            finally:
                other.close()
        return raw(*args)

    monkeypatch.setattr(Organization, "raw", writes_between)
    await staff.login("admin.a", PASSWORD)
    slug = (await staff.client.get(f"/api/v1/organizations/{world.ids['a']}/erasure")).json()
    done = await _api(
        staff, "POST", f"/api/v1/organizations/{world.ids['a']}/erasure", {"confirm": slug["slug"]}
    )
    assert done.status_code == 200, done.text
    assert other_writer == ([False] if settings.is_sqlite else [])
    assert not await Organization.exists().where(Organization.id == world.ids["a"])


async def test_a_coordinator_manages_the_member_job_centres_of_their_own_network_only(
    staff: StaffClient, world: World
) -> None:
    from survey.tables import Network

    other = Network(name="Südwest", slug="suedwest")
    await other.save()
    c = await make_organization("Jobcenter C", network=other.id)
    office_c = await make_office("C-Mitte", c)
    await staff.login("coord", PASSWORD)
    attempts = {
        "rename network": ("PATCH", "/api/v1/networks/{net}", {"name": "X"}),
        "remove member": ("DELETE", "/api/v1/networks/{net}/members/{org}", None),
        "add to own network": ("POST", f"/api/v1/networks/{world.ids['network']}/members",
                               {"organization_id": "{org}"}),
        "new job centre": ("POST", "/api/v1/organizations",
                           {"name": "X", "slug": "x-x", "network_id": "{net}"}),
        "change job centre": ("PATCH", "/api/v1/organizations/{org}", {"name": "X"}),
        "new office": ("POST", "/api/v1/offices",
                       {"organization_id": "{org}", "name": "X", "code": "X",
                        "service_types": ["benefits"]}),
        "office list": ("GET", "/api/v1/offices?organization_id={org}", None),
        "erasure": ("GET", "/api/v1/organizations/{org}/erasure", None),
    }  # fmt: skip
    details = set()
    for name, (method, path, body) in attempts.items():
        for net, org in ((other.id, c), (987654, 987655)):

            def fill(value: Any, net: int = net, org: int = org) -> Any:
                if isinstance(value, str) and value in ("{net}", "{org}"):
                    return net if value == "{net}" else org
                return value.format(net=net, org=org) if isinstance(value, str) else value

            payload = None if body is None else {k: fill(v) for k, v in body.items()}
            answer = await _api(staff, method, fill(path), payload)
            assert answer.status_code == 403, (name, net, answer.text)
            details.add(answer.json()["detail"])
    assert len(details) == 1, details
    before = await Organization.select(Organization.name, Organization.network).where(
        Organization.id == c
    )
    assert before == [{"name": before[0]["name"], "network": other.id}]
    assert before[0]["name"].startswith("Jobcenter C")
    assert await Office.count().where(Office.organization == c) == 1
    page = await staff.client.get("/manage/network")
    assert "Südwest" not in page.text and before[0]["name"] not in page.text
    assert office_c not in {o["id"] for o in (await staff.client.get("/api/v1/offices")).json()}


async def test_the_dashboards_judge_targets_and_pool_outreach_points_from_shown_offices(
    app: Any, staff: StaffClient, world: World
) -> None:
    import datetime as dt

    from survey.manage.questionnaires import _standard
    from survey.tables import Questionnaire, QuestionnaireVersion, Target
    from tests.builders import make_link, make_responses

    ids = world.ids
    best = {k: (10 if k == "recommend" else 5) for k in FULL_ANSWERS}
    poor = {k: (3 if k == "recommend" else 2) for k in FULL_ANSWERS}
    treff = await make_office("Treff", ids["a"])
    tiny = await make_office("Winzig", ids["a"])
    await Office.update({Office.kind: "outreach"}).where(Office.id.is_in([treff, tiny]))
    engine = app.state.engine
    await make_responses(engine, await make_link(ids["office_a"]), [best, FULL_ANSWERS] * 20)
    await make_responses(engine, await make_link(treff), [poor] * 30)
    await make_responses(engine, await make_link(tiny), [poor] * 3)
    q = Questionnaire(organization=ids["a"], code="eigen", name="Eigen")
    await q.save()
    v2 = QuestionnaireVersion(
        questionnaire=q.id, number=2, definition=_standard(), published_at=dt.datetime.now(dt.UTC)
    )
    await v2.save()
    await make_responses(engine, await make_link(ids["office_a"], version=v2.id), [best])
    # the month in progress is published on the second day of the next (issue 10)
    _publish_month_in_progress(app)
    year = dt.date.today().year
    for office, item, value in (
        (ids["office_a"], "_index", 40.0),  # far below the office: met
        (treff, "_index", 90.0),  # far above: missed
        (treff, "overall", 25.0),  # what the answers give: not yet decidable
        (tiny, "_index", 50.0),  # too few responses to judge
    ):
        await Target(
            office=office,
            item=item,
            value=value,
            valid_from=dt.date(year, 1, 1),
            valid_to=dt.date(year + 1, 12, 31),
        ).save()

    await staff.login("manager.a", PASSWORD)
    page = (await staff.client.get("/dashboard?lang=en")).text
    status = dict(re.findall(r'data-office="([^"]+)" data-status="([^"]+)"', page))
    names = {
        r["id"]: r["name"] for r in await Office.select(Office.id, Office.name).where(
            Office.organization == ids["a"]
        )
    }  # fmt: skip
    assert status[names[ids["office_a"]]] == "met"
    assert status[names[tiny]] == "too few responses"
    statuses = re.findall(
        rf'data-office="{names[treff]}" data-status="([^"]+)"', page
    )  # the index and the overall item
    assert sorted(statuses) == ["missed", "undecided"]
    assert re.findall(r'data-testid="kind-row" data-kind="(\w+)"', page) == ["main", "outreach"]
    outreach = page.split('data-kind="outreach"', 1)[1].split("</tr>", 1)[0]
    assert 'data-testid="kind-verdict"' in outreach and "worse" in outreach.lower()
    assert "1 more with too few responses" in outreach, "the small outreach point is not pooled"
    rows = (await staff.client.get("/api/v1/results/overview")).json()["rows"]
    shown_n = next(r["n"] for r in rows if r["office_id"] == treff)
    pooled = re.search(r'data-label="Responses">(\d+)</td>', outreach)
    assert pooled and int(pooled[1]) == shown_n, "the pool is the shown office's n"
    assert 'data-testid="versions-note"' in page and "Eigen v2" in page
    office_page = (await staff.client.get(f"/dashboard/offices/{treff}")).text
    assert office_page.count('data-testid="target-row"') == 2
    # the same judgements in the results API and as CSV, in the reader's language
    judged = (await staff.client.get("/api/v1/results/targets")).json()
    assert {(t["office_id"], t["item"], t["status"]) for t in judged} == {
        (ids["office_a"], "_index", "met"),
        (treff, "_index", "missed"),
        (treff, "overall", "undecided"),
        (tiny, "_index", "too few responses"),
    }
    undecided = next(t for t in judged if t["status"] == "undecided")
    assert abs(undecided["n"] - 30) <= 10, undecided
    # responses still needed, unless the published index is the target itself (no gap)
    assert (undecided["needed"] is None and undecided["index"] == 25) or undecided["needed"] >= 1
    own = (await staff.client.get(f"/api/v1/results/targets?office_id={tiny}")).json()
    assert [(t["office"], t["n"], t["index"]) for t in own] == [(names[tiny], None, None)]
    csv = await staff.client.get("/dashboard/targets.csv")
    assert re.fullmatch(  # the page and period in German (t23's finding 8)
        r'attachment; filename="ziele-\d{4}-\d\d_\d{4}-\d\d\.csv"',
        csv.headers["content-disposition"],
    )
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Standort-Nr.;Standort;Frage-Code;Zielwert;Antworten;Index;")
    tiny_line = next(x for x in lines if f";{names[tiny]};" in x)
    assert tiny_line.endswith(
        ";zu wenige Antworten;;zurückgehalten: Antworten, Index, Index, untere Grenze, "
        "Index, obere Grenze"
    ), tiny_line
    met = next(x for x in lines if ";erreicht;" in x)
    assert ";Zufriedenheitsindex;40,0;" in met and met.endswith(";erreicht;;"), met
    office_csv = (await staff.client.get(f"/dashboard/targets.csv?office={treff}&lang=en")).text
    assert len(office_csv.strip().splitlines()) == 3, "its two targets"
    assert "Satisfaction index,90.0," in office_csv, office_csv
    foreign = await staff.client.get(f"/api/v1/results/targets?office_id={ids['office_b']}")
    assert foreign.status_code == 403


async def test_two_admins_deactivating_each_other_at_once_leave_one(
    world: World, client: httpx.AsyncClient
) -> None:
    """Each request alone passes the last-admin check; at once, only one may go through."""
    await Membership.delete().where(  # the coordinator is no admin here: two admins are left
        (Membership.user == world.ids["coord"]) & (Membership.role == "admin")
    )
    second = await make_staff_user("admin2.a", PASSWORD, "admin", organization=world.ids["a"])
    first = world.ids["admin_a"]
    sessions = []
    for username in ("admin.a", "admin2.a"):
        other = httpx.AsyncClient(transport=client._transport, base_url=str(client.base_url))
        await StaffClient(other).login(username, PASSWORD)
        sessions.append((other, await _csrf(other)))
    answers = await asyncio.gather(
        *(
            session.patch(
                f"/api/v1/users/{target}", json={"active": False}, headers={"x-csrf-token": csrf}
            )
            for (session, csrf), target in zip(sessions, (second, first), strict=True)
        )
    )
    for session, _ in sessions:
        await session.aclose()
    # The loser is refused by the last-admin check (409), or, when the winner's change committed
    # before the loser's request was authenticated, it is deactivated and signed out (401).
    codes = sorted(a.status_code for a in answers)
    assert codes in ([204, 401], [204, 409]), [a.text for a in answers]
    active = await User.count().where(User.id.is_in([first, second]) & (User.active == True))  # noqa: E712
    assert active == 1


async def test_overlapping_targets_set_at_once_leave_one(
    world: World, client: httpx.AsyncClient, staff: StaffClient
) -> None:
    """Each request alone replaces the overlapping target; at once, neither may miss the other."""
    await staff.login("admin.a", PASSWORD)
    csrf = await _csrf(staff.client)
    body = {"office_id": world.ids["office_a"], "item": "_index", "valid_to": "2026-12-31"}
    answers = await asyncio.gather(
        *(
            staff.client.post(
                "/api/v1/targets",
                json={**body, "value": 60 + i, "valid_from": f"2026-0{i + 1}-01", "replace": True},
                headers={"x-csrf-token": csrf},
            )
            for i in range(4)
        )
    )
    assert [a.status_code for a in answers] == [201] * 4
    assert await Target.count().where(Target.office == world.ids["office_a"]) == 1


async def test_a_target_over_others_is_saved_only_after_the_page_named_them(
    staff: StaffClient, world: World
) -> None:
    """t20: saving a target silently deleted the overlapping one; targets took any day and any
    item, though the dashboards judge whole months and only the items the office asks."""
    office = world.ids["office_a"]
    await make_link(office)
    await staff.login("admin.a", PASSWORD)
    year = {"office_id": office, "item": "_index", "value": 58,
            "valid_from": "2026-01-01", "valid_to": "2026-12-31"}  # fmt: skip
    kept = await _api(staff, "POST", "/api/v1/targets", year)
    assert kept.status_code == 201, kept.text
    csrf = await _csrf(staff.client, "/manage/targets")
    page = await staff.client.get("/manage/targets")
    assert 'type="month"' in page.text and 'data-testid="target-months"' in page.text
    form = {"csrf_token": csrf, "office_id": str(office), "item": "_index", "value": "55",
            "valid_from": "2026-03", "valid_to": "2026-04"}  # fmt: skip
    asked = await staff.client.post("/manage/targets", data=form)
    assert asked.status_code == 409 and 'data-testid="target-overlap"' in asked.text
    assert "58.0 (2026-01-01 – 2026-12-31)" in asked.text
    assert await Target.count().where(Target.value == 58) == 1, "nothing deleted unasked"
    replacing = re.search(r'name="replacing" value="([^"]*)"', asked.text)
    assert replacing and replacing[1] == str(kept.json()["id"])
    done = await staff.client.post("/manage/targets", data={**form, "replacing": replacing[1]})
    assert done.status_code == 303
    rows = await Target.select(Target.value, Target.valid_from, Target.valid_to)
    assert [(r["value"], str(r["valid_from"])[:10], str(r["valid_to"])[:10]) for r in rows] == [
        (55.0, "2026-03-01", "2026-04-30")
    ]
    entry = (await staff.client.get("/api/v1/audit?action=target_set")).json()[0]
    assert entry["detail"]["replaced"] == "58 2026-01-01/2026-12-31"
    elsewhere = await make_office("A-Nord", world.ids["a"])  # no link: it asks nothing yet
    for change, reason in (
        ({"valid_from": "2026-03-15", "valid_to": "2026-04-10"}, "whole calendar months"),
        ({"item": "reachable"}, "would never be shown"),
        ({"item": "respect", "office_id": elsewhere}, "no active link"),
    ):
        body = {**year, "valid_from": "2027-01-01", "valid_to": "2027-12-31", **change}
        refused = await _api(staff, "POST", "/api/v1/targets", body)
        assert refused.status_code == 422 and reason in refused.json()["detail"], refused.text
    assert await Target.count() == 1


async def test_a_job_centre_leaves_the_network_after_a_confirmation_and_can_come_back(
    staff: StaffClient, world: World
) -> None:
    """t20: one click removed it, and a job centre the coordinator made (no admin of its own)
    could not be added back: the coordinator lost it for good."""
    net = world.ids["network"]
    await staff.login("coord", PASSWORD)
    made = await _api(staff, "POST", "/api/v1/organizations",
                      {"name": "Jobcenter C", "slug": "jc-c", "network_id": net})  # fmt: skip
    c = made.json()["id"]
    csrf = await _csrf(staff.client, "/manage/network")
    remove = f"/manage/networks/{net}/members/{c}/remove"
    assert f'href="{remove}"' in (await staff.client.get("/manage/network")).text
    confirm = await staff.client.get(remove)
    assert confirm.status_code == 200 and "Jobcenter C" in confirm.text
    assert 'name="confirm" value="yes"' in confirm.text
    unconfirmed = await staff.client.post(remove, data={"csrf_token": csrf})
    assert unconfirmed.status_code == 200 and 'data-testid="confirm-remove"' in unconfirmed.text

    async def network_of_c() -> int | None:
        return (await Organization.select(Organization.network).where(Organization.id == c))[0][
            "network"
        ]

    assert await network_of_c() == net
    removed = await staff.client.post(remove, data={"csrf_token": csrf, "confirm": "yes"})
    assert removed.status_code == 303 and await network_of_c() is None
    assert f'data-testid="add-back-{c}"' in (await staff.client.get("/manage/network")).text
    back = await staff.client.post(
        f"/manage/networks/{net}/members", data={"csrf_token": csrf, "organization_id": str(c)}
    )
    assert back.status_code == 303 and await network_of_c() == net
    members = f"/api/v1/networks/{net}/members"
    assert (await _api(staff, "DELETE", f"{members}/{c}")).status_code == 204
    listed = (await staff.client.get("/api/v1/networks")).json()
    assert [(n["members"].count(c), n["former_members"]) for n in listed] == [(0, [c])]
    assert (await _api(staff, "POST", members, {"organization_id": c})).status_code == 204
    assert await network_of_c() == net
    never = await _api(staff, "POST", members, {"organization_id": world.ids["b"]})
    assert never.status_code == 403, "a job centre that never was a member stays refused"
    await staff.login("admin.b", PASSWORD)
    assert (await _api(staff, "DELETE", f"{members}/{c}")).status_code == 403
