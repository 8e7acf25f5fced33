"""A real server (the `resonanz demo` command in a subprocess) and headless Debian Chromium."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import msgspec
import pytest

from tests.conftest import copy_demo_database

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


class DemoServer(msgspec.Struct):
    base_url: str
    respondent_url: str
    kiosk_url: str
    dashboard_url: str
    logins: dict[str, tuple[str, str]]
    database: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def keep_screenshot(target: Any, path: Path, **options: Any) -> None:
    """A screenshot of a page or an element for people to look at, kept at `path` in the
    artifacts directory when RESONANZ_TEST_ARTIFACTS names one. `make test` takes none: no
    test reads them back, and the suite's 49 (most of them of a whole page) took some 40 s of
    Chromium's CPU, 0.4-1 s each (2026-11-29)."""
    if os.environ.get("RESONANZ_TEST_ARTIFACTS"):
        target.screenshot(path=path, **options)


def chromium_path() -> str | None:
    return os.environ.get("RESONANZ_TEST_CHROMIUM") or shutil.which("chromium")


HEADLESS_SHELL = "chromium-headless-shell"
"""Debian's package of Chromium's headless shell: the same Blink and V8 as `chromium` (one
source package, one version), without the desktop browser's UI layer. Playwright runs its
headless tests on it by default. The browser tests, Chromium the suite's largest single
cost, took 39 % less CPU on it (2026-11-29, all 59 in one process with their server and
Chromium: 207 s on it, 337 s on `chromium`). The one test about the desktop browser itself
(its back-forward cache, test_kiosk.py) launches `chromium`."""


def headless_shell_path() -> str | None:
    """Where Debian installs the headless shell, or `chromium-headless-shell` on the PATH;
    RESONANZ_TEST_HEADLESS_SHELL names another, or (set empty) none. None: the tests run on
    `chromium`."""
    named = os.environ.get("RESONANZ_TEST_HEADLESS_SHELL")
    if named is not None:
        return named or None
    debian = Path("/usr/lib/chromium") / HEADLESS_SHELL  # the binary, not /usr/bin's script
    if debian.is_file() and os.access(debian, os.X_OK):
        return str(debian)
    return shutil.which(HEADLESS_SHELL)


def _start_demo(
    workdir: Path, port: int, extra: dict[str, str]
) -> tuple[subprocess.Popen[str], IO[str], dict[str, str], dict[str, tuple[str, str]]] | None:
    """`resonanz demo` on `port`, once it answers: the process, its log and the URLs and logins
    it printed; None when it exited before listening (the port was taken)."""
    env = {
        **os.environ,
        "RESONANZ_DATABASE_URL": f"sqlite:///{workdir / 'resonanz.sqlite3'}",
        "RESONANZ_PORT": str(port),
        "RESONANZ_HOST": "127.0.0.1",
        "RESONANZ_RATE_LIMITS": "false",  # every test's browser sends from 127.0.0.1
        "RESONANZ_LINK_CACHE_SECONDS": "0",  # a test switches a link off and on
        **extra,
    }
    log = (workdir / f"server-{port}.log").open("w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "survey.cli", "demo"],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    assert proc.stdout is not None
    lines: dict[str, str] = {}
    logins: dict[str, tuple[str, str]] = {}
    deadline = time.monotonic() + 180  # loading the demo takes a while on a busy machine
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if m := re.match(r"^(respondent|kiosk|dashboard): (\S+)$", line.strip()):
            lines[m[1]] = m[2]
        if m := re.match(r"^login (\w+): (\S+) (\S+)$", line.strip()):
            logins[m[1]] = (m[2], m[3])
            if m[1] == "researcher":
                break
    while time.monotonic() < deadline and "researcher" in logins and proc.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, log, lines, logins
        except OSError:
            time.sleep(0.1)
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    log.seek(0)
    text = log.read()[-2000:]
    log.close()
    if "address already in use" in text.lower():
        return None
    pytest.fail(f"the demo server did not start: {text}")


@contextlib.contextmanager
def run_demo(workdir: Path, **env: str) -> Iterator[DemoServer]:
    """`resonanz demo` as a user runs it, on a free port, with the SQLite file (and its
    secret) in `workdir`: the first run loads the demo, a later one serves what is there.
    `env`: more RESONANZ_* settings (RESONANZ_TODAY moves the dashboards' clock)."""
    for _ in range(3):
        port = _free_port()
        started = _start_demo(workdir, port, env)
        if started is not None:
            break
        # the port was taken between choosing and binding it (an outgoing connection may take
        # any free port, r30): the server exited, so try another; the demo is loaded by now
    else:
        pytest.fail("the demo server could not bind a free port in three tries")
    proc, log, lines, logins = started
    try:
        server = DemoServer(
            base_url=f"http://127.0.0.1:{port}",
            respondent_url=lines["respondent"],
            kiosk_url=lines["kiosk"],
            dashboard_url=lines["dashboard"],
            logins=logins,
            database=workdir / "resonanz.sqlite3",
        )
        _first_dashboard_view(server)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _first_dashboard_view(server: DemoServer) -> None:
    """The coordinator's overview, opened once over HTTP before a browser signs in: a new
    server's first dashboard view reads the network's tables (8 s of CPU at load 12 when it
    worked them out; the demo database now keeps the overview's figures, see
    `_keep_coordinator_views` in tests/conftest.py), which took longer than Playwright's 30 s
    for a click on a busy machine; every role's later views read them from the server's
    caches, as they did after that first test."""
    import httpx

    with httpx.Client(base_url=server.base_url, timeout=600, follow_redirects=True) as http:
        form = http.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token, form.text
        username, password = server.logins["network"]
        answer = http.post(
            "/login", data={"username": username, "password": password, "csrf_token": token[1]}
        )
        assert answer.status_code == 200 and answer.url.path == "/dashboard", answer.url


@pytest.fixture(scope="session")
def demo_server(
    demo_database: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DemoServer]:
    """The demo network, served for every browser test of the session (from a copy of the
    demo loaded once for the run: `resonanz demo` serves what it finds)."""
    workdir = tmp_path_factory.mktemp("demo-server")
    copy_demo_database(demo_database, workdir / "resonanz.sqlite3")
    with run_demo(workdir) as server:
        yield server


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Chromium's headless shell where it is installed (`HEADLESS_SHELL`), else `chromium`."""
    path = chromium_path()
    if not path or not Path(path).exists():
        pytest.skip(
            "browser tests need Chromium (apt-get install chromium, or set "
            "RESONANZ_TEST_CHROMIUM); .ci/run installs it"
        )
    from playwright.sync_api import sync_playwright

    shell = headless_shell_path()  # headless itself: it takes no --headless=
    args = [a for a in CHROMIUM_ARGS if not a.startswith("--headless")] if shell else CHROMIUM_ARGS
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=shell or path, args=args)
        yield browser
        browser.close()


@pytest.fixture
def phone(browser):  # type: ignore[no-untyped-def]
    """A fresh browser context the size of a common phone (390×844)."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=1,
        is_mobile=True,
        has_touch=True,
        locale="de-DE",
    )
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def desktop(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="de-DE")
    page = context.new_page()
    yield page
    context.close()
