"""Server time of the dashboard pages with one million responses, on SQLite and PostgreSQL.

For each engine the script migrates an empty database, creates one network with job centres,
offices, links and a network coordinator, and writes N responses (seven 5-point items each,
spread over the last two years so the previous period has data too) straight into the raw
tables (response, answer, text_answer) and the count table (daily_count): the rows are made
with numpy in chunks and the count rows by np.unique over the same answers, then inserted in
bulk (sqlite3 executemany in one transaction; asyncpg COPY for PostgreSQL). The writer is not
involved: bench/submit.py measures that path, and tests prove the writer keeps the count
table equal to the raw answers.

The rollups of past months (rollup_count) are made once, as the first dashboard
request of a day would, and timed on their own. Then the app runs in-process (httpx over
ASGI, no network) with the coordinator signed in, and each page is requested repeatedly,
default view and with filters, in turn fresh (the first view of a page nobody asked for yet,
worked out from the counts, in a process that holds no counts yet: the process's caches of
closed months and its rolled-up counts, survey/dashboard/rolled_counts.py, emptied and the
figures kept in the database deleted), new (the same in a process that holds the rolled-up
counts already, as after the warming or its first view: the 100 ms target is compared with
this one), cold (the process's caches emptied, the database as it is: a restarted server's
first view of a page viewed before, survey/dashboard/stored.py) and warm (the same request
again); the script prints the median and p95 of each, the median CPU time of this process
per fresh, new and cold request (all its threads: SQLite's reads included, PostgreSQL's
server not; robust against a busy machine, where the times themselves double) and the load
average.
Then, twice, it empties the caches (the counts held and the kept figures too), runs the
background warming the app runs after start-up and after a month's publication
(survey/dashboard/warm.py: the default views, then every view the pages' controls offer for
the default period; its time and CPU printed, and what it left in memory and in the
database) and requests each page once: the slowest of these first
views is printed as "after warming". Pages: the default view and, "filtered", the default
period with the language filter `de` as the filter select sends it; "overview, 6 months" is
a period typed in (the last six months, language `de`: the filtered view of the runs before
2026-11-29 noon), which no warming works out ahead. It prints figures and never asserts.

    .venv/bin/python bench/dashboard.py [--responses 1000000] [--offices 20] [--repeat 15]
        [--sqlite-file PATH] [--reuse] [--postgres-only] [--controls-only] [--unwarmed]

--unwarmed skips them too: `--repeat` new views (the counts held, nothing of the view kept
in the process or the database, as after the warming) of each view the warming does not
work out ahead: periods typed in (the last six months and the six before, with and without
the language filter, on the overview, the benchmark and one office page) and two controls
changed at once (a filter with the observed index); median and p95 of wall and CPU time,
and the median and p95 of the requests that ran on a steady machine: a fixed piece of work
timed right before and after each request took at most 1.25 times its median of the run.

--controls-only skips the measurements above: one warming (without its pauses), then the
first view of every view the pages' controls offer for the default period (each filter
value, the observed index, the benchmark's two levels, the overview's sort orders) on the
overview, the benchmark and one office page, with its median, p95 and slowest.

With --sqlite-file the SQLite database is kept; with --reuse a database that already holds
responses (that file, or RESONANZ_BENCH_POSTGRES) is measured as it is (migrated first).

PostgreSQL runs when RESONANZ_BENCH_POSTGRES names a database the script may empty and fill
(it is truncated first and left filled); otherwise it is skipped with a message.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Running bench/X.py puts bench/ first on the import path, where bench/analysis.py would
# shadow the analysis package: take this folder off the path.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse
import asyncio
import datetime as dt
import math
import os
import re
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np

ITEMS = ("respect", "understood", "explained", "next_steps", "fits", "waiting", "overall")
SERVICES = ("benefits", "placement", "case_management", "under_25")
MODES = ("personal", "kiosk")
LOCALES = {"de": 70, "en": 6, "uk": 8, "ar": 6, "tr": 4, "ru": 3, "fa": 3}
DAYS = 730
CHUNK = 100_000
PASSWORD = "bench-password-2026"
TABLES = (
    "audit_log, api_token, membership, staff_user, rollup_count, daily_count, text_answer, "
    "answer, response, link, questionnaire_version, questionnaire, office, organization, network"
)


class Setup:
    def __init__(self, offices: list[int], links: dict[tuple[int, int, int], int], version: int):
        self.offices = offices
        self.links = links
        self.version = version


async def _setup(n_offices: int, per_org: int) -> Setup:
    from survey.auth.passwords import hash_password
    from survey.demo import ensure_standard_questionnaire
    from survey.tables import Link, Membership, Network, Office, Organization, User

    now = dt.datetime.now(dt.UTC)
    network = Network(name="Bench-Netzwerk", slug="bench")
    await network.save()
    offices: list[int] = []
    links: dict[tuple[int, int, int], int] = {}
    version = await ensure_standard_questionnaire()
    for k in range(n_offices):
        if k % per_org == 0:
            org = Organization(name=f"Jobcenter {k // per_org + 1:02d}",
                               slug=f"jc-{k // per_org + 1}", network=network.id)  # fmt: skip
            await org.save()
        office = Office(organization=org.id, name=f"Standort {k + 1:03d}", code=f"S{k + 1}")
        await office.save()
        offices.append(int(office.id))
        for s, service in enumerate(SERVICES):
            for m, mode in enumerate(MODES):
                link = Link(token=uuid.uuid4().hex, office=office.id, version=version,
                            service_type=service, mode=mode, created_at=now)  # fmt: skip
                await link.save()
                links[(k, s, m)] = int(link.id)
    user = User(username="bench", password_hash=hash_password(PASSWORD), created_at=now)
    await user.save()
    await Membership(user=user.id, role="network", network=network.id).save()
    return Setup(offices, links, version)


def _chunks(total: int, n_offices: int, today: dt.date, seed: int = 7) -> Iterator[dict[str, Any]]:
    """Responses in chunks: office, day, filters, seven answers, with office effects."""
    rng = np.random.default_rng(seed)
    size = rng.lognormal(0, 0.4, n_offices)
    effect = rng.normal(0, 0.25, n_offices)
    loc_p = np.array(list(LOCALES.values()), dtype=float)
    start = 0
    while start < total:
        n = min(CHUNK, total - start)
        office = rng.choice(n_offices, size=n, p=size / size.sum())
        latent = 3.6 + effect[office][:, None] + rng.normal(0, 0.9, (n, 1))
        answers = np.clip(np.rint(latent + rng.normal(0, 0.7, (n, len(ITEMS)))), 1, 5)
        yield {
            "first_id": start + 1,
            "office": office,
            "day": rng.integers(0, DAYS, n),  # days before today
            "service": rng.integers(0, len(SERVICES), n),
            "locale": rng.choice(len(LOCALES), size=n, p=loc_p / loc_p.sum()),
            "mode": (rng.random(n) < 0.4).astype(np.int64),
            "answers": answers.astype(np.int64),
            "comment": rng.random(n) < 0.12,
            "record_key": rng.integers(0, 2**31, n),
            "today": today,
        }
        start += n


def _rows(chunk: dict[str, Any], setup: Setup) -> tuple[list[tuple[Any, ...]], ...]:
    today: dt.date = chunk["today"]
    n = chunk["office"].size
    ids = np.arange(chunk["first_id"], chunk["first_id"] + n)
    days = [today - dt.timedelta(days=int(d)) for d in range(DAYS)]
    locales = list(LOCALES)
    responses = []
    for i in range(n):
        o, s, m = int(chunk["office"][i]), int(chunk["service"][i]), int(chunk["mode"][i])
        day = days[int(chunk["day"][i])]
        responses.append((
            int(ids[i]), str(uuid.UUID(int=int(ids[i]))), "bench", setup.links[(o, s, m)],
            setup.offices[o], setup.version, SERVICES[s], locales[int(chunk["locale"][i])],
            MODES[m], day, dt.datetime.combine(day, dt.time(10), tzinfo=dt.UTC),
            int(chunk["record_key"][i]),
        ))  # fmt: skip
    answers = [
        (int(ids[i]), item, int(chunk["answers"][i, j]))
        for i in range(n)
        for j, item in enumerate(ITEMS)
    ]
    texts = [(int(ids[i]), "comment", "Die Wartezeit war zu lang.")
             for i in np.flatnonzero(chunk["comment"])]  # fmt: skip
    return responses, answers, texts


def _count_rows(chunk: dict[str, Any], setup: Setup) -> list[tuple[Any, ...]]:
    """What the writer adds to daily_count for these responses (n and the sum of the record
    keys): one np.unique over all keys."""
    n_items = len(ITEMS)
    cell = (((chunk["day"] * len(setup.offices) + chunk["office"]) * len(SERVICES)
             + chunk["service"]) * len(LOCALES) + chunk["locale"]) * 2 + chunk["mode"]  # fmt: skip
    codes = chunk["answers"] - 1 + 5 * np.arange(n_items)[None, :]  # item j, value v
    index_code = 5 * n_items + chunk["answers"].sum(axis=1) - n_items  # sum 7..35
    keys = np.concatenate([(cell[:, None] * 64 + codes).ravel(), cell * 64 + index_code])
    unique, where, counts = np.unique(keys, return_inverse=True, return_counts=True)
    record = np.concatenate([np.repeat(chunk["record_key"], n_items), chunk["record_key"]])
    key_sums = np.bincount(where.ravel(), weights=record.astype(np.float64)).astype(np.int64)
    today: dt.date = chunk["today"]
    locales = list(LOCALES)
    out = []
    for key, count, key_sum in zip(unique.tolist(), counts.tolist(), key_sums.tolist(),
                                   strict=True):  # fmt: skip
        rest, code = divmod(key, 64)
        rest, mode = divmod(rest, 2)
        rest, loc = divmod(rest, len(LOCALES))
        rest, svc = divmod(rest, len(SERVICES))
        day, office = divmod(rest, len(setup.offices))
        if code < 5 * n_items:
            item, value = ITEMS[code // 5], code % 5 + 1
        else:
            item, value = "_index", 60 * (code - 5 * n_items + n_items)  # 420 × sum/7
        out.append((today - dt.timedelta(days=day), setup.offices[office], SERVICES[svc],
                    locales[loc], MODES[mode], item, value, count, key_sum))  # fmt: skip
    return out


def _merge(rows: list[tuple[Any, ...]], into: dict[tuple[Any, ...], tuple[int, int]]) -> None:
    for *key, n, key_sum in rows:
        old = into.get(tuple(key), (0, 0))
        into[tuple(key)] = (old[0] + n, old[1] + key_sum)


async def _fill_sqlite(path: str, setup: Setup, total: int, today: dt.date) -> int:
    import sqlite3

    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("BEGIN")
    counts: dict[tuple[Any, ...], tuple[int, int]] = {}
    for chunk in _chunks(total, len(setup.offices), today):
        responses, answers, texts = _rows(chunk, setup)
        conn.executemany(
            "INSERT INTO response (id, submission_id, digest, link, office, version, "
            "service_type, locale, mode, day, submitted_at, record_key) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            [(*r[:9], r[9].isoformat(), r[10].isoformat(), r[11]) for r in responses],
        )
        conn.executemany("INSERT INTO answer (response, item, value) VALUES (?,?,?)", answers)
        conn.executemany("INSERT INTO text_answer (response, item, text) VALUES (?,?,?)", texts)
        _merge(_count_rows(chunk, setup), counts)
    conn.executemany(
        "INSERT INTO daily_count (day, office, service_type, locale, mode, item, value, n, "
        "key_sum) VALUES (?,?,?,?,?,?,?,?,?)",
        ((k[0].isoformat(), *k[1:], n, ks) for k, (n, ks) in counts.items()),
    )
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()
    return len(counts)


async def _fill_postgres(url: str, setup: Setup, total: int, today: dt.date) -> int:
    import asyncpg

    conn = await asyncpg.connect(url)
    counts: dict[tuple[Any, ...], tuple[int, int]] = {}
    try:
        for chunk in _chunks(total, len(setup.offices), today):
            responses, answers, texts = _rows(chunk, setup)
            await conn.copy_records_to_table(
                "response",
                records=[(r[0], uuid.UUID(r[1]), *r[2:]) for r in responses],
                columns=[
                    "id",
                    "submission_id",
                    "digest",
                    "link",
                    "office",
                    "version",
                    "service_type",
                    "locale",
                    "mode",
                    "day",
                    "submitted_at",
                    "record_key",
                ],
            )
            await conn.copy_records_to_table(
                "answer", records=answers, columns=["response", "item", "value"]
            )
            await conn.copy_records_to_table(
                "text_answer", records=texts, columns=["response", "item", "text"]
            )
            _merge(_count_rows(chunk, setup), counts)
        await conn.copy_records_to_table(
            "daily_count",
            records=[(*k, n, ks) for k, (n, ks) in counts.items()],
            columns=[
                "day",
                "office",
                "service_type",
                "locale",
                "mode",
                "item",
                "value",
                "n",
                "key_sum",
            ],
        )
        await conn.execute("SELECT setval('response_id_seq', (SELECT MAX(id) FROM response))")
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return len(counts)


PROTECT_MS: list[float] = []


def _time_protection() -> None:
    """Wrap the disclosure control's `protect` so each request reports the time it took."""
    from survey.dashboard import disclosure, routes

    inner = disclosure.protect

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            PROTECT_MS.append(1000 * (time.perf_counter() - started))

    routes.disclosure.protect = timed  # type: ignore[assignment]


def _p95(times: list[float]) -> float:
    times = sorted(times)
    return times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]


class Timing:
    """Request times of one page: cold (the process's dashboard caches emptied first, as after
    a month closes or a restart) and warm (the same request again), alternating."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.fresh: list[float] = []
        self.new: list[float] = []
        self.cold: list[float] = []
        self.warm: list[float] = []
        self.fresh_cpu: list[float] = []
        self.new_cpu: list[float] = []
        self.cold_cpu: list[float] = []
        """CPU time of this process (every thread: SQLite's reads too, not PostgreSQL's
        server) per new and cold request: what the request cost, whatever else the machine
        ran."""
        self.protect_fresh: list[float] = []
        self.protect_new: list[float] = []
        self.protect_cold: list[float] = []
        self.protect_warm: list[float] = []
        self.warmed: list[float] = []
        """First views right after the background warming ran on emptied caches."""


WARM_ROUNDS = 2
WARMING_S: list[float] = []
WARMING_CPU: list[float] = []
WARMING_VIEWS: list[int] = []
WARMED: list[str] = []
"""What the last warming left: the process's caches and the figures kept in the database."""


def _forget(app: Any, counts: bool = False) -> None:
    """Empty what a dashboard keeps per process about closed months (a cold request); with
    `counts`, the rolled-up counts it holds too (a fresh process)."""
    from survey.dashboard import best, results

    if counts:
        try:
            from survey.dashboard import rolled_counts
        except ImportError:  # a commit before them (measured for comparison)
            pass
        else:
            rolled_counts.forget(app.state)
    app.state.dashboard_cache = None
    results._needed.cache_clear()
    from analysis import model

    others = getattr(model, "_others", None)  # the time to verdict's setup (2026-11-29, p26)
    if others is not None:
        others.cache_clear()
    kept = getattr(best, "_kept", None)  # before: its own map (now a cache.memo)
    if isinstance(kept, dict):
        kept.clear()
    try:
        from survey.dashboard.cache import forget_values
    except ImportError:  # a commit before the caches (measured for comparison)
        return
    forget_values()


async def _settled() -> None:
    """Wait for the kept rows written after their answers (none before k27)."""
    from survey.dashboard import stored

    settled = getattr(stored, "settled", None)
    if settled is not None:
        await settled()


async def _forget_stored() -> None:
    """Delete the figures kept in the database (a commit before them has none), as if nobody
    had asked for them yet: the rows only, not the erasure's mark (`stored.forget`), which
    would tell a process to read its rolled-up counts again."""
    try:
        from survey.tables import DashboardFigure
    except ImportError:
        return
    await _settled()  # rows written after the answers (k27)
    await DashboardFigure.raw("DELETE FROM dashboard_figure")


async def _measure(settings: Any, repeat: int, controls_only: bool = False,
                   unwarmed: bool = False) -> list[Timing]:  # fmt: skip
    import httpx

    from survey.app import create_app, lifespan

    _time_protection()

    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    results = []
    async with lifespan(app), httpx.AsyncClient(transport=transport, base_url="http://b") as c:
        form = await c.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token is not None
        await c.post("/login", data={"username": "bench", "password": PASSWORD,
                                     "csrf_token": token[1]})  # fmt: skip
        office = (await c.get("/api/v1/results/overview")).json()["rows"][0]["office_id"]
        half_year = (dt.date.today().replace(day=1) - dt.timedelta(days=150)).strftime("%Y-%m")
        filters = "?filter=language:de"  # the default period, as the filter select sends it
        pages = [
            ("overview", "/dashboard"),
            ("overview, filtered", "/dashboard" + filters),
            ("office", f"/dashboard/offices/{office}"),
            ("office, filtered", f"/dashboard/offices/{office}" + filters),
            ("benchmark", "/dashboard/benchmark"),
            ("benchmark, filtered", "/dashboard/benchmark" + filters),
            # a period typed in (the filtered view of the runs before 2026-11-29 noon): no
            # warming works it out ahead
            ("overview, 6 months", f"/dashboard?from={half_year}&language=de"),
        ]
        if controls_only:
            await _controls(app, c, office)
            return results
        if unwarmed:
            await _unwarmed(app, c, office, repeat)
            return results
        for name, path in pages:
            first = await c.get(path)
            if first.status_code != 200:
                print(f"  {name}: HTTP {first.status_code}")
                continue
            timing = Timing(name)
            for _ in range(repeat):
                for kind in ("fresh", "new", "cold", "warm"):
                    if kind in ("fresh", "new"):
                        await _forget_stored()
                    if kind != "warm":
                        _forget(app, counts=kind == "fresh")
                    PROTECT_MS.clear()
                    started, cpu = time.perf_counter(), time.process_time()
                    await c.get(path)
                    getattr(timing, kind).append(1000 * (time.perf_counter() - started))
                    if kind != "warm":
                        getattr(timing, kind + "_cpu").append(1000 * (time.process_time() - cpu))
                    getattr(timing, "protect_" + kind).append(sum(PROTECT_MS))
            results.append(timing)
        await _after_warming(app, c, pages, results)
    return results


async def _after_warming(app: Any, c: Any, pages: list[tuple[str, str]],
                         results: list[Timing]) -> None:  # fmt: skip
    """The first view of each page right after the background warming (survey/dashboard/
    warm.py) ran on emptied caches, as after a restart or a month's publication: WARM_ROUNDS
    times, each with the caches emptied and warmed again (the warming itself is timed)."""
    try:
        from survey.dashboard.warm import warm
    except ImportError:  # a commit before the warming (measured for comparison)
        return
    by_name = {t.name: t for t in results}
    for _ in range(WARM_ROUNDS):
        _forget(app, counts=True)
        await _forget_stored()
        started, cpu = time.perf_counter(), time.process_time()
        views = await warm(app.state)
        WARMING_S.append(time.perf_counter() - started)
        WARMING_CPU.append(time.process_time() - cpu)
        WARMING_VIEWS.append(views)
        WARMED[:] = [await _warmed(app)]
        for name, path in pages:
            if name in by_name:
                started = time.perf_counter()
                await c.get(path)
                by_name[name].warmed.append(1000 * (time.perf_counter() - started))


async def _controls(app: Any, c: Any, office: int) -> None:
    """One warming on emptied caches (without its pauses), then the first view of every view
    the pages' controls offer for the default period (warm.control_views, the benchmark's
    other level, the overview's sort orders) on the overview, the benchmark and one office
    page: their median, p95 and slowest, wall and CPU of this process."""
    from urllib.parse import urlencode

    from survey.dashboard import warm as warm_module
    from survey.dashboard.filters import filter_query, parse_filters, publication_day
    from survey.dashboard.results import SORTS

    default = parse_filters({}, publication_day(app.state.settings))
    queries = ["", *("?" + urlencode(filter_query(f)) for f in warm_module.control_views(default))]
    pages = {
        "overview": [f"/dashboard{q}" for q in queries]
        + [f"/dashboard?sort={'-' * d}{k}" for k in SORTS for d in (0, 1)],
        "benchmark": [f"/dashboard/benchmark{q}{'&' if q else '?'}level={level}"
                      for q in queries for level in ("office", "organization")],
        "office": [f"/dashboard/offices/{office}{q}" for q in queries],
    }  # fmt: skip
    _forget(app, counts=True)
    await _forget_stored()
    warm_module.SHARE = 0.0  # the same caches, sooner
    started, cpu = time.perf_counter(), time.process_time()
    views = await warm_module.warm(app.state)
    print(f"  warming of {views} views (no pauses): {time.perf_counter() - started:.1f} s, "
          f"CPU {time.process_time() - cpu:.1f} s; {await _warmed(app)}")  # fmt: skip
    for name, paths in pages.items():
        walls, cpus = [], []
        for path in paths:
            started, cpu = time.perf_counter(), time.process_time()
            response = await c.get(path)
            assert response.status_code == 200, path
            walls.append(1000 * (time.perf_counter() - started))
            cpus.append(1000 * (time.process_time() - cpu))
        print(f"  {name:<10} first views after warming ({len(paths)}): median "
              f"{statistics.median(walls):.1f} ms, p95 {_p95(walls):.1f} ms, slowest "
              f"{max(walls):.1f} ms; CPU median {statistics.median(cpus):.1f} ms, p95 "
              f"{_p95(cpus):.1f} ms")  # fmt: skip


_HOST_WORK = np.random.default_rng(0).random(80_000)


def _host_ms() -> float:
    """The time of a fixed piece of work (a Python loop and a numpy sort, about 1 ms on a quiet
    machine of this kind): the machine's speed right before and after a request. The
    machines these benches run on share their cores with others: on 2026-11-30 the same new
    office view's CPU time moved from 33-43 ms to 63-128 ms and back within one run, the code
    and inputs the same."""
    started = time.perf_counter()
    total = 0
    for i in range(6000):
        total += i * i % 7
    np.sort(_HOST_WORK)
    return 1000 * (time.perf_counter() - started)


STEADY = 1.25
"""A request ran on a steady machine when the fixed work before and after it took at most
this times its median of the run."""


async def _unwarmed(app: Any, c: Any, office: int, repeat: int) -> None:
    """New views (counts held, nothing of the view kept) of views no warming works out; next
    to each view's median and p95, those of the requests on a steady machine (`_host_ms`)."""
    today = dt.date.today().replace(day=1)
    half = (today - dt.timedelta(days=150)).strftime("%Y-%m")
    before = (today - dt.timedelta(days=330)).strftime("%Y-%m")
    until = (today - dt.timedelta(days=160)).strftime("%Y-%m")
    views = [
        ("overview, 6 months, de", f"/dashboard?from={half}&language=de"),
        ("overview, 6 months", f"/dashboard?from={half}"),
        ("overview, 6 earlier", f"/dashboard?from={before}&to={until}"),
        ("overview, de, observed", "/dashboard?filter=language:de&adjust=none"),
        ("office, 6 months", f"/dashboard/offices/{office}?from={half}"),
        ("office, de, observed", f"/dashboard/offices/{office}?filter=language:de&adjust=none"),
        ("benchmark, 6 months", f"/dashboard/benchmark?from={half}"),
    ]
    for name, path in views:
        assert (await c.get(path)).status_code == 200, path  # the counts and year tables held
        walls, cpus, after, host = [], [], [], []
        for _ in range(repeat):
            await _forget_stored()
            _forget(app)
            before = _host_ms()
            started, cpu = time.perf_counter(), time.process_time()
            await c.get(path)
            walls.append(1000 * (time.perf_counter() - started))
            cpus.append(1000 * (time.process_time() - cpu))
            host.append(max(before, _host_ms()))
            cpu = time.process_time()
            await _settled()  # the kept rows written after the answer (k27): not waited for
            after.append(1000 * (time.process_time() - cpu))
        usual = statistics.median(host)
        steady = [w for w, h in zip(walls, host, strict=True) if h <= STEADY * usual]
        print(f"  {name:<24} new: median {statistics.median(walls):6.1f} ms, p95 "
              f"{_p95(walls):6.1f} ms; CPU median {statistics.median(cpus):6.1f} ms, p95 "
              f"{_p95(cpus):6.1f} ms; after the answer CPU {statistics.median(after):4.1f} ms "
              f"(load {os.getloadavg()[0]:.1f}); steady machine {len(steady)}/{len(walls)}: "
              f"median {statistics.median(steady or [math.nan]):6.1f} ms, p95 "
              f"{_p95(steady or [math.nan]):6.1f} ms (fixed work median {usual:.2f} ms, "
              f"slowest {max(host):.2f})", flush=True)  # fmt: skip


async def _warmed(app: Any) -> str:
    """The sizes of what the warming left: the process's cache of closed months and its
    year tables (survey/dashboard/cache.py, rolled_counts.py) and the kept figures' rows."""
    from survey.tables import DashboardFigure

    out = []
    cache = getattr(app.state, "dashboard_cache", None)
    if cache is not None:
        out.append(f"process cache {len(cache)} entries, {cache._bytes / 2**20:.1f} MB "
                   f"(bound {cache.max_bytes / 2**20:.0f} MB)")  # fmt: skip
    try:
        from survey.dashboard.rolled_counts import year_tables
    except ImportError:
        pass
    else:
        years = year_tables(app.state)
        out.append(f"year tables {len(years)}, {years._bytes / 2**20:.1f} MB")
    rows = await DashboardFigure.raw(
        "SELECT COUNT(*) AS n, SUM(LENGTH(value)) AS b FROM dashboard_figure"
    )
    out.append(f"kept figures {rows[0]['n']} rows, {(rows[0]['b'] or 0) / 2**20:.1f} MB")
    return "; ".join(out)


async def _filled(engine_name: str, url: str, settings: Any) -> int:
    """Responses already in the database (0 when it is new or empty)."""
    if engine_name == "sqlite":
        import sqlite3

        conn = sqlite3.connect(settings.sqlite_path.as_posix())
        try:
            return int(conn.execute("SELECT COUNT(*) FROM response").fetchone()[0])
        finally:
            conn.close()
    import asyncpg

    pg = await asyncpg.connect(url)
    try:
        return int(await pg.fetchval("SELECT COUNT(*) FROM response"))
    finally:
        await pg.close()


async def _run(engine_name: str, url: str, args: argparse.Namespace) -> None:
    from survey.db import engine_lifespan, make_engine, migrate
    from survey.settings import Settings

    settings = Settings(database_url=url, secret_key="bench-" + "x" * 40, warm_after_seconds=0)
    engine = make_engine(settings)
    await migrate(engine)
    if args.reuse and (found := await _filled(engine_name, url, settings)):
        print(f"{engine_name}: reusing the {found:,} responses already in the database")
        await _measure_and_print(engine_name, engine, settings, args)
        return
    if engine_name == "postgres":
        import asyncpg

        conn = await asyncpg.connect(url)
        await conn.execute(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")
        await conn.close()
    started = time.perf_counter()
    async with engine_lifespan(engine, 2):
        setup = await _setup(args.offices, args.per_org)
    from survey.respond.store import LOCAL_ZONE

    today = dt.datetime.now(LOCAL_ZONE).date()
    if engine_name == "sqlite":
        count_rows = await _fill_sqlite(
            settings.sqlite_path.as_posix(), setup, args.responses, today
        )
    else:
        count_rows = await _fill_postgres(url, setup, args.responses, today)
    print(f"{engine_name}: {args.responses:,} responses ({len(ITEMS) * args.responses:,} answers, "
          f"{count_rows:,} count rows) over {args.offices} offices written in "
          f"{time.perf_counter() - started:.0f} s")  # fmt: skip
    await _measure_and_print(engine_name, engine, settings, args)


async def _measure_and_print(engine_name: str, engine: Any, settings: Any,
                             args: argparse.Namespace) -> None:  # fmt: skip
    from survey.dashboard.queries import ensure_rollups
    from survey.db import engine_lifespan
    from survey.respond.store import LOCAL_ZONE

    today = dt.datetime.now(LOCAL_ZONE).date()
    started = time.perf_counter()
    async with engine_lifespan(engine, 2):
        await ensure_rollups(today)
    print(f"  rollup of the past months (once; later only each new month): "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    print(f"  {'page':<20} {'fresh median':>13} {'fresh p95':>10} {'new median':>11} "
          f"{'new p95':>8} {'cold median':>12} "
          f"{'cold p95':>9} {'warm median':>12} {'warm p95':>9}  disclosure control "
          f"(median new / cold / warm)  after warming (max of {WARM_ROUNDS})  "
          f"CPU median fresh / new / cold")  # fmt: skip
    WARMING_S.clear()
    WARMING_CPU.clear()
    WARMING_VIEWS.clear()
    for t in await _measure(settings, args.repeat, args.controls_only, args.unwarmed):
        print(f"  {t.name:<20} {statistics.median(t.fresh):10.1f} ms {_p95(t.fresh):7.1f} ms "
              f"{statistics.median(t.new):8.1f} ms {_p95(t.new):5.1f} ms "
              f"{statistics.median(t.cold):9.1f} ms {_p95(t.cold):6.1f} ms "
              f"{statistics.median(t.warm):9.1f} ms {_p95(t.warm):6.1f} ms  "
              f"{statistics.median(t.protect_new):5.1f} / "
              f"{statistics.median(t.protect_cold):5.1f} / "
              f"{statistics.median(t.protect_warm):4.1f} ms"
              + (f"  {max(t.warmed):13.1f} ms" if t.warmed else " " * 18)
              + f"  {statistics.median(t.fresh_cpu):7.1f} / "
              f"{statistics.median(t.new_cpu):7.1f} / "
              f"{statistics.median(t.cold_cpu):5.1f} ms")  # fmt: skip
    if WARMING_S:
        print(f"  background warming of {WARMING_VIEWS[0]} views on emptied caches: "
              f"{', '.join(f'{w:.1f}' for w in WARMING_S)} s, CPU "
              f"{', '.join(f'{w:.1f}' for w in WARMING_CPU)} s")  # fmt: skip
        print(f"  after it: {WARMED[0]}")
    print(f"  load average (1, 5, 15 min) after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--offices", type=int, default=20)
    parser.add_argument("--per-org", type=int, default=5, help="offices per job centre")
    parser.add_argument("--repeat", type=int, default=15, help="requests per page and view")
    parser.add_argument(
        "--sqlite-file",
        help="keep the SQLite database in this file (default: a temporary one, removed after)",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure on the responses already in the databases (--sqlite-file, "
        "RESONANZ_BENCH_POSTGRES) instead of writing new ones, if there are any",
    )
    parser.add_argument(
        "--postgres-only", action="store_true", help="skip SQLite (measure PostgreSQL only)"
    )
    parser.add_argument(
        "--controls-only",
        action="store_true",
        help="only one warming and then the first view of every view the pages' controls "
        "offer for the default period (overview, benchmark, one office page)",
    )
    parser.add_argument(
        "--unwarmed",
        action="store_true",
        help="only new views of views no warming works out ahead (periods typed in, a filter "
        "with the observed index)",
    )
    args = parser.parse_args()
    if args.postgres_only:
        pass
    elif args.sqlite_file:
        asyncio.run(_run("sqlite", f"sqlite:///{Path(args.sqlite_file).resolve()}", args))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            asyncio.run(_run("sqlite", f"sqlite:///{tmp}/bench.sqlite3", args))
    url = os.environ.get("RESONANZ_BENCH_POSTGRES")
    if url:
        asyncio.run(_run("postgres", url, args))
    else:
        print("postgres: skipped (set RESONANZ_BENCH_POSTGRES=postgresql://... to a database "
              "this script may empty and fill)")  # fmt: skip


if __name__ == "__main__":
    main()
