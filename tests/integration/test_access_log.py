"""Nothing in the server's log lets an office match a submission to the minute a client left
the room: respondent requests are not logged, no link token appears anywhere in the log."""

from __future__ import annotations

import re
import sqlite3
import uuid
from pathlib import Path

import httpx

from survey.app import lifespan
from survey.security import is_respondent_path, loggable_path
from survey.settings import Settings
from tests.builders import FULL_ANSWERS, make_link
from tests.conftest import app_for
from tests.crash import Server


async def test_it_never_logs_a_respondent_request_or_a_link_token(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    async with lifespan(app_for(sqlite_settings)):
        personal = await make_link(mode="personal")
        kiosk = await make_link(mode="kiosk")
    server = Server(sqlite_settings.database_url, tmp_path)
    server.start()
    try:
        with httpx.Client(base_url=server.base, timeout=30, follow_redirects=False) as http:
            answers = {k: str(v) for k, v in FULL_ANSWERS.items()}
            assert http.get(f"/s/{personal.token}").status_code == 200
            form = {"submission_id": str(uuid.uuid4()), "lang": "de", **answers}
            assert http.post(f"/s/{personal.token}", data=form).status_code == 303
            assert http.get(f"/s/{personal.token}/thanks").status_code == 200
            assert http.get(f"/k/{kiosk.token}").status_code == 200
            payload = {
                "link": kiosk.token,
                "submission_id": str(uuid.uuid4()),
                "locale": "de",
                "answers": FULL_ANSWERS,
            }
            assert http.post("/api/v1/responses", json=payload).status_code == 201
            assert http.get(f"/api/v1/links/{kiosk.token}/questionnaire").status_code == 200
            assert http.get("/s/no-such-token").status_code == 404
            assert http.get("/login").status_code == 200  # a staff page: logged
    finally:
        server.stop()
    log = (tmp_path / "server.log").read_text()

    with sqlite3.connect(sqlite_settings.sqlite_path) as db:
        assert db.execute("SELECT COUNT(*) FROM response").fetchone()[0] == 2
    assert re.search(r'"GET /login" 200', log), log  # the access log is on
    for token in (personal.token, kiosk.token, "no-such-token"):
        assert token not in log
    for path in ("/s/", "/k/", "/api/v1/responses", "/api/v1/links"):
        assert path not in log, log


def test_it_tells_respondent_routes_from_staff_routes() -> None:
    assert is_respondent_path("/s/abc")
    assert is_respondent_path("/k/abc/thanks")
    assert is_respondent_path("/api/v1/responses")
    assert is_respondent_path("/api/v1/links/abc/questionnaire")
    assert not is_respondent_path("/api/v1/results")
    assert not is_respondent_path("/dashboard/")
    assert not is_respondent_path("/static/css/respond.css")
    assert not is_respondent_path("/schema/openapi.json")


def test_it_writes_paths_for_error_logs_without_the_link_token() -> None:
    assert loggable_path("/s/Xy-12_ab/thanks") == "/s/{token}/thanks"
    assert loggable_path("/k/Xy-12_ab") == "/k/{token}"
    assert loggable_path("/api/v1/links/Xy-12_ab/questionnaire") == (
        "/api/v1/links/{token}/questionnaire"
    )
    assert loggable_path("/dashboard/") == "/dashboard/"
