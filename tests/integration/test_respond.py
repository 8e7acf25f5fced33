"""A client answers the survey: pages, the JSON API, and what bad input gets."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import time
import uuid

import httpx
import msgspec
import pytest
from litestar import Litestar

from survey.questionnaire import check_answers
from survey.respond.queries import set_link_active
from survey.respond.stamp import make_stamp
from survey.respond.store import Submission, make_store, make_submission
from survey.settings import Settings
from survey.tables import (
    Answer,
    AuditLog,
    DailyCount,
    Link,
    QuestionnaireVersion,
    Response,
    TextAnswer,
)
from tests.builders import (
    FULL_ANSWERS,
    STANDARD,
    make_bank_version,
    make_link,
    make_office,
    make_organization,
)
from tests.conftest import ONE_ENGINE, SECRET

Client = httpx.AsyncClient


def _form(submission_id: str, **answers: object) -> dict[str, str]:
    return {"submission_id": submission_id, "lang": "de", **{k: str(v) for k, v in answers.items()}}


def _stamp(token: str, age: float = 60) -> str:
    """The signed issue time of a page served `age` seconds ago."""
    return make_stamp(SECRET, token, time.time() - age)


def _payload(token: str, submission_id: str | None = None, **answers: object) -> dict[str, object]:
    return {
        "link": token,
        "submission_id": submission_id or str(uuid.uuid4()),
        "locale": "de",
        "answers": answers or dict(FULL_ANSWERS),
        "issued": _stamp(token),
    }


async def test_it_renders_the_survey_in_german_without_cookies(client: Client) -> None:
    link = await make_link()
    page = await client.get(f"/s/{link.token}")
    assert page.status_code == 200
    assert '<html lang="de" dir="ltr">' in page.text
    assert "Ich wurde respektvoll behandelt." in page.text
    assert 'name="submission_id"' in page.text
    assert "set-cookie" not in page.headers
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert not re.search(r'(src|href)="(https?:)?//', page.text), "no third-party requests"


@ONE_ENGINE  # what the page says or sends: not SQL (docs/testing.md)
async def test_it_speaks_the_language_of_the_query_or_the_browser(client: Client) -> None:
    link = await make_link()
    by_query = await client.get(f"/s/{link.token}?lang=en")
    by_header = await client.get(f"/s/{link.token}", headers={"accept-language": "en-GB,en;q=0.8"})
    unknown = await client.get(f"/s/{link.token}?lang=xx-unknown")
    assert "I was treated with respect." in by_query.text
    assert '<html lang="en"' in by_header.text
    assert unknown.status_code == 200
    assert '<html lang="de"' in unknown.text


async def test_it_stores_a_form_submission_once_and_thanks(client: Client) -> None:
    link = await make_link()
    sid = str(uuid.uuid4())
    answers = {**FULL_ANSWERS, "comment": "Alles gut"}
    first = await client.post(f"/s/{link.token}", data=_form(sid, **answers))
    again = await client.post(f"/s/{link.token}", data=_form(sid, **answers))
    assert first.status_code == 303
    assert again.status_code == 303
    assert first.headers["location"] == f"/s/{link.token}/thanks?lang=de"
    thanks = await client.get(first.headers["location"])
    assert "Vielen Dank" in thanks.text
    assert await Response.count() == 1
    assert await Answer.count() == len(FULL_ANSWERS)
    assert await TextAnswer.count() == 1


async def test_it_asks_once_before_sending_a_form_with_questions_left_out(
    client: Client,
) -> None:
    link = await make_link()
    sid = str(uuid.uuid4())
    partial = {"respect": 4, "overall": 5}
    asked = await client.post(f"/s/{link.token}", data={**_form(sid, **partial), "lang": "en"})
    assert asked.status_code == 200
    assert asked.headers["content-type"] == "text/html; charset=utf-8"
    assert 'data-testid="confirm"' in asked.text and "Send anyway" in asked.text
    confirm = asked.text.split('data-testid="confirm"')[1].split("</div>")[0]
    assert " hidden" not in confirm.split(">")[0], "shown without JavaScript"
    assert '<a href="#q-understood">Question 2</a>' in confirm
    assert "#q-respect" not in confirm and "#q-comment" not in confirm
    assert 'value="4" checked' in asked.text, "given answers are kept"
    assert f'value="{sid}"' in asked.text, "the same submission id goes with the second send"
    assert await Response.count() == 0
    sent = await client.post(
        f"/s/{link.token}", data={**_form(sid, **partial), "lang": "en", "incomplete": "1"}
    )
    assert sent.status_code == 303
    stored = await Answer.select(Answer.item, Answer.value).order_by(Answer.item)
    assert stored == [{"item": "overall", "value": 5}, {"item": "respect", "value": 4}]


async def test_it_makes_every_scale_question_optional_and_says_so_once(client: Client) -> None:
    link = await make_link()
    page = (await client.get(f"/s/{link.token}?lang=en")).text
    assert "You may leave out any question." in page
    assert " required" not in page
    assert "(optional)" not in page, "no marker where nothing is required"
    hidden_confirm = page.split('data-testid="confirm"')[1].split(">")[0]
    assert " hidden" in hidden_confirm, "the script's copy waits hidden below the send button"
    assert page.index('data-testid="submit"') < page.index('data-testid="send-anyway"'), (
        "Enter in the form presses the send button, not 'send anyway'"
    )


async def test_a_bank_question_is_in_arabic_an_untranslated_one_marked_german_a_comment_optional(
    client: Client,
) -> None:
    version, definition = await make_bank_version(("language_help", "reachable"))
    raw = msgspec.to_builtins(definition)
    for item in raw["items"]:
        if item["code"] == "reachable":
            del item["text"]["ar"]  # a question the job centre has not had translated
        # the comment made compulsory before that was refused; a scale question compulsory
        item["required"] = item["type"] == "text" or item["code"] == "respect"
    await QuestionnaireVersion.update({QuestionnaireVersion.definition: raw}).where(
        QuestionnaireVersion.id == version
    )
    link = await make_link(version=version)
    page = (await client.get(f"/s/{link.token}?lang=ar")).text
    asked = page.split('id="q-language_help"')[1].split("</fieldset>")[0]
    assert "هل كنت بحاجة إلى مساعدة في اللغة؟" in asked and "نعم" in asked
    assert '<span lang="de" dir="ltr" data-testid="untranslated">Ich habe das Jobcenter' in page
    assert page.count('data-testid="untranslated"') == 1
    comment = page.split('id="q-comment"')[1].split("</div>")[0]
    assert " required" not in comment and 'class="optional"' in comment
    assert "يمكنك ترك الأسئلة المشار إليها بأنها اختيارية" in page, "not: leave out any question"
    answers = {**FULL_ANSWERS, "language_help": 1, "reachable": 4}
    sent = await client.post(f"/s/{link.token}", data=_form(str(uuid.uuid4()), **answers))
    assert sent.status_code == 303, "the comment left empty"


async def test_it_sends_an_empty_form_after_the_question_and_flags_it_when_fast(
    client: Client,
) -> None:
    link = await make_link()
    page = await client.get(f"/s/{link.token}")
    issued = re.search(r'name="issued" value="([^"]+)"', page.text)
    assert issued
    form = {"submission_id": str(uuid.uuid4()), "lang": "de", "issued": issued[1]}
    assert (await client.post(f"/s/{link.token}", data=form)).status_code == 200
    sent = await client.post(f"/s/{link.token}", data={**form, "incomplete": "1"})
    assert sent.status_code == 303
    assert await Response.select(Response.flagged) == [{"flagged": True}]


async def test_it_serves_kiosk_links_on_the_kiosk_path_only(client: Client) -> None:
    kiosk = await make_link(mode="kiosk")
    personal = await make_link(mode="personal")
    assert (await client.get(f"/k/{kiosk.token}")).status_code == 200
    wrong = await client.get(f"/k/{personal.token}")
    assert wrong.status_code == 404
    assert "kein Kiosk-Link" in wrong.text
    # a kiosk's token on the personal path would get the kiosk's burst of answers per address
    sid = str(uuid.uuid4())
    for answer in (
        await client.get(f"/s/{kiosk.token}"),
        await client.head(f"/s/{kiosk.token}"),
        await client.post(f"/s/{kiosk.token}", data=_form(sid, **FULL_ANSWERS)),
        await client.get(f"/s/{kiosk.token}/thanks"),
    ):
        assert answer.status_code == 404, answer.request.url
    assert await Response.count() == 0
    head = await client.head(f"/s/{personal.token}")
    assert (head.status_code, head.content) == (200, b""), "HEAD is GET without the body"
    assert int(head.headers["content-length"]) > 1000
    form = {**_form(str(uuid.uuid4()), **FULL_ANSWERS), "lang": "uk"}
    thanks = await client.post(f"/k/{kiosk.token}", data=form)
    # the kiosk's thank-you is the POST's answer: no address with the client's language
    assert thanks.status_code == 200 and "location" not in thanks.headers
    assert '<html lang="uk"' in thanks.text and 'data-testid="thanks"' in thanks.text
    row = await Response.select(Response.mode).first()
    assert row == {"mode": "kiosk"}
    assert f'href="/k/{kiosk.token}/next"' in thanks.text, (
        "the next client does not inherit the language"
    )
    assert f'content="8;url=/k/{kiosk.token}/next"' in thanks.text
    assert "lang=" not in thanks.text.split('data-again-url="')[1].split('"')[0]
    # that start screen empties the browser's back-forward cache, the first one does not
    next_client = await client.get(f"/k/{kiosk.token}/next")
    assert '<html lang="de"' in next_client.text and 'data-testid="kiosk-start"' in next_client.text
    assert next_client.headers["clear-site-data"] == '"cache"'
    assert next_client.headers["cache-control"] == "no-store"
    assert "clear-site-data" not in (await client.get(f"/k/{kiosk.token}")).headers
    assert (await client.get(f"/k/{personal.token}/next")).status_code == 404
    # the same answers again (a reload of that page): thanked in the tablet's language
    again = await client.post(f"/k/{kiosk.token}", data=form)
    assert (again.status_code, again.headers["location"]) == (303, f"/k/{kiosk.token}/thanks")
    assert '<html lang="de"' in (await client.get(again.headers["location"])).text
    assert await Response.count() == 1


async def test_it_refuses_unknown_and_inactive_links_with_a_reason(client: Client) -> None:
    inactive = await make_link(active=False)
    for token, status, reason in (
        ("does-not-exist", 404, "unknown or no longer active"),
        (inactive.token, 410, "This survey has ended."),
    ):
        page = await client.get(f"/s/{token}?lang=en")
        assert page.status_code == status
        assert reason in page.text
        api = await client.post("/api/v1/responses", json={**_payload(token), "locale": "uk"})
        assert api.status_code == status
        assert reason in api.json()["detail"]
        assert api.json()["message"] != api.json()["detail"], "also in the client's language"
    assert await Response.count() == 0


async def test_a_link_is_read_with_its_office_job_centre_and_version_as_the_tables_say(
    client: Client,
) -> None:
    """`find_link` reads a link with one statement written out (LINK_BY_TOKEN): the same row
    as Piccolo's select of the same joins, on both engines, for a link switched on and one
    switched off (with its time), found by its token in any case."""
    from survey.demo import ensure_standard_questionnaire
    from survey.respond.queries import find_link

    async def piccolo(token: str) -> dict[str, object] | None:
        return await (
            Link.select(
                Link.id,
                Link.token,
                Link.office._.id.as_alias("office_id"),
                Link.office._.name.as_alias("office"),
                Link.office._.organization._.name.as_alias("organization"),
                Link.version._.id.as_alias("version_id"),
                Link.version._.number.as_alias("version"),
                Link.service_type,
                Link.mode,
                Link.active,
                Link.office._.organization._.id.as_alias("organization_id"),
                Link.deactivated_at,
                Link.idle_seconds,
                Link.codes_required,
            )
            .where(Link.token == token)
            .first()
        )

    # ids that differ from each other: office 4 of job centre 3, version 2 (its number 1)
    for _ in range(2):
        await make_office(organization=await make_organization())
    centre = await make_organization()
    await make_office(organization=centre)
    await ensure_standard_questionnaire()  # version 1
    version, _ = await make_bank_version()
    kiosk = await make_link(
        await make_office(organization=centre),
        mode="kiosk",
        service_type="placement",
        codes_required=True,
        version=version,
    )
    assert len({kiosk.office_id, kiosk.organization_id, kiosk.version_id, kiosk.version}) == 4
    off = await make_link()
    assert await set_link_active(off.token, False)
    for link in (kiosk, off):
        expected = await piccolo(link.token)
        assert expected is not None
        at = expected["deactivated_at"]  # SQLite: text
        if isinstance(at, str):
            at = dt.datetime.fromisoformat(at)
        if isinstance(at, dt.datetime):
            expected["deactivated_at"] = (
                at if at.tzinfo else at.replace(tzinfo=dt.UTC)
            ).timestamp()
        assert (at is None) == (link is kiosk)
        found = await find_link(link.token)
        assert found is not None and msgspec.structs.asdict(found) == expected
        assert await find_link(link.token.upper()) == found
    assert await find_link("no-such-token") is None


async def test_it_gives_the_questionnaire_as_json(client: Client) -> None:
    link = await make_link()
    body = (await client.get(f"/api/v1/links/{link.token}/questionnaire?lang=en")).json()
    assert body["locale"] == "en"
    items = {i["code"]: i for i in body["items"]}
    assert items["respect"] == {
        "code": "respect",
        "type": "scale",
        "text": "I was treated with respect.",
        "required": False,
        "min": 1,
        "max": 5,
        "labels": {
            "1": "strongly disagree",
            "2": "disagree",
            "3": "neither",
            "4": "agree",
            "5": "strongly agree",
        },
    }
    assert items["recommend"]["min"] == 0 and items["recommend"]["max"] == 10
    assert items["comment"]["type"] == "text"
    assert re.fullmatch(r"[0-9]+\.[A-Za-z0-9_-]+", body["issued"]), "a stamp to send back"


async def test_it_stores_an_api_submission_once_and_replays_the_same_body(client: Client) -> None:
    link = await make_link()
    payload = _payload(link.token)
    first = await client.post("/api/v1/responses", json=payload)
    second = await client.post("/api/v1/responses", json=payload)
    assert first.status_code == 201
    assert second.status_code == 200
    assert (
        first.json()
        == second.json()
        == {"submission_id": payload["submission_id"], "link": link.token, "status": "stored"}
    )
    assert await Response.count() == 1


async def test_it_refuses_a_replayed_id_with_other_answers_and_keeps_the_first(
    client: Client,
) -> None:
    link = await make_link()
    sid = str(uuid.uuid4())
    assert (
        await client.post("/api/v1/responses", json=_payload(link.token, sid))
    ).status_code == 201
    changed = _payload(link.token, sid, **{**FULL_ANSWERS, "respect": 1})
    refused = await client.post("/api/v1/responses", json=changed)
    assert refused.status_code == 409
    assert "different answers" in refused.json()["detail"]
    stored = await Answer.select(Answer.value).where(Answer.item == "respect")
    assert stored == [{"value": FULL_ANSWERS["respect"]}]


async def test_it_names_the_offending_item_codes(client: Client) -> None:
    link = await make_link()
    answers = {**FULL_ANSWERS, "respect": 6, "colour": 3, "overall": "5"}
    refused = await client.post("/api/v1/responses", json=_payload(link.token, **answers))
    assert refused.status_code == 422
    assert refused.json()["errors"] == {
        "respect": "out_of_range",
        "colour": "unknown_item",
        "overall": "not_an_integer",
    }
    assert await Response.count() == 0


async def test_it_refuses_malformed_bodies_with_a_reason(client: Client, app: Litestar) -> None:
    link = await make_link()
    url = "/api/v1/responses"
    cases = [
        (
            await client.post(
                url, content=b"{not json", headers={"content-type": "application/json"}
            ),
            400,
            "Malformed JSON",
        ),
        (
            await client.post(url, content=b"link=x", headers={"content-type": "text/plain"}),
            415,
            "application/json",
        ),
        (
            await client.post(
                url, json={"link": link.token, "submission_id": "nope", "answers": {}}
            ),
            400,
            "submission_id",
        ),
        (await client.post(url, json={**_payload(link.token), "ip": "1.2.3.4"}), 400, "ip"),
        (await client.post(url, json=[1, 2]), 400, "Invalid response"),
        (
            await client.post(
                url,
                content=b"{" + b" " * 40_000 + b"}",
                headers={"content-type": "application/json"},
            ),
            413,
            "larger than",
        ),
    ]
    for response, status, reason in cases:
        assert response.status_code == status, response.text
        assert reason in response.json()["detail"]
    assert await Response.count() == 0


async def test_it_stores_200_concurrent_submissions_and_counts_them_exactly(
    client: Client,
) -> None:
    link = await make_link()
    payloads = [_payload(link.token, **{**FULL_ANSWERS, "respect": 1 + i % 5}) for i in range(200)]
    answers = await asyncio.gather(*(client.post("/api/v1/responses", json=p) for p in payloads))
    assert [a.status_code for a in answers] == [201] * 200
    assert await Response.count() == 200
    raw = await Answer.raw(
        "SELECT item, value, COUNT(*) AS n FROM answer GROUP BY item, value ORDER BY item, value"
    )
    counted = await DailyCount.raw(
        "SELECT item, value, SUM(n) AS n FROM daily_count WHERE item <> '_index' "
        "GROUP BY item, value ORDER BY item, value"
    )
    assert [dict(r) for r in raw] == [dict(r) for r in counted]
    assert {r["value"]: r["n"] for r in raw if r["item"] == "respect"} == {
        v: 40 for v in range(1, 6)
    }


async def test_it_stores_no_address_or_user_agent(client: Client) -> None:
    link = await make_link()
    marker = "Resonanz-Test-Agent/1.0"
    await client.post(
        "/api/v1/responses",
        json=_payload(link.token),
        headers={"user-agent": marker, "x-forwarded-for": "203.0.113.9"},
    )
    columns = {c._meta.db_column_name for c in Response._meta.columns}
    assert not columns & {"ip", "ip_address", "user_agent", "address"}
    rows = await Response.select()
    assert marker not in repr(rows) and "203.0.113.9" not in repr(rows)
    assert "203.0.113.7" not in repr(rows)


@ONE_ENGINE  # what the page says or sends: not SQL (docs/testing.md)
async def test_it_answers_health_and_openapi(client: Client) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    for path in ("/healthz", "/readyz", "/login"):  # monitors probe with HEAD
        head = await client.head(path)
        assert (head.status_code, head.content) == (200, b""), path
        assert int(head.headers["content-length"]) > 0
    assert (await client.head("/api/v1/responses")).status_code == 405, "no GET there either"
    root = await client.get("/")
    assert (root.status_code, root.headers["location"]) == (303, "/dashboard")
    schema = (await client.get("/schema/openapi.json")).json()
    assert "/api/v1/responses" in schema["paths"]
    assert (await client.get("/schema/openapi.yaml")).status_code == 200
    assert (await client.get("/schema/swagger")).status_code == 404, "no page that loads a CDN"


@ONE_ENGINE  # what the page says or sends: not SQL (docs/testing.md)
async def test_it_sets_no_cookie_anywhere_a_respondent_goes(client: Client) -> None:
    link = await make_link(mode="kiosk")
    personal = await make_link()
    sid = str(uuid.uuid4())
    answers = [
        await client.get(f"/s/{personal.token}"),
        await client.get(f"/k/{link.token}"),
        await client.post(f"/k/{link.token}", data=_form(sid, **FULL_ANSWERS)),
        await client.get(f"/k/{link.token}/thanks"),
        await client.get(f"/api/v1/links/{link.token}/questionnaire"),
        await client.post("/api/v1/responses", json=_payload(link.token)),
        await client.get("/static/css/respond.css"),
        await client.get("/s/unknown-token"),
    ]
    for answer in answers:
        assert "set-cookie" not in answer.headers, answer.request.url
        assert "content-security-policy" in answer.headers, answer.request.url


@ONE_ENGINE  # what the page says or sends: not SQL (docs/testing.md)
async def test_it_logs_requests_without_the_client_address(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    link = await make_link()
    with caplog.at_level(logging.INFO, logger="resonanz.access"):
        await client.post("/api/v1/responses", json=_payload(link.token))
        await client.get("/login")
    lines = [r.getMessage() for r in caplog.records if r.name == "resonanz.access"]
    # respondent requests are not logged at all (tests/integration/test_access_log.py)
    assert len(lines) == 1 and "GET /login" in lines[0] and "200" in lines[0]
    assert not any("203.0.113.7" in line for line in lines)


@ONE_ENGINE  # what the page says or sends: not SQL (docs/testing.md)
async def test_it_explains_a_bad_link_in_the_respondents_language(client: Client) -> None:
    page = await client.get("/s/no-such-link?lang=uk")
    assert page.status_code == 404
    assert '<html lang="uk"' in page.text
    assert "unknown or no longer active" not in page.text


async def test_it_refuses_bad_form_input_with_a_reason_and_stores_nothing(client: Client) -> None:
    link = await make_link()
    url = f"/s/{link.token}"
    no_id = await client.post(url, data={k: str(v) for k, v in FULL_ANSWERS.items()})
    bad_id = await client.post(url, data=_form("not-a-uuid", **FULL_ANSWERS))
    superscript = await client.post(
        url, data=_form(str(uuid.uuid4()), **{**FULL_ANSWERS, "respect": "²"})
    )
    out_of_range = await client.post(
        url, data=_form(str(uuid.uuid4()), **{**FULL_ANSWERS, "respect": "7"})
    )
    nul = await client.post(url, data=_form(str(uuid.uuid4()), **FULL_ANSWERS, comment="a\x00b"))
    huge = await client.post(
        url, data=_form(str(uuid.uuid4()), **FULL_ANSWERS, comment="x" * 40_000)
    )
    assert no_id.status_code == bad_id.status_code == 400
    assert "Formular ist unvollständig" in bad_id.text
    for page in (superscript, out_of_range, bad_id):
        assert page.headers["content-type"] == "text/html; charset=utf-8"
    for page in (superscript, out_of_range):
        assert page.status_code == 422
        assert 'id="err-respect"' in page.text
    assert nul.status_code == 422 and 'id="err-comment"' in nul.text
    assert huge.status_code == 413
    assert await Response.count() == 0


async def test_it_refuses_a_resent_form_with_other_answers(client: Client) -> None:
    link = await make_link()
    sid = str(uuid.uuid4())
    first = await client.post(f"/s/{link.token}", data=_form(sid, **FULL_ANSWERS))
    other = await client.post(f"/s/{link.token}", data=_form(sid, **{**FULL_ANSWERS, "overall": 1}))
    assert first.status_code == 303
    assert other.status_code == 409
    assert "bereits mit anderem Inhalt" in other.text
    ukrainian = await client.post(
        f"/s/{link.token}",
        data={**_form(sid, **{**FULL_ANSWERS, "overall": 1}), "lang": "uk"},
        headers={"accept-language": "de"},
    )
    assert ukrainian.status_code == 409 and '<html lang="uk"' in ukrainian.text, (
        "the form's language, as on the other refusals, not the browser's"
    )
    stray = await client.post(
        f"/s/{link.token}", data=_form(str(uuid.uuid4()), **FULL_ANSWERS, weather="5")
    )
    assert stray.status_code == 422
    assert "Diese Frage gehört nicht zur Umfrage." in stray.text, "the summary says what is wrong"
    assert await Answer.select(Answer.value).where(Answer.item == "overall") == [
        {"value": FULL_ANSWERS["overall"]}
    ]


async def test_it_refuses_text_with_control_characters_and_stores_an_unknown_locale_as_german(
    client: Client,
) -> None:
    link = await make_link()
    nul = await client.post(
        "/api/v1/responses", json=_payload(link.token, **FULL_ANSWERS, comment="a\u0000b")
    )
    assert nul.status_code == 422
    assert nul.json()["errors"] == {"comment": "not_text"}
    unknown = {**_payload(link.token), "locale": "xx-YY"}
    assert (await client.post("/api/v1/responses", json=unknown)).status_code == 201
    assert await Response.select(Response.locale) == [{"locale": "de"}]


async def test_it_keeps_staff_writes_and_submissions_moving_together(
    client: Client, settings: Settings
) -> None:
    """A Piccolo write beside the response writer must not lock either out (SQLite's single
    writer waits for the other's commit without blocking the loop that has to finish it)."""
    link = await make_link()

    async def staff_writes() -> None:
        for i in range(20):
            await AuditLog(at=dt.datetime.now(dt.UTC), action="test", detail={"i": i}).save()

    answers, _ = await asyncio.wait_for(
        asyncio.gather(
            asyncio.gather(
                *(client.post("/api/v1/responses", json=_payload(link.token)) for _ in range(40))
            ),
            staff_writes(),
        ),
        timeout=60,
    )
    assert [a.status_code for a in answers] == [201] * 40
    assert await AuditLog.count() == 20


async def test_it_lets_two_writers_commit_overlapping_batches_without_deadlock(
    client: Client, app: Litestar
) -> None:
    """Several app processes (PostgreSQL) or an extra writer: count rows lock in one order."""
    offices = [await make_link() for _ in range(3)]
    definition = STANDARD

    def batch(reverse: bool) -> list[Submission]:
        links = offices[::-1] if reverse else offices
        return [
            make_submission(
                link, uuid.uuid4(), "de", check_answers(definition, FULL_ANSWERS), definition
            )
            for _ in range(20)
            for link in links
        ]

    stores = [make_store(app.state.engine), make_store(app.state.engine)]
    results = await asyncio.wait_for(
        asyncio.gather(*(stores[i % 2].commit(batch(i % 2 == 1)) for i in range(12))),
        timeout=60,
    )
    for store in stores:
        await store.close()
    assert all(outcome == "created" for r in results for outcome in r)
    assert await Response.count() == 12 * 60
    counted = await DailyCount.raw("SELECT SUM(n) AS n FROM daily_count WHERE item = 'overall'")
    assert counted[0]["n"] == 12 * 60


async def test_a_batch_stores_each_submission_once_with_its_counts(
    client: Client, app: Litestar
) -> None:
    """New, resent (same and other answers, in the batch and from before), flagged and
    commented submissions in one batch: each response, answer, text and count stored once."""
    link = await make_link()

    def sub(sid: str, overall: int = 4, comment: str = "", flagged: bool = False) -> Submission:
        answers = {**FULL_ANSWERS, "overall": overall, **({"comment": comment} if comment else {})}
        checked = check_answers(STANDARD, answers)
        return make_submission(link, uuid.UUID(sid), "de", checked, STANDARD, flagged=flagged)

    ids = [str(uuid.uuid5(uuid.NAMESPACE_OID, f"batch-{i}")) for i in range(6)]
    store = make_store(app.state.engine)
    assert await store.commit([sub(ids[0]), sub(ids[1], overall=2)]) == ["created", "created"]
    batch = [
        sub(ids[0]),  # stored before, same answers
        sub(ids[1], overall=5),  # stored before, other answers
        sub(ids[2], comment="freundlich"),
        sub(ids[2], comment="freundlich"),  # sent twice in the batch
        sub(ids[3], overall=1),
        sub(ids[3], overall=2),  # the same id with other answers in the batch
        sub(ids[4], flagged=True),
        sub(ids[5], overall=5),
    ]
    outcomes = await store.commit(batch)
    await store.close()
    assert outcomes == [
        "duplicate", "conflict", "created", "duplicate", "created", "conflict", "created",
        "created",
    ]  # fmt: skip
    assert await Response.count() == 6
    assert await Answer.count() == 6 * len(FULL_ANSWERS)
    assert await TextAnswer.select(TextAnswer.text) == [{"text": "freundlich"}]
    overall = await DailyCount.select(DailyCount.value, DailyCount.n).where(
        DailyCount.item == "overall"
    )
    # the flagged response is stored but not counted; ids[3] keeps its first answers
    assert sorted((r["value"], r["n"]) for r in overall) == [(1, 1), (2, 1), (4, 2), (5, 1)]
    keys = await DailyCount.select(DailyCount.key_sum).where(
        (DailyCount.item == "overall") & (DailyCount.value == 5)
    )
    assert keys == [{"key_sum": batch[-1].record_key}]


async def test_two_writers_given_the_same_batch_store_it_once(
    client: Client, app: Litestar
) -> None:
    """Two app processes that both got the same resent submissions: one stores each, the
    other answers duplicate (on PostgreSQL the second waits for the first's commit)."""
    link = await make_link()
    checked = check_answers(STANDARD, FULL_ANSWERS)
    batch = [make_submission(link, uuid.uuid4(), "de", checked, STANDARD) for _ in range(50)]
    stores = [make_store(app.state.engine), make_store(app.state.engine)]
    warm = [[make_submission(link, uuid.uuid4(), "de", checked, STANDARD)] for _ in stores]
    await asyncio.gather(*(store.commit(w) for store, w in zip(stores, warm, strict=True)))
    results = await asyncio.gather(*(store.commit(batch) for store in stores))
    for store in stores:
        await store.close()
    for pair in zip(*results, strict=True):
        assert sorted(pair) == ["created", "duplicate"]
    assert await Response.count() == 52
    counted = await DailyCount.raw("SELECT SUM(n) AS n FROM daily_count WHERE item = 'overall'")
    assert counted[0]["n"] == 52


async def test_it_refuses_forged_stamps_with_a_reason_and_stores_nothing(client: Client) -> None:
    link = await make_link()
    other = await make_link()
    good = _stamp(link.token)
    issued, mac = good.split(".")
    forged = [
        f"{int(issued) - 3600}.{mac}",  # an older time under the same signature
        _stamp(other.token),  # signed for another link
        make_stamp("another-secret-that-is-long-enough-0123456789", link.token, time.time() - 60),
        make_stamp(SECRET, link.token, time.time() + 3600),  # from the future
        "12345",
        "x" * 300,
    ]
    for stamp in forged:
        api = await client.post(
            "/api/v1/responses", json={**_payload(link.token), "issued": stamp, "locale": "de"}
        )
        assert api.status_code == 400, stamp
        assert "nicht von dieser Umfrage" in api.json()["message"]
        page = await client.post(
            f"/s/{link.token}", data={**_form(str(uuid.uuid4()), **FULL_ANSWERS), "issued": stamp}
        )
        assert page.status_code == 400
        assert "nicht von dieser Umfrage" in page.text
    assert await Response.count() == 0


async def test_it_flags_fast_and_unsigned_answers_and_keeps_them_out_of_the_counts(
    client: Client,
) -> None:
    link = await make_link()
    cases = {"slow": _stamp(link.token, 60), "fast": _stamp(link.token, 1), "unsigned": None}
    for name, stamp in cases.items():
        body = {**_payload(link.token, str(uuid.uuid5(uuid.NAMESPACE_OID, name))), "issued": stamp}
        assert (await client.post("/api/v1/responses", json=body)).status_code == 201
    flags = {
        str(r["submission_id"]): r["flagged"]
        for r in await Response.select(Response.submission_id, Response.flagged)
    }
    assert flags == {
        str(uuid.uuid5(uuid.NAMESPACE_OID, "slow")): False,
        str(uuid.uuid5(uuid.NAMESPACE_OID, "fast")): True,
        str(uuid.uuid5(uuid.NAMESPACE_OID, "unsigned")): True,
    }
    counted = await DailyCount.raw("SELECT SUM(n) AS n FROM daily_count WHERE item = 'overall'")
    assert counted[0]["n"] == 1, "only the unflagged response is counted for the dashboards"


async def test_a_deactivated_link_takes_only_answers_from_pages_served_before(
    client: Client,
) -> None:
    link = await make_link(mode="kiosk")
    before = _stamp(link.token, 600)
    assert await set_link_active(
        link.token, False, now=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=300)
    )
    after = _stamp(link.token, 60)
    queued = await client.post("/api/v1/responses", json={**_payload(link.token), "issued": before})
    assert queued.status_code == 201
    again = await client.post("/api/v1/responses", json={**_payload(link.token), "issued": before})
    assert again.status_code == 201, "each queued answer from before, not only one"
    for stamp in (after, None):
        refused = await client.post(
            "/api/v1/responses", json={**_payload(link.token), "issued": stamp, "locale": "en"}
        )
        assert refused.status_code == 410
        assert refused.json()["message"] == (
            "This survey has ended. Thank you for wanting to take part."
        )
    form = await client.post(
        f"/k/{link.token}", data={**_form(str(uuid.uuid4()), **FULL_ANSWERS), "issued": after}
    )
    assert form.status_code == 410 and "Diese Umfrage ist beendet" in form.text
    assert form.headers["content-type"] == "text/html; charset=utf-8"
    page = await client.get(f"/k/{link.token}")
    assert page.status_code == 410
    assert await Response.count() == 2
    assert await set_link_active(link.token, True)
    assert (await client.get(f"/k/{link.token}")).status_code == 200
    assert not await set_link_active("no-such-link", False)


async def test_a_form_is_read_as_utf8_and_bytes_that_are_not_are_refused(client: Client) -> None:
    """A tester's finding: the raw bytes ff fe as a comment were stored as "ÿþ" (the body was
    read as Latin-1, so raw UTF-8 from a client that does not escape became "Ã¼" too)."""
    link = await make_link()
    form = {**_form(str(uuid.uuid4()), **FULL_ANSWERS), "issued": _stamp(link.token)}
    body = "&".join(f"{k}={v}" for k, v in form.items()).encode()
    headers = {"content-type": "application/x-www-form-urlencoded", "accept-language": "de"}
    refused = await client.post(f"/s/{link.token}", content=body + b"&comment=\xff\xfe",
                                headers=headers)  # fmt: skip
    assert refused.status_code == 400 and "Bitte laden Sie die Umfrage neu" in refused.text
    assert await Response.count() == 0
    raw = await client.post(f"/s/{link.token}", content=body + "&comment=Grüße".encode(),
                            headers=headers)  # fmt: skip
    assert raw.status_code == 303
    assert [r["text"] for r in await TextAnswer.select(TextAnswer.text)] == ["Grüße"]


async def test_answers_taken_after_the_link_was_switched_off_are_thanked_for(
    client: Client,
) -> None:
    link = await make_link()
    before = _stamp(link.token, 600)
    assert await set_link_active(
        link.token, False, now=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=300)
    )
    form = {**_form(str(uuid.uuid4()), **FULL_ANSWERS), "issued": before, "lang": "tr"}
    sent = await client.post(f"/s/{link.token}", data=form)
    assert (sent.status_code, sent.headers["location"]) == (303, f"/s/{link.token}/thanks?lang=tr")
    thanks = await client.get(sent.headers["location"])
    assert thanks.status_code == 200 and 'data-testid="thanks"' in thanks.text
    assert '<html lang="tr"' in thanks.text and "sona erdi" not in thanks.text
    assert await Response.count() == 1
    assert (await client.get(f"/s/{link.token}")).status_code == 410, "no new answers"


@ONE_ENGINE  # what the page says or sends: not SQL (docs/testing.md)
async def test_every_respondent_page_links_to_the_privacy_notice_in_its_language(
    client: Client,
) -> None:
    link = await make_link(mode="kiosk")
    personal = await make_link()
    pages = [
        await client.get(f"/s/{personal.token}?lang=uk"),
        await client.get(f"/k/{link.token}?lang=uk"),
        await client.get(f"/s/{personal.token}/thanks?lang=uk"),
        await client.get(f"/k/{link.token}/thanks?lang=uk"),
        await client.post(f"/s/{personal.token}", data={**_form(str(uuid.uuid4())), "lang": "uk"}),
        await client.get("/s/no-such-link?lang=uk"),
    ]
    for answer in pages:
        assert "?lang=uk" in answer.text.split('data-testid="privacy"')[0].rsplit("href=", 1)[1]
        assert ">Захист даних</a>" in answer.text, answer.request.url
    notice = await client.get(f"/s/{link.token}/privacy?lang=uk")
    assert notice.status_code == 200 and "no-store" in notice.headers["cache-control"]
    assert '<html lang="uk"' in notice.text and "Ваші права" in notice.text
    assert "set-cookie" not in notice.headers


@ONE_ENGINE  # what the page says or sends: not SQL (docs/testing.md)
async def test_the_privacy_notice_names_who_is_responsible_per_job_centre_or_by_setting(
    client: Client, app: Litestar
) -> None:
    from survey.tables import Link, Organization

    link = await make_link()
    org = (
        await Link.select(Link.office.organization.id.as_alias("org"))
        .where(Link.token == link.token)
        .first()
    )
    assert org is not None
    german = await client.get(f"/s/{link.token}/privacy?lang=de")
    assert "Datenschutzhinweise" in german.text
    assert "Art. 6 Abs. 1 Buchst. e DSGVO" in german.text
    assert "über den Empfang" in german.text, "no officer configured: how to reach them anyway"
    await Organization.update(
        {
            Organization.privacy_controller: "Jobcenter Musterkreis\nHauptstraße 1\n"
            "12345 Musterstadt",
            Organization.privacy_officer: "datenschutz@jobcenter-musterkreis.example",
        }
    ).where(Organization.id == org["org"])
    english = await client.get(f"/s/{link.token}/privacy?lang=en")
    assert "Jobcenter Musterkreis<br>Hauptstraße 1<br>12345 Musterstadt" in english.text
    assert "datenschutz@jobcenter-musterkreis.example" in english.text
    assert "back-to-survey" not in english.text, "opened beside the survey, which stays"
    generic = await client.get("/privacy?lang=en")
    assert generic.status_code == 200 and "front desk of your job centre" in generic.text
    evil = "<script>alert(1)</script>"
    await Organization.update({Organization.privacy_officer: evil}).where(
        Organization.id == org["org"]
    )
    escaped = await client.get(f"/s/{link.token}/privacy?lang=en")
    assert evil not in escaped.text and "&lt;script&gt;" in escaped.text


@ONE_ENGINE  # what the page says or sends: not SQL (docs/testing.md)
async def test_the_kiosk_starts_with_a_button_per_language_in_its_own_script(
    client: Client,
) -> None:
    link = await make_link(mode="kiosk")
    start = await client.get(f"/k/{link.token}")
    assert start.status_code == 200 and start.headers["cache-control"] == "no-store"
    assert 'data-testid="kiosk-start"' in start.text
    assert 'name="submission_id"' not in start.text, "no questions before a language is chosen"
    for code, name in (("ar", "العربية"), ("uk", "Українська"), ("de-x-ls", "Leichte Sprache")):
        button = re.search(
            rf'<a class="choice" href="/k/{link.token}\?lang={code}&amp;visit=[\w-]{{16}}"[^>]*>',
            start.text,
        )
        assert button, code
        assert f'data-testid="choose-{code}">{name}</a>' in start.text
    assert 'lang="ar" hreflang="ar" dir="rtl"' in start.text
    assert f'href="/k/{link.token}/privacy?lang=de"' in start.text
    survey = await client.get(f"/k/{link.token}?lang=uk")
    assert 'data-kiosk-idle="60"' in survey.text, "the link's idle time, 60 s unless set"
    assert 'data-testid="kiosk-thanks" hidden' in survey.text
    assert 'target="_blank"' not in survey.text, "a kiosk opens no second window"
    assert 'autocomplete="off"' in survey.text


async def test_a_kiosk_visit_without_javascript_leaves_nothing_for_back_or_reload(
    client: Client,
) -> None:
    """After the reset, Back reached the form at /k/<token>?lang=ar (the last client's
    language) and the "send anyway?" page, which Reload sent again: its answers on screen.
    The start screen's language links carry a visit key; the form's submission id comes
    from it, so once that response is stored both lead to neutral pages in German."""
    link = await make_link(mode="kiosk")
    start = await client.get(f"/k/{link.token}")
    found = re.search(rf'href="/k/{link.token}\?lang=ar&amp;visit=([\w-]+)"', start.text)
    assert found
    visit = found[1]
    assert f"?lang=uk&amp;visit={visit}" in start.text, "one key for all the screen's languages"
    assert visit not in (await client.get(f"/k/{link.token}")).text, "a new key each time"
    form_url = f"/k/{link.token}?lang=ar&visit={visit}"
    survey = await client.get(form_url)
    sid = re.search(r'name="submission_id" value="([^"]+)"', survey.text)
    assert sid and uuid.UUID(sid[1]).version == 4
    assert visit not in sid[1], "the history's address does not give the id away"
    assert f'href="?lang=uk&amp;visit={visit}"' in survey.text, "a change of language keeps it"
    assert f'name="submission_id" value="{sid[1]}"' in (await client.get(form_url)).text
    answers = {
        **_form(sid[1], respect=5, comment="سري"),
        "lang": "ar",
        "visit": visit,
        "issued": _stamp(link.token),
    }
    confirm = await client.post(f"/k/{link.token}", data=answers)
    assert 'data-testid="send-anyway"' in confirm.text and "سري" in confirm.text
    assert f'href="?lang=uk&amp;visit={visit}"' in confirm.text
    thanks = await client.post(f"/k/{link.token}", data={**answers, "incomplete": "1"})
    assert '<html lang="ar"' in thanks.text and 'data-testid="thanks"' in thanks.text
    back = await client.get(form_url)
    assert (back.status_code, back.headers["location"]) == (303, f"/k/{link.token}")
    resent = await client.post(f"/k/{link.token}", data=answers)
    assert (resent.status_code, resent.headers["location"]) == (303, f"/k/{link.token}/thanks")
    assert resent.headers["cache-control"] == "no-store"
    assert await Response.count() == 1
    # not a key of ours, or a personal link: a form with a random id, as before
    for url in (f"/k/{link.token}?lang=ar&visit=<b>", f"/k/{link.token}?lang=ar&visit="):
        other = await client.get(url)
        assert other.status_code == 200 and "visit=" not in other.text, url
    personal = await make_link()
    page = await client.get(f"/s/{personal.token}?lang=ar&visit={visit}")
    assert page.status_code == 200 and "visit" not in page.text


@ONE_ENGINE  # what the page says or sends: not SQL (docs/testing.md)
async def test_a_kiosk_form_without_javascript_goes_back_to_the_start_after_ten_minutes(
    client: Client,
) -> None:
    """t23 #20: without a script the kiosk form never cleared itself. It cannot see a touch,
    so it goes back to the start after 10 minutes, not after the link's idle time (a slow
    reader's answers); a personal link's form never does."""
    link = await make_link(mode="kiosk")
    survey = (await client.get(f"/k/{link.token}?lang=ar")).text
    refresh = f'<noscript><meta http-equiv="refresh" content="600;url=/k/{link.token}"></noscript>'
    assert refresh in survey
    personal = await make_link()
    assert 'http-equiv="refresh"' not in (await client.get(f"/s/{personal.token}")).text
    # the script's warning before the idle reset: in the survey's language, 20 s before it
    assert 'role="alertdialog"' in survey and "هل ما زلت هنا؟" in survey
    assert 'data-kiosk-idle="60"' in survey and 'data-kiosk-warn="20"' in survey


@ONE_ENGINE  # what the page says or sends: not SQL (docs/testing.md)
async def test_the_kiosk_warning_says_its_seconds_in_each_languages_plural(
    client: Client,
) -> None:
    """r27: the warning's "seconds" took one plural for every count; Russian, Polish and
    Arabic say 20 and 3 seconds with different words. The shortest idle time (10 s) warns 3 s
    before the reset."""
    link = await make_link(mode="kiosk")
    short = await make_link(mode="kiosk")
    await Link.update({Link.idle_seconds: 10}).where(Link.token == short.token)
    cases = {
        (link.token, "ru"): "Через 20 секунд ",
        (short.token, "ru"): "Через 3 секунды ",
        (short.token, "uk"): "Через 3 секунди ",
        (link.token, "pl"): "Za 20 sekund ",
        (short.token, "pl"): "Za 3 sekundy ",
        (link.token, "ar"): "بعد 20 ثانية ",
        (short.token, "ar"): "بعد 3 ثوانٍ ",
        (short.token, "de"): "In 3 Sekunden ",
        (short.token, "en"): "In 3 seconds ",
    }
    for (token, lang), words in cases.items():
        survey = (await client.get(f"/k/{token}?lang={lang}")).text
        assert words in survey, (lang, token == short.token)


@ONE_ENGINE  # what the page says or sends: not SQL (docs/testing.md)
async def test_the_kiosk_service_worker_may_control_every_kiosk_page(client: Client) -> None:
    worker = await client.get("/k/sw.js")
    assert worker.status_code == 200
    assert worker.headers["content-type"].startswith("text/javascript")
    assert worker.headers["cache-control"] == "no-cache", "a new version reaches the tablets"
    assert worker.headers["service-worker-allowed"] == "/k/"
    assert "script-src 'self'" in worker.headers["content-security-policy"]
    assert "set-cookie" not in worker.headers


async def test_forty_identical_submissions_at_once_store_one_response(client: Client) -> None:
    link = await make_link(mode="kiosk")
    body = _payload(link.token)
    answers = await asyncio.gather(
        *(client.post("/api/v1/responses", json=body) for _ in range(40))
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] * 39 + [201]
    assert await Response.count() == 1
    assert await Answer.count() == len(FULL_ANSWERS)


async def test_rate_limits_answer_429_with_retry_after_in_the_clients_language(
    settings: Settings,
) -> None:
    from dataclasses import replace

    from survey.app import create_app, lifespan
    from survey.respond.limits import LIMITS

    app = create_app(replace(settings, rate_limits=True))

    def client_from(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(address, 4711))
        return httpx.AsyncClient(transport=transport, base_url="http://testserver.local")

    async with (
        lifespan(app),
        client_from("198.51.100.1") as phone,
        client_from("198.51.100.2") as other,
    ):
        personal = await make_link()
        burst = LIMITS[("address", "personal")].burst
        for _ in range(burst):
            ok = await phone.post("/api/v1/responses", json=_payload(personal.token))
            assert ok.status_code == 201
        limited = await phone.post(
            "/api/v1/responses", json={**_payload(personal.token), "locale": "ar"}
        )
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.json()["message"].startswith("تصل الآن إجابات كثيرة")
        form = await phone.post(
            f"/s/{personal.token}", data={**_form(str(uuid.uuid4()), **FULL_ANSWERS), "lang": "uk"}
        )
        assert form.status_code == 429 and "retry-after" in form.headers
        assert '<html lang="uk"' in form.text and "надходить дуже багато" in form.text
        assert (
            await other.post("/api/v1/responses", json=_payload(personal.token))
        ).status_code == 201
        kiosk = await make_link(mode="kiosk")
        queue = [_payload(kiosk.token) for _ in range(60)]  # a tablet back online
        sent = await asyncio.gather(*(phone.post("/api/v1/responses", json=p) for p in queue))
        assert [a.status_code for a in sent] == [201] * 60
        async with client_from("127.0.0.1") as nginx:  # the default trusted proxy
            for _ in range(burst):
                sent_on = await nginx.post(
                    "/api/v1/responses",
                    json=_payload(personal.token),
                    headers={"x-forwarded-for": "203.0.113.5"},
                )
                assert sent_on.status_code == 201
            statuses = [
                (
                    await nginx.post(
                        "/api/v1/responses",
                        json=_payload(personal.token),
                        headers={"x-forwarded-for": f"1.2.3.4, {client}"},  # first hop forged
                    )
                ).status_code
                for client in ("203.0.113.5", "203.0.113.6")
            ]
            assert statuses == [429, 201], "each client behind the proxy has its own bucket"
    assert await Response.count() == burst + 1 + 60 + burst + 1


async def test_it_stores_a_form_sent_as_multipart_or_urlencoded_with_its_text_exactly(
    client: Client,
) -> None:
    """Both encodings a browser may use; text with quotes, backslashes, line breaks and
    characters beyond Latin-1 is stored as sent (PostgreSQL gets the batch as JSON)."""
    link = await make_link()
    comment = 'Er sagte "nein" \\ und ging.\nÄrger? 😀 ‮ Ende'
    urlencoded = _form(str(uuid.uuid4()), **{**FULL_ANSWERS, "comment": comment})
    multipart = _form(str(uuid.uuid4()), **{**FULL_ANSWERS, "comment": comment})
    sent = await client.post(f"/s/{link.token}", data=urlencoded)
    files = {k: (None, v) for k, v in multipart.items()}
    as_multipart = await client.post(f"/s/{link.token}", files=files)
    assert (sent.status_code, as_multipart.status_code) == (303, 303)
    assert "set-cookie" not in sent.headers and sent.headers["cache-control"] == "no-store"
    assert sent.content == b""
    texts = await TextAnswer.select(TextAnswer.text)
    assert texts == [{"text": comment.strip()}] * 2
    stored = await Response.select(Response.submitted_at)
    for row in stored:
        at = row["submitted_at"]
        assert at.tzinfo is not None and (at.minute, at.second) == (0, 0)
        assert abs((at - dt.datetime.now(dt.UTC)).total_seconds()) < 3600


async def test_a_repeated_form_field_counts_with_its_last_value(client: Client) -> None:
    """As Litestar's own form parsing had it: of a name sent twice, the last value."""
    link = await make_link()
    body = "&".join(
        [
            f"submission_id={uuid.uuid4()}",
            "lang=de",
            *(f"{k}={v}" for k, v in FULL_ANSWERS.items()),
            "overall=1",
        ]
    )
    sent = await client.post(
        f"/s/{link.token}",
        content=body,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert sent.status_code == 303
    assert await Answer.select(Answer.value).where(Answer.item == "overall") == [{"value": 1}]


async def test_a_comment_of_1000_characters_as_the_browser_counts_them_is_taken_without_js(
    client: Client,
) -> None:
    """The textarea's maxlength counts a line break as one character; the form POST sends it
    as CRLF (the HTML form submission algorithm). The server counts as the browser does and
    stores LF; a text over the limit is told the limit."""
    link = await make_link()
    comment = "a\r\n" * 499 + "ab"  # 1,000 characters in the textarea, 1,499 on the wire
    sent = await client.post(
        f"/s/{link.token}", data=_form(str(uuid.uuid4()), **FULL_ANSWERS, comment=comment)
    )
    assert sent.status_code == 303
    assert await TextAnswer.select(TextAnswer.text) == [{"text": "a\n" * 499 + "ab"}]
    old_mac = await client.post(
        "/api/v1/responses", json=_payload(link.token, **FULL_ANSWERS, comment="eins\rzwei")
    )
    assert old_mac.status_code == 201
    assert {"text": "eins\nzwei"} in await TextAnswer.select(TextAnswer.text)
    too_long = _form(str(uuid.uuid4()), **FULL_ANSWERS, comment="a\r\n" * 500 + "b")
    german = await client.post(f"/s/{link.token}", data=too_long)
    english = await client.post(f"/s/{link.token}", data={**too_long, "lang": "en"})
    assert german.status_code == english.status_code == 422
    assert "Bitte schreiben Sie höchstens 1.000 Zeichen." in german.text
    assert "Please write at most 1,000 characters." in english.text
    assert 'id="err-comment"' in english.text and "Question 9: Please write at most" in english.text
    assert await Response.count() == 2


async def test_it_refuses_the_nil_and_the_max_uuid_as_submission_id(client: Client) -> None:
    """Well-formed, but nobody's random id: every client sending one would share one key."""
    link = await make_link()
    for special in ("00000000-0000-0000-0000-000000000000", "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF"):
        api = await client.post("/api/v1/responses", json=_payload(link.token, special))
        assert api.status_code == 422, special
        assert "not a random id" in api.json()["detail"]
        form = await client.post(f"/s/{link.token}", data=_form(special, **FULL_ANSWERS))
        assert form.status_code == 400 and "Formular ist unvollständig" in form.text
    assert await Response.count() == 0


async def test_a_response_without_any_answer_is_stored_by_the_api_as_by_the_form(
    client: Client,
) -> None:
    """Every question may be left out: the form stores an empty form after its "send
    anyway?" question, and the API (which the form's script sends through) stores `{}`
    alike. Neither adds to the dashboards' counts."""
    link = await make_link()
    api = await client.post("/api/v1/responses", json={**_payload(link.token), "answers": {}})
    form = {"submission_id": str(uuid.uuid4()), "lang": "de", "issued": _stamp(link.token)}
    asked = await client.post(f"/s/{link.token}", data=form)
    sent = await client.post(f"/s/{link.token}", data={**form, "incomplete": "1"})
    assert (api.status_code, asked.status_code, sent.status_code) == (201, 200, 303)
    assert await Response.count() == 2
    assert await Answer.count() == await TextAnswer.count() == await DailyCount.count() == 0
