"""schemathesis against the app's own OpenAPI schema, through a real server: no 5xx, and
every answer (status, content type, body, headers) as the schema says, with every check
schemathesis has, on every operation of /api/v1 (respondents', results, administration,
exports). Bounded: a fixed number of examples per operation and a timeout.

schemathesis runs as its command (`st run`): its pytest plugin does not work with this
pytest (it reads a private attribute pytest 9 no longer has).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from survey.auth import guard
from survey.db import engine_lifespan, make_engine, migrate
from survey.settings import Settings
from survey.tables import ApiToken
from tests.builders import (
    FULL_ANSWERS,
    make_link,
    make_office,
    make_organization,
    make_responses,
    make_staff_user,
)
from tests.conftest import POSTGRES_URL, _empty_postgres
from tests.crash import Server

EXAMPLES = 5
CONFIG = Path(__file__).resolve().parent.parent / "schemathesis.toml"


async def _prepare(url: str, token: str) -> str:
    engine = make_engine(Settings(database_url=url))
    await migrate(engine)
    async with engine_lifespan(engine, 2):
        org = await make_organization()
        office = await make_office(organization=org)
        link = await make_link(office)
        # responses in the last complete month: the exports have rows to write
        month = dt.date.today().replace(day=1) - dt.timedelta(days=10)
        when = dt.datetime(month.year, month.month, 10, 10, tzinfo=dt.UTC)
        await make_responses(engine, link, [FULL_ANSWERS] * 6, when=when)
        user = await make_staff_user("fuzz", "correct-horse-battery", "admin", organization=org)
        await ApiToken(
            user=user, name="fuzz", token_hash=guard.hash_token(token),
            created_at=dt.datetime.now(dt.UTC),
        ).save()  # fmt: skip
    return link.token


def test_the_api_answers_as_its_schema_says(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    st = shutil.which("st", path=str(Path(sys.executable).parent))
    if st is None:
        pytest.skip("schemathesis is not installed (pip install -e '.[dev]')")
    token = guard.new_api_token()
    # on PostgreSQL where the suite has it (CI always): the production engine, the stricter
    # one (it refuses what SQLite stores, e.g. NUL), and about half the server's CPU of
    # SQLite, which opens a connection per query (2,800 requests)
    if POSTGRES_URL:
        url = request.getfixturevalue("postgres_migrated")
        _empty_postgres(url)
    else:
        url = f"sqlite:///{tmp_path / 'fuzz.sqlite3'}"
    link = asyncio.run(_prepare(url, token))
    config = tmp_path / "schemathesis.toml"  # the shared rules, and a real link to reach
    config.write_text(f'[parameters]\n"path.token" = "{link}"\n\n' + CONFIG.read_text())
    server = Server(url, tmp_path, env={"RESONANZ_LINK_CACHE_SECONDS": "0"})
    server.start()
    try:
        # one worker: with two, schemathesis's coverage phase failed about one run in two with
        # CPython 3.11's "SystemError: AST constructor recursion depth mismatch"
        run = subprocess.run(
            [st, "--config-file", str(config), "--no-color", "run",
             f"{server.base}/schema/openapi.json", "--checks", "all",
             "--header", f"Authorization: Bearer {token}",
             "--max-examples", str(EXAMPLES), "--seed", "16", "--workers", "1"],
            capture_output=True, text=True, timeout=600, cwd=tmp_path,
        )  # fmt: skip
    finally:
        server.stop()
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    counts = re.search(r"(\d+) generated, (\d+) passed", run.stdout)
    assert counts and counts[1] == counts[2] and int(counts[1]) > 100, run.stdout[-3000:]
