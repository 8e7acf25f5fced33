"""The database goes away, fills up or turns read-only: 503 with Retry-After (never 500),
/readyz says so, and everything works again by itself once the database is back."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from litestar import Litestar

from survey.app import create_app, lifespan
from survey.db import make_engine, migrate
from survey.settings import Settings
from survey.tables import Response
from tests.builders import FULL_ANSWERS, make_link, make_office, make_organization
from tests.builders import make_staff_user as make_user
from tests.conftest import WORKER, StaffClient
from tests.faults import PostgresFaults, Proxy, SmallDisk, break_sqlite_writer, small_disk

Client = httpx.AsyncClient


def _submission(token: str, **answers: object) -> dict[str, object]:
    return {
        "link": token,
        "submission_id": str(uuid.uuid4()),
        "answers": {**FULL_ANSWERS, **answers},
    }


async def _stored(submission_id: object) -> int:
    return await Response.count().where(Response.submission_id == submission_id)


@pytest.mark.parametrize("fault", ["read-only", "full disk"])
async def test_it_answers_503_while_sqlite_cannot_write_and_recovers_by_itself(
    sqlite_settings: Settings, sqlite_template: Path, tmp_path: Path, fault: str
) -> None:
    with contextlib.ExitStack() as stack:
        disk = None
        if fault == "full disk":
            disk = stack.enter_context(small_disk(tmp_path, sqlite_template))
            url = f"sqlite:///{disk.path / 'resonanz.sqlite3'}"
            sqlite_settings = replace(sqlite_settings, database_url=url)
        app = create_app(sqlite_settings)
        transport = httpx.ASGITransport(app=app)
        async with lifespan(app), Client(transport=transport, base_url="http://t") as client:
            link = await make_link()
            first = await client.post("/api/v1/responses", json=_submission(link.token))
            assert first.status_code == 201, "the writer has its connection open"
            if disk is None:
                # Linux refuses to remount a disk read-only while the writer holds the file
                # open for writing; a connection that turned read-only fails the same way
                repair = break_sqlite_writer(app.state.writer._store, "read-only")
            else:
                disk.fill()
                repair = disk.free
            payload = _submission(link.token, comment="ü" * 1000)
            answers = [await client.post("/api/v1/responses", json=payload) for _ in range(2)]
            for answer in answers:
                assert answer.status_code == 503, answer.text
                assert answer.headers["retry-after"] == "5"
                assert "try again" in answer.json()["detail"]
            ready = await client.get("/readyz")
            assert ready.status_code == 503 and ready.json()["status"] == "unavailable"
            assert (await client.get("/healthz")).status_code == 200, "the process is up"
            repair()
            again = await client.post("/api/v1/responses", json=payload)
            assert again.status_code == 201, "the writer opened a new connection by itself"
            assert (await client.get("/readyz")).json() == {"status": "ready"}
            assert await _stored(payload["submission_id"]) == 1


@pytest.fixture
async def cut_postgres(settings: Settings) -> AsyncIterator[tuple[Litestar, Proxy]]:
    if settings.is_sqlite:
        pytest.skip("PostgreSQL behind a proxy that can be cut")
    proxy = Proxy(settings.database_url)
    await proxy.start()
    app = create_app(replace(settings, database_url=proxy.url))
    async with lifespan(app):
        yield app, proxy
    await proxy.cut()


async def test_it_answers_503_while_postgresql_is_gone_and_recovers_by_itself(
    cut_postgres: tuple[Litestar, Proxy],
) -> None:
    app, proxy = cut_postgres
    transport = httpx.ASGITransport(app=app)
    async with Client(transport=transport, base_url="http://t") as client:
        staff = StaffClient(client)
        org = await make_organization()
        await make_office(organization=org)
        await make_user("alice", "correct-horse-battery", "manager", organization=org)
        link = await make_link()
        assert (await staff.login("alice", "correct-horse-battery")).status_code == 303
        assert (await client.get("/dashboard")).status_code == 200
        assert (await client.get("/readyz")).status_code == 200
        await proxy.cut()
        payload = _submission(link.token)
        for _ in range(2):  # the pool's broken connection, then a refused new one
            answer = await client.post("/api/v1/responses", json=payload)
            assert answer.status_code == 503, answer.text
            assert answer.headers["retry-after"] == "5"
        page = await client.get("/dashboard")
        assert page.status_code == 503
        assert "Die Datenbank ist gerade nicht erreichbar" in page.text
        assert page.headers["retry-after"] == "5"
        form = await client.get(f"/s/{link.token}")
        assert form.status_code in (200, 503), "from the link cache, or 503"
        ready = await client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["status"] == "unavailable"
        assert (await client.get("/healthz")).status_code == 200
        await proxy.restore()
        stored = await client.post("/api/v1/responses", json=payload)
        assert stored.status_code == 201, stored.text
        assert (await client.get("/readyz")).status_code == 200
        assert (await client.get("/dashboard")).status_code == 200
    assert await _stored(payload["submission_id"]) == 1


@pytest.mark.postgres
@pytest.mark.parametrize(
    "fault", ["read-only", "full disk"], ids=["postgres-read-only", "postgres-full-disk"]
)
async def test_it_answers_503_while_postgresql_cannot_write_and_recovers_by_itself(
    postgres_migrated: str, fault: str
) -> None:
    """A server that turns read-only (a failover to a standby) or whose disk fills up."""
    faults = PostgresFaults(postgres_migrated, f"resonanz_faults{WORKER}")
    await faults.create()
    try:
        settings = Settings(database_url=faults.url, secret_key="x" * 64, link_cache_seconds=0)
        await migrate(make_engine(settings))
        app = create_app(settings)
        transport = httpx.ASGITransport(app=app)
        async with lifespan(app), Client(transport=transport, base_url="http://t") as client:
            org = await make_organization()
            await make_office(organization=org)
            await make_user("alice", "correct-horse-battery", "manager", organization=org)
            link = await make_link()
            if fault == "read-only":
                first = await client.post("/api/v1/responses", json=_submission(link.token))
                assert first.status_code == 201, first.text
                await faults.read_only(True)
                repair = faults.read_only(False)
            else:  # the first response needs a new page of the table: on a full disk
                disk = await faults.small_disk("response")
                disk.fill()
                repair = _freed(disk)
            payload = _submission(link.token, comment="ü" * 1000)
            for _ in range(2):  # a dropped connection, then the fault itself
                answer = await client.post("/api/v1/responses", json=payload)
                assert answer.status_code == 503, answer.text
                assert answer.headers["retry-after"] == "5"
            staff = StaffClient(client)
            signed_in = await staff.login("alice", "correct-horse-battery")
            assert signed_in.status_code in (303, 503), signed_in.text
            ready = await client.get("/readyz")
            assert ready.status_code == (503 if fault == "read-only" else 200), ready.text
            assert (await client.get("/healthz")).status_code == 200
            await repair
            # it recovers by itself: the pool's connections were dropped, so the first tries
            # may still meet one (503); under load that took more than one try (1 run in 10)
            statuses = []
            for _ in range(20):
                answer = await client.post("/api/v1/responses", json=payload)
                statuses.append(answer.status_code)
                if answer.status_code != 503:
                    break
                await asyncio.sleep(0.25)
            assert statuses[-1] == 201 and set(statuses[:-1]) <= {503}, statuses
            again = await client.post("/api/v1/responses", json=payload)
            assert again.status_code == 200, again.text  # the same submission: stored once
            assert (await client.get("/readyz")).status_code == 200
            assert (await staff.login("alice", "correct-horse-battery")).status_code == 303
            assert await _stored(payload["submission_id"]) == 1
    finally:
        await faults.drop()


async def _freed(disk: SmallDisk) -> None:
    disk.free()


async def test_a_pooled_connection_comes_back_without_what_its_user_left_open(
    client: Client, app: Litestar, settings: Settings
) -> None:
    """The pool skips asyncpg's reset query (a round trip after every query, survey/db.py),
    but a connection released inside a transaction is still rolled back before anyone
    else gets it."""
    if settings.is_sqlite:
        pytest.skip("PostgreSQL's connection pool")
    pool = app.state.engine.pool
    async with pool.acquire() as conn:
        await conn.execute("BEGIN")
        await conn.execute("INSERT INTO heartbeat (name, at) VALUES ('left open', now())")
    held = [await pool.acquire() for _ in range(pool.get_size())]
    try:
        assert not any(c.is_in_transaction() for c in held)
        rows = await held[0].fetchval("SELECT count(*) FROM heartbeat WHERE name = 'left open'")
        assert rows == 0
    finally:
        for c in held:
            await pool.release(c)
    link = await make_link()
    sent = await client.post("/api/v1/responses", json=_submission(link.token))
    assert sent.status_code == 201
    # nothing the reset query would have undone is left on any pooled connection after the
    # app's own traffic: a response stored, a survey page, the dashboards signed in (the
    # unnamed portal in pg_cursors is the checking query's own)
    assert (await client.get(f"/s/{link.token}")).status_code == 200
    org = await make_organization()
    await make_office(organization=org)
    await make_user("pool.manager", "correct-horse-battery", "manager", organization=org)
    staff = StaffClient(client)
    assert (await staff.login("pool.manager", "correct-horse-battery")).status_code == 303
    assert (await client.get("/dashboard/")).status_code == 200
    held = [await pool.acquire() for _ in range(pool.get_size())]
    try:
        for c in held:
            left = await c.fetchrow(
                "SELECT (SELECT count(*) FROM pg_settings WHERE source = 'session') AS settings,"
                " (SELECT count(*) FROM pg_listening_channels()) AS channels,"
                " (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                "  AND pid = pg_backend_pid()) AS locks,"
                " (SELECT count(*) FROM pg_cursors WHERE name <> '') AS cursors"
            )
            assert dict(left) == {"settings": 0, "channels": 0, "locks": 0, "cursors": 0}
    finally:
        for c in held:
            await pool.release(c)
