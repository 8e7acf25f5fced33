"""Sustained submissions: `resonanz serve --workers 2` on PostgreSQL for minutes on end.

The real server (the `resonanz serve` command, two worker processes) takes POST
/api/v1/responses from wrk (one thread, a fixed number of keep-alive connections, loopback
only), every request a new submission id with eight answers. The run is cut into slices
(default 10 × 60 s): per slice the throughput, wrk's p50 and p99 (corrected for coordinated
omission), the errors, and the memory of the server (resident set of the supervisor and of
each worker, read from /proc) at the slice's end. At the end it counts the stored responses
against wrk's 2xx answers. Prints figures, asserts nothing.

    RESONANZ_BENCH_POSTGRES=postgresql://... .venv/bin/python bench/load.py \
        [--slices 10] [--seconds 60] [--connections 32] [--workers 2]

The database named there is emptied of responses first.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import argparse
import asyncio
import importlib.util
import os
import tempfile
import time

from survey.db import engine_lifespan, make_engine, migrate
from survey.settings import Settings
from tests.builders import make_link
from tests.crash import Server

_spec = importlib.util.spec_from_file_location("bench_submit", ROOT / "bench" / "submit.py")
assert _spec and _spec.loader
submit = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(submit)


async def _prepare(url: str) -> str:
    engine = make_engine(Settings(database_url=url))
    await migrate(engine)
    async with engine_lifespan(engine, 2):
        from survey.tables import Answer, DailyCount, Response, RollupCount, TextAnswer

        for table in (Answer, TextAnswer, RollupCount, DailyCount, Response):
            await table.delete(force=True)
        from survey.tables import Link

        existing = await Link.select(Link.token).where(Link.active == True).first()  # noqa: E712
        return str(existing["token"]) if existing else (await make_link()).token


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _is_tracker(pid: int) -> bool:
    """multiprocessing's resource tracker (13 MB, no requests) is not a worker."""
    return b"resource_tracker" in Path(f"/proc/{pid}/cmdline").read_bytes()


def _tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        children = Path(f"/proc/{p}/task/{p}/children")
        if children.exists():
            todo += [int(c) for c in children.read_text().split()]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=10)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    url = os.environ.get("RESONANZ_BENCH_POSTGRES")
    if not url:
        raise SystemExit("set RESONANZ_BENCH_POSTGRES=postgresql://... (a database it may empty)")
    token = asyncio.run(_prepare(url))
    workdir = Path(tempfile.mkdtemp(prefix="resonanz-load-"))
    server = Server(url, workdir, workers=args.workers)
    server.start()
    assert server.proc is not None
    print(
        f"resonanz serve --workers {args.workers} on PostgreSQL, wrk -t1 -c{args.connections}, "
        f"{args.slices} × {args.seconds} s, POST /api/v1/responses"
    )
    print("slice  time s   req/s   p50 ms   p99 ms  errors   RSS MB (supervisor, workers)")
    answered = 0.0
    rates: list[float] = []
    memory: list[float] = []
    started = time.monotonic()
    try:
        for n in range(1, args.slices + 1):
            figures = submit.wrk(
                server.port, "/api/v1/responses", token, args.connections, args.seconds
            )
            answered += figures["rps"] * args.seconds - figures["errors"]
            pids = [p for p in _tree(server.proc.pid) if not _is_tracker(p)]
            rss = [_rss_mb(p) for p in pids]
            rates.append(figures["rps"])
            memory.append(sum(rss))
            print(
                f"{n:>5}  {time.monotonic() - started:>6.0f}  {figures['rps']:>6.0f}  "
                f"{figures['p50']:>7.1f}  {figures['p99']:>7.1f}  {figures['errors']:>6.0f}   "
                f"{rss[0]:.0f}, " + ", ".join(f"{r:.0f}" for r in rss[1:])
            )
    finally:
        server.stop()
    if rates:
        print(
            f"last slice / first slice: throughput {rates[-1] / rates[0]:.2f}, "
            f"memory of all processes {memory[-1] / memory[0]:.2f}"
        )
    stored = submit.count_responses(url)
    print(f"stored responses: {stored:,} (wrk's answers, estimated from req/s: {answered:,.0f})")


if __name__ == "__main__":
    main()
