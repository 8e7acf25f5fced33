"""What staff type in: refused with a reason in the page's language, never a 500, nothing half
stored (the tester's findings of 2026-11-28)."""

from __future__ import annotations

import datetime as dt
import re

import httpx

from survey.questionnaire import LOCAL_ZONE
from survey.tables import ApiToken, Link, Office, Organization, QuestionnaireVersion, User
from tests.builders import make_organization, make_staff_user
from tests.conftest import ONE_ENGINE, StaffClient
from tests.integration.test_manage import PASSWORD, World, _api, _csrf


async def test_a_nul_or_a_direction_override_in_any_staff_text_is_refused_and_not_stored(
    staff: StaffClient, client: httpx.AsyncClient
) -> None:
    world = await World().build()
    a = world.ids["a"]
    await staff.login("admin.a", PASSWORD)
    token = await _csrf(client)
    version = (await QuestionnaireVersion.select(QuestionnaireVersion.id).first())["id"]
    forms = [
        ("/manage/offices", {"organization_id": a, "name": "a\x00b", "code": "N1"}),
        ("/manage/offices", {"organization_id": a, "name": "x\u202egnalretsuM", "code": "N2"}),
        (
            "/manage/links",
            {"office_id": world.ids["office_a"], "version_id": version,
             "service_type": "benefits", "label": "a\x00b"},
        ),
        ("/manage/tokens", {"name": "a\x00b"}),
        ("/manage/questionnaires", {"organization_id": a, "code": "q-nul", "name": "a\x00b"}),
        ("/manage/users", {"username": "nul.user", "display_name": "a\x00b", "role": "manager",
                           "organization_id": a}),
        (f"/manage/organizations/{a}", {"name": "a\x01b"}),
    ]  # fmt: skip
    for path, form in forms:
        answer = await client.post(
            path, data={**form, "csrf_token": token}, headers={"accept-language": "de"}
        )
        assert answer.status_code == 422, (path, answer.status_code, answer.text[:300])
        assert (
            "Bitte prüfen Sie Ihre Eingabe" in answer.text or 'data-testid="refused"' in answer.text
        ), (path, answer.text[-3000:])
        assert "Steuerzeichen" in answer.text or "Schreibrichtung" in answer.text, (
            path,
            re.findall(r"refused.{0,300}", answer.text),
        )
    api = await _api(staff, "POST", "/api/v1/offices",
                     {"organization_id": a, "name": "a\u0000b", "code": "N3"})  # fmt: skip
    assert api.status_code == 400 and "control character" in api.json()["detail"]
    bidi = await _api(staff, "POST", "/api/v1/offices",
                      {"organization_id": a, "name": "a\u2066b", "code": "N4"})  # fmt: skip
    assert bidi.status_code == 400, bidi.text
    assert not await Office.exists().where(Office.code.is_in(["N1", "N2", "N3", "N4"]))
    # a service type the office does not offer is named as the page names it, not by its code
    other = await client.post("/manage/links", data={
        "office_id": world.ids["office_a"], "version_id": version, "service_type": "under_25",
        "csrf_token": token}, headers={"accept-language": "de"})  # fmt: skip
    assert other.status_code == 422, other.text[-2000:]
    assert "den Leistungsbereich Unter 25 nicht an" in other.text, other.text[-2000:]
    assert not await ApiToken.exists()
    assert not await User.exists().where(User.username == "nul.user")
    names = await Organization.select(Organization.name).where(Organization.id == a)
    assert "\x01" not in names[0]["name"]
    assert not await Link.exists()


@ONE_ENGINE  # refused before any write, in words: not SQL (docs/testing.md)
async def test_a_staff_form_with_a_file_or_bytes_that_are_not_utf8_is_refused(
    staff: StaffClient, client: httpx.AsyncClient
) -> None:
    """A tester's finding: a multipart POST with a file as the name created an office named
    "hostname - application/octet-stream", and the raw bytes ff fe one named "ÿþ"."""
    world = await World().build()
    a = world.ids["a"]
    await staff.login("admin.a", PASSWORD)
    token = await _csrf(client)
    fields = {"organization_id": str(a), "code": "F1", "csrf_token": token}
    upload = await client.post(
        "/manage/offices",
        data=fields,
        files={"name": ("hostname", b"nordheide\n", "application/octet-stream")},
        headers={"accept-language": "de"},
    )
    body = "&".join(f"{k}={v}" for k, v in {**fields, "code": "F2"}.items()).encode()
    latin = await client.post(
        "/manage/offices",
        content=body + b"&name=\xff\xfe",
        headers={"content-type": "application/x-www-form-urlencoded", "accept-language": "de"},
    )
    for answer in (upload, latin):
        assert answer.status_code == 400, (answer.status_code, answer.text[-2000:])
        assert "Das Formular ließ sich nicht lesen" in answer.text, answer.text[-2000:]
    assert not await Office.exists().where(Office.code.is_in(["F1", "F2"]))
    typed = await client.post(
        "/manage/offices",
        content=body.replace(b"F2", b"F3")
        + b"&name=Zweigstelle M%C3%BCnster&service_types=benefits",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert typed.status_code == 303, typed.text[-2000:]
    assert await Office.select(Office.name).where(Office.code == "F3").first() == {
        "name": "Zweigstelle Münster"
    }


async def test_a_form_only_a_coordinator_may_send_is_refused_before_its_fields_are_checked(
    staff: StaffClient, client: httpx.AsyncClient
) -> None:
    """A tester's finding: a job centre's admin sending the new-network form without a short
    name was told what the field needs (422), the new-job-centre form that a choice was
    missing (400), before being told the form is not theirs."""
    await World().build()
    await staff.login("admin.a", PASSWORD)
    token = await _csrf(client)
    for path in ("/manage/networks", "/manage/organizations"):
        answer = await client.post(path, data={"csrf_token": token},
                                   headers={"accept-language": "de"})  # fmt: skip
        assert answer.status_code == 403, (path, answer.status_code, answer.text[-1500:])


async def test_refusals_name_the_field_in_the_users_language_and_only_allowed_menus_show(
    staff: StaffClient, client: httpx.AsyncClient
) -> None:
    world = await World().build()
    await User.update({User.locale: "de"}).where(User.username.is_in(["admin.a", "manager.a"]))
    english_browser = {"accept-language": "en-US,en;q=0.9"}
    await staff.login("manager.a", PASSWORD)
    office = world.ids["office_a"]
    bad = await client.get(
        f"/dashboard/offices/{office}?filter=language:zz", headers=english_browser
    )
    assert bad.status_code == 400
    assert 'lang="de"' in bad.text and "Sprache: erlaubt sind" in bad.text, bad.text[-900:]
    tokens = await client.get("/manage/tokens", headers=english_browser)
    assert tokens.status_code == 200 and 'data-testid="manage-nav"' not in tokens.text, (
        "a manager opens none of the administration pages: no menu of them"
    )
    await staff.login("admin.a", PASSWORD)
    assert 'data-testid="manage-nav-users"' in (await client.get("/manage/tokens")).text
    token = await _csrf(client)
    a = world.ids["a"]
    code = (await Office.select(Office.code).where(Office.id == office).first())["code"]
    cases = [
        ("/manage/offices", {"organization_id": a, "name": "x" * 201, "code": "L1"},
         "„Name“: 1 bis 200 Zeichen"),
        ("/manage/offices", {"organization_id": a, "name": "Ohne", "code": "L2"},
         "„Angebotene Leistungsbereiche“: mindestens eine auswählen"),
        ("/manage/targets", {"office_id": office, "item": "_index", "value": "NaN",
                             "valid_from": "2026-01-01", "valid_to": "2026-12-31"},
         "„Zielindex (0–100)“: eine Zahl von 0 bis 100"),
        ("/manage/targets", {"office_id": office, "item": "_index", "value": "80",
                             "valid_from": "0001-01-01", "valid_to": "9999-12-31"},
         "zwischen 2000 und 2099"),
        ("/manage/targets", {"office_id": office, "item": "comment", "value": "80",
                             "valid_from": "2026-01-01", "valid_to": "2026-12-31"},
         "wird frei beantwortet"),
        ("/manage/offices", {"organization_id": a, "name": "Klein", "code": code.lower(),
                             "service_types": "benefits"},
         f"mit dem Kürzel {code.lower()}"),
    ]  # fmt: skip
    for path, form, reason in cases:
        answer = await client.post(
            path, data={**form, "csrf_token": token}, headers=english_browser
        )
        assert answer.status_code in (409, 422), (path, answer.status_code)
        assert reason in answer.text, (path, answer.text[-1200:])
        assert "Expected" not in answer.text and "$." not in answer.text
    other = await Organization.select(Organization.name).where(Organization.id == world.ids["b"])
    twin = await _api(
        staff, "PATCH", f"/api/v1/organizations/{a}", {"name": other[0]["name"].upper() + " "}
    )
    assert twin.status_code == 409, "two job centres by one name cannot be told apart"
    version = (await QuestionnaireVersion.select(QuestionnaireVersion.id).first())["id"]
    mine = await _api(staff, "POST", "/api/v1/questionnaires",
                      {"organization_id": a, "code": "eigener", "name": "Eigener"})  # fmt: skip
    draft = mine.json()["versions"][0]["id"]
    assert draft != version
    long_text = await client.post(
        f"/manage/questionnaire-versions/{draft}/texts",
        data={"csrf_token": token, "lang": "en", "text_overall": "x" * 3000, "status": "draft"},
    )
    odd_status = await client.post(
        f"/manage/questionnaire-versions/{draft}/texts",
        data={"csrf_token": token, "lang": "en", "text_overall": "Fine", "status": "weird"},
    )
    assert (long_text.status_code, odd_status.status_code) == (422, 422)
    texts = (await client.get(f"/api/v1/questionnaire-versions/{draft}")).json()
    assert "x" * 1001 not in str(texts) and "Fine" not in str(texts)


@ONE_ENGINE  # refused before any write, in words: not SQL (docs/testing.md)
async def test_a_password_like_the_username_or_among_the_most_common_is_refused(
    client: httpx.AsyncClient,
) -> None:
    from survey.manage.users import _new_invitation

    org = await make_organization("Jobcenter P")
    user = await make_staff_user("paula.meier", PASSWORD, "manager", organization=org)
    token, _ = await _new_invitation(user)
    for password, reason in (
        ("paula.meier", "nicht der Benutzername"),
        ("x-paula.meier-x", "nicht der Benutzername"),
        ("Passwort2026!", "am häufigsten gewählten"),
        ("1234567890", "am häufigsten gewählten"),
        ("qwertzuiop", "am häufigsten gewählten"),
    ):
        refused = await client.post(
            f"/account/set-password/{token}",
            data={"password": password, "repeat": password},
            headers={"accept-language": "de"},
        )
        assert refused.status_code == 422 and reason in refused.text, password
        assert refused.headers["content-type"].startswith("text/html"), "t20: shown as source"
        assert 'data-testid="set-password"' in refused.text
    fine = await client.post(
        f"/account/set-password/{token}",
        data={"password": "Kaffee am Deich 7", "repeat": "Kaffee am Deich 7"},
    )
    assert fine.status_code == 303


@ONE_ENGINE  # refused before any write, in words: not SQL (docs/testing.md)
async def test_a_refused_form_comes_back_with_the_reason_and_what_was_typed(
    staff: StaffClient, client: httpx.AsyncClient
) -> None:
    world = await World().build()
    await staff.login("admin.a", PASSWORD)
    token = await _csrf(client)
    a, office = world.ids["a"], world.ids["office_a"]
    code = (await Office.select(Office.code).where(Office.id == office).first())["code"]
    again = await client.post(
        "/manage/offices",
        data={"csrf_token": token, "organization_id": a, "name": "Treff am Hafen",
              "code": code.lower(), "kind": "outreach", "service_types": "placement"},
    )  # fmt: skip
    assert again.status_code == 409
    assert 'data-testid="refused"' in again.text and 'data-testid="new-office"' in again.text
    assert 'value="Treff am Hafen"' in again.text and f'value="{code.lower()}"' in again.text
    assert 'value="outreach" selected' in again.text
    assert 'value="placement" checked' in again.text
    assert 'value="benefits" checked' not in again.text
    target = await client.post(
        "/manage/targets",
        data={"csrf_token": token, "office_id": office, "item": "respect", "value": "101",
              "valid_from": "2026-01-01", "valid_to": "2026-12-31"},
    )  # fmt: skip
    assert target.status_code == 422 and 'value="101"' in target.text
    assert 'value="respect" selected' in target.text
    month = dt.datetime.now(LOCAL_ZONE).strftime("%Y-%m")  # the running month is Berlin's
    export = await client.get(f"/export?to={month}")
    assert export.status_code == 400 and "dem letzten vollständigen Monat" in export.text
    # the job-centre and network forms and the text editor too (t18: still error cards)
    months = await client.post(
        f"/manage/organizations/{a}",
        data={"csrf_token": token, "name": "Neuer Name JC", "retention_months": "0"},
    )
    assert months.status_code == 422 and 'data-testid="refused"' in months.text
    assert 'value="Neuer Name JC"' in months.text and 'value="0"' in months.text
    made = await _api(staff, "POST", "/api/v1/questionnaires",
                      {"organization_id": a, "code": "eigen2", "name": "Eigen"})  # fmt: skip
    odd = await client.post(
        f"/manage/questionnaire-versions/{made.json()['versions'][0]['id']}/texts",
        data={"csrf_token": token, "lang": "en", "text_overall": "All in all: fine",
              "status": "weird"},
    )  # fmt: skip
    assert odd.status_code == 422 and 'data-testid="refused"' in odd.text
    assert "All in all: fine</textarea>" in odd.text
    await staff.login("coord", PASSWORD)  # new job centres and networks: the coordinator's
    token = await _csrf(client)
    network = world.ids["network"]
    taken = (await Organization.select(Organization.name).where(Organization.id == a))[0]["name"]
    twin = await client.post(
        "/manage/organizations",
        data={"csrf_token": token, "network_id": network, "name": taken.upper(),
              "slug": "zwilling-7"},
    )  # fmt: skip
    assert twin.status_code == 409 and 'data-testid="refused"' in twin.text
    assert f'value="{taken.upper()}"' in twin.text and 'value="zwilling-7"' in twin.text
    renamed = await client.post(
        f"/manage/networks/{network}", data={"csrf_token": token, "name": "x" * 201}
    )
    assert renamed.status_code == 400 and 'data-testid="refused"' in renamed.text
    assert "x" * 201 in renamed.text
    for page in (twin, months, renamed, odd):
        assert 'data-testid="error-page"' not in page.text
    other = world.ids["office_b"]
    foreign = await client.get(f"/manage/links?office={other}")
    assert foreign.status_code == 403, "another job centre's office: refused, not our own list"
    keep = await client.get("/dashboard/benchmark?from=2026-01&to=2026-06&filter=mode:kiosk")
    assert 'href="/dashboard?from=2026-01&amp;to=2026-06&amp;filter=mode%3Akiosk"' in keep.text


@ONE_ENGINE  # refused before any write, in words: not SQL (docs/testing.md)
async def test_the_language_chosen_on_the_sign_in_page_stays_after_signing_in(
    staff: StaffClient, client: httpx.AsyncClient
) -> None:
    import re

    org = await make_organization("Jobcenter L")
    await make_staff_user("lena", PASSWORD, "manager", organization=org)
    await User.update({User.locale: "de"}).where(User.username == "lena")
    client.cookies.clear()
    form = await client.get("/login?lang=en")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert csrf and 'name="lang" value="en"' in form.text
    signed = await client.post(
        "/login",
        data={"username": "lena", "password": PASSWORD, "csrf_token": csrf[1], "lang": "en"},
    )
    assert signed.status_code == 303
    page = await client.get("/manage/tokens", headers={"accept-language": "de"})
    assert '<html lang="en"' in page.text


def test_every_staff_page_answers_in_html_whatever_it_returns() -> None:
    """t20: the set-password page's refusal was HTML sent as application/json (a handler typed
    `-> Any` gets JSON): no staff route outside the API may have that media type."""
    from survey.app import create_app
    from survey.auth.guard import is_staff_path
    from survey.settings import Settings

    app = create_app(Settings(database_url="sqlite:///unused.sqlite3"))  # never opened

    json_pages = [
        (route.path, handler.handler_name)
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        if is_staff_path(route.path) and "json" in str(handler.media_type).lower()
    ]
    assert json_pages == []


async def test_a_blank_or_twice_used_name_of_an_office_or_job_centre_is_refused(
    staff: StaffClient, client: httpx.AsyncClient
) -> None:
    """t20: "  " was taken as a job centre's name by the form and as an office's by the API, and
    two offices of one job centre could share a name."""
    world = await World().build()
    a = world.ids["a"]
    await staff.login("admin.a", PASSWORD)
    office = {"organization_id": a, "code": "B1", "service_types": ["benefits"]}
    mitte = (await Office.select(Office.name).where(Office.id == world.ids["office_a"]))[0]
    mitte = mitte["name"]
    blank = await _api(staff, "POST", "/api/v1/offices", {**office, "name": "   "})
    assert blank.status_code == 400 and "spaces only" in blank.json()["detail"]
    twin = await _api(staff, "POST", "/api/v1/offices", {**office, "name": f" {mitte.upper()} "})
    assert twin.status_code == 409 and f"office named {mitte.upper()}" in twin.json()["detail"]
    made = await _api(staff, "POST", "/api/v1/offices", {**office, "name": "  Treff Hafen "})
    assert made.status_code == 201, made.text
    assert made.json()["name"] == "Treff Hafen"
    assert made.json()["organization"].startswith("Jobcenter A"), "t20: it was empty"
    path = f"/api/v1/offices/{made.json()['id']}"
    assert (await _api(staff, "PATCH", path, {"name": " "})).status_code == 400
    assert (await _api(staff, "PATCH", path, {"name": mitte.lower()})).status_code == 409
    assert (await _api(staff, "PATCH", path, {"name": "treff hafen"})).status_code == 204
    token = await _csrf(client)
    again = await client.post(
        "/manage/offices",
        data={"csrf_token": token, "organization_id": a, "name": mitte.upper(), "code": "B2",
              "kind": "main", "service_types": "benefits"},
    )  # fmt: skip
    assert again.status_code == 409 and 'data-testid="refused"' in again.text
    blank_org = await _api(staff, "PATCH", f"/api/v1/organizations/{a}", {"name": "  "})
    assert blank_org.status_code == 400
    await staff.login("coord", PASSWORD)
    token = await _csrf(client)
    form = await client.post(
        "/manage/organizations",
        data={"csrf_token": token, "network_id": world.ids["network"], "name": "  ",
              "slug": "leer-1"},
    )  # fmt: skip
    assert form.status_code == 400 and 'data-testid="refused"' in form.text
    names = {r["name"] for r in await Office.select(Office.name).where(Office.organization == a)}
    assert names == {mitte, "treff hafen"}
    assert not await Organization.exists().where(Organization.slug == "leer-1")
    assert (await Organization.select(Organization.name).where(Organization.id == a))[0]["name"]


async def test_usernames_are_unique_and_signed_in_with_in_any_case(
    staff: StaffClient, client: httpx.AsyncClient
) -> None:
    """t20: LEITUNG.NORDHEIDE could be made next to leitung.nordheide, and signing in needed the
    exact case. Two users made before that differ only in case keep their exact names."""
    from survey.tables import AuditLog

    world = await World().build()
    await staff.login("admin.a", PASSWORD)
    taken = await _api(staff, "POST", "/api/v1/users",
                       {"username": "Manager.A", "role": "manager",
                        "organization_id": world.ids["a"]})  # fmt: skip
    assert taken.status_code == 409 and "Manager.A is taken" in taken.json()["detail"]
    assert (await staff.login("MANAGER.a", PASSWORD)).status_code == 303
    assert (await client.get("/dashboard")).status_code == 200
    logins = await AuditLog.select(AuditLog.username).where(AuditLog.action == "login")
    assert logins[-1]["username"] == "manager.a", "the log names the user as spelt"
    await make_staff_user("kim", PASSWORD, "manager", organization=world.ids["a"])
    await make_staff_user("KIM", PASSWORD + "!", "manager", organization=world.ids["a"])
    assert (await staff.login("kim", PASSWORD)).status_code == 303
    assert (await staff.login("KIM", PASSWORD + "!")).status_code == 303
    assert (await staff.login("Kim", PASSWORD)).status_code != 303, "which one: neither"


@ONE_ENGINE  # refused before any write, in words: not SQL (docs/testing.md)
async def test_refusals_of_the_editor_and_an_expired_form_lead_back_to_the_form(
    staff: StaffClient, client: httpx.AsyncClient
) -> None:
    """t20: publishing without German text (422), the same item twice (409) and an expired
    form ended on a bare error page; the audit log showed Python's reprs; an unknown address
    gave a signed-in user the client's "Umfrage nicht gefunden" in German."""
    from survey.tables import AuditLog

    world = await World().build()
    a = world.ids["a"]
    await User.update({User.locale: "en"}).where(User.username == "admin.a")
    await staff.login("admin.a", PASSWORD)
    made = await _api(staff, "POST", "/api/v1/questionnaires",
                      {"organization_id": a, "code": "eigen3", "name": "Eigen"})  # fmt: skip
    draft = made.json()["versions"][0]["id"]
    editor = f"/manage/questionnaire-versions/{draft}"
    token = await _csrf(client)
    blank = await client.post(f"{editor}/texts", data={"csrf_token": token, "lang": "de",
                                                       "text_overall": " "})  # fmt: skip
    assert blank.status_code == 303
    publish = await client.post(f"{editor}/publish", data={"csrf_token": token})
    twice = await client.post(
        f"{editor}/items", data={"csrf_token": token, "lang": "de", "action": "add",
                                 "code": "respect"}
    )  # fmt: skip
    for page, status, reason in ((publish, 422, "overall has no German text"),
                                 (twice, 409, "respect is in the version already")):  # fmt: skip
        assert page.status_code == status and reason in page.text, page.text[-2000:]
        assert 'data-testid="refused"' in page.text and 'data-testid="texts-form"' in page.text
    expired = await client.post("/manage/targets", data={"csrf_token": "old", "value": "70"})
    assert expired.status_code == 403 and 'href="/manage/targets"' in expired.text
    assert 'data-testid="error-back"' in expired.text
    network = await client.post(f"/manage/networks/{world.ids['network']}", data={"name": "N"})
    assert 'href="/manage/network" class="button" data-testid="error-back"' in network.text
    await AuditLog(at=dt.datetime.now(dt.UTC), username="admin.a", action="export",
                   organization=a, detail={"filters": {"from": "2025-11", "to": "2026-10"},
                                           "offices": [3, 4]}).save()  # fmt: skip
    log = await client.get("/manage/audit")
    assert "filters: from 2025-11, to 2026-10; offices: 3, 4" in log.text
    assert "{&#39;" not in log.text and "[3" not in log.text
    unknown = await client.get("/nothing-here", headers={"accept-language": "de"})
    assert unknown.status_code == 404 and unknown.headers["content-type"].startswith("text/html")
    assert "There is no page at this address." in unknown.text and '<html lang="en"' in unknown.text
    assert 'data-testid="error-page"' in unknown.text
    # a tester's finding: under /manage and /dashboard the same user got it in German
    for path in ("/manage/nothing-here", "/dashboard/nothing-here"):
        staff_unknown = await client.get(path, headers={"accept-language": "de"})
        assert staff_unknown.status_code == 404, path
        assert "There is no page at this address." in staff_unknown.text, path
        assert '<html lang="en"' in staff_unknown.text, path
    wrong = await client.get("/manage/links/1/active", headers={"accept-language": "de"})
    assert wrong.status_code == 405 and "allow" in wrong.headers
    assert "This address does not take this kind of request." in wrong.text
    assert "Method Not Allowed" not in wrong.text
    client.cookies.clear()
    anonymous = await client.get("/nothing-here", headers={"accept-language": "de"})
    assert anonymous.status_code == 404 and "Dieser Umfrage-Link ist unbekannt" in anonymous.text
