"""The survey page is rendered once per link and language, and still works like a fresh one."""

from __future__ import annotations

import gzip
import re
import time
import uuid

import brotli
import httpx
import pytest
from litestar import Litestar

from survey.respond.stamp import read_stamp
from survey.tables import Link, Response
from tests.builders import FULL_ANSWERS, make_link, make_office

Client = httpx.AsyncClient
SID = re.compile(r'name="submission_id" value="([^"]+)"')
STAMP = re.compile(r'name="issued" value="([^"]+)"')


async def _view(client: Client, url: str, encoding: str = "gzip") -> tuple[httpx.Response, str]:
    async with client.stream("GET", url, headers={"accept-encoding": encoding}) as answer:
        raw = b"".join([chunk async for chunk in answer.aiter_raw()])
    decode = {"gzip": gzip.decompress, "br": brotli.decompress}
    html = decode.get(answer.headers.get("content-encoding", ""), bytes)(raw)
    return answer, html.decode()


def _hidden(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', html))


async def test_every_view_of_a_cached_page_gets_its_own_submission_id(
    client: Client, app: Litestar
) -> None:
    link = await make_link()
    views = [await _view(client, f"/s/{link.token}", enc) for enc in ("gzip", "br", "", "gzip")]
    ids = [SID.search(html)[1] for _, html in views]  # type: ignore[index]
    assert len(set(ids)) == len(ids) and all(uuid.UUID(i) for i in ids)
    secret = app.state.settings.secret_key
    for _, html in views:  # each view its own signed issue time, made when it was served
        served = read_stamp(secret, link.token, _hidden(html)["issued"])
        assert abs(served - time.time()) < 60
    assert views[0][0].headers["content-encoding"] == "gzip"
    assert "content-encoding" not in views[2][0].headers
    assert len(app.state.page_cache) == 1, "rendered once"
    first, last = (STAMP.sub("", SID.sub("", html)) for html in (views[0][1], views[3][1]))
    assert first == last, "the rest of the page is the same"
    for answer, _ in views:
        assert answer.headers["cache-control"] == "no-store"
        assert "set-cookie" not in answer.headers
        assert "default-src 'none'" in answer.headers["content-security-policy"]


async def test_a_cached_page_still_refuses_a_replayed_id_with_other_answers(
    client: Client,
) -> None:
    link = await make_link()
    await _view(client, f"/s/{link.token}")  # fills the cache
    _, html = await _view(client, f"/s/{link.token}")
    fields = _hidden(html)
    sent = await client.post(f"/s/{link.token}", data={**fields, **FULL_ANSWERS})
    again = await client.post(f"/s/{link.token}", data={**fields, **FULL_ANSWERS})
    other = await client.post(f"/s/{link.token}", data={**fields, **FULL_ANSWERS, "respect": "1"})
    assert (sent.status_code, again.status_code, other.status_code) == (303, 303, 409)
    assert await Response.count() == 1
    _, thanks = await _view(client, sent.headers["location"])
    assert 'data-testid="thanks"' in thanks


async def test_the_cache_keeps_links_languages_and_kinds_apart(client: Client) -> None:
    nord = await make_link(await make_office("Nordheide-Süd"), mode="kiosk")
    hafen = await make_link(await make_office("Weserau-Hafen"))
    pages = {
        "nord-de": await _view(client, f"/k/{nord.token}?lang=de"),
        "nord-en": await _view(client, f"/k/{nord.token}?lang=en"),
        "nord-kiosk-start": await _view(client, f"/k/{nord.token}"),
        "hafen-de": await _view(client, f"/s/{hafen.token}"),
        "nord-personal": await _view(client, f"/s/{nord.token}"),
    }
    html = {name: view[1] for name, view in pages.items()}
    assert "Nordheide-Süd" in html["nord-de"] and "Weserau-Hafen" not in html["nord-de"]
    assert "Weserau-Hafen" in html["hafen-de"]
    assert '<html lang="en"' in html["nord-en"] and '<html lang="de"' in html["nord-de"]
    assert f'action="/k/{nord.token}"' in html["nord-de"]
    assert 'class="kiosk"' in html["nord-de"] and 'class="kiosk"' not in html["hafen-de"]
    assert 'data-testid="kiosk-start"' in html["nord-kiosk-start"]
    assert "submission_id" not in html["nord-kiosk-start"]
    personal = pages["nord-personal"]
    assert personal[0].status_code == 404 and "Nordheide-Süd" not in personal[1], (
        "a kiosk's token has no personal page, cached or not"
    )
    for lang in ("de", "ar"):
        _, thanks = await _view(client, f"/k/{nord.token}/thanks?lang={lang}")
        assert f'<html lang="{lang}"' in thanks


async def test_a_deactivated_link_is_refused_although_its_page_is_cached(
    client: Client,
) -> None:
    link = await make_link()
    assert (await _view(client, f"/s/{link.token}"))[0].status_code == 200
    await Link.update({Link.active: False}).where(Link.token == link.token)
    answer, html = await _view(client, f"/s/{link.token}")
    assert answer.status_code == 410 and "submission_id" not in html


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
async def test_a_cached_page_equals_a_fresh_render(client: Client, app: Litestar) -> None:
    from survey.respond import page
    from survey.respond.queries import find_link

    link = await make_link()
    _, cached = await _view(client, f"/s/{link.token}?lang=fa")
    info = await find_link(link.token)
    definition = await app.state.directory.definition(info.version_id)  # type: ignore[union-attr]
    hidden = _hidden(cached)
    fresh = page.survey(
        info,  # type: ignore[arg-type]
        definition,
        "fa",
        kind="s",
        submission_id=hidden["submission_id"],
        issued=hidden["issued"],
    )
    engine = app.template_engine
    assert engine is not None
    assert engine.get_template(fresh.template_name).render(**fresh.context) == cached


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
async def test_made_up_languages_and_tokens_add_no_pages(client: Client, app: Litestar) -> None:
    link = await make_link()
    shown = set()
    for lang in ("xx", "de-AT", "DE", "en;q=1", "../../etc", "ar-EG", "x" * 300):
        answer = await client.get(f"/s/{link.token}", params={"lang": lang})
        shown.add(re.search(r'<html lang="([^"]+)"', answer.text)[1])  # type: ignore[index]
    for token in ("nope", "a" * 64, "%00"):
        assert (await client.get(f"/s/{token}")).status_code == 404
    assert shown == {"de", "ar"}
    assert len(app.state.page_cache) == 2, "one page per language the link really has"
