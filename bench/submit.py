"""Submission throughput and latency through real HTTP, and the weight of the survey page.

For each engine (SQLite; PostgreSQL when RESONANZ_BENCH_POSTGRES names a database it may
fill) a uvicorn server (bench/bench_server.py, one process) is loaded by `wrk` (one thread,
loopback only, a fixed number of seconds) at 32 and 200 concurrent connections on:
  minimal  a minimal Litestar endpoint: the ceiling of this server,
  group    POST /api/v1/responses: the real path, group commit by the writer task,
  naive    one Piccolo .save() per request (plus its answers) on Piccolo's default engine,
  minfresh the minimal endpoint with a new connection per request: the ceiling of `fresh`,
  fresh    the real path again, but every POST on a new connection (`Connection: close`), as
           a phone sends it after minutes on the survey page.
wrk starts a request's clock after connecting, so `fresh` latencies include the wait until
the server accepts the connection but not the TCP handshake. The errors column counts
non-2xx answers and wrk's socket errors (connect, read, write, timeout).
Every POST carries a new submission id and eight answers. Latencies are wrk's, which corrects
for coordinated omission (a stalled connection also counts the requests it held back), so a
short stall weighs more than its own requests. Prints figures, asserts nothing.

    .venv/bin/python bench/submit.py [--seconds 8]
"""

from __future__ import annotations

import sys
from pathlib import Path

# Running bench/X.py puts bench/ first on the import path, where bench/analysis.py would
# shadow the analysis package: take this folder off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import asyncio
import gzip
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

WRK_SCRIPT = r"""
math.randomseed(os.time() + %(salt)d)
local prefix = string.format("%%08x", math.random(0, 0x7fffffff))
local n = 0
local body_head = '{"link":"%(token)s","locale":"de","submission_id":"'
local body_tail = '","answers":{"respect":5,"understood":4,"explained":4,"next_steps":3,' ..
  '"fits":4,"waiting":2,"overall":4,"recommend":9}}'
local headers = {["Content-Type"] = "application/json"%(close)s}
request = function()
  n = n + 1
  local sid = prefix .. "-0000-4000-8000-" .. string.format("%%012x", n)
  return wrk.format("POST", "%(path)s", headers, body_head .. sid .. body_tail)
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(database_url: str, port: int, workdir: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "RESONANZ_DATABASE_URL": database_url,
        "RESONANZ_PORT": str(port),
        "RESONANZ_HOST": "127.0.0.1",
        "RESONANZ_RATE_LIMITS": "false",  # one client sends thousands a second to one link
        # the dashboards' background warming would start 30 s in, in the middle of a run
        "RESONANZ_WARM_AFTER_SECONDS": os.environ.get("RESONANZ_WARM_AFTER_SECONDS", "0"),
    }
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "bench_server.py")],
        env=env,
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
            return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(
                    proc.stderr.read().decode() if proc.stderr else "server died"
                ) from None
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start")


def load_demo(database_url: str, workdir: Path) -> str:
    env = {**os.environ, "RESONANZ_DATABASE_URL": database_url}
    out = subprocess.run(
        [sys.executable, "-m", "survey.cli", "demo", "--no-serve"],
        env=env,
        cwd=workdir,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"^respondent: \S+/s/(\S+)$", out, re.M)
    assert match, out
    return match[1]


def wrk(
    port: int, path: str, token: str, connections: int, seconds: int, close: bool = False
) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(
            WRK_SCRIPT
            % {
                "token": token,
                "path": path,
                "salt": connections,
                "close": ', ["Connection"] = "close"' if close else "",
            }
        )
        script = f.name
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "--timeout",
            "10s",
            "-s",
            script,
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(script)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])  # type: ignore[index]
    lat = {
        m[1]: _ms(m[2], m[3])
        for m in re.finditer(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    }
    if "99" not in lat:
        raise RuntimeError(f"wrk output without latencies:\n{out}")
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    # connect/read/write errors and timeouts never reach the latency histogram: count them
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non2xx[1]) if non2xx else 0) + (sum(map(int, socket.groups())) if socket else 0)
    return {"rps": rps, "p50": lat["50"], "p99": lat["99"], "errors": float(errors)}


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def count_responses(database_url: str) -> int:
    from survey.db import engine_lifespan, make_engine
    from survey.settings import Settings
    from survey.tables import Response

    async def run() -> int:
        engine = make_engine(Settings(database_url=database_url))
        async with engine_lifespan(engine, 1):
            return int(await Response.count())

    return asyncio.run(run())


def page_weight(base: str, token: str) -> list[tuple[str, int, int]]:
    html = urllib.request.urlopen(f"{base}/s/{token}").read()
    rows = [("HTML", len(html), len(gzip.compress(html, 6)))]
    for ref in re.findall(rb'(?:href|src)="(/static/[^"]+)"', html):
        body = urllib.request.urlopen(base + ref.decode()).read()
        rows.append((ref.decode().split("?")[0], len(body), len(gzip.compress(body, 6))))
    return rows


PATHS = {
    "minimal": ("/bench/minimal", False),
    "group": ("/api/v1/responses", False),
    "naive": ("/bench/naive", False),
    "minfresh": ("/bench/minimal", True),
    "fresh": ("/api/v1/responses", True),
}
CEILING = {"fresh": "minfresh", "minfresh": "minfresh"}
"""Which path is the ceiling of which: a new connection per request has its own ceiling."""


def bench_engine(
    name: str, url: str, seconds: int, concurrency: list[int], paths: list[str]
) -> None:
    workdir = Path(tempfile.mkdtemp(prefix=f"resonanz-bench-{name}-"))
    token = load_demo(url, workdir)
    port = free_port()
    server = start_server(url, port, workdir)
    try:
        before = count_responses(url)
        sent = 0
        print(
            f"\n{name}: {'path':8} {'c':>4} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
            f"{'errors':>6}  ratio to its ceiling"
        )
        for c in concurrency:
            results = {}
            for path_name in paths:
                url_path, close = PATHS[path_name]
                r = results[path_name] = wrk(port, url_path, token, c, seconds, close)
                if not path_name.startswith("min"):
                    sent += int(r["rps"] * seconds)
                ceiling = results.get(CEILING.get(path_name, "minimal"), r)["rps"]
                print(
                    f"{name}: {path_name:8} {c:>4} {r['rps']:>8.0f} {r['p50']:>8.1f} "
                    f"{r['p99']:>8.1f} {r['errors']:>6.0f}  {r['rps'] / ceiling:.2f}"
                )
            if "group" in results and "naive" in results:
                g, n = results["group"], results["naive"]
                print(
                    f"{name}: c={c}: group commit / naive = {g['rps'] / n['rps']:.1f}× "
                    f"throughput, p99 {g['p99']:.0f} ms vs {n['p99']:.0f} ms"
                )
        stored = count_responses(url) - before
        print(f"{name}: stored {stored} new responses during the runs (about {sent} answered)")
        if name == "sqlite":
            print("\nsurvey page (German), bytes raw / gzip:")
            total_raw = total_gz = 0
            for what, raw, gz in page_weight(f"http://127.0.0.1:{port}", token):
                total_raw, total_gz = total_raw + raw, total_gz + gz
                print(f"  {what:40} {raw:>7} {gz:>7}")
            print(f"  {'total':40} {total_raw:>7} {total_gz:>7}")
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[32, 200])
    parser.add_argument("--paths", nargs="+", choices=list(PATHS), default=list(PATHS))
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("bench/submit.py needs wrk: apt-get install wrk")
        return
    print(
        f"wrk -t1, {args.seconds} s per run, loopback; server: one uvicorn process; "
        f"{os.cpu_count()} cores"
    )
    tmp = Path(tempfile.mkdtemp(prefix="resonanz-bench-sqlite-db-"))
    bench_engine(
        "sqlite", f"sqlite:///{tmp / 'bench.sqlite3'}", args.seconds, args.concurrency, args.paths
    )
    pg = os.environ.get("RESONANZ_BENCH_POSTGRES")
    if pg:
        bench_engine("postgres", pg, args.seconds, args.concurrency, args.paths)
    else:
        print(
            "\npostgres: skipped (set RESONANZ_BENCH_POSTGRES=postgresql://... to a database "
            "this benchmark may fill)"
        )
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
