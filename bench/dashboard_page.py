"""Dashboard pages in a browser: Largest Contentful Paint, charts drawn, bytes on the wire.

Starts `resonanz demo` on a fresh SQLite file, signs the network coordinator in with headless
Chromium and opens the overview, an office page and the benchmark page:
- cold: the browser's cache emptied right before the page (after signing in);
- warm: the same page again in the same browser, as the next page view of the day.
Each without throttling and under the Slow 4G profile bench/respond_page.py measures the
survey page with (150 ms round trip, 1.6 Mbps down, 750 kbps up, 4x CPU slowdown; Chrome
DevTools Protocol). Per page it prints the median of --runs for:
  LCP     Largest Contentful Paint (ms after navigation start),
  charts  when every plotly figure on the page was drawn (dashboard.js marks each),
  wire    bytes received (headers and bodies as sent, compressed), and requests, of which
          how many came from the browser's cache.
Targets of issue 17: LCP cold at most 1 s without throttling, 2.5 s on Slow 4G; dashboard
JavaScript at most 400 kB gzip, cached after the first visit. Prints, never asserts. Needs
Chromium (/usr/bin/chromium or RESONANZ_TEST_CHROMIUM).

    .venv/bin/python bench/dashboard_page.py [--runs 3]
"""

from __future__ import annotations

import sys
from pathlib import Path

# Running bench/X.py puts bench/ first on the import path, where bench/analysis.py would
# shadow the analysis package: take this folder off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

LATENCY_MS = 150
DOWN_BPS = 1_600_000
UP_BPS = 750_000
CPU_SLOWDOWN = 4
PROFILES = {
    "none": None,
    "slow4g": {"latency": LATENCY_MS, "down": DOWN_BPS, "up": UP_BPS, "cpu": CPU_SLOWDOWN},
}
TARGET_MS = {"none": 1000, "slow4g": 2500}
LCP_JS = """() => new Promise(resolve => {
  new PerformanceObserver(list => {
    const entries = list.getEntries();
    resolve(entries[entries.length - 1].startTime);
  }).observe({type: 'largest-contentful-paint', buffered: true});
})"""
DRAWN_INIT = """
window.__chartsDrawn = new Promise(resolve => {
  const done = () => {
    const figures = document.querySelectorAll('[data-figure]');
    if (document.readyState === 'loading') { return false; }
    if ([...figures].every(f => f.getAttribute('data-drawn') === 'true')) {
      resolve(performance.now());
      return true;
    }
    return false;
  };
  document.addEventListener('DOMContentLoaded', () => {
    if (done()) { return; }
    const watch = new MutationObserver(() => { if (done()) { watch.disconnect(); } });
    watch.observe(document.documentElement,
                  {attributes: true, subtree: true, attributeFilter: ['data-drawn']});
  });
});
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def demo_server() -> Iterator[tuple[str, dict[str, tuple[str, str]]]]:
    """`resonanz demo` in a subprocess; yields its base URL and the logins per role."""
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
        logins: dict[str, tuple[str, str]] = {}
        try:
            for line in proc.stdout:
                if m := re.match(r"^login (\w+): (\S+) (\S+)$", line.strip()):
                    logins[m[1]] = (m[2], m[3])
                if "researcher" in logins:
                    break
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                        break
                except OSError:
                    time.sleep(0.1)
            if "network" not in logins:
                raise SystemExit("the demo server did not start")
            yield f"http://127.0.0.1:{port}", logins
        finally:
            proc.terminate()
            proc.wait(timeout=10)


class Wire:
    """Bytes and requests of one page load, from the DevTools protocol's network events."""

    def __init__(self, cdp: Any) -> None:
        self.bytes = 0
        self.requests = 0
        self.cached = 0
        cdp.on("Network.loadingFinished", self._finished)
        cdp.on("Network.requestServedFromCache", self._from_cache)
        cdp.on("Network.responseReceived", self._received)

    def reset(self) -> None:
        self.bytes = self.requests = self.cached = 0

    def _finished(self, event: dict[str, Any]) -> None:
        self.bytes += int(event.get("encodedDataLength", 0))

    def _from_cache(self, event: dict[str, Any]) -> None:
        self.cached += 1

    def _received(self, event: dict[str, Any]) -> None:
        self.requests += 1


def sign_in(context: Any, base: str, login: tuple[str, str]) -> str:
    """Sign in through the context's request client (the page has loaded nothing yet, so
    nothing is in its cache); returns the overview's HTML."""
    form = context.request.get(f"{base}/login").text()
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token, "no CSRF token on the sign-in form"
    answer = context.request.post(
        f"{base}/login",
        form={"username": login[0], "password": login[1], "csrf_token": token[1]},
    )
    assert answer.ok and "/login" not in answer.url, f"sign-in failed: {answer.status}"
    return str(answer.text())


def _throttle(cdp: Any, profile: dict[str, int] | None) -> None:
    if profile is None:
        cdp.send(
            "Network.emulateNetworkConditions",
            {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
        )
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
        return
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": profile["latency"],
            "downloadThroughput": profile["down"] / 8,
            "uploadThroughput": profile["up"] / 8,
        },
    )
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": profile["cpu"]})


def measure(
    base: str, login: tuple[str, str], runs: int
) -> dict[tuple[str, str, str], list[dict[str, float]]]:
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("RESONANZ_TEST_CHROMIUM") or shutil.which("chromium")
    if not chromium:
        raise SystemExit("needs Chromium: apt-get install chromium or set RESONANZ_TEST_CHROMIUM")
    results: dict[tuple[str, str, str], list[dict[str, float]]] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium,
            args=["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic"],
        )
        pages: dict[str, str] = {}
        for _ in range(runs):
            for profile_name, profile in PROFILES.items():
                for name in ("overview", "office", "benchmark"):
                    context = browser.new_context(viewport={"width": 1280, "height": 800})
                    context.add_init_script(DRAWN_INIT)
                    overview = sign_in(context, base, login)
                    if not pages:
                        office = re.search(r'href="(/dashboard/offices/\d+)', overview)
                        assert office, "the overview links no office"
                        pages = {
                            "overview": "/dashboard",
                            "office": office[1],
                            "benchmark": "/dashboard/benchmark",
                        }
                    page = context.new_page()
                    page.set_default_timeout(180_000)  # a 4.8 MB bundle on Slow 4G takes 25 s
                    cdp = context.new_cdp_session(page)
                    cdp.send("Network.enable")
                    cdp.send("Network.clearBrowserCache")
                    wire = Wire(cdp)
                    _throttle(cdp, profile)
                    for cache in ("cold", "warm"):
                        wire.reset()
                        page.goto(base + pages[name], wait_until="load")
                        lcp = float(page.evaluate(LCP_JS))
                        drawn = float(page.evaluate("() => window.__chartsDrawn"))
                        results.setdefault((profile_name, name, cache), []).append(
                            {
                                "lcp": lcp,
                                "drawn": drawn,
                                "bytes": wire.bytes,
                                "requests": wire.requests,
                                "cached": wire.cached,
                            }
                        )
                    context.close()
        browser.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=3, help="page loads per page and profile")
    args = parser.parse_args()
    with demo_server() as (base, logins):
        results = measure(base, logins["network"], args.runs)
    print(
        f"Dashboard pages, 1280x800, network coordinator of the demo, median of {args.runs}; "
        f"slow4g = {LATENCY_MS} ms RTT, {DOWN_BPS / 1e6:g} Mbps down, {UP_BPS / 1e3:g} kbps "
        f"up, {CPU_SLOWDOWN}x CPU slowdown"
    )
    print(
        f"{'profile':<8} {'page':<10} {'cache':<5} {'LCP ms':>7} {'charts ms':>9} "
        f"{'wire kB':>8} {'requests':>8} {'cached':>6}  target (cold LCP)"
    )
    for (profile, name, cache), values in results.items():
        med = {k: statistics.median(v[k] for v in values) for k in values[0]}
        verdict = ""
        if cache == "cold":
            verdict = "ok" if med["lcp"] <= TARGET_MS[profile] else "MISSED"
            verdict += f" (≤ {TARGET_MS[profile]} ms)"
        print(
            f"{profile:<8} {name:<10} {cache:<5} {med['lcp']:>7.0f} {med['drawn']:>9.0f} "
            f"{med['bytes'] / 1000:>8.1f} {med['requests']:>8.0f} {med['cached']:>6.0f}  "
            f"{verdict}"
        )


if __name__ == "__main__":
    main()
