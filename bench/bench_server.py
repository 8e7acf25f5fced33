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
from typing import Any

import msgspec
from litestar import Request, post
from litestar.datastructures import State

from survey.app import create_app
from survey.cli import _migrate, run_server
from survey.questionnaire import check_answers
from survey.respond.queries import LinkDirectory
from survey.respond.schemas import SubmissionIn
from survey.respond.store import make_submission
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


def main() -> None:
    settings = Settings.from_env().with_secret()
    asyncio.run(_migrate(settings))
    app = create_app(settings)
    app.register(minimal)
    app.register(naive)
    run_server(app, settings, log_level="warning")


if __name__ == "__main__":
    main()
