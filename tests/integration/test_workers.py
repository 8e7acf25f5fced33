"""`resonanz serve --workers 2` on one PostgreSQL: what one process knew (failed sign-ins,
metrics) holds for both, and every submission is stored once whichever worker took it; and
nothing in the server's log lets an office match a submission to the minute a client left
the room (respondent requests are not logged, no link token appears anywhere in the log)."""

from __future__ import annotations

import asyncio
import re
import ssl
import uuid
from pathlib import Path

import httpx
import pytest

from survey.auth import throttle
from survey.db import engine_lifespan, make_engine
from survey.settings import Settings
from survey.tables import LoginThrottle, Response
from tests.builders import FULL_ANSWERS, make_link, make_office, make_organization
from tests.builders import make_staff_user as make_user
from tests.conftest import SECRET, _empty_postgres
from tests.crash import Server

PASSWORD = "correct-horse-battery"
TLS = ssl.create_default_context()
"""Built once for the many clients below (plain HTTP; httpx builds one per client otherwise,
about 25 ms of CPU each)."""


async def _fresh_connection_post(base: str, path: str, **kwargs: object) -> httpx.Response:
    """A new TCP connection for each request, so the kernel spreads them over the workers."""
    async with httpx.AsyncClient(base_url=base, timeout=60, verify=TLS) as client:
        return await client.post(path, **kwargs)  # type: ignore[arg-type]


async def _login(base: str, password: str) -> int:
    async with httpx.AsyncClient(base_url=base, timeout=60, verify=TLS) as client:
        form = await client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token
        answer = await client.post(
            "/login", data={"username": "alice", "password": password, "csrf_token": token[1]}
        )
        return answer.status_code


@pytest.fixture
def postgres_settings(postgres_migrated: str) -> Settings:
    """PostgreSQL only: SQLite refuses --workers (see test_cli)."""
    _empty_postgres(postgres_migrated)
    return Settings(database_url=postgres_migrated, secret_key=SECRET)


async def test_it_serves_two_processes_on_one_postgresql(
    postgres_settings: Settings, tmp_path: Path
) -> None:
    settings = postgres_settings
    engine = make_engine(settings)
    async with engine_lifespan(engine, 2):
        token = (await make_link()).token
        kiosk = (await make_link(mode="kiosk")).token
        org = await make_organization()
        await make_office(organization=org)
        await make_user("alice", PASSWORD, "manager", organization=org)
    # rate limits off, as in every test that sends many responses from one address: the
    # link's burst is 120 per process, and the kernel may give one worker all 120 at once
    server = Server(
        settings.database_url, tmp_path, workers=2, env={"RESONANZ_RATE_LIMITS": "false"}
    )
    await asyncio.to_thread(server.start)
    try:
        assert server.processes() >= 3, "the supervisor and two workers"
        ids = [str(uuid.uuid4()) for _ in range(120)]
        answers = await asyncio.gather(
            *(
                _fresh_connection_post(
                    server.base,
                    "/api/v1/responses",
                    json={"link": token, "submission_id": sid, "answers": FULL_ANSWERS},
                )
                for sid in ids
            )
        )
        assert [a.status_code for a in answers] == [201] * len(ids)
        again = await _fresh_connection_post(
            server.base,
            "/api/v1/responses",
            json={"link": token, "submission_id": ids[0], "answers": FULL_ANSWERS},
        )
        assert again.status_code == 200, "a duplicate, whichever worker stored the first"
        failures = asyncio.gather(
            *(_login(server.base, "wrong-guess") for _ in range(throttle.LOCK_AFTER))
        )
        # the right password once the wrong ones have locked the account (the lock is in the
        # database), not after their answers: each failed sign-in waits before it answers,
        # up to 4 s (the n-th 0.25 s · 2^(n-1)), and so does the locked one after them
        locked = LoginThrottle.exists().where(LoginThrottle.locked_until.is_not_null())
        async with engine_lifespan(engine, 2):
            while not failures.done() and not await locked:
                await asyncio.sleep(0.02)
        assert await _login(server.base, PASSWORD) == 401, "locked in both workers"
        assert await failures == [401] * throttle.LOCK_AFTER
        async with httpx.AsyncClient(base_url=server.base, timeout=60) as client:
            metrics = (await client.get("/metrics")).text
            # the respondents' pages (their submissions and the sign-ins above besides): none
            # of them may be logged, and no link token, while the staff's pages are
            assert (await client.get(f"/s/{token}")).status_code == 200
            form = {"submission_id": str(uuid.uuid4()), "lang": "de"}
            form |= {item: str(value) for item, value in FULL_ANSWERS.items()}
            assert (await client.post(f"/s/{token}", data=form)).status_code == 303
            assert (await client.get(f"/s/{token}/thanks")).status_code == 200
            assert (await client.get(f"/k/{kiosk}")).status_code == 200
            assert (await client.get(f"/api/v1/links/{kiosk}/questionnaire")).status_code == 200
            assert (await client.get("/s/no-such-token")).status_code == 404
    finally:
        await asyncio.to_thread(server.stop)
    log = (tmp_path / "server.log").read_text()
    assert re.search(r'"GET /login" 200', log), log  # the access log is on
    assert re.search(r'"POST /login" 401', log), log
    for link_token in (token, kiosk, "no-such-token"):
        assert link_token not in log
    for path in ("/s/", "/k/", "/api/v1/responses", "/api/v1/links"):
        assert path not in log, log
    assert 'resonanz_responses_total{outcome="created"} 120.0' in metrics, "summed over both"
    assert 'resonanz_responses_total{outcome="duplicate"} 1.0' in metrics
    assert 'resonanz_login_failures_total{reason="locked"} 1.0' in metrics
    async with engine_lifespan(engine, 2):
        assert await Response.count() == 120 + 1, "and the form's"
