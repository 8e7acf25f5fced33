"""Fixtures: settings over SQLite and PostgreSQL, the app, an HTTP client, personas."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from litestar import Litestar

from survey.app import bind, create_app, lifespan
from survey.auth.passwords import PROFILE_VARIABLE
from survey.db import make_engine, migrate
from survey.settings import Settings

T = TypeVar("T")
# argon2 at its cheapest for every process of the suite, the servers it starts among them:
# at the production cost the suite's sign-ins took about a minute of its budget.
# test_passwords.py checks the production parameters; the burst test of test_auth.py
# switches them back on for itself.
os.environ[PROFILE_VARIABLE] = "test"
os.environ["RESONANZ_WARM_AFTER_SECONDS"] = "0"  # servers the tests start warm no dashboards
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
"""`gw0`, `gw1`, … when pytest-xdist runs the suite in several processes (`make test`)."""


def _per_worker(url: str) -> str:
    """Each xdist worker gets a database of its own next to the given one (`…_gw1`)."""
    if not url or not WORKER:
        return url
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"{parts.path}_{WORKER}"))


POSTGRES_ADMIN_URL = os.environ.get("RESONANZ_TEST_POSTGRES", "")
"""The database CI made; the workers' databases are created from a connection to it."""
POSTGRES_URL = _per_worker(POSTGRES_ADMIN_URL)
SECRET = "test-secret-key-that-is-long-enough-for-signing-0123456789"
TABLES_IN_DELETE_ORDER = [
    "dashboard_figure",
    "heartbeat",
    "audit_log",
    "invitation",
    "api_token",
    "login_throttle",
    "membership",
    "staff_user",
    "mix_count",
    "daily_count",
    "rollup_count",
    "text_answer",
    "answer",
    "response",
    "slip_code",
    "link",
    "target",
    "office_service",
    "bank_item",
    "questionnaire_version",
    "questionnaire",
    "office",
    "organization",
    "network",
]


@pytest.fixture(autouse=True)
def _same_record_keys() -> None:
    """Every test draws the same record keys (tests/builders.py), whatever ran before it."""
    from tests.builders import reseed_record_keys

    reseed_record_keys()


LONG_FIRST = (
    "integration/test_schema_fuzz.py",
    "integration/test_workers.py",
    "integration/test_crash.py",
    "integration/test_cli.py",
    "browser/test_staff_pages.py",
    "browser/test_manage.py",
    "browser/test_dashboard.py",
    "browser/test_kiosk.py",
    "browser/test_accessibility.py",
)
"""Files whose tests take 15–60 s each (test_cli: the shared demo database is loaded for
its first test; the browser test_dashboard and test_kiosk: 7-20 s each, the kiosk's waiting
for its reset): started first within their group, so that the workers do not end with one
of them running a long test alone (longest first): the browser tests of 1-4 s (the account,
exports, languages, the administration's tables, the respondent's pages) end the run.
`make test` hands each worker two tests at a time in this order (Makefile: --maxschedchunk)."""


def pytest_sessionstart(session: pytest.Session) -> None:
    """Under xdist, each process imports the test modules before collecting them, starting
    at its own share (`gw1` of three at the second third, and on round): pytest rewrites
    each module's asserts on its first import and keeps the result in __pycache__, and the
    processes, which collect the same modules in the same order at the same moment, each
    rewrote nearly every one. Now each rewrites mostly its own share and reads the others'
    (2026-11-29, empty __pycache__, three processes: 172 -> 96 modules rewritten, 9.9 -> 6.8 s
    of CPU). A module that fails to import fails at its collection as before."""
    import contextlib
    import importlib

    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0") or 0)
    if not WORKER or count < 2:
        return
    root = Path(__file__).resolve().parent
    names = [
        ".".join(("tests", *path.relative_to(root).with_suffix("").parts))
        for path in sorted(root.rglob("test_*.py"))
    ]
    start = int(WORKER.removeprefix("gw")) * len(names) // count
    for name in names[start:] + names[:start]:
        # one that fails here fails at its collection, which imports it again
        with contextlib.suppress(Exception, pytest.skip.Exception):
            importlib.import_module(name)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last: Playwright's sync API keeps an event loop running in this thread.
    Within each group the long files first (the same order in every xdist worker)."""

    def key(item: pytest.Item) -> tuple[bool, int]:
        path = item.path.as_posix()
        rank = next((i for i, f in enumerate(LONG_FIRST) if path.endswith(f)), len(LONG_FIRST))
        return "/browser/" in path, rank

    items.sort(key=key)


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion in its own thread and loop, whatever runs in this one."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


DEMO_PORT = "8765"
"""The port the shared demo database's first run printed its URLs with (see `demo_database`)."""


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """`resonanz demo --no-serve` run once for the whole session, its SQLite file (with its
    secret beside it) and what it printed. Under xdist the first worker to ask loads it and
    the others wait for it: the CLI tests and each worker's browser server work on copies
    (`copy_demo_database`), so the full demo is loaded once instead of once per process."""
    import subprocess
    import sys

    where = _shared_root(tmp_path_factory) / "demo-database"
    database, printed = where / "resonanz.sqlite3", where / "printed.txt"

    def load() -> None:
        where.mkdir(exist_ok=True)
        env = {**os.environ, "RESONANZ_DATABASE_URL": f"sqlite:///{database}",
               "RESONANZ_PORT": DEMO_PORT}  # fmt: skip
        first = subprocess.run(
            [sys.executable, "-m", "survey.cli", "demo", "--no-serve"],
            cwd=where, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert first.returncode == 0, first.stderr
        run_async(_keep_coordinator_views(database, first.stdout))
        printed.write_text(first.stdout)

    once(tmp_path_factory, "demo-database", load)
    return database, printed.read_text()


async def _keep_coordinator_views(database: Path, printed: str) -> None:
    """The network coordinator's dashboard overview and results API overview worked out once
    and kept in the demo database (survey/dashboard/stored.py), sealed with its secret: each
    copy's server or app reads them instead of working them out again (a demo server's first
    dashboard view took 8.2 s of CPU, with them 1.9 s). Views with other offices, filters or
    another date are still worked out where they are asked for."""
    import re

    login = re.search(r"^login network: (\S+) (\S+)$", printed, re.M)
    assert login, printed
    settings = Settings(database_url=f"sqlite:///{database}", warm_after_seconds=0)
    app = create_app(settings.with_secret())
    transport = httpx.ASGITransport(app=app)
    async with (
        lifespan(app),
        httpx.AsyncClient(transport=transport, base_url="http://demo.local") as http,
    ):
        staff = StaffClient(http)
        assert (await staff.login(login[1], login[2])).status_code == 303
        for path in ("/dashboard", "/api/v1/results/overview"):
            answer = await http.get(path)
            assert answer.status_code == 200, (path, answer.text[:300])


def copy_demo_database(demo_database: tuple[Path, str], target: Path) -> str:
    """A copy of the loaded demo (database and secret) at `target`; what its first run would
    have printed there."""
    source, printed = demo_database
    shutil.copy(source, target)
    shutil.copy(source.with_suffix(".secret"), target.with_suffix(".secret"))
    return printed.replace(str(source), str(target))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (much faster than migrating each time)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    run_async(migrate(make_engine(Settings(database_url=f"sqlite:///{path}"))))
    return path


@pytest.fixture(scope="session")
def postgres_migrated() -> str:
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL tests need RESONANZ_TEST_POSTGRES=postgresql://... (CI sets it)")
    name = urlsplit(POSTGRES_URL).path.lstrip("/")
    if POSTGRES_URL != POSTGRES_ADMIN_URL:
        run_async(_create_database(POSTGRES_ADMIN_URL, name))
    run_async(_commit_without_waiting(POSTGRES_ADMIN_URL, name))
    run_async(migrate(make_engine(Settings(database_url=POSTGRES_URL))))
    return POSTGRES_URL


async def _commit_without_waiting(admin_url: str, name: str) -> None:
    """The suite's own databases commit without waiting for the WAL to reach the disk
    (`synchronous_commit = off`, for the connections made from now on). A commit is visible
    and kept as before while PostgreSQL runs, which no test stops: only a crash of the
    server itself could lose the last commits. On a server with fsync on (a developer's) the
    suite's commits waited for the disk, one flush each."""
    import asyncpg

    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    finally:
        await conn.close()


async def _create_database(admin_url: str, name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def _empty_postgres(url: str) -> None:
    """Every table emptied and every sequence back at 1, as TRUNCATE … RESTART IDENTITY would
    leave them, with DELETE: on tables of a few rows it takes a fraction of TRUNCATE's time
    (which makes new files for each table and index)."""
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(url)
        try:
            # the sequences of these tables only (TRUNCATE … RESTART IDENTITY's): the
            # catalogues the migrations fill (service types) keep theirs
            sequences = await conn.fetch(
                "SELECT s.seqrelid::regclass::text FROM pg_sequence s JOIN pg_depend d"
                " ON d.objid = s.seqrelid AND d.deptype IN ('a', 'i')"
                " WHERE d.refobjid::regclass::text = ANY($1::text[])",
                TABLES_IN_DELETE_ORDER,
            )
            await conn.execute(
                "".join(f"DELETE FROM {table};" for table in TABLES_IN_DELETE_ORDER)
                + "".join(f"SELECT setval('{name}', 1, false);" for (name,) in sequences)
            )
        finally:
            await conn.close()

    run_async(run())


async def _load_demo_core(url: str) -> None:
    """The demo's core as the `demo` fixture loads it, with the keys a test would draw."""
    from survey.db import engine_lifespan
    from survey.demo import load_demo
    from tests.builders import reseed_record_keys

    engine = make_engine(Settings(database_url=url))
    await migrate(engine)
    async with engine_lifespan(engine, 2):
        reseed_record_keys()
        await load_demo(engine, network=False)


def _shared_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The directory all xdist workers of this run share (the run's own under one process)."""
    root = tmp_path_factory.getbasetemp()
    return root.parent if WORKER else root


def once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[], None]) -> None:
    """`build()` run once for the whole run: by the first xdist worker to ask, while the
    others wait for it at the lock `<name>.lock` in the workers' shared directory; a
    `<name>.done` there tells the later ones it is built."""
    from filelock import FileLock

    root = _shared_root(tmp_path_factory)
    with FileLock(str(root / f"{name}.lock")):
        if not (root / f"{name}.done").exists():
            build()
            (root / f"{name}.done").touch()


@pytest.fixture(scope="session")
def sqlite_demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file with the demo's core loaded (see `demo`): loaded once for the
    run, by the first worker to ask, while the others wait (each took 4-8 s to load it)."""
    path = _shared_root(tmp_path_factory) / "demo-core.sqlite3"

    def load() -> None:
        path.unlink(missing_ok=True)
        run_async(_load_demo_core(f"sqlite:///{path}"))

    once(tmp_path_factory, "demo-core", load)
    return path


@pytest.fixture(scope="session")
def postgres_demo_template(postgres_migrated: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A PostgreSQL database with the demo's core loaded: the template of the database of
    each test that uses `demo` (CREATE DATABASE … TEMPLATE copies it in a moment). Loaded
    once for the run, by the first worker to ask (each took 8-17 s to load it)."""
    name = urlsplit(POSTGRES_ADMIN_URL).path.lstrip("/") + "_demo"

    def load() -> None:
        run_async(_recreate_database(POSTGRES_ADMIN_URL, name))
        run_async(_commit_without_waiting(POSTGRES_ADMIN_URL, name))
        url = urlunsplit(urlsplit(POSTGRES_ADMIN_URL)._replace(path=f"/{name}"))
        run_async(_load_demo_core(url))

    once(tmp_path_factory, "postgres-demo", load)
    return name


async def _recreate_database(admin_url: str, name: str, template: str | None = None) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(
            f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
        )
    finally:
        await conn.close()


ONE_ENGINE = pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
"""For a test that proves nothing about SQL or storage (the wording of a page, its rendering,
the analysis of counts other tests prove both engines give alike): SQLite only, which cost
less than PostgreSQL's variant with the server's CPU counted (2026-11-29, the eight wording
tests: SQLite's variants 23 s in the test process, PostgreSQL's 9 s there and 23 s in the
server). Not a skip:
the PostgreSQL variant is never made, so CI's check that no PostgreSQL test was skipped holds.
docs/testing.md lists what runs on one engine and why."""


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for one test, with its own empty, migrated database on either engine (with
    the demo's core already in it when the test uses `demo`).

    Rate limits are off: tests send hundreds of responses from one address; the tests of the
    limits turn them on."""
    with_demo = "demo" in request.fixturenames
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_migrated")
        if with_demo:
            template = request.getfixturevalue("postgres_demo_template")
            name = urlsplit(url).path.lstrip("/") + "_demo_copy"  # this worker's
            run_async(_recreate_database(POSTGRES_ADMIN_URL, name, template))
            run_async(_commit_without_waiting(POSTGRES_ADMIN_URL, name))
            url = urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
        else:
            _empty_postgres(url)
        return Settings(
            database_url=url,
            secret_key=SECRET,
            link_cache_seconds=0,
            rate_limits=False,
            warm_after_seconds=0,
        )
    template = request.getfixturevalue("sqlite_demo_template" if with_demo else "sqlite_template")
    path = tmp_path / "resonanz.sqlite3"
    shutil.copy(template, path)
    return Settings(
        database_url=f"sqlite:///{path}",
        secret_key=SECRET,
        link_cache_seconds=0,
        rate_limits=False,
        warm_after_seconds=0,
    )


@pytest.fixture
def sqlite_settings(tmp_path: Path, sqlite_template: Path) -> Settings:
    """SQLite only, for tests about SQLite itself."""
    path = tmp_path / "resonanz.sqlite3"
    shutil.copy(sqlite_template, path)
    return Settings(
        database_url=f"sqlite:///{path}",
        secret_key=SECRET,
        link_cache_seconds=0,
        rate_limits=False,
        warm_after_seconds=0,
    )


_APPS: dict[int, Litestar] = {}
"""One app per body limit and process, rebound for each test (see `app`)."""


def app_for(settings: Settings) -> Litestar:
    """The app for `settings`, with a new engine, caches, limiter and metrics (`bind`); its
    routes are registered once per process, which would otherwise take 0.2 s of every test
    (0.3-0.6 s of CPU at the suite's load). One test holds one app at a time: a test that
    builds an app of its own this way does not use the `app` fixture as well."""
    built = _APPS.get(settings.max_body_bytes)
    if built is None:
        built = _APPS[settings.max_body_bytes] = create_app(settings)
        return built
    return bind(built, settings)


@pytest.fixture
def app(settings: Settings) -> Litestar:
    """`app_for(settings)`."""
    return app_for(settings)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """HTTP through the whole app, in the test's event loop (where the PostgreSQL pool lives)."""
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 4711))
    async with (
        lifespan(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client,
    ):
        yield client


@pytest.fixture
def artifacts_dir() -> Iterator[Path]:
    """Where the browser tests keep their screenshots (tests/browser/conftest.py's
    `keep_screenshot`: only when RESONANZ_TEST_ARTIFACTS names it)."""
    path = Path(os.environ.get("RESONANZ_TEST_ARTIFACTS", "test-artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    yield path


# ---- staff personas (dashboards and sign-in) ------------------------------------------------


class StaffClient:
    """Sign a client in and out the way a browser does: GET the form, POST it with its token."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def login(self, username: str, password: str) -> httpx.Response:
        import re

        self.client.cookies.clear()
        form = await self.client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token, form.text
        return await self.client.post(
            "/login", data={"username": username, "password": password, "csrf_token": token[1]}
        )

    async def csrf(self) -> str:
        import re

        page = await self.client.get("/dashboard")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token, page.text
        return token[1]


@pytest.fixture
def staff(client: httpx.AsyncClient) -> StaffClient:
    return StaffClient(client)


@pytest.fixture
async def demo(client: httpx.AsyncClient, app: Litestar) -> object:
    """The demo's core (network, two job centres, five offices, one user per role); the six
    further job centres of `resonanz demo` would double the time of every test using it.
    `settings` copies it from a template loaded once per process; `load_demo` finds it there."""
    from survey.demo import load_demo

    return await load_demo(app.state.engine, network=False)


async def page_figures(staff: StaffClient, paths: list[str]) -> dict[str, Any]:
    """Each page's JSON, or its HTML (charts included) without the form tokens: what two
    ways of working out the dashboards must give alike."""
    import re

    out = {}
    for path in paths:
        response = await staff.client.get(path)
        assert response.status_code == 200, (path, response.text)
        out[path] = (
            response.json() if path.startswith("/api/")
            else re.sub(r'name="csrf_token" value="[^"]*"', "", response.text)
        )  # fmt: skip
    return out
