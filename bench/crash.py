"""kill -9 under submission load, several times, on SQLite and PostgreSQL.

For each engine a real `resonanz serve` (one process; `--workers 2` on PostgreSQL with
--workers) takes submissions from concurrent clients and is killed with SIGKILL after a
random number of acknowledgements, then started again; after the last cycle every id ever
sent is sent once more (as a kiosk queue does). Prints per engine: submissions sent and
acknowledged, acknowledged ones missing after the restarts (must be 0), ids stored twice
(must be 0), and the seconds from restart to /readyz. Asserts nothing.

    .venv/bin/python bench/crash.py [--cycles 5] [--clients 32]
    RESONANZ_BENCH_POSTGRES=postgresql://... adds PostgreSQL (a database it may empty)
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import argparse
import asyncio
import os
import random
import tempfile
import time

from survey.db import engine_lifespan, make_engine, migrate
from survey.settings import Settings
from tests.builders import make_link
from tests.crash import Load, Server, load_and_kill, resend


async def _prepare(url: str) -> str:
    engine = make_engine(Settings(database_url=url))
    await migrate(engine)
    async with engine_lifespan(engine, 2):
        if not url.startswith("sqlite"):
            from survey.tables import Answer, DailyCount, Response, TextAnswer

            for table in (Answer, TextAnswer, DailyCount, Response):
                await table.delete(force=True)
        from survey.tables import Link

        existing = await Link.select(Link.token).where(Link.active == True).first()  # noqa: E712
        return str(existing["token"]) if existing else (await make_link()).token


async def _duplicates(url: str) -> tuple[int, int]:
    from survey.tables import Response

    engine = make_engine(Settings(database_url=url))
    async with engine_lifespan(engine, 2):
        rows = await Response.select(Response.submission_id)
    ids = [str(r["submission_id"]) for r in rows]
    return len(ids), len(ids) - len(set(ids))


async def run(url: str, label: str, cycles: int, clients: int, workers: int) -> None:
    token = await _prepare(url)
    workdir = Path(tempfile.mkdtemp(prefix="resonanz-crash-"))
    server = Server(url, workdir, workers=workers)
    total = Load()
    rng = random.Random(16)
    recoveries: list[float] = []
    server.start()
    try:
        for _ in range(cycles):
            load = await load_and_kill(
                server, token, clients=clients, kill_after=rng.randint(200, 2000), limit=10**6
            )
            total.sent |= load.sent
            total.acknowledged |= load.acknowledged
            total.errors += load.errors
            started = time.perf_counter()
            server.start()
            recoveries.append(time.perf_counter() - started)
        statuses = await resend(server.base, token, total.sent)
    finally:
        server.stop()
    lost = sum(1 for sid in total.acknowledged if statuses[sid] != 200)
    stored, twice = await _duplicates(url)
    print(
        f"{label:<22} kills {cycles}  sent {len(total.sent):>6}  acknowledged "
        f"{len(total.acknowledged):>6}  lost {lost}  stored {stored:>6} (= sent: "
        f"{stored == len(total.sent)})  twice {twice}  restart→ready "
        f"{min(recoveries):.1f}–{max(recoveries):.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=5)
    parser.add_argument("--clients", type=int, default=32)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="resonanz-crash-db-"))
    asyncio.run(run(f"sqlite:///{tmp / 'crash.sqlite3'}", "SQLite", args.cycles, args.clients, 1))
    postgres = os.environ.get("RESONANZ_BENCH_POSTGRES")
    if postgres:
        asyncio.run(run(postgres, "PostgreSQL", args.cycles, args.clients, 1))
        asyncio.run(run(postgres, "PostgreSQL --workers 2", args.cycles, args.clients, 2))
    else:
        print("PostgreSQL skipped: set RESONANZ_BENCH_POSTGRES=postgresql://...")


if __name__ == "__main__":
    main()
