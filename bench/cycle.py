"""Complete respondent cycles per second: the survey page, the form, the thank-you page.

A respondent's browser sends three requests: GET /s/{token} (the survey page), POST
/s/{token} (the form, answered with 303 to the thank-you page) and GET /s/{token}/thanks.
For each engine (SQLite; PostgreSQL when RESONANZ_BENCH_POSTGRES names a database it may fill)
one uvicorn server (bench/bench_server.py, as `resonanz serve` runs it) is loaded by `wrk -t1`
on loopback, at 1, 32 and 200 connections:
  healthz  GET /healthz, the server's ceiling, measured right before the cycles;
  cycle    a Lua script that makes every connection a respondent: it reads the hidden fields
           (submission id, and whatever else the form carries per view) from each survey page
           it got, posts the form with them and eight answers, follows the 303 to the
           thank-you page. A cycle counts when its thank-you page arrived with 200.
Every request carries the headers a browser sends (Accept, Accept-Encoding: gzip, deflate,
br, Accept-Language); what the server compresses, the bench receives compressed. The server
sends the tags that hold a page's per-view values uncompressed inside its gzip stream
(survey/pagecache.py), so the script finds them in the bytes; a survey page is told from
a thank-you page by them. When they cannot be read, the bench says so and stops.
The ratio that matters is cycles/s ÷ healthz req/s in the same run (goal ≥ 1/6: the three
requests of a cycle together at least half as fast as three requests to /healthz); it is
robust against a machine whose speed changes from day to day. LimeSurvey 6.14 did 21.8
complete respondents per second on the same kind of machine (shared/ANCHORS.md).
On PostgreSQL, right after the cycles at c = 1, one connection commits one-row INSERTs one
after the other for as long: the durable commits per second of this server and disk, which a
cycle at c = 1 waits for once each (printed as a share of healthz: the cap of that ratio).
Afterwards the responses stored are counted in the database: every POST answered with 303 must
be there. Then, on PostgreSQL, one connection runs the writer's own storing statement for a
response like the cycle's, one after the other: with /healthz's rate at c = 1 that gives the
most a cycle at c = 1 could reach if its three requests cost no more than /healthz each and
storing took nothing but that statement (1 / (3 + healthz/s ÷ statements/s)).
`--store one-row` and `--store none` (PostgreSQL only, an experiment): the server answers each
form after one durable one-row upsert, or without touching the database, and stores nothing
(bench/bench_server.py): what the cycle would reach if storing cost that. Prints figures,
asserts nothing.

    .venv/bin/python bench/cycle.py [--seconds 6] [--concurrency 1 32 200]
        [--engines sqlite postgres] [--store real|one-row|none]
"""

from __future__ import annotations

import sys
from pathlib import Path

# Running bench/X.py puts bench/ first on the import path, where bench/analysis.py would
# shadow the analysis package: take this folder off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import importlib.util
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LIMESURVEY_PER_SECOND = 21.8
GOAL = 1 / 6

_spec = importlib.util.spec_from_file_location("bench_submit", ROOT / "bench" / "submit.py")
assert _spec and _spec.loader
submit = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(submit)

BROWSER_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Encoding": "gzip, deflate, br",
    "Accept-Language": "de-DE,de;q=0.9,en;q=0.8",
}

LUA_HEADERS = "{" + ", ".join(f'["{k}"] = "{v}"' for k, v in BROWSER_HEADERS.items()) + "}"

CYCLE_SCRIPT = r"""
-- One thread; every connection takes whichever step of some respondent's cycle is due next:
-- a thank-you page owed after a 303, else a form whose page has arrived, else a new page.
local page_path = "%(page)s"
local thanks_path = "%(thanks)s"
local answers = "%(answers)s"
local get_headers = %(headers)s
local post_headers = %(headers)s
post_headers["Content-Type"] = "application/x-www-form-urlencoded"
local queue, head, tail = {}, 1, 0
thanks_due = 0
local thanks_out = 0
pages, posts, cycles, unreadable, failures = 0, 0, 0, 0, 0

local function urlencode(s)
  return (s:gsub("[^%%w%%-%%._~]", function(c) return string.format("%%%%%%02X", c:byte()) end))
end

request = function()
  if thanks_due > 0 then
    thanks_due = thanks_due - 1
    thanks_out = thanks_out + 1
    return wrk.format("GET", thanks_path, get_headers)
  end
  if head <= tail then
    local fields = queue[head]
    queue[head] = nil
    head = head + 1
    return wrk.format("POST", page_path, post_headers, fields .. answers)
  end
  return wrk.format("GET", page_path, get_headers)
end

response = function(status, headers, body)
  if status == 303 then
    posts = posts + 1
    thanks_due = thanks_due + 1
  elseif status == 200 and body:find('name="submission_id"', 1, true) then
    pages = pages + 1
    local fields = {}
    for name, value in body:gmatch('<input type="hidden" name="([%%w_]+)" value="([^"]*)">') do
      fields[#fields + 1] = name .. "=" .. urlencode(value) .. "&"
    end
    tail = tail + 1
    queue[tail] = table.concat(fields)
  elseif status == 200 and thanks_out > 0 then
    -- the thank-you page, compressed or not (the survey pages were told apart above)
    thanks_out = thanks_out - 1
    cycles = cycles + 1
  elseif status == 200 then
    unreadable = unreadable + 1
  else
    failures = failures + 1
  end
end

local threads = {}
setup = function(thread) threads[#threads + 1] = thread end

done = function(summary, latency, requests)
  local t = threads[1]
  io.write(string.format(
    "CYCLES %%d PAGES %%d POSTS %%d UNREADABLE %%d FAILURES %%d SECONDS %%.3f\n",
    t:get("cycles"), t:get("pages"), t:get("posts"), t:get("unreadable"), t:get("failures"),
    summary.duration / 1e6))
end
"""

HEALTHZ_SCRIPT = """
local headers = %(headers)s
request = function() return wrk.format("GET", "/healthz", headers) end
"""


def check_readable(base: str, token: str) -> None:
    """The bench reads the hidden fields from the survey page's bytes as a browser gets them."""
    req = urllib.request.Request(f"{base}/s/{token}", headers=BROWSER_HEADERS)
    with urllib.request.urlopen(req, timeout=10) as response:
        body = bytes(response.read())
        encoding = response.headers.get("content-encoding", "")
    if b'name="submission_id"' not in body:
        raise SystemExit(
            f"the survey page came {encoding or 'plain'} and its hidden fields are not readable "
            "in its bytes; this bench cannot follow its cycle"
        )


def get_plain(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return bytes(response.read())


def form_answers(html: bytes) -> str:
    """A valid answer for every item on the page (a middle value; free text left empty)."""
    radios: dict[str, list[str]] = {}
    for name, value in re.findall(rb'type="radio" name="([\w-]+)" value="(\d+)"', html):
        radios.setdefault(name.decode(), []).append(value.decode())
    texts = [n.decode() for n in re.findall(rb'<textarea[^>]* name="([\w-]+)"', html)]
    parts = [f"{name}={values[len(values) // 2]}" for name, values in radios.items()]
    parts += [f"{name}=" for name in texts]
    return "&".join(parts)


def run_wrk(port: int, script: str, connections: int, seconds: int) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
        path = f.name
    try:
        return subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{seconds}s",
                "--latency",
                "--timeout",
                "10s",
                "-s",
                path,
                f"http://127.0.0.1:{port}",
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 60,
        ).stdout
    finally:
        os.unlink(path)


def _latency(out: str) -> dict[str, float]:
    return {
        m[1]: submit._ms(m[2], m[3])
        for m in re.finditer(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    }


def healthz(port: int, connections: int, seconds: int) -> dict[str, float]:
    out = run_wrk(port, HEALTHZ_SCRIPT % {"headers": LUA_HEADERS}, connections, seconds)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])  # type: ignore[index]
    return {"rps": rps, **_latency(out)}


def cycle(port: int, token: str, answers: str, connections: int, seconds: int) -> dict[str, Any]:
    script = CYCLE_SCRIPT % {
        "page": f"/s/{token}",
        "thanks": f"/s/{token}/thanks?lang=de",
        "answers": answers,
        "headers": LUA_HEADERS,
    }
    out = run_wrk(port, script, connections, seconds)
    m = re.search(
        r"CYCLES (\d+) PAGES (\d+) POSTS (\d+) UNREADABLE (\d+) FAILURES (\d+) SECONDS ([\d.]+)",
        out,
    )
    if not m:
        raise RuntimeError(f"wrk output without the cycle counts:\n{out}")
    cycles, pages, posts, unreadable, failures = (int(m[i]) for i in range(1, 6))
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "cycles": cycles,
        "pages": pages,
        "posts": posts,
        "errors": unreadable + failures + (sum(map(int, socket.groups())) if socket else 0),
        "per_second": cycles / float(m[6]),
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1]),  # type: ignore[index]
        **_latency(out),
    }


def _per_second(url: str, seconds: int, prepare: Any, step: Any, finish: Any = None) -> float:
    """How often `step(conn, prepared)` runs per second on one asyncpg connection, one after
    the other for `seconds` (`prepare(conn)` first, `finish(conn)` after)."""
    import asyncio

    import asyncpg

    async def run() -> float:
        conn = await asyncpg.connect(url)
        try:
            prepared = await prepare(conn)
            done = 0
            start = time.perf_counter()
            while (elapsed := time.perf_counter() - start) < seconds:
                await step(conn, prepared)
                done += 1
            return done / elapsed
        finally:
            if finish is not None:
                await finish(conn)
            await conn.close()

    return asyncio.run(run())


def commit_floor(url: str, seconds: int) -> float:
    """Durable commits per second of one connection on PostgreSQL: an autocommitted one-row
    INSERT into a logged table, one after the other (each waits for its WAL flush). A cycle at
    c = 1 waits for one such commit, so it cannot run more often than this."""

    async def prepare(conn: Any) -> None:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_commit_floor (id bigserial PRIMARY KEY, at "
            "timestamptz NOT NULL)"
        )

    async def step(conn: Any, _: None) -> None:
        await conn.execute("INSERT INTO bench_commit_floor (at) VALUES (now())")

    async def finish(conn: Any) -> None:
        await conn.execute("DROP TABLE IF EXISTS bench_commit_floor")

    return _per_second(url, seconds, prepare, step, finish)


def statement_floor(url: str, token: str, answers: str, seconds: int) -> float:
    """Batches of one per second that the writer's own storing statement (`_PG_BATCH`) commits
    on one connection, one after the other: the cycle's answers made a submission as the form's
    POST makes it (`make_submission`), stored durably, as the writer stores a lone POST at
    c = 1. The demo link (of the standard questionnaire); the responses stay in the bench's
    database."""
    import uuid

    from survey.questionnaire import check_answers, load_definition, standard_definition_bytes
    from survey.respond.schemas import LinkInfo
    from survey.respond.store import _PG_BATCH, _pg_batch, make_submission

    definition = load_definition(standard_definition_bytes())
    checked = check_answers(definition, dict(p.split("=") for p in answers.split("&")),
                            from_form=True)  # fmt: skip

    async def prepare(conn: Any) -> LinkInfo:
        row = await conn.fetchrow(
            "SELECT id, office, version, service_type, mode FROM link WHERE token = $1", token
        )
        return LinkInfo(id=row["id"], token=token, office_id=row["office"], office="",
                        organization="", version_id=row["version"], version=0,
                        service_type=row["service_type"], mode=row["mode"],
                        active=True)  # fmt: skip

    async def step(conn: Any, link: LinkInfo) -> None:
        submission = make_submission(link, uuid.uuid4(), "de", checked, definition)
        await conn.fetch(_PG_BATCH, _pg_batch([submission]))

    return _per_second(url, seconds, prepare, step)


def bench_engine(
    name: str, url: str, seconds: int, concurrency: list[int], store: str = "real"
) -> None:
    workdir = Path(tempfile.mkdtemp(prefix=f"resonanz-cycle-{name}-"))
    token = submit.load_demo(url, workdir)
    port = submit.free_port()
    os.environ["RESONANZ_BENCH_STORE"] = store  # read by bench/bench_server.py
    server = submit.start_server(url, port, workdir)
    ceiling_at_1 = None
    try:
        base = f"http://127.0.0.1:{port}"
        check_readable(base, token)
        answers = form_answers(get_plain(f"{base}/s/{token}"))
        before = submit.count_responses(url)
        posted = 0
        print(
            f"\n{name}: {'c':>4} {'healthz/s':>10} {'cycles/s':>9} {'req/s':>7} "
            f"{'p50 ms':>7} {'p99 ms':>7} {'errors':>6} {'of healthz':>10} "
            f"{'×LimeSurvey':>11}"
        )
        for c in concurrency:
            ceiling = healthz(port, c, seconds)
            r = cycle(port, token, answers, c, seconds)
            posted += r["posts"]
            share = r["per_second"] / ceiling["rps"]
            print(
                f"{name}: {c:>4} {ceiling['rps']:>10.0f} {r['per_second']:>9.0f} "
                f"{r['rps']:>7.0f} {r.get('50', 0):>7.1f} {r.get('99', 0):>7.1f} "
                f"{r['errors']:>6} {share:>10.3f} {r['per_second'] / LIMESURVEY_PER_SECOND:>10.0f}×"
            )
            if c == 1:
                ceiling_at_1 = ceiling["rps"]
            if c == 1 and url.startswith("postgres"):
                floor = commit_floor(url, seconds)
                print(
                    f"{name}: commit floor at c = 1: {floor:.0f} durable commits/s = "
                    f"{floor / ceiling['rps']:.3f} of healthz (a cycle at c = 1 waits for one)"
                )
        stored = submit.count_responses(url) - before
        if store != "real":
            print(f"{name}: {stored} responses stored: --store {store} stores none")
        else:
            print(
                f"{name}: {stored} responses stored, {posted} forms answered with 303 "
                f"({stored - posted} more were in flight when a run ended)"
            )
        if ceiling_at_1 and url.startswith("postgres"):
            alone = statement_floor(url, token, answers, seconds)
            bound = 1 / (3 + ceiling_at_1 / alone)
            print(
                f"{name}: the storing statement alone at c = 1: {alone:.0f} responses/s; three "
                f"requests as fast as /healthz plus it: at most {bound:.3f} of healthz "
                f"(goal {GOAL:.3f})"
            )
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 32, 200])
    parser.add_argument("--engines", nargs="+", choices=["sqlite", "postgres"])
    parser.add_argument(
        "--store",
        choices=["real", "one-row", "none"],
        default="real",
        help="PostgreSQL only, an experiment: the server answers each form after one durable "
        "one-row upsert (one-row) or without touching the database (none), instead of storing",
    )
    args = parser.parse_args()
    if args.store != "real" and args.engines != ["postgres"]:
        parser.error(f"--store {args.store} is an experiment on PostgreSQL: add --engines postgres")
    if shutil.which("wrk") is None:
        print("bench/cycle.py needs wrk: apt-get install wrk")
        return
    print(
        f"wrk -t1, {args.seconds} s per run, loopback; server: one uvicorn process; "
        f"{os.cpu_count()} cores; goal: cycles/s ≥ {GOAL:.3f} × healthz req/s; "
        f"LimeSurvey {LIMESURVEY_PER_SECOND}/s"
    )
    engines = args.engines or ["sqlite", "postgres"]
    if "sqlite" in engines:
        tmp = Path(tempfile.mkdtemp(prefix="resonanz-cycle-sqlite-db-"))
        bench_engine("sqlite", f"sqlite:///{tmp / 'bench.sqlite3'}", args.seconds, args.concurrency)
        shutil.rmtree(tmp, ignore_errors=True)
    pg = os.environ.get("RESONANZ_BENCH_POSTGRES")
    if "postgres" in engines and pg:
        bench_engine("postgres", pg, args.seconds, args.concurrency, args.store)
    elif "postgres" in engines:
        print(
            "\npostgres: skipped (set RESONANZ_BENCH_POSTGRES=postgresql://... to a database "
            "this benchmark may fill)"
        )


if __name__ == "__main__":
    main()
