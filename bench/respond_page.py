"""Survey page weight per language and Largest Contentful Paint on a slow phone.

Starts `resonanz demo` on a fresh SQLite file, then
1. fetches the survey page in every language with the CSS and JS it references and prints the
   raw and gzip bytes (gzip level 6, what a reverse proxy typically sends);
2. opens the page in headless Chromium with Chrome DevTools Protocol throttling — 150 ms round
   trip, 1.6 Mbps down, 750 kbps up (Network.emulateNetworkConditions) and 4x CPU slowdown
   (Emulation.setCPUThrottlingRate) — with an empty cache, and prints the Largest Contentful
   Paint (median of --runs) and whether any request left the server's host.

Prints figures, never asserts. Needs Chromium (/usr/bin/chromium or RESONANZ_TEST_CHROMIUM).

    .venv/bin/python bench/respond_page.py [--runs 5]
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from survey.i18n import RESPOND_LOCALES

BUDGET_GZIP = 30 * 1024
LATENCY_MS = 150
DOWN_BPS = 1_600_000
UP_BPS = 750_000
CPU_SLOWDOWN = 4
LCP_JS = """() => new Promise(resolve => {
  new PerformanceObserver(list => {
    const entries = list.getEntries();
    resolve(entries[entries.length - 1].startTime);
  }).observe({type: 'largest-contentful-paint', buffered: true});
})"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def demo_server() -> Iterator[str]:
    """`resonanz demo` in a subprocess; yields the personal survey URL."""
    with tempfile.TemporaryDirectory() as workdir:
        port = _free_port()
        env = {
            **os.environ,
            "RESONANZ_DATABASE_URL": f"sqlite:///{Path(workdir) / 'resonanz.sqlite3'}",
            "RESONANZ_PORT": str(port),
            "RESONANZ_HOST": "127.0.0.1",
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "survey.cli", "demo"],
            cwd=workdir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert proc.stdout is not None
        url = ""
        try:
            for line in proc.stdout:
                if m := re.match(r"^respondent: (\S+)$", line.strip()):
                    url = m[1]
                    break
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                        break
                except OSError:
                    time.sleep(0.1)
            if not url:
                raise SystemExit("the demo server did not start")
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return bytes(response.read())


def page_weight(url: str) -> list[tuple[str, int, int, int, int]]:
    """Per language: (lang, html raw, html gzip, total raw, total gzip) with CSS and JS."""
    base = f"{urlsplit(url).scheme}://{urlsplit(url).netloc}"
    rows = []
    for lang in RESPOND_LOCALES:
        html = _get(f"{url}?lang={lang}")
        assets = re.findall(rb'(?:href|src)="(/static/[^"]+)"', html)
        bodies = [html] + [_get(base + a.decode()) for a in assets]
        raw = sum(len(b) for b in bodies)
        packed = sum(len(gzip.compress(b, 6)) for b in bodies)
        rows.append((lang, len(html), len(gzip.compress(html, 6)), raw, packed))
    return rows


def largest_contentful_paint(url: str, langs: list[str], runs: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("RESONANZ_TEST_CHROMIUM") or shutil.which("chromium")
    if not chromium:
        raise SystemExit("needs Chromium: apt-get install chromium or set RESONANZ_TEST_CHROMIUM")
    host = urlsplit(url).netloc
    results: dict[str, list[float]] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium, args=["--headless=new", "--no-sandbox", "--disable-gpu"]
        )
        for lang in langs:
            for _ in range(runs):
                context = browser.new_context(
                    viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
                )
                page = context.new_page()
                foreign: list[str] = []
                page.on("request", lambda r, seen=foreign: seen.append(r.url))
                cdp = context.new_cdp_session(page)
                cdp.send("Network.enable")
                cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
                cdp.send(
                    "Network.emulateNetworkConditions",
                    {
                        "offline": False,
                        "latency": LATENCY_MS,
                        "downloadThroughput": DOWN_BPS / 8,
                        "uploadThroughput": UP_BPS / 8,
                    },
                )
                cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
                page.goto(f"{url}?lang={lang}", wait_until="load")
                results.setdefault(lang, []).append(float(page.evaluate(LCP_JS)))
                third_party = [u for u in foreign if urlsplit(u).netloc != host]
                if third_party:
                    print(f"third-party requests in {lang}: {third_party}")
                context.close()
        browser.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=5, help="page loads per language for LCP")
    parser.add_argument(
        "--lcp-langs", default="de,de-x-ls,ar,uk", help="languages to measure LCP in"
    )
    args = parser.parse_args()
    with demo_server() as url:
        print("Survey page weight (HTML + CSS + JS it references), bytes")
        print(f"{'lang':<8} {'html':>7} {'html gz':>8} {'total':>7} {'total gz':>9}  budget")
        for lang, html, html_gz, raw, packed in page_weight(url):
            verdict = "ok" if packed <= BUDGET_GZIP else "OVER"
            print(f"{lang:<8} {html:>7} {html_gz:>8} {raw:>7} {packed:>9}  {verdict}")
        print()
        print(
            f"Largest Contentful Paint, 390x844, {LATENCY_MS} ms RTT, {DOWN_BPS / 1e6:g} Mbps "
            f"down, {UP_BPS / 1e3:g} kbps up, {CPU_SLOWDOWN}x CPU slowdown, empty cache, "
            f"{args.runs} runs"
        )
        lcp = largest_contentful_paint(url, args.lcp_langs.split(","), args.runs)
        for lang, values in lcp.items():
            print(
                f"{lang:<8} median {statistics.median(values):6.0f} ms  "
                f"min {min(values):6.0f}  max {max(values):6.0f}"
            )


if __name__ == "__main__":
    main()
