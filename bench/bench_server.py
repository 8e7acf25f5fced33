"""The app as `resonanz serve` runs it, plus two routes that exist only for bench/submit.py.

- POST /bench/minimal: a minimal Litestar endpoint (decode JSON, answer 201), the ceiling.
- POST /bench/naive: the same checks as /api/v1/responses, but stored the naive way: one
  Piccolo `.save()` per request plus an insert of its answers, on Piccolo's default engine.

Run: python bench/bench_server.py  (reads RESONANZ_* like `resonanz serve`)
"""

from __future__ import annotations

import sys
from pathlib import Path

# Running bench/X.py puts bench/ first on the import path, where bench/analysis.py would
# shadow the analysis package: take this folder off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import asyncio
import os
from collections.abc import Sequence
from typing import Any

import msgspec
from litestar import Request, post
from litestar.datastructures import State
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine

import survey.app as app_module
from survey.app import create_app
from survey.cli import _migrate, run_server
from survey.questionnaire import check_answers
from survey.respond.queries import LinkDirectory
from survey.respond.schemas import SubmissionIn
from survey.respond.store import BatchStore, Outcome, Submission, make_submission
from survey.settings import Settings
from survey.tables import Answer, Response


@post("/bench/minimal", status_code=201)
async def minimal(data: dict[str, Any]) -> dict[str, str]:
    return {"status": "stored"}


@post("/bench/naive", status_code=201)
async def naive(request: Request[Any, Any, State], state: State) -> dict[str, str]:
    data = msgspec.json.decode(await request.body(), type=SubmissionIn)
    directory: LinkDirectory = state.directory
    link = await directory.link(data.link)
    assert link is not None
    definition = await directory.definition(link.version_id)
    checked = check_answers(definition, data.answers)
    sub = make_submission(link, data.submission_id, "de", checked, definition)
    response = Response(
        submission_id=sub.submission_id,
        digest=sub.digest,
        link=sub.link_id,
        office=sub.office_id,
        version=sub.version_id,
        service_type=sub.service_type,
        locale=sub.locale,
        mode=sub.mode,
        day=sub.day,
        submitted_at=sub.submitted_at,
    )
    await response.save()
    await Answer.insert(
        *[Answer(response=response.id, item=k, value=v) for k, v in sub.values.items()]
    )
    return {"status": "stored"}


class _ExperimentStore:
    """bench/cycle.py --store one-row|none (PostgreSQL): what a form's POST would cost if storing
    it were one durable one-row upsert, or nothing. Answers every submission as created and
    stores none of them: an experiment on the bound of a cycle, never a server to use."""

    def __init__(self, engine: PostgresEngine, kind: str) -> None:
        self._engine = engine
        self._kind = kind

    async def commit(self, batch: Sequence[Submission]) -> list[Outcome]:
        if self._kind == "one-row":
            assert self._engine.pool is not None
            async with self._engine.pool.acquire() as conn:
                await conn.execute(
                    "INSERT INTO heartbeat (name, at) VALUES ('bench', now()) "
                    "ON CONFLICT (name) DO UPDATE SET at = excluded.at"
                )
        return ["created"] * len(batch)

    async def probe(self) -> None:
        return None

    async def close(self) -> None:
        return None


def _experiment_store(kind: str) -> None:
    def make(engine: Engine[Any]) -> BatchStore:
        if not isinstance(engine, PostgresEngine):
            raise SystemExit(f"RESONANZ_BENCH_STORE={kind} is an experiment on PostgreSQL")
        return _ExperimentStore(engine, kind)

    setattr(app_module, "make_store", make)  # noqa: B010  (bench only: the lifespan reads it)


def main() -> None:
    kind = os.environ.get("RESONANZ_BENCH_STORE", "real")
    if kind != "real":
        _experiment_store(kind)
    settings = Settings.from_env().with_secret()
    asyncio.run(_migrate(settings))
    app = create_app(settings)
    app.register(minimal)
    app.register(naive)
    run_server(app, settings, log_level="warning")


if __name__ == "__main__":
    main()
