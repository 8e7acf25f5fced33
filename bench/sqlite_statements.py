"""Statements per second and CPU per statement on SQLite through Piccolo, outside
transactions: `SELECT 1` and a dashboard read (the offices of a job centre).

    .venv/bin/python bench/sqlite_statements.py [--count 2000]

Runs on a migrated copy of nothing but the schema and a few rows, in a temporary directory,
inside `engine_lifespan` (as the app does)."""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


async def main(count: int) -> None:
    from survey.db import engine_lifespan, make_engine, migrate
    from survey.settings import Settings
    from survey.tables import Office, Organization

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(Settings(database_url=f"sqlite:///{Path(tmp) / 'b.sqlite3'}"))
        await migrate(engine)
        async with engine_lifespan(engine, 2):
            org = await Organization.insert(Organization(name="JC", slug="jc"))
            org_id = org[0]["id"]
            for i in range(20):
                await Office.insert(Office(organization=org_id, name=f"O{i}", code=f"{i}"))

            async def select_1() -> object:
                return await engine.run_ddl("SELECT 1")

            async def offices() -> object:
                return await Office.select(Office.id, Office.name, Office.code).where(
                    (Office.organization == org_id) & (Office.active == True)  # noqa: E712
                )

            for name, run in (("SELECT 1", select_1), ("offices of a job centre", offices)):
                for _ in range(50):
                    await run()
                started, cpu = time.perf_counter(), time.process_time()
                for _ in range(count):
                    await run()
                wall, cpu = time.perf_counter() - started, time.process_time() - cpu
                print(f"{name:25} {count / wall:8.0f} statements/s, "
                      f"CPU {1000 * cpu / count:.3f} ms per statement")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    asyncio.run(main(parser.parse_args().count))
