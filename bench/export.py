"""Benchmark the research exports: streamed against a naive export that loads everything.

Builds a SQLite database with N responses (default one million; 8 scale items each, 2 job
centres × 20 offices, 4 service types, 2 modes, 12 languages, 24 complete months), then
exports it in each format twice, each run in a fresh process:

- streamed: `survey.export.stream.open_export`, what the API and `resonanz export` run;
- naive: all rows fetched at once into one pandas frame, then pandas' `to_csv`,
  `to_parquet` or pyreadstat's one-shot `write_sav`/`write_dta` (no anonymization).

Prints rows per second, the CPU seconds of the exporting process (user + system; on SQLite
the database work is in it too, on PostgreSQL the server's is not), its peak resident
memory (ru_maxrss) and the load average (1 minute) before the run. Never asserts. With
`--postgres URL` (an empty database) the SQLite data are copied there and exported from
PostgreSQL. Run:
.venv/bin/python bench/export.py [--responses N] [--formats csv,sav] [--db F] [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

ITEMS = ("respect", "understood", "explained", "next_steps", "fits", "waiting", "overall",
         "recommend")  # fmt: skip
SERVICES = ("benefits", "placement", "case_management", "under_25")
LANGUAGES = ("de",) * 12 + ("de-x-ls", "en", "uk", "ar", "tr", "ru", "fa", "ps", "pl", "ro", "bg")


def build(path: Path, responses: int, seed: int = 1) -> None:
    """A migrated SQLite file with `responses` responses over the 24 months before this one."""
    from survey.db import make_engine
    from survey.settings import Settings

    settings = Settings(database_url=f"sqlite:///{path}")
    engine = make_engine(settings)
    asyncio.run(_prepare(engine))
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=OFF")
    rng = random.Random(seed)
    version = conn.execute("SELECT id FROM questionnaire_version").fetchone()[0]
    now = dt.datetime.now(dt.UTC)
    offices = []
    for j in (1, 2):
        conn.execute("INSERT INTO organization (id, name, slug) VALUES (?, ?, ?)",
                     (j, f"Jobcenter {j}", f"jobcenter-{j}"))  # fmt: skip
        for o in range(20):
            office = (j - 1) * 20 + o + 1
            conn.execute(
                "INSERT INTO office (id, organization, name, code, active) VALUES (?,?,?,?,1)",
                (office, j, f"Standort {office}", f"S{office}"),
            )
            offices.append(office)
    conn.execute(
        "INSERT INTO link (id, token, office, version, service_type, mode, label, active, "
        "created_at) VALUES (1, 'bench', 1, ?, 'benefits', 'personal', '', 1, ?)",
        (version, now.isoformat()),
    )
    first = (now.date().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    months = [first]
    for _ in range(23):
        months.append((months[-1] - dt.timedelta(days=1)).replace(day=1))
    weights = [rng.lognormvariate(0, 0.6) for _ in offices]
    batch = 20_000
    for start in range(0, responses, batch):
        resp, answers = [], []
        for i in range(start, min(start + batch, responses)):
            rid = i + 1
            office = rng.choices(offices, weights)[0]
            day = rng.choice(months) + dt.timedelta(days=rng.randrange(28))
            resp.append((rid, str(uuid.UUID(int=rng.getrandbits(128), version=4)), "", 1,
                         office, version, rng.choice(SERVICES), rng.choice(LANGUAGES),
                         rng.choice(("personal", "kiosk")), day.isoformat(),
                         f"{day.isoformat()}T10:00:00+00:00"))  # fmt: skip
            base = rng.randint(2, 5)
            for item in ITEMS[:-1]:
                answers.append((rid, item, max(1, min(5, base + rng.randint(-1, 1)))))
            if rng.random() < 0.8:
                answers.append((rid, "recommend", rng.randint(0, 10)))
        conn.executemany(
            "INSERT INTO response (id, submission_id, digest, link, office, version, "
            "service_type, locale, mode, day, submitted_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            resp,
        )
        conn.executemany("INSERT INTO answer (response, item, value) VALUES (?,?,?)", answers)
        conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


async def _prepare(engine: object) -> None:
    from survey.db import migrate

    await migrate(engine)  # type: ignore[arg-type]
    from survey.db import engine_lifespan
    from survey.demo import ensure_standard_questionnaire

    async with engine_lifespan(engine, 1):  # type: ignore[arg-type]
        await ensure_standard_questionnaire()


def copy_to_postgres(db: Path, url: str) -> None:
    """The built SQLite data into an empty PostgreSQL database (migrated here)."""
    import asyncpg

    from survey.db import make_engine
    from survey.settings import Settings

    asyncio.run(_prepare(make_engine(Settings(database_url=url))))

    def converter(kind: str) -> Any:
        if kind == "date":
            return lambda v: None if v is None else dt.date.fromisoformat(v)
        if kind.startswith("timestamp"):
            return lambda v: None if v is None else dt.datetime.fromisoformat(v)
        if kind == "uuid":
            return lambda v: None if v is None else uuid.UUID(v)
        if kind == "boolean":
            return lambda v: None if v is None else bool(v)
        return lambda v: v

    async def main() -> None:
        source = sqlite3.connect(db)
        conn = await asyncpg.connect(url)
        try:
            if await conn.fetchval("SELECT count(*) FROM response"):
                print("PostgreSQL has responses already: not copied again")
                return
            for table in ("organization", "office", "link", "response", "answer"):
                kinds = {
                    r["column_name"]: r["data_type"]
                    for r in await conn.fetch(
                        "SELECT column_name, data_type FROM information_schema.columns "
                        "WHERE table_name = $1",
                        table,
                    )
                }
                cursor = source.execute(f"SELECT * FROM {table}")
                at = [i for i, d in enumerate(cursor.description) if d[0] in kinds]
                columns = [cursor.description[i][0] for i in at]
                convert = [converter(kinds[c]) for c in columns]
                while batch := cursor.fetchmany(100_000):
                    records = [tuple(f(r[i]) for f, i in zip(convert, at, strict=True))
                               for r in batch]  # fmt: skip
                    await conn.copy_records_to_table(table, records=records, columns=columns)
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            await conn.execute("VACUUM ANALYZE")
        finally:
            await conn.close()
            source.close()

    asyncio.run(main())


def run_streamed(url: str, fmt: str, out: Path) -> dict[str, float]:
    from survey.cli import _operator_scope
    from survey.db import engine_lifespan, make_engine, use_engine
    from survey.export.routes import export_request
    from survey.export.stream import open_export
    from survey.settings import Settings

    settings = Settings(database_url=url)
    engine = make_engine(settings)
    use_engine(engine)  # the app's start (imports Piccolo's app registry), not the export's

    async def main() -> int:
        async with engine_lifespan(engine, 1):
            export = await open_export(
                settings, await _operator_scope(), export_request({"format": fmt}), via="bench"
            )
            with out.open("wb") as f:
                async for chunk in export.body():
                    f.write(chunk)
            return export.plan.rows

    start = time.perf_counter()
    rows = asyncio.run(main())
    return {"rows": rows, "seconds": time.perf_counter() - start}


def run_naive(url: str, fmt: str, out: Path) -> dict[str, float]:
    """Everything into memory first, then one write (what a simple export would do)."""
    import pandas as pd
    import pyreadstat

    start = time.perf_counter()
    pivot = "".join(
        f", COALESCE(MAX(CASE WHEN a.item = '{i}' THEN a.value END), -1) AS {i}" for i in ITEMS
    )
    month = "substr(r.day, 1, 7)" if url.startswith("sqlite") else "to_char(r.day, 'YYYY-MM')"
    sql = (
        f"SELECT r.office, r.service_type, r.locale, r.mode, {month} AS month, "
        f"r.version{pivot} FROM response r LEFT JOIN answer a ON a.response = r.id "
        "GROUP BY r.id"
    )
    if url.startswith("sqlite"):
        rows = sqlite3.connect(url.removeprefix("sqlite:///")).execute(sql).fetchall()
    else:
        import asyncpg

        async def fetch() -> list[Any]:
            conn = await asyncpg.connect(url)
            try:
                return [tuple(r) for r in await conn.fetch(sql)]
            finally:
                await conn.close()

        rows = asyncio.run(fetch())
    frame = pd.DataFrame(
        rows, columns=["office", "service_type", "language", "mode", "month", "version", *ITEMS]
    )
    del rows
    for name in ("service_type", "language", "mode", "month"):
        frame[name] = frame[name].astype("category").cat.codes
    if fmt == "csv":
        frame.to_csv(out, index=False)
    elif fmt == "parquet":
        frame.to_parquet(out)
    elif fmt == "sav":
        pyreadstat.write_sav(frame, str(out), row_compress=True)
    else:
        pyreadstat.write_dta(frame, str(out))
    return {"rows": len(frame), "seconds": time.perf_counter() - start}


def child(args: argparse.Namespace) -> None:
    out = Path(args.out)
    run = run_streamed if args.child == "streamed" else run_naive
    result = run(args.url, args.format, out)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result["peak_mb"] = usage.ru_maxrss / 1024
    result["cpu"] = usage.ru_utime + usage.ru_stime
    result["bytes"] = out.stat().st_size
    out.unlink()
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--formats", default="csv,parquet,sav,dta")
    parser.add_argument("--db", help="reuse (or create) this SQLite file")
    parser.add_argument("--no-naive", action="store_true")
    parser.add_argument("--postgres", help="copy the data into this empty database, export there")
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--copy-to", help=argparse.SUPPRESS)
    parser.add_argument("--build", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child", choices=["streamed", "naive"], help=argparse.SUPPRESS)
    parser.add_argument("--format", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    if args.build:
        build(Path(args.db), args.build)
        return
    if args.copy_to:
        copy_to_postgres(Path(args.db), args.copy_to)
        return
    work = Path(tempfile.mkdtemp(prefix="resonanz-bench-export-"))
    db = Path(args.db) if args.db else work / "bench.sqlite3"
    if not db.exists():
        start = time.perf_counter()
        subprocess.run(  # its own process, like the copy below
            [sys.executable, __file__, "--build", str(args.responses), "--db", str(db)], check=True
        )
        print(f"built {args.responses:,} responses in {time.perf_counter() - start:.0f} s: {db}")
    url = f"sqlite:///{db}"
    if args.postgres:
        # in a process of its own: Linux keeps a process's peak memory (ru_maxrss) across
        # fork and exec, so the export processes started later would inherit this one's
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, __file__, "--copy-to", args.postgres, "--db", str(db)], check=True
        )
        print(f"copied to PostgreSQL in {time.perf_counter() - start:.0f} s")
        url = args.postgres
    base = subprocess.run(  # the interpreter with the app imported, nothing exported
        [sys.executable, "-c", "import resource, survey.export.stream, pandas; "
         "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    print(f"baseline: the interpreter with the export modules loaded, {float(base.stdout):.0f} MB")
    print(f"{'format':8} {'how':9} {'rows':>10} {'s':>7} {'rows/s':>10} {'CPU s':>7} "
          f"{'peak MB':>8} {'MB':>7} {'load':>5}")  # fmt: skip
    kinds = ["streamed"] if args.no_naive else ["streamed", "naive"]
    for fmt in args.formats.split(","):
        for kind in kinds:
            out = work / f"out.{fmt}"
            load = os.getloadavg()[0]  # 1 minute, before the run
            proc = subprocess.run(
                [sys.executable, __file__, "--child", kind, "--format", fmt, "--url", url,
                 "--out", str(out)],
                capture_output=True, text=True, timeout=1800,
            )  # fmt: skip
            if proc.returncode:
                print(f"{fmt:8} {kind:9} failed: {proc.stderr.strip().splitlines()[-1:]}")
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            print(f"{fmt:8} {kind:9} {r['rows']:>10,} {r['seconds']:>7.1f} "
                  f"{r['rows'] / r['seconds']:>10,.0f} {r['cpu']:>7.1f} {r['peak_mb']:>8.0f} "
                  f"{r['bytes'] / 2**20:>7.1f} {load:>5.1f}", flush=True)  # fmt: skip
    if not args.db:
        for p in work.iterdir():
            p.unlink()
        os.rmdir(work)


if __name__ == "__main__":
    main()
