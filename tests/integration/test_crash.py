"""kill -9 of the server while clients submit: after a restart every acknowledged
submission is stored, once (bench/crash.py runs the same for longer, with several kills)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from survey.db import engine_lifespan, make_engine
from survey.settings import Settings
from survey.tables import Response
from tests.builders import make_link
from tests.crash import Server, load_and_kill, resend


async def test_it_keeps_every_acknowledged_submission_through_kill_9(
    settings: Settings, tmp_path: Path
) -> None:
    engine = make_engine(settings)
    async with engine_lifespan(engine, 2):
        token = (await make_link()).token
    server = Server(settings.database_url, tmp_path)
    await asyncio.to_thread(server.start)
    try:
        load = await load_and_kill(server, token, clients=8, kill_after=40, limit=2000)
        assert len(load.acknowledged) >= 40
        await asyncio.to_thread(server.start)
        statuses = await resend(server.base, token, load.sent)
    finally:
        await asyncio.to_thread(server.stop)
    assert set(statuses.values()) <= {200, 201}, statuses
    lost = [sid for sid in load.acknowledged if statuses[sid] != 200]
    assert not lost, "acknowledged before the kill, but stored only now"
    async with engine_lifespan(engine, 2):
        stored = await Response.count()
        rows = await Response.select(Response.submission_id)
    assert stored == len(load.sent) == len({str(r["submission_id"]) for r in rows})
