"""Pages rendered once with slots for the per-view values, in plain and in gzip."""

from __future__ import annotations

import gzip
import zlib

import brotli
import pytest

from survey.pagecache import PageCache, RawResponse, build, slot

HTML = (
    "<!doctype html><title>Umfrage</title>"
    + "<p>Wie zufrieden sind Sie?</p>" * 40
    + f'<input type="hidden" name="submission_id" value="{slot("submission_id")}">'
    + '<input type="hidden" name="lang" value="de">'
    + f'<input type="hidden" name="issued" value="{slot("issued")}">'
    + "<label>trifft voll zu</label>" * 60
)


def test_a_view_joins_the_parts_with_its_own_values_in_plain_and_in_gzip() -> None:
    page = build(HTML, ("issued", "submission_id"), 200, {"cache-control": "no-store"})
    assert page.slots == ("submission_id", "issued"), "in page order, whatever order given"
    for values in (
        {"submission_id": "0b7c-1", "issued": "stamp-1"},
        {"submission_id": "x" * 70_000, "issued": ""},  # more than one stored block
    ):
        expected = HTML.replace(slot("submission_id"), values["submission_id"])
        expected = expected.replace(slot("issued"), values["issued"]).encode()
        assert page.body(values) == expected
        packed = page.gzip(values)
        assert gzip.decompress(packed) == expected
        assert zlib.decompress(packed, 16 + zlib.MAX_WBITS) == expected, "what browsers use"
    assert len(page.gzip({"submission_id": "a", "issued": "b"})) < len(HTML) / 5


def test_the_tags_holding_the_values_are_readable_in_the_gzip_bytes() -> None:
    """bench/cycle.py reads a form's hidden fields from the bytes on the wire."""
    page = build(HTML, ("submission_id", "issued"), 200, {})
    packed = page.gzip({"submission_id": "0b7c-1", "issued": "stamp-1"})
    assert b'<input type="hidden" name="submission_id" value="0b7c-1">' in packed
    assert b'<input type="hidden" name="issued" value="stamp-1">' in packed
    assert b"Wie zufrieden" not in packed, "the rest is compressed"


def test_values_are_escaped_as_the_template_would() -> None:
    page = build(HTML, ("submission_id", "issued"), 200, {})
    body = page.body({"submission_id": '"><script>alert(1)</script>', "issued": "&"})
    assert b"<script>" not in body and b"&#34;&gt;&lt;script&gt;" in body and b"&amp;" in body


def test_it_refuses_a_slot_twice_or_one_it_was_not_told_of() -> None:
    with pytest.raises(ValueError, match="twice"):
        build(HTML + slot("issued"), ("submission_id", "issued"), 200, {})
    with pytest.raises(ValueError, match="not named"):
        build(HTML, ("submission_id",), 200, {})


def _headers(answer: RawResponse) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in answer.headers}


def test_a_page_without_slots_is_kept_whole_also_in_brotli() -> None:
    page = build("<p>Vielen Dank!</p>" * 50, (), 200, {})
    answer = page.response("gzip, deflate, br", {})
    assert _headers(answer)["content-encoding"] == "br"
    assert brotli.decompress(answer.body) == page.body({})
    assert _headers(page.response("gzip", {}))["content-encoding"] == "gzip"
    plain = page.response("identity", {})
    assert "content-encoding" not in _headers(plain) and plain.body == page.body({})
    assert _headers(plain)["content-length"] == str(len(plain.body))


def test_a_page_with_slots_goes_out_in_gzip_even_to_a_brotli_client() -> None:
    page = build(HTML, ("submission_id", "issued"), 200, {"cache-control": "no-store"})
    values = {"submission_id": "id", "issued": "now"}
    answer = page.response("gzip, deflate, br", values)
    headers = _headers(answer)
    assert headers["content-encoding"] == "gzip"
    assert headers["cache-control"] == "no-store"
    assert headers["vary"] == "Accept-Encoding"
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert gzip.decompress(answer.body) == page.body(values)
    assert "content-encoding" not in _headers(page.response("br", values))


def test_the_cache_forgets_the_least_recently_used_page() -> None:
    class Engine:
        def get_template(self, name: str) -> object:
            return type("T", (), {"render": lambda self, **context: context["html"]})()

    class App:
        template_engine = Engine()

    from litestar.response import Template

    cache = PageCache(max_pages=2)
    for key in ("a", "b"):
        cache.render(App(), key, Template("x.html", context={"html": key}))  # type: ignore[arg-type]
    assert cache.get("a") is not None  # a is now the most recent
    cache.render(App(), "c", Template("x.html", context={"html": "c"}))  # type: ignore[arg-type]
    assert cache.get("b") is None and cache.get("a") is not None and len(cache) == 2
