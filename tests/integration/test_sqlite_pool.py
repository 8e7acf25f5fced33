"""SQLite statements outside transactions run on kept connections while the engine's pool is
open (`engine_lifespan`), with what a new connection per statement gave: each statement
committed on its own, foreign keys on, a fresh view of a file replaced under the same path,
no connection spoiled by a failed statement, none shared with another process."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest

from survey.backup import restore
from survey.db import PooledSQLiteEngine, engine_lifespan, make_engine
from survey.settings import Settings
from survey.tables import Organization


def _engine(settings: Settings) -> PooledSQLiteEngine:
    engine = make_engine(settings)
    assert isinstance(engine, PooledSQLiteEngine)
    return engine


async def _name(slug: str) -> str | None:
    row = await Organization.select(Organization.name).where(Organization.slug == slug).first()
    return None if row is None else str(row["name"])


async def test_it_runs_statements_on_one_kept_connection(sqlite_settings: Settings) -> None:
    engine = _engine(sqlite_settings)
    async with engine_lifespan(engine, 2):
        # a TEMP table lives in its connection only: a new connection would not find it
        await engine.run_ddl("CREATE TEMP TABLE mine (x INTEGER)")
        await engine.run_ddl("INSERT INTO temp.mine VALUES (1)")
        for _ in range(20):
            assert await engine.run_ddl("SELECT x FROM temp.mine") == [{"x": 1}]
        assert engine._pool is not None and len(engine._pool.connections) == 1


async def test_each_statement_is_committed_and_leaves_no_snapshot_open(
    sqlite_settings: Settings,
) -> None:
    engine = _engine(sqlite_settings)
    path = str(sqlite_settings.sqlite_path)
    async with engine_lifespan(engine, 2):
        await Organization.insert(Organization(name="Eins", slug="eins"))
        assert await _name("eins") == "Eins"
        other = sqlite3.connect(path)
        try:
            assert other.execute("SELECT name FROM organization WHERE slug = 'eins'").fetchall()
            # a reader holding a snapshot would keep the checkpoint from finishing (busy = 1)
            busy, _, _ = other.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            assert busy == 0
            other.execute("UPDATE organization SET name = 'Zwei' WHERE slug = 'eins'")
            other.commit()
        finally:
            other.close()
        assert await _name("eins") == "Zwei"  # a kept connection sees another's commit


async def test_foreign_keys_hold_on_kept_connections(sqlite_settings: Settings) -> None:
    engine = _engine(sqlite_settings)
    async with engine_lifespan(engine, 2):
        for _ in range(2):
            with pytest.raises(sqlite3.IntegrityError):
                await engine.run_ddl(
                    "INSERT INTO office (organization, name, code, active, kind) "
                    "VALUES (999999, 'x', 'x', 1, 'main')"
                )


async def test_a_failed_statement_leaves_the_pool_usable(sqlite_settings: Settings) -> None:
    engine = make_engine(sqlite_settings)
    path = str(sqlite_settings.sqlite_path)
    impatient = PooledSQLiteEngine(path=path, timeout=0.05, isolation_level=None)
    async with engine_lifespan(impatient, 2):
        await Organization.insert(Organization(name="Eins", slug="eins"))
        with pytest.raises(sqlite3.IntegrityError):  # the slug is unique
            await Organization.insert(Organization(name="Noch eins", slug="eins"))
        with pytest.raises(sqlite3.OperationalError):
            await engine.run_ddl("SELECT * FROM no_such_table")
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # the write lock, held past the busy timeout
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                await Organization.insert(Organization(name="Zwei", slug="zwei"))
            assert await _name("eins") == "Eins"  # reading goes on meanwhile
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        await Organization.insert(Organization(name="Zwei", slug="zwei"))
        assert await _name("zwei") == "Zwei"
    check = sqlite3.connect(path)
    try:
        slugs = {r[0] for r in check.execute("SELECT slug FROM organization")}
    finally:
        check.close()
    assert slugs == {"eins", "zwei"}


def _copy_of(path: Path, target: Path, name: str) -> Path:
    """A copy of the database at `path` (SQLite's backup) in which job centre "eins" is
    called `name`."""
    copy, source = sqlite3.connect(target), sqlite3.connect(path)
    try:
        source.backup(copy)
        copy.execute("UPDATE organization SET name = ? WHERE slug = 'eins'", (name,))
        copy.commit()
    finally:
        source.close()
        copy.close()
    return target


async def test_a_file_replaced_under_the_same_path_is_read_fresh(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    engine = _engine(sqlite_settings)
    path = sqlite_settings.sqlite_path
    async with engine_lifespan(engine, 2):
        await Organization.insert(Organization(name="Alt", slug="eins"))
        assert await _name("eins") == "Alt"
        other = _copy_of(path, tmp_path / "other.sqlite3", "Neu")
        # replaced whole, as a file with its WAL folded in (a stale WAL would be applied to
        # any new connection to the path, as before: replace the file of a stopped app)
        folder = sqlite3.connect(path)
        try:
            assert folder.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0
        finally:
            folder.close()
        os.replace(other, path)
        assert await _name("eins") == "Neu"
        # restore writes the backup into the live file (same inode): read fresh too
        older = _copy_of(path, tmp_path / "older.sqlite3", "Wieder")
        restore(sqlite_settings, older)
        assert await _name("eins") == "Wieder"


def _in_other_loop(engine: PooledSQLiteEngine, out: list[Any]) -> None:
    out.append(asyncio.run(engine.run_ddl("SELECT 2 AS n")))


async def test_other_loops_and_threads_use_the_pool(sqlite_settings: Settings) -> None:
    engine = _engine(sqlite_settings)
    async with engine_lifespan(engine, 2):
        assert await engine.run_ddl("SELECT 1 AS n") == [{"n": 1}]
        out: list[Any] = []
        threads = [threading.Thread(target=_in_other_loop, args=(engine, out)) for _ in range(4)]
        for thread in threads:
            thread.start()
        await asyncio.gather(*(engine.run_ddl("SELECT 1 AS n") for _ in range(8)))
        for thread in threads:
            thread.join()
        assert out == [[{"n": 2}]] * 4
        assert engine._pool is not None and len(engine._pool.connections) <= 4


def _child(engine: PooledSQLiteEngine, parent_pool: int, answers: Any) -> None:
    async def go() -> Any:
        return await engine.run_ddl("SELECT name FROM organization WHERE slug = 'eins'")

    pool = engine._pool
    assert pool is not None
    answers.put((asyncio.run(go()), id(pool) == parent_pool, len(pool.connections)))


@pytest.mark.skipif(sys.platform != "linux", reason="fork")
async def test_a_forked_process_opens_its_own_connections(sqlite_settings: Settings) -> None:
    engine = _engine(sqlite_settings)
    async with engine_lifespan(engine, 2):
        await Organization.insert(Organization(name="Eins", slug="eins"))
        assert engine._pool is not None
        kept = set(engine._pool.connections)
        context = multiprocessing.get_context("fork")
        answers = context.Queue()
        child = context.Process(target=_child, args=(engine, id(engine._pool), answers))
        child.start()
        rows, same_pool, count = answers.get(timeout=60)
        child.join(60)
        assert child.exitcode == 0
        assert rows == [{"name": "Eins"}]
        # the child ran its statement on a new connection: the inherited ones stayed untouched
        assert same_pool and count == len(kept)
        assert await _name("eins") == "Eins"  # and the parent's still work


def test_a_process_with_an_open_pool_exits(sqlite_settings: Settings) -> None:
    script = textwrap.dedent(f"""
        import asyncio
        from survey.db import engine_lifespan, make_engine
        from survey.settings import Settings

        engine = make_engine(Settings(database_url={sqlite_settings.database_url!r}))

        async def main():
            lifespan = engine_lifespan(engine, 2)
            await lifespan.__aenter__()  # and never closed
            await asyncio.gather(*(engine.run_ddl("SELECT 1") for _ in range(8)))
            print("ran")

        asyncio.run(main())
    """)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ran"


async def test_closing_the_pool_checkpoints_the_file(sqlite_settings: Settings) -> None:
    engine = _engine(sqlite_settings)
    path = sqlite_settings.sqlite_path
    async with engine_lifespan(engine, 2):
        await Organization.insert(Organization(name="Eins", slug="eins"))
    assert engine._pool is None
    # the last connection closed folded the WAL into the file: a copy of the file alone has it
    copy = path.with_name("copy.sqlite3")
    shutil.copy(path, copy)
    conn = sqlite3.connect(copy)
    try:
        assert conn.execute("SELECT name FROM organization").fetchall() == [("Eins",)]
    finally:
        conn.close()
    # and outside the pool's span, statements run as before
    assert await engine.run_ddl("SELECT 1 AS n") == [{"n": 1}]


async def test_many_statements_at_once_are_all_committed(sqlite_settings: Settings) -> None:
    engine = _engine(sqlite_settings)
    async with engine_lifespan(engine, 2):

        async def one(i: int) -> None:
            await Organization.insert(Organization(name=f"JC {i}", slug=f"jc-{i}"))
            assert await _name(f"jc-{i}") == f"JC {i}"

        await asyncio.gather(*(one(i) for i in range(60)))
        assert engine._pool is not None and len(engine._pool.connections) <= 4
    check = sqlite3.connect(sqlite_settings.sqlite_path)
    try:
        assert check.execute("SELECT count(*) FROM organization").fetchone()[0] == 60
    finally:
        check.close()


async def test_a_cancelled_statement_leaves_the_pool_usable(sqlite_settings: Settings) -> None:
    engine = _engine(sqlite_settings)
    async with engine_lifespan(engine, 2):
        tasks = [
            asyncio.ensure_future(Organization.insert(Organization(name="X", slug=f"x-{i}")))
            for i in range(8)
        ]
        await asyncio.sleep(0)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        assert await engine.run_ddl("SELECT 1 AS n") == [{"n": 1}]
        await Organization.insert(Organization(name="Eins", slug="eins"))
        assert await _name("eins") == "Eins"
