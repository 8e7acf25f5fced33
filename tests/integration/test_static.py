"""Static files under hashed names, cached for a year; every text answer compressed."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import brotli
import httpx
import pytest

from tests.builders import make_link
from tests.conftest import StaffClient
from tests.kept import demo_with_kept_views

Client = httpx.AsyncClient
DECODE = {"br": brotli.decompress, "gzip": gzip.decompress}
JAVASCRIPT_BUDGET_GZIP = 400_000

pytestmark = pytest.mark.parametrize("settings", ["sqlite"], indirect=True)


@pytest.fixture(scope="module")
def sqlite_demo_template(
    sqlite_demo_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The demo's core with its views kept (tests/kept.py): these tests read how the pages
    are sent (their codings, sizes and assets), not how their figures are worked out."""
    return demo_with_kept_views(sqlite_demo_template, tmp_path_factory)


async def _raw(client: Client, path: str, encoding: str) -> tuple[httpx.Response, bytes]:
    async with client.stream("GET", path, headers={"accept-encoding": encoding}) as answer:
        return answer, b"".join([chunk async for chunk in answer.aiter_raw()])


async def _same_in_every_coding(client: Client, path: str, vary: str = "") -> bytes:
    """The answer's bytes in identity, brotli and gzip decode to the same text."""
    plain, body = await _raw(client, path, "identity")
    assert plain.status_code == 200 and "content-encoding" not in plain.headers, path
    text = re.sub(vary, "", body.decode()) if vary else body.decode()
    for encoding, decode in DECODE.items():
        packed, raw = await _raw(client, path, f"{encoding}, identity;q=0.5")
        assert packed.headers.get("content-encoding") == encoding, (path, encoding)
        assert len(raw) < len(body), (path, encoding, len(raw), len(body))
        got = decode(raw).decode()
        assert (re.sub(vary, "", got) if vary else got) == text, (path, encoding)
    return body


async def test_pages_name_their_assets_by_content_and_those_are_cached_for_a_year(
    client: Client,
) -> None:
    link = await make_link(mode="kiosk")
    page = await client.get(f"/k/{link.token}")
    assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', page.text)
    assert len(assets) == 3, assets
    for url in assets:
        assert re.search(r"\.[0-9a-f]{10}\.(css|js)$", url), url
        answer = await client.get(url)
        assert answer.status_code == 200
        assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert "set-cookie" not in answer.headers
        plain = await client.get(re.sub(r"\.[0-9a-f]{10}\.", ".", url))
        assert plain.content == answer.content
        assert plain.headers["cache-control"] == "no-cache"
    assert page.headers["cache-control"] == "no-store"


async def test_a_plain_name_is_revalidated_with_its_etag(client: Client) -> None:
    first = await client.get("/static/js/respond.js", headers={"accept-encoding": "br"})
    again = await client.get(
        "/static/js/respond.js",
        headers={"accept-encoding": "br", "if-none-match": first.headers["etag"]},
    )
    assert again.status_code == 304 and again.content == b""
    other = await client.get(
        "/static/js/respond.js",
        headers={"accept-encoding": "gzip", "if-none-match": first.headers["etag"]},
    )
    assert other.status_code == 200, "the brotli copy's tag does not stand for the gzip copy"


@pytest.mark.parametrize(
    "path", ["/static/%00", "/static/..%2fpyproject.toml", "/static/", "/static/css/x.css"]
)
async def test_it_answers_404_for_what_is_not_a_static_file(client: Client, path: str) -> None:
    answer = await client.get(path)
    assert answer.status_code == 404, answer.text
    assert "set-cookie" not in answer.headers


async def test_a_head_request_gets_the_headers_without_a_body(client: Client) -> None:
    answer = await client.head("/static/css/respond.css", headers={"accept-encoding": "gzip"})
    assert answer.status_code == 200 and answer.content == b""
    assert answer.headers["content-encoding"] == "gzip"


async def test_respondent_pages_json_css_and_js_decode_to_the_same_bytes(client: Client) -> None:
    link = await make_link()
    page = await _same_in_every_coding(
        client, f"/s/{link.token}", vary=r'name="(submission_id|issued)" value="[^"]+"'
    )
    await _same_in_every_coding(client, f"/s/{link.token}/thanks?lang=ar")
    await _same_in_every_coding(
        client, f"/api/v1/links/{link.token}/questionnaire?lang=uk", vary=r'"issued":"[^"]+"'
    )
    for url in re.findall(r'(?:href|src)="(/static/[^"]+)"', page.decode()):
        await _same_in_every_coding(client, url)
    bad = await client.post(f"/s/{link.token}", data={"submission_id": "x"})
    assert bad.status_code == 400 and bad.headers["cache-control"] == "no-store"


async def test_staff_pages_and_csv_decode_to_the_same_bytes(
    staff: StaffClient, demo: object
) -> None:
    from survey.demo import DEMO_USERS

    _, username, password = next(u for u in DEMO_USERS if u[0] == "network")
    assert (await staff.login(username, password)).status_code == 303
    csrf = r'name="csrf_token" value="[^"]+"'
    for path in ("/dashboard", "/dashboard/benchmark"):
        html = await _same_in_every_coding(staff.client, path, vary=csrf)
        answer = await staff.client.get(path)
        assert answer.headers["cache-control"] == "no-store"
        for url in re.findall(r'(?:href|src)="(/static/[^"]+)"', html.decode()):
            await _same_in_every_coding(staff.client, url)
            kind = (await staff.client.get(url)).headers["content-type"]
            assert kind.count("charset") <= 1, (url, kind)
    await _same_in_every_coding(staff.client, "/dashboard/overview.csv")
    kind = (await staff.client.get("/dashboard/overview.csv")).headers["content-type"]
    assert kind == "text/csv; charset=utf-8", "one charset (Litestar adds it to text/*)"


async def test_dashboard_pages_keep_their_budgets_and_share_one_cached_plotly_template(
    staff: StaffClient, demo: object
) -> None:
    """Issue 17: one template per browser, not 8 kB of theme in each figure of each page; every
    dashboard page's HTML at most 30 kB gzipped, and the JavaScript an office page loads
    (plotly.js, which dashboard.js fetches, dashboard.js and the template) at most 400 kB
    gzipped as the server sends it (brotli is smaller still)."""
    import json

    import plotly.io as pio
    from plotly.io.json import to_json_plotly

    from analysis.charts import TEMPLATE
    from survey.demo import DEMO_USERS

    _, username, password = next(u for u in DEMO_USERS if u[0] == "network")
    assert (await staff.login(username, password)).status_code == 303
    overview = (await staff.client.get("/dashboard")).text
    office = re.search(r'href="(/dashboard/offices/\d+)', overview)[1]  # type: ignore[index]
    for path in ("/dashboard", office, "/dashboard/benchmark"):
        html = (await staff.client.get(path)).content
        assert len(gzip.compress(html)) <= 30_000, (path, len(gzip.compress(html)))
        for blob in re.findall(rb'<script type="application/json"[^>]*>(.*?)</script>', html):
            layout = json.loads(blob)["layout"]
            assert "layout" not in layout.get("template", {}), "no theme inside the figure"
    page = (await staff.client.get(office)).text
    scripts = re.findall(r'<script[^>]* src="([^"]+)"', page)
    scripts += re.findall(r'data-plotly="([^"]+)"', page)
    assert len(scripts) == len(set(scripts)) == 3, scripts
    sizes: dict[tuple[str, str], int] = {}
    for script in scripts:
        for encoding in ("gzip", "br"):
            answer, raw = await _raw(staff.client, script, encoding)
            assert answer.headers["content-encoding"] == encoding, (script, encoding)
            assert DECODE[encoding](raw) == (await staff.client.get(script)).content, script
            sizes[script, encoding] = len(raw)
    gzipped = sum(n for (_, encoding), n in sizes.items() if encoding == "gzip")
    assert gzipped <= JAVASCRIPT_BUDGET_GZIP, sizes
    assert all(sizes[s, "br"] < sizes[s, "gzip"] for s in scripts), sizes
    url = re.search(r'src="(/static/js/plotly-template\.[0-9a-f]{10}\.js)"', page)[1]  # type: ignore[index]
    answer = await staff.client.get(url)
    assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
    prefix = "window.resonanzPlotlyTemplate = "
    assert answer.text.startswith(prefix)
    sent = json.loads(answer.text.removeprefix(prefix).rstrip().rstrip(";"))
    assert sent == json.loads(to_json_plotly(pio.templates[TEMPLATE].to_plotly_json()))
    assert sent["layout"]["plot_bgcolor"] == "white", "the simple_white look"
