"""What the dashboards' warming leaves unwarmed, and what a view holds up, at one million
responses (on a database bench/dashboard.py filled; issue 17).

On the bench's network (job centres of five offices; its coordinator `bench`) the script adds,
once, two managers: `bench-leitung` of the first job centre (five offices) and
`bench-standort` of the first office of the second one. Then:

1. the warming of the default views (`warm(state, controls=False)`, no pauses) on emptied
   caches and kept rows, timed (wall and CPU of this process), after the templates the
   app's warming compiles first (`compile_templates`);
2. right after it, the first view of each page a manager opens (overview, benchmark, each of
   their office pages, learning from the best at both levels) and the coordinator's learning
   from the best: wall and CPU time per view;
3. the event loop (alone with --loop-only): twice a new view (the coordinator's overview,
   caches emptied and kept rows deleted, rolled-up counts held) and twice a fresh one (the
   counts not held either) while `/healthz` is asked on the same loop 5 ms after each
   answer: how long a health request waited from when it was due to its answer (median,
   p95, longest) and how many were answered during the view.

4. with --restart: what users meet in the minutes after a process starts (k27). First the
   default views are worked out and kept (this process); then a new process, started as a
   server starts (its own lifespan, with the app's warming after `--warm-after` seconds),
   serves at once the first view of each default page of the coordinator and the two
   managers (overview, benchmark, one office page, learning from the best, the results
   API's overview), then 15 s after start the coordinator's overview of a period typed in
   (the last six months: no warming works it out): wall and CPU per view.

It prints figures and never asserts.

    .venv/bin/python bench/warming.py --sqlite-file PATH [--loop-only | --restart]
    RESONANZ_BENCH_POSTGRES=postgresql://... .venv/bin/python bench/warming.py --postgres-only
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse
import asyncio
import os
import re
import statistics
import time
from typing import Any

PASSWORD = "bench-password-2026"
PROBE_S = 0.005
MANAGERS = ("bench-leitung", "bench-standort")


async def _managers() -> None:
    """The two managers (once)."""
    from survey.auth.passwords import hash_password
    from survey.tables import Membership, Office, Organization, User

    if await User.exists().where(User.username == MANAGERS[0]):
        return
    orgs = await Organization.select(Organization.id).order_by(Organization.name)
    second = (
        await Office.select(Office.id)
        .where(Office.organization == orgs[1]["id"])
        .order_by(Office.name)
    )
    import datetime as dt

    now = dt.datetime.now(dt.UTC)
    for name, where in ((MANAGERS[0], {"organization": orgs[0]["id"]}),
                        (MANAGERS[1], {"office": second[0]["id"]})):  # fmt: skip
        user = User(username=name, password_hash=hash_password(PASSWORD), created_at=now)
        await user.save()
        await Membership(user=user.id, role="manager", **where).save()


TOKEN = "rz_bench_limited_" + "t" * 30
"""An API token of the coordinator `bench` limited to the first job centre (k27)."""


async def _token() -> None:
    """The coordinator's API token limited to the first job centre (once)."""
    import datetime as dt

    from survey.auth.guard import hash_token
    from survey.tables import ApiToken, Organization, User

    if await ApiToken.exists().where(ApiToken.token_hash == hash_token(TOKEN)):
        return
    orgs = await Organization.select(Organization.id).order_by(Organization.name)
    bench = await User.select(User.id).where(User.username == "bench").first()
    now = dt.datetime.now(dt.UTC)
    await ApiToken(user=bench["id"], name="bench limited", token_hash=hash_token(TOKEN),
                   created_at=now, organizations=[orgs[0]["id"]]).save()  # fmt: skip


async def _login(c: Any, username: str) -> None:
    c.cookies.clear()
    form = await c.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    await c.post("/login", data={"username": username, "password": PASSWORD,
                                 "csrf_token": token[1]})  # fmt: skip


async def _timed(c: Any, path: str) -> tuple[float, float]:
    started, cpu = time.perf_counter(), time.process_time()
    response = await c.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return 1000 * (time.perf_counter() - started), 1000 * (time.process_time() - cpu)


async def _held_up(c: Any, path: str) -> str:
    """`path` requested while /healthz is asked again 5 ms after each answer: how long each
    health request waited from the moment it was due (5 ms after the last answer) to its
    answer, the time a request arriving then would wait (a loop held up by a view delays
    the probe's wake-up as much as its request)."""
    waits: list[float] = []
    done = asyncio.Event()

    async def probe() -> None:
        due = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(PROBE_S)
            await c.get("/healthz")
            answered = time.perf_counter()
            waits.append(1000 * (answered - due))
            due = answered + PROBE_S

    prober = asyncio.create_task(probe())
    await asyncio.sleep(0.05)
    before = len(waits)
    started, cpu = time.perf_counter(), time.process_time()
    await c.get(path)
    wall, used = 1000 * (time.perf_counter() - started), 1000 * (time.process_time() - cpu)
    done.set()
    await prober
    late = waits[before:]
    return (f"view {wall:.0f} ms (CPU {used:.0f} ms); /healthz during it: {len(late)} answered, "
            f"wait median {statistics.median(late):.1f} ms, p95 {_p95(late):.1f} ms, "
            f"longest {max(late):.1f} ms")  # fmt: skip


def _p95(times: list[float]) -> float:
    times = sorted(times)
    return times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]


async def _measure(settings: Any, loop_only: bool, views_only: bool = False) -> None:
    import httpx

    from bench.dashboard import _forget, _forget_stored
    from survey.app import create_app, lifespan
    from survey.dashboard import warm as warm_module

    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with lifespan(app), httpx.AsyncClient(transport=transport, base_url="http://b") as c:
        await _managers()
        await _token()
        if hasattr(warm_module, "compile_templates"):  # as the app's warming does first
            warm_module.compile_templates(app)
        if loop_only:
            await _loop(app, c)
            return
        _forget(app, counts=True)
        await _forget_stored()
        warm_module.SHARE = 0.0
        started, cpu = time.perf_counter(), time.process_time()
        views = await warm_module.warm(app.state, controls=False)
        print(
            f"  warming of the default views ({views}, no pauses): "
            f"{time.perf_counter() - started:.1f} s, CPU {time.process_time() - cpu:.1f} s"
        )
        for user in (*MANAGERS, "bench"):
            await _login(c, user)
            rows = (await c.get("/api/v1/results/overview")).json()["rows"]
            offices = [r["office_id"] for r in rows]
            pages = [("overview", "/dashboard"), ("benchmark", "/dashboard/benchmark")]
            if user != "bench":
                pages += [(f"office {o}", f"/dashboard/offices/{o}") for o in offices]
            pages += [("best", "/dashboard/best"),
                      ("best, job centres", "/dashboard/best?level=organization")]  # fmt: skip
            print(f"  {user} ({len(offices)} offices): first views after the warming")
            for name, path in pages:
                wall, cpu_ms = await _timed(c, path)
                print(f"    {name:<20} {wall:7.1f} ms  CPU {cpu_ms:7.1f} ms")
        c.cookies.clear()  # the limited token's first results API requests (k27)
        bearer = {"authorization": f"Bearer {TOKEN}"}
        started, cpu = time.perf_counter(), time.process_time()
        rows = (await c.get("/api/v1/results/overview", headers=bearer)).json()["rows"]
        print(f"  token limited to a job centre ({len(rows)} offices): first requests after "
              f"the warming\n    {'/api/v1/results/overview':<32} "
              f"{1000 * (time.perf_counter() - started):7.1f} ms  "
              f"CPU {1000 * (time.process_time() - cpu):7.1f} ms")  # fmt: skip
        for path in ("/api/v1/results/benchmark", "/api/v1/results/best",
                     *(f"/api/v1/results/offices/{r['office_id']}" for r in rows)):  # fmt: skip
            started, cpu = time.perf_counter(), time.process_time()
            response = await c.get(path, headers=bearer)
            assert response.status_code == 200, path
            print(f"    {path:<32} {1000 * (time.perf_counter() - started):7.1f} ms  "
                  f"CPU {1000 * (time.process_time() - cpu):7.1f} ms")  # fmt: skip
        if not views_only:
            await _loop(app, c)


async def _loop(app: Any, c: Any) -> None:
    from bench.dashboard import _forget, _forget_stored

    await _login(c, "bench")
    for kind in ("new", "fresh"):
        for _ in range(2):
            _forget(app, counts=kind == "fresh")
            await _forget_stored()
            print(f"  a {kind} overview: {await _held_up(c, '/dashboard')}")
    print(f"  load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


async def _restart(url: str, warm_after: float) -> None:
    """Part 4: keep the default views, then time a new process's first views."""
    import subprocess

    from survey.app import create_app, lifespan
    from survey.dashboard import warm as warm_module
    from survey.settings import Settings

    settings = Settings(database_url=url, secret_key="bench-" + "x" * 40, warm_after_seconds=0)
    app = create_app(settings)
    async with lifespan(app):
        await _managers()
        warm_module.SHARE = 0.0
        started, cpu = time.perf_counter(), time.process_time()
        views = await warm_module.warm(app.state, controls=False)  # kept (or read) in the database
        print(f"  default views kept ({views}): {time.perf_counter() - started:.1f} s, "
              f"CPU {time.process_time() - cpu:.1f} s")  # fmt: skip
        from survey.tables import DashboardFigure

        # only the default views' rows (the period typed in below stays new)
        await DashboardFigure.raw("DELETE FROM dashboard_figure WHERE default_for = ''")
    child = subprocess.run(
        [sys.executable, __file__, "--after-restart", url, "--warm-after", str(warm_after)],
        check=False,
    )
    assert child.returncode == 0


async def _after_restart(url: str, warm_after: float) -> None:
    """A new process: the app's lifespan (its warming after `warm_after` s), then at once
    each user's first view of each default page."""
    import httpx

    from survey.app import create_app, lifespan
    from survey.dashboard import warm as warm_module
    from survey.settings import Settings

    started = time.perf_counter()
    settings = Settings(database_url=url, secret_key="bench-" + "x" * 40,
                        warm_after_seconds=warm_after)  # fmt: skip
    app = create_app(settings)
    warmed: list[float] = []
    inner = warm_module.warm

    async def timed_warm(state: Any, **kwargs: Any) -> int:
        views = await inner(state, **kwargs)
        warmed.append(time.perf_counter() - started)
        return views

    warm_module.warm = timed_warm  # type: ignore[assignment]
    transport = httpx.ASGITransport(app=app)
    async with (
        lifespan(app),
        warm_module.warming(app),  # as the app's lifespan runs it (its warming, after the delay)
        httpx.AsyncClient(transport=transport, base_url="http://b") as c,
    ):
        print(f"  new process (warming after {warm_after:.0f} s), "
              f"{time.perf_counter() - started:.1f} s after start:")  # fmt: skip
        for user in ("bench", *MANAGERS):
            await _login(c, user)
            at = time.perf_counter() - started
            wall, cpu = time.perf_counter(), time.process_time()
            rows = (await c.get("/api/v1/results/overview")).json()["rows"]
            print(f"    {user:<15} {'API overview':<13} at {at:5.1f} s: "
                  f"{1000 * (time.perf_counter() - wall):7.1f} ms  "
                  f"CPU {1000 * (time.process_time() - cpu):7.1f} ms")  # fmt: skip
            pages = [("overview", "/dashboard"), ("benchmark", "/dashboard/benchmark"),
                     ("office", f"/dashboard/offices/{rows[0]['office_id']}"),
                     ("best", "/dashboard/best")]  # fmt: skip
            for name, path in pages:
                at = time.perf_counter() - started
                wall, cpu_ms = await _timed(c, path)
                print(f"    {user:<15} {name:<13} at {at:5.1f} s: {wall:7.1f} ms  "
                      f"CPU {cpu_ms:7.1f} ms")  # fmt: skip
        # a period typed in (no warming works it out, nothing kept), 15 s after start-up:
        # before the app's warming (after 30 s), after what a process does at once
        import datetime as dt

        await _login(c, "bench")
        half = (dt.date.today().replace(day=1) - dt.timedelta(days=150)).strftime("%Y-%m")
        await asyncio.sleep(max(0.0, 15 - (time.perf_counter() - started)))
        at = time.perf_counter() - started
        wall, cpu_ms = await _timed(c, f"/dashboard?from={half}")
        print(f"    {'bench':<15} {'6 months':<13} at {at:5.1f} s: {wall:7.1f} ms  "
              f"CPU {cpu_ms:7.1f} ms")  # fmt: skip
        print(f"  the app's warming: {'done' if warmed else 'not done'} "
              f"{time.perf_counter() - started:.1f} s after start")  # fmt: skip
        print(f"  load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


async def _run(url: str, loop_only: bool, views_only: bool = False) -> None:
    from survey.db import make_engine, migrate
    from survey.settings import Settings

    settings = Settings(database_url=url, secret_key="bench-" + "x" * 40, warm_after_seconds=0)
    await migrate(make_engine(settings))
    print(f"{url.split(':')[0]}: load average before "
          f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}")  # fmt: skip
    await _measure(settings, loop_only, views_only)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sqlite-file")
    parser.add_argument("--postgres-only", action="store_true")
    parser.add_argument("--loop-only", action="store_true", help="only part 3")
    parser.add_argument("--restart", action="store_true", help="only part 4")
    parser.add_argument("--views-only", action="store_true", help="parts 1 and 2 only")
    parser.add_argument("--warm-after", type=float, default=30.0,
                        help="the new process's RESONANZ_WARM_AFTER_SECONDS (part 4)")  # fmt: skip
    parser.add_argument("--after-restart", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.after_restart:
        asyncio.run(_after_restart(args.after_restart, args.warm_after))
        return
    if args.restart:
        if not args.postgres_only and args.sqlite_file:
            url = f"sqlite:///{Path(args.sqlite_file).resolve()}"
            asyncio.run(_restart(url, args.warm_after))
        if os.environ.get("RESONANZ_BENCH_POSTGRES"):
            asyncio.run(_restart(os.environ["RESONANZ_BENCH_POSTGRES"], args.warm_after))
        return
    if not args.postgres_only and args.sqlite_file:
        asyncio.run(_run(f"sqlite:///{Path(args.sqlite_file).resolve()}", args.loop_only,
                         args.views_only))  # fmt: skip
    url = os.environ.get("RESONANZ_BENCH_POSTGRES")
    if url:
        asyncio.run(_run(url, args.loop_only, args.views_only))


if __name__ == "__main__":
    main()
