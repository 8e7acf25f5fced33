"""Every client can answer in their language: the survey in 12 languages, RTL, Leichte Sprache."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
import uuid

import httpx
import pytest

from survey.demo import ensure_standard_questionnaire
from survey.i18n import RESPOND_LOCALES
from survey.questionnaire import standard_definition_bytes
from survey.respond.schemas import LinkInfo
from survey.tables import QuestionnaireVersion
from tests.builders import FULL_ANSWERS, STANDARD, make_link
from tests.conftest import ONE_ENGINE

Client = httpx.AsyncClient
OWN_NAMES = {
    "de": "Deutsch",
    "de-x-ls": "Leichte Sprache",
    "en": "English",
    "uk": "Українська",
    "ar": "العربية",
    "tr": "Türkçe",
    "ru": "Русский",
    "fa": "فارسی",
    "ps": "پښتو",
    "pl": "Polski",
    "ro": "Română",
    "bg": "Български",
}
RTL = {"ar", "fa", "ps"}
PAGE_BUDGET_GZIP = 30 * 1024


async def _link_to(definition: dict[str, object]) -> LinkInfo:
    """A link to a second version of the standard questionnaire with this definition."""
    first = await ensure_standard_questionnaire()
    row = await QuestionnaireVersion.select(QuestionnaireVersion.questionnaire).where(
        QuestionnaireVersion.id == first
    )
    version = QuestionnaireVersion(
        questionnaire=row[0]["questionnaire"],
        number=2,
        definition=json.dumps(definition, ensure_ascii=False),
        published_at=dt.datetime.now(dt.UTC),
    )
    await version.save()
    return await make_link(version=version.id)


def _form(lang: str, **answers: object) -> dict[str, str]:
    return {
        "submission_id": str(uuid.uuid4()),
        "lang": lang,
        **{k: str(v) for k, v in answers.items()},
    }


async def test_it_speaks_every_language_in_its_own_script_and_direction(client: Client) -> None:
    link = await make_link()
    for lang in RESPOND_LOCALES:
        page = await client.get(f"/s/{link.token}?lang={lang}")
        assert page.status_code == 200, lang
        tag = "de" if lang == "de-x-ls" else lang
        direction = "rtl" if lang in RTL else "ltr"
        assert f'<html lang="{tag}" dir="{direction}">' in page.text, lang
        respect = STANDARD.item("respect")
        assert respect is not None
        assert respect.text[lang] in page.text, lang
        assert f'value="{lang}"' in page.text, "the choice travels with the form"
        for code, name in OWN_NAMES.items():
            assert f'data-testid="lang-{code}">{name}</a>' in page.text
        assert f'aria-current="true" data-testid="lang-{lang}"' in page.text
        # the privacy notice and the thank-you page too (the browser's axe check reads them
        # in four of the languages only: tests/browser/test_accessibility.py)
        for path in ("privacy", "thanks"):
            other = await client.get(f"/s/{link.token}/{path}?lang={lang}")
            assert other.status_code == 200, (path, lang)
            assert f'<html lang="{tag}" dir="{direction}">' in other.text, (path, lang)


@ONE_ENGINE  # the page's language, script and direction: not SQL (docs/testing.md)
async def test_it_marks_leichte_sprache_as_german_for_screen_readers(client: Client) -> None:
    link = await make_link()
    page = await client.get(f"/s/{link.token}?lang=de-x-ls")
    assert '<html lang="de" dir="ltr">' in page.text
    assert "Die Menschen hier haben mich mit Respekt behandelt." in page.text
    assert 'href="?lang=de-x-ls" lang="de" hreflang="de"' in page.text


@ONE_ENGINE  # the page's language, script and direction: not SQL (docs/testing.md)
async def test_it_falls_back_through_accept_language_to_german(client: Client) -> None:
    link = await make_link()
    by_header = await client.get(f"/s/{link.token}?lang=xx", headers={"accept-language": "uk"})
    dari = await client.get(f"/s/{link.token}", headers={"accept-language": "prs,en;q=0.5"})
    nothing = await client.get(f"/s/{link.token}?lang=<script>")
    assert by_header.status_code == 200
    assert '<html lang="uk"' in by_header.text
    assert '<html lang="fa" dir="rtl">' in dari.text
    assert nothing.status_code == 200
    assert '<html lang="de"' in nothing.text
    assert "<script>" not in nothing.text.split("<body", 1)[1]


@ONE_ENGINE  # the page's language, script and direction: not SQL (docs/testing.md)
async def test_it_keeps_the_language_through_errors_and_thanks(client: Client) -> None:
    link = await make_link()
    missing = await client.post(f"/s/{link.token}", data=_form("ar", respect=4))
    assert missing.status_code == 200
    assert '<html lang="ar" dir="rtl">' in missing.text
    assert '<a href="#q-understood">السؤال 2</a>' in missing.text
    wrong = await client.post(f"/s/{link.token}", data=_form("ar", respect=9))
    assert wrong.status_code == 422
    assert "السؤال 1: يُرجى اختيار إحدى الإجابات المعروضة." in wrong.text
    sent = await client.post(f"/s/{link.token}", data=_form("ar", **FULL_ANSWERS))
    assert sent.status_code == 303
    assert sent.headers["location"].endswith("/thanks?lang=ar")
    thanks = await client.get(sent.headers["location"])
    assert '<html lang="ar" dir="rtl">' in thanks.text
    assert "شكرًا لك!" in thanks.text


@ONE_ENGINE  # the page's language, script and direction: not SQL (docs/testing.md)
async def test_it_ties_each_error_to_its_question(client: Client) -> None:
    link = await make_link()
    page = await client.post(f"/s/{link.token}", data=_form("de", respect=4, understood=0))
    summary = page.text.split('id="error-summary"', 1)[1].split("</div>", 1)[0]
    reason = "Bitte wählen Sie eine der angezeigten Antworten."
    assert f'<a href="#q-understood">Frage 2: {reason}</a>' in summary
    assert ".:" not in summary
    assert 'id="q-understood" aria-describedby=" err-understood"' in page.text
    understood = page.text.split('id="q-understood"', 1)[1].split("</fieldset>", 1)[0]
    assert understood.count('aria-invalid="true"') == 5
    assert f'id="err-understood">{reason}</p>' in understood
    respect = page.text.split('id="q-respect"', 1)[1].split("</fieldset>", 1)[0]
    assert "aria-invalid" not in respect


@ONE_ENGINE  # the page's language, script and direction: not SQL (docs/testing.md)
async def test_it_escapes_html_in_a_translation(client: Client) -> None:
    data = json.loads(standard_definition_bytes())
    data["items"][0]["text"]["uk"] = '<b onclick="x()">Жирний</b> текст'
    data["scales"]["agree5"]["labels"]["uk"]["1"] = "<img src=x onerror=alert(1)>"
    link = await _link_to(data)
    page = await client.get(f"/s/{link.token}?lang=uk")
    assert "&lt;b onclick=&#34;x()&#34;&gt;Жирний&lt;/b&gt; текст" in page.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page.text
    assert "<b onclick" not in page.text
    assert "<img" not in page.text


@ONE_ENGINE  # the page's language, script and direction: not SQL (docs/testing.md)
async def test_it_shows_german_where_a_text_is_missing_never_an_empty_label(
    client: Client,
) -> None:
    data = json.loads(standard_definition_bytes())
    del data["items"][1]["text"]["tr"]
    data["items"][2]["text"]["tr"] = ""
    del data["scales"]["agree5"]["labels"]["tr"]["3"]
    link = await _link_to(data)
    page = await client.get(f"/s/{link.token}?lang=tr")
    assert "Mein Anliegen wurde verstanden." in page.text
    assert "Mir wurde alles verständlich erklärt." in page.text
    assert '<span lang="de" dir="ltr">teils, teils</span>' in page.text, "marked as German"
    assert 'data-testid="untranslated">Mein Anliegen wurde verstanden.' in page.text
    assert "<span>tamamen katılıyorum</span>" in page.text
    assert "<span></span>" not in page.text
    assert not re.search(r"<legend><span class=\"num\">\d+\.</span> *</legend>", page.text)


@ONE_ENGINE  # the page's language, script and direction: not SQL (docs/testing.md)
async def test_it_answers_the_api_in_the_chosen_language(client: Client) -> None:
    link = await make_link()
    out = (await client.get(f"/api/v1/links/{link.token}/questionnaire?lang=fa")).json()
    assert out["locale"] == "fa"
    assert out["dir"] == "rtl"
    assert out["items"][0]["labels"]["5"] == "کاملاً موافقم"


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
async def test_it_keeps_every_language_within_30_kb_gzip(client: Client) -> None:
    link = await make_link()
    for lang in RESPOND_LOCALES:
        page = await client.get(f"/s/{link.token}?lang={lang}")
        assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', page.text)
        assert {re.sub(r"\.[0-9a-f]{10}\.", ".", a) for a in assets} == {
            "/static/css/respond.css",
            "/static/js/respond.js",
        }
        total = len(gzip.compress(page.content))
        for asset in assets:
            total += len(gzip.compress((await client.get(asset)).content))
        assert total <= PAGE_BUDGET_GZIP, (lang, total)
        assert not re.search(r'(src|href|action)="(https?:)?//', page.text), "no third party"
