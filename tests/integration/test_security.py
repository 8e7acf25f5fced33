"""What an attacker sends: control characters in paths, deep JSON, and the headers every
answer carries (404 and 405 included)."""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import uuid
from pathlib import Path

import httpx
import pytest

from survey.app import lifespan
from survey.auth import guard
from survey.db import make_engine, migrate
from survey.demo import _token
from survey.settings import Settings
from survey.tables import ApiToken
from tests.builders import make_link, make_office, make_organization, make_staff_user
from tests.conftest import ONE_ENGINE, SECRET, app_for, run_async

SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "x-frame-options")


@ONE_ENGINE  # headers and refusals before any query: not SQL (docs/testing.md)
async def test_it_refuses_a_null_byte_in_a_static_path(client: httpx.AsyncClient) -> None:
    for path in ("/static/%00", "/static/css/%00.css", "/s/abc%00"):
        answer = await client.get(path)
        assert answer.status_code == 404, path
        assert all(h in answer.headers for h in SECURITY_HEADERS)


@ONE_ENGINE  # headers and refusals before any query: not SQL (docs/testing.md)
async def test_it_writes_no_forged_line_into_the_access_log(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    forged = '/dashboard%0a2026-11-28 INFO resonanz.access "GET /dashboard" 200 1.0ms'
    with caplog.at_level(logging.INFO, logger="resonanz.access"):
        answer = await client.get(forged)
    assert answer.status_code == 404
    lines = [r.getMessage() for r in caplog.records if r.name == "resonanz.access"]
    assert lines and all("\n" not in line and "\r" not in line for line in lines)


@ONE_ENGINE  # headers and refusals before any query: not SQL (docs/testing.md)
async def test_it_answers_deeply_nested_json_with_400(client: httpx.AsyncClient) -> None:
    link = await make_link()
    depth = 15_000
    body = (
        f'{{"link": "{link.token}", "submission_id": "{uuid.uuid4()}", '
        f'"answers": {{"respect": {"[" * depth}{"]" * depth}}}}}'
    )
    answer = await client.post(
        "/api/v1/responses", content=body, headers={"content-type": "application/json"}
    )
    assert answer.status_code == 400, answer.text
    assert "nested too deeply" in answer.json()["detail"]


@ONE_ENGINE  # headers and refusals before any query: not SQL (docs/testing.md)
async def test_it_sends_the_security_headers_on_404_and_405_too(client: httpx.AsyncClient) -> None:
    missing = await client.get("/no/such/page")
    wrong_method = await client.delete("/api/v1/responses")
    assert missing.status_code == 404 and wrong_method.status_code == 405
    for answer in (missing, wrong_method):
        for header in SECURITY_HEADERS:
            assert header in answer.headers, (answer.status_code, header)
    assert "strict-transport-security" not in missing.headers, "off unless configured"


@ONE_ENGINE  # headers and refusals before any query: not SQL (docs/testing.md)
async def test_it_never_lets_results_json_be_cached(client: httpx.AsyncClient) -> None:
    org = await make_organization()
    await make_office(organization=org)
    user_id = await make_staff_user("alice", "correct-horse-battery", "manager", organization=org)
    token = guard.new_api_token()
    await ApiToken(
        user=user_id, name="t", token_hash=guard.hash_token(token),
        created_at=dt.datetime.now(dt.UTC),
    ).save()  # fmt: skip
    auth = {"authorization": f"Bearer {token}"}
    for path in ("/api/v1/results/overview", "/api/v1/results/benchmark"):
        answer = await client.get(path, headers=auth)
        assert answer.status_code == 200, answer.text
        assert answer.headers["cache-control"] == "no-store", path
    refused = await client.get("/api/v1/results/overview")
    assert refused.status_code == 401 and refused.headers["cache-control"] == "no-store"


async def test_it_sends_hsts_when_configured(sqlite_settings: Settings) -> None:
    from dataclasses import replace

    app = app_for(replace(sqlite_settings, hsts_seconds=31_536_000))
    transport = httpx.ASGITransport(app=app)
    async with lifespan(app), httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        for path in ("/healthz", "/no/such/page"):
            answer = await c.get(path)
            assert answer.headers["strict-transport-security"] == "max-age=31536000", path


def test_it_names_a_bad_hsts_setting() -> None:
    from survey.settings import SettingsError

    assert Settings.from_env({"RESONANZ_HSTS_SECONDS": "31536000"}).hsts_seconds == 31_536_000
    with pytest.raises(SettingsError, match="RESONANZ_HSTS_SECONDS"):
        Settings.from_env({"RESONANZ_HSTS_SECONDS": "-1"})


def test_it_creates_the_sqlite_file_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    old = os.umask(0o022)
    try:
        run_async(
            migrate(make_engine(Settings(database_url=f"sqlite:///{path}", secret_key=SECRET)))
        )
    finally:
        os.umask(old)
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if file.exists():
            assert file.stat().st_mode & 0o777 == 0o600, file


def test_it_gives_each_demo_install_its_own_link_tokens() -> None:
    """Tokens are random per install, the demo's responses the same everywhere."""
    first, second = random.Random(2026), random.Random(2026)
    assert _token(first) != _token(second)
    assert first.random() == second.random()
