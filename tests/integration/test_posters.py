"""Posters and slips: who may print them, what they say, and that the QR code leads back."""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from litestar import Litestar

from survey.respond import codes, posters
from survey.settings import Settings
from survey.tables import Office, SlipCode
from tests.builders import FULL_ANSWERS, make_link, make_office, make_organization, make_staff_user
from tests.cli import run_cli
from tests.conftest import ONE_ENGINE, StaffClient

Client = httpx.AsyncClient
zxingcpp = pytest.importorskip("zxingcpp")


def _qr_texts(pdf: bytes, tmp_path: Path) -> list[str]:
    """Render the PDF with poppler (pdftoppm) and read every QR code on it with zxing-cpp.
    At 100 dpi a slip's code (the smallest, eight to a page) has about 4.5 pixels a module,
    and every code of the suite reads at 72 dpi as well: 150 dpi cost twice the CPU (eight
    and nine slips: 0.70 -> 0.37 s, rendering and reading)."""
    from PIL import Image

    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "in.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "100", "-png", str(tmp_path / "in.pdf"), str(tmp_path / "page")],
        check=True,
    )
    found = []
    for png in sorted(tmp_path.glob("page*.png")):
        found += [r.text for r in zxingcpp.read_barcodes(Image.open(png))]
    return found


def _pdf_text(pdf: bytes, tmp_path: Path) -> str:
    (tmp_path / "t.pdf").write_bytes(pdf)
    out = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "t.pdf"), "-"], check=True, capture_output=True
    )
    return out.stdout.decode()


async def _staff_of(staff: StaffClient, organization: int, role: str = "admin") -> None:
    name = f"{role}{uuid.uuid4().hex[:6]}"
    await make_staff_user(name, "a-long-password-1234", role, organization=organization)
    assert (await staff.login(name, "a-long-password-1234")).status_code == 303


@ONE_ENGINE  # what the poster says and encodes: not SQL (docs/testing.md)
async def test_the_poster_leads_back_to_the_link_and_says_it_in_each_language(
    staff: StaffClient, settings: Settings, tmp_path: Path
) -> None:
    org = await make_organization()
    link = await make_link(await make_office(organization=org))
    await _staff_of(staff, org)
    url = f"/api/v1/links/{link.token}/poster.pdf?lang=de,ar,uk"
    answer = await staff.client.get(url)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    assert _qr_texts(answer.content, tmp_path) == [f"{settings.public_url}/s/{link.token}"]
    text = _pdf_text(answer.content, tmp_path)
    assert "Wie war Ihre Beratung?" in text
    assert "Як пройшла ваша консультація?" in text
    assert "Anonym · ohne Anmeldung · etwa eine Minute" in text
    assert f"/s/{link.token}" in text, "the address is printed below the code"
    svg = await staff.client.get(f"/api/v1/links/{link.token}/poster.svg?lang=de,ar")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert 'lang="ar" direction="rtl"' in svg.text and "كيف كانت استشارتك؟" in svg.text
    assert "<script" not in svg.text


async def test_the_office_chooses_its_poster_languages(staff: StaffClient, tmp_path: Path) -> None:
    org = await make_organization()
    office = await make_office(organization=org)
    link = await make_link(office)
    await _staff_of(staff, org, role="admin")  # the admin chooses them, in the API or the page
    csrf = {"x-csrf-token": await staff.csrf()}
    url = f"/api/v1/offices/{office}"
    for bad in (["tr", "xx"], ["de"] * 9):
        refused = await staff.client.patch(url, json={"poster_languages": bad}, headers=csrf)
        assert refused.status_code == 400, refused.text
    chosen = await staff.client.patch(url, json={"poster_languages": ["tr", "pl"]}, headers=csrf)
    assert chosen.status_code == 204, chosen.text
    listed = (await staff.client.get("/api/v1/offices")).json()
    assert next(o for o in listed if o["id"] == office)["poster_languages"] == ["tr", "pl"]
    page = await staff.client.get("/manage/offices")
    assert 'name="poster_languages" value="tr" checked' in page.text
    assert 'name="poster_languages" value="de">' in page.text
    assert (await Office.select(Office.poster_languages).where(Office.id == office))[0] == {
        "poster_languages": "tr,pl"
    }
    await _staff_of(staff, org, role="manager")
    text = _pdf_text(
        (await staff.client.get(f"/api/v1/links/{link.token}/poster.pdf")).content, tmp_path
    )
    assert "Danışmanlığınız nasıldı?" in text and "Jak przebiegło doradztwo?" in text
    assert "Wie war Ihre Beratung?" not in text


async def test_only_staff_of_the_links_job_centre_may_print(staff: StaffClient) -> None:
    mine, other = await make_organization(), await make_organization()
    link = await make_link(await make_office(organization=other))
    url = f"/api/v1/links/{link.token}/slips.pdf"
    assert (await staff.client.get(url)).status_code == 401
    await _staff_of(staff, mine)
    refused = await staff.client.get(url)
    assert refused.status_code == 403 and "job centre" in refused.json()["detail"]
    unknown_language = await staff.client.get(f"/api/v1/links/{link.token}/poster.pdf?lang=xx")
    assert unknown_language.status_code == 403, "the refusal first, the language after (t21)"
    await _staff_of(staff, other, role="researcher")
    assert (await staff.client.get(url)).status_code == 403
    await _staff_of(staff, other, role="manager")
    assert (await staff.client.get(url)).status_code == 200
    bad = await staff.client.get(f"/api/v1/links/{link.token}/poster.pdf?lang=xx")
    assert bad.status_code == 400 and "Unknown language" in bad.json()["detail"]
    assert (await staff.client.get("/api/v1/links/nope/poster.pdf")).status_code == 404


async def test_the_coordinator_prints_the_posters_of_the_network_s_links(
    staff: StaffClient,
) -> None:
    """The coordinator sets up offices and links of member job centres, so prints their
    posters and slips too (t21: 403); not those of a job centre outside the network."""
    from survey.tables import Membership
    from tests.builders import make_network

    network = await make_network()
    member, outside = await make_organization(network=network), await make_organization()
    inside_link = await make_link(await make_office(organization=member))
    outside_link = await make_link(await make_office(organization=outside))
    user = await make_staff_user(
        "coordinator", "coordinator-password-1", "researcher", organization=member
    )
    await Membership(user=user, role="network", network=network).save()
    await staff.login("coordinator", "coordinator-password-1")
    for what in ("poster.pdf", "poster.svg", "slips.pdf"):
        assert (
            await staff.client.get(f"/api/v1/links/{inside_link.token}/{what}")
        ).status_code == 200
        assert (
            await staff.client.get(f"/api/v1/links/{outside_link.token}/{what}")
        ).status_code == 403
    # a token limited to another member job centre prints nothing of this one
    other = await make_organization(network=network)
    made = await staff.client.post(
        "/api/v1/tokens",
        json={"name": "other", "organization_ids": [other]},
        headers={"x-csrf-token": await staff.csrf()},
    )
    assert made.status_code == 201, made.text
    staff.client.cookies.clear()
    bearer = {"authorization": f"Bearer {made.json()['token']}"}
    url = f"/api/v1/links/{inside_link.token}/poster.pdf"
    assert (await staff.client.get(url, headers=bearer)).status_code == 403


async def test_a_used_one_time_code_is_refused_the_second_time(
    staff: StaffClient, client: Client, app: Litestar, tmp_path: Path
) -> None:
    org = await make_organization()
    link = await make_link(await make_office(organization=org), codes_required=True)
    await _staff_of(staff, org)
    csrf = await staff.csrf()
    made = await staff.client.post(
        f"/api/v1/links/{link.token}/code-slips.pdf?count=3&lang=de",
        headers={"x-csrf-token": csrf},
    )
    assert made.status_code == 201, made.text
    urls = _qr_texts(made.content, tmp_path)
    assert len(urls) == 3 and all("?code=" in u for u in urls)
    slip_codes = [u.split("?code=")[1] for u in urls]
    assert len(set(slip_codes)) == 3
    assert await SlipCode.count() == 3
    stored = await SlipCode.select(SlipCode.code_hash)
    assert not any(c.replace("-", "") in repr(stored) for c in slip_codes), "only hashes kept"
    client.cookies.clear()

    def body(code: str | None, sid: str | None = None) -> dict[str, object]:
        return {"link": link.token, "submission_id": sid or str(uuid.uuid4()),
                "answers": FULL_ANSWERS, "locale": "de", "code": code}  # fmt: skip

    first = body(slip_codes[0].lower().replace("-", " "))  # as a person might type it
    assert (await client.post("/api/v1/responses", json=first)).status_code == 201
    assert (await client.post("/api/v1/responses", json=first)).status_code == 200, (
        "a resend of the stored response is no second use"
    )
    again = await client.post("/api/v1/responses", json=body(slip_codes[0]))
    assert again.status_code == 403
    assert again.json()["message"] == "Dieser Code ist unbekannt oder wurde schon verwendet."
    missing = await client.post("/api/v1/responses", json=body(None))
    assert missing.status_code == 403 and "Zettel" in missing.json()["message"]
    other_link = await make_link(codes_required=True)
    foreign = {**body(slip_codes[1]), "link": other_link.token}
    assert (await client.post("/api/v1/responses", json=foreign)).status_code == 403
    # the form: the code travels in from the QR code's URL and back with the answers
    page = await client.get(f"/s/{link.token}?code={slip_codes[1]}")
    assert f'name="code" value="{slip_codes[1]}"' in page.text
    form = {"submission_id": str(uuid.uuid4()), "lang": "de", "code": slip_codes[1],
            **{k: str(v) for k, v in FULL_ANSWERS.items()}}  # fmt: skip
    assert (await client.post(f"/s/{link.token}", data=form)).status_code == 303
    reused = await client.post(
        f"/s/{link.token}", data={**form, "submission_id": str(uuid.uuid4())}
    )
    assert reused.status_code == 403
    assert "schon verwendet" in reused.text and 'value="4" checked' in reused.text, (
        "the answers stay on the page"
    )
    used = await SlipCode.select(SlipCode.used).order_by(SlipCode.id)
    assert sorted(r["used"] for r in used) == [False, True, True]


async def test_codes_are_hard_to_guess_and_read_forgivingly() -> None:
    made = {codes.new_code() for _ in range(2000)}
    assert len(made) == 2000
    assert all(re.fullmatch(r"[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}", c) for c in made)
    assert codes.normalize(" ab2c-d3ef ") == "AB2CD3EF"
    assert codes.code_hash("s", 1, "ab2c d3ef") == codes.code_hash("s", 1, "AB2C-D3EF")
    assert codes.code_hash("s", 1, "AB2C-D3EF") != codes.code_hash("s", 2, "AB2C-D3EF")


def test_the_cli_writes_a_poster_and_says_what_is_wrong_in_one_line(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    from tests.conftest import run_async

    async def a_link() -> str:
        from survey.db import engine_lifespan, make_engine

        engine = make_engine(sqlite_settings)
        async with engine_lifespan(engine, 1):
            return (await make_link()).token

    token = run_async(a_link())
    env = {"RESONANZ_DATABASE_URL": sqlite_settings.database_url, "RESONANZ_SECRET_KEY": "x" * 40,
           "RESONANZ_BASE_URL": "https://umfrage.example", "PATH": "/usr/bin:/bin"}  # fmt: skip

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        """`resonanz poster ARGS` in this process (tests/cli.py), after the first run below,
        which starts it as a process of its own."""
        return run_cli(["poster", *args], **env)

    # random tokens may start with '-': after `--` they are not read as an option
    done = subprocess.run(
        [sys.executable, "-m", "survey.cli", "poster",
         "--out", str(tmp_path / "p.pdf"), "--lang", "de,ar", "--", token],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert _qr_texts((tmp_path / "p.pdf").read_bytes(), tmp_path) == [
        f"https://umfrage.example/s/{token}"
    ]
    assert (
        run(f"https://umfrage.example/s/{token}", "--out", str(tmp_path / "p.svg")).returncode == 0
    )
    assert (tmp_path / "p.svg").read_text().startswith("<?xml")
    for target, options, reason in (
        ("nope", ["--out", str(tmp_path / "x.pdf")], "unknown"),
        (token, ["--out", str(tmp_path / "x.png")], ".pdf or .svg"),
        (token, ["--out", str(tmp_path / "x.pdf"), "--lang", "xx"], "Unknown language"),
        (token, ["--out", str(tmp_path / "x.svg"), "--slips"], "slips are a PDF"),
    ):
        failed = run(*options, "--", target)  # the token may start with '-'
        assert failed.returncode == 2, failed
        assert reason in failed.stderr and len(failed.stderr.strip().splitlines()) == 1


def test_slips_are_eight_per_page_and_each_code_its_own(tmp_path: Path) -> None:
    poster = posters.Poster(
        url="https://umfrage.example/s/abc",
        organization="Jobcenter",
        office="Mitte",
        texts=posters.poster_texts(["de", "ar"]),
    )
    plain = _qr_texts(posters.slips_pdf(poster), tmp_path / "plain")
    assert plain == ["https://umfrage.example/s/abc"] * 8
    made = [codes.new_code() for _ in range(9)]
    sheets = tmp_path / "codes"
    coded = _qr_texts(posters.slips_pdf(poster, made), sheets)
    assert len(list(sheets.glob("page*.png"))) == 2, "9 codes: a second page"
    assert sorted(coded) == sorted(f"https://umfrage.example/s/abc?code={c}" for c in made)


async def test_the_links_page_creates_a_link_with_codes_and_prints_its_slips(
    staff: StaffClient, tmp_path: Path
) -> None:
    from survey.tables import Link, OfficeService

    org = await make_organization()
    template = await make_link(await make_office(organization=org))
    await OfficeService(office=template.office_id, service_type=template.service_type).save()
    await _staff_of(staff, org)
    csrf = await staff.csrf()
    made = await staff.client.post(
        "/manage/links",
        data={
            "csrf_token": csrf,
            "office_id": str(template.office_id),
            "version_id": str(template.version_id),
            "service_type": template.service_type,
            "mode": "personal",
            "idle_seconds": "90",
            "codes_required": "1",
        },
    )
    assert made.status_code == 303, made.text
    row = await Link.select().where(Link.id > template.id).first()
    assert row is not None and row["codes_required"] and row["idle_seconds"] == 90
    page = (await staff.client.get(made.headers["location"])).text
    token = row["token"]
    for href in (f"/api/v1/links/{token}/poster.pdf", f"/api/v1/links/{token}/slips.pdf"):
        assert f'href="{href}"' in page
        assert (await staff.client.get(href)).status_code == 200
    assert f'action="/api/v1/links/{token}/code-slips.pdf"' in page
    forged = await staff.client.post(
        f"/api/v1/links/{token}/code-slips.pdf", data={"csrf_token": "forged"}
    )
    assert forged.status_code == 403 and await SlipCode.count() == 0
    slips = await staff.client.post(
        f"/api/v1/links/{token}/code-slips.pdf", data={"csrf_token": csrf}
    )
    assert slips.status_code == 201 and await SlipCode.count() == 8
    assert len(_qr_texts(slips.content, tmp_path)) == 8


def test_the_poster_languages_of_the_schema_are_the_respondent_languages() -> None:
    import typing

    from survey.i18n import RESPOND_LOCALES
    from survey.manage.schemas import PosterLanguage

    assert typing.get_args(PosterLanguage) == RESPOND_LOCALES
