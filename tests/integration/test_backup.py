"""`resonanz backup` and `resonanz restore`, round trip on both engines."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from survey.db import engine_lifespan, make_engine
from survey.settings import Settings
from survey.tables import Answer, DailyCount, Response, TextAnswer
from tests.builders import FULL_ANSWERS, make_link, make_responses
from tests.cli import run_cli
from tests.conftest import SECRET


def _resonanz(
    settings: Settings, *args: str, process: bool = True
) -> subprocess.CompletedProcess[str]:
    """`resonanz ARGS` in a process of its own, or with `process=False` in this one
    (tests/cli.py; the round trip starts backup and restore as processes on SQLite)."""
    env = {"RESONANZ_DATABASE_URL": settings.database_url, "RESONANZ_SECRET_KEY": SECRET}
    if not process:
        return run_cli(list(args), **env)
    env = {**os.environ, **env}
    return subprocess.run(
        [sys.executable, "-m", "survey.cli", *args],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip


async def _counts() -> tuple[int, int, int, int]:
    return (
        await Response.count(),
        await Answer.count(),
        await TextAnswer.count(),
        await DailyCount.count(),
    )


async def test_it_restores_exactly_what_it_backed_up(settings: Settings, tmp_path: Path) -> None:
    engine = make_engine(settings)
    async with engine_lifespan(engine, 2):
        link = await make_link()
        await make_responses(engine, link, [{**FULL_ANSWERS, "comment": "gut"}] * 12)
        before = await _counts()
    file = tmp_path / "backups" / "resonanz.backup"
    # processes on one engine (that the commands start and read their environment is the same
    # on both); on PostgreSQL in this process (tests/cli.py)
    process = settings.is_sqlite
    made = _resonanz(settings, "backup", str(file), process=process)
    assert made.returncode == 0, made.stderr
    assert file.stat().st_mode & 0o777 == 0o600
    assert not list(file.parent.glob("*.partial"))
    async with engine_lifespan(engine, 2):
        await make_responses(engine, link, [FULL_ANSWERS] * 3)  # after the backup
        assert (await _counts())[0] == 15
    refused = _resonanz(settings, "restore", str(file), process=False)
    assert refused.returncode == 2 and "--replace" in refused.stderr
    restored = _resonanz(settings, "restore", "--replace", str(file), process=process)
    assert restored.returncode == 0, restored.stderr
    async with engine_lifespan(engine, 2):
        assert await _counts() == before
        texts = await TextAnswer.select(TextAnswer.text)
    assert {t["text"] for t in texts} == {"gut"}


def test_it_says_in_one_line_what_is_wrong_with_a_backup_file(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/x.sqlite3")
    missing = _resonanz(settings, "restore", str(tmp_path / "nothing"), process=False)
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1
    (tmp_path / "dump").write_bytes(b"PGDMP\x01\x0e\x00")
    wrong_kind = _resonanz(settings, "restore", str(tmp_path / "dump"), process=False)
    assert wrong_kind.returncode == 2 and "not a SQLite backup" in wrong_kind.stderr
