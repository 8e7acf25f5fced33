"""The `resonanz` command as a user runs it."""

from __future__ import annotations

import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from survey.app import lifespan
from survey.settings import Settings
from tests.cli import run_cli
from tests.conftest import DEMO_PORT, app_for, copy_demo_database


def _run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "survey.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
    )


@pytest.fixture(scope="module")
def demo_file(
    demo_database: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, str]:
    """What `resonanz demo --no-serve` loaded and printed on its first run (`demo_database`,
    loaded once for the session), in a database of this module's own. The tests that change
    the database work on a copy (`_demo_copy`)."""
    target = tmp_path_factory.mktemp("demo-cli") / "demo.sqlite3"
    return target, copy_demo_database(demo_database, target)


def _demo_copy(demo_file: tuple[Path, str], target: Path) -> dict[str, str]:
    """A copy of the loaded demo database at `target`; the environment that opens it."""
    shutil.copy(demo_file[0], target)
    return {"RESONANZ_DATABASE_URL": f"sqlite:///{target}"}


def test_it_names_the_bad_variable_in_one_line(tmp_path: Path) -> None:
    # in this process (tests/cli.py): the commands that stay processes read the same
    # variables through the same Settings
    url = f"sqlite:///{tmp_path}/never.sqlite3"
    result = run_cli(["migrate"], RESONANZ_PORT="eighty", RESONANZ_DATABASE_URL=url)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "resonanz: RESONANZ_PORT must be an integer, got 'eighty'"
    ]


def test_it_loads_the_demo_once_and_prints_one_line_per_url_and_login(
    demo_file: tuple[Path, str], tmp_path: Path
) -> None:
    env = _demo_copy(demo_file, tmp_path / "demo.sqlite3") | {"RESONANZ_PORT": DEMO_PORT}
    with sqlite3.connect(tmp_path / "demo.sqlite3") as db:
        before = db.execute("SELECT COUNT(*) FROM response").fetchone()[0]
    # in this process (tests/cli.py): the first run, `demo_database`'s, was a process
    second = run_cli(["demo", "--no-serve"], **env)
    first = demo_file[1].replace(str(demo_file[0]), str(tmp_path / "demo.sqlite3"))
    assert second.returncode == 0, second.stderr
    assert first == second.stdout
    for label in ("respondent", "kiosk", "dashboard"):
        assert re.search(rf"^{label}: http://127\.0\.0\.1:{DEMO_PORT}/\S+$", first, re.M)
    logins = re.findall(r"^login (\w+): (\S+) (\S+)$", first, re.M)
    assert {role for role, _, _ in logins} >= {"network", "admin", "manager", "researcher"}
    with sqlite3.connect(tmp_path / "demo.sqlite3") as db:
        responses = db.execute("SELECT COUNT(*) FROM response").fetchone()[0]
        offices = db.execute("SELECT COUNT(*) FROM office").fetchone()[0]
        locales = db.execute("SELECT COUNT(DISTINCT locale) FROM response").fetchone()[0]
        kinds = dict(db.execute("SELECT kind, COUNT(*) FROM office GROUP BY kind").fetchall())
        centres = db.execute("SELECT COUNT(*) FROM organization").fetchone()[0]
        versions = db.execute("SELECT COUNT(DISTINCT version) FROM response").fetchone()[0]
        targets = db.execute("SELECT COUNT(*) FROM target").fetchone()[0]
    assert 10_000 <= responses <= 12_500
    assert responses == before, "the second run loads nothing"
    assert offices == 33 and kinds == {"main": 11, "branch": 12, "outreach": 10}
    assert centres == 8, "a realistic network: eight job centres"
    assert versions == 3, "the standard questionnaire and a job centre's own in two versions"
    assert targets == 6
    assert locales >= 4


def test_it_creates_the_first_admin_and_refuses_a_second_with_that_name(
    demo_file: tuple[Path, str], tmp_path: Path
) -> None:
    env = _demo_copy(demo_file, tmp_path / "r.sqlite3")
    args = [
        "create-user",
        "chef",
        "--role",
        "admin",
        "--scope",
        "jobcenter-stadt-weserau",
        "--password",
        "a-long-password",
    ]
    created = run_cli(args, **env)  # in this process; the last call starts one (tests/cli.py)
    again = run_cli(args, **env)
    unknown = run_cli(
        [
            "create-user",
            "chefin",
            "--role",
            "admin",
            "--scope",
            "nowhere",
            "--password",
            "a-long-password",
        ],
        **env,
    )
    assert created.returncode == 0, created.stderr
    assert again.returncode == 2 and "exists already" in again.stderr
    assert unknown.returncode == 2 and "no job centre" in unknown.stderr
    assert "known: jobcenter-kreis-auenfeld, jobcenter-kreis-geestrand, " in unknown.stderr
    no_tty = subprocess.run(
        [sys.executable, "-m", "survey.cli", *args[:-2]],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # no controlling terminal, as under cron or in a pipeline
        timeout=120,
    )
    assert no_tty.returncode == 2 and "no password given" in no_tty.stderr


def test_it_says_how_to_recover_from_an_interrupted_demo_load(tmp_path: Path) -> None:
    env = {"RESONANZ_DATABASE_URL": f"sqlite:///{tmp_path}/half.sqlite3"}
    assert run_cli(["migrate"], **env).returncode == 0
    with sqlite3.connect(tmp_path / "half.sqlite3") as db:
        db.execute("INSERT INTO network (name, slug) VALUES ('Netz', 'demo')")
    result = run_cli(["demo", "--no-serve"], **env)
    assert result.returncode == 2
    assert "interrupted" in result.stderr and "delete the database" in result.stderr


async def test_it_creates_an_api_token_that_opens_the_results_api(
    demo_file: tuple[Path, str], tmp_path: Path
) -> None:
    env = _demo_copy(demo_file, tmp_path / "t.sqlite3")
    created = _run(["create-token", "koordination", "--name", "monthly report"], tmp_path, **env)
    # the same command again in this process (tests/cli.py)
    weekly = run_cli(["create-token", "koordination", "--expires-days", "7"], **env)
    unknown = run_cli(["create-token", "nobody"], **env)
    never = run_cli(["create-token", "koordination", "--expires-days", "0"], **env)
    assert created.returncode == 0, created.stderr
    assert weekly.returncode == 0, weekly.stderr
    assert unknown.returncode == 2 and "no user named 'nobody'" in unknown.stderr
    assert never.returncode == 2 and "between 1 and 3650 days" in never.stderr
    token = created.stdout.strip().splitlines()[-1]
    with sqlite3.connect(tmp_path / "t.sqlite3") as db:
        stored = db.execute(
            "SELECT token_hash, julianday(expires_at) - julianday(created_at) FROM api_token "
            "ORDER BY id"
        ).fetchall()
    assert stored and token not in repr(stored), "only the hash is stored"
    assert [round(days) for _, days in stored] == [90, 7]
    assert "valid until" in created.stdout
    app = app_for(Settings(database_url=env["RESONANZ_DATABASE_URL"]).with_secret())
    transport = httpx.ASGITransport(app=app)
    async with lifespan(app), httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        ok = await c.get("/api/v1/results/overview", headers={"authorization": f"Bearer {token}"})
        bad = await c.get("/api/v1/results/overview", headers={"authorization": "Bearer nope"})
    assert ok.status_code == 200 and len(ok.json()["rows"]) == 33  # the whole network
    assert bad.status_code == 401


async def test_it_creates_a_manager_for_a_list_of_offices(
    demo_file: tuple[Path, str], tmp_path: Path
) -> None:
    env = _demo_copy(demo_file, tmp_path / "m.sqlite3")
    base = ["create-user", "--role", "manager", "--scope", "jobcenter-kreis-nordheide"]
    password = ["--password", "a-long-password"]
    # in this process: test_it_creates_the_first_admin_… starts create-user as a process
    created = run_cli(
        [*base[:1], "zwei", *base[1:], "--office", "NH-M", "--office", "NH-O", *password],
        **env,
    )
    unknown = run_cli(
        [*base[:1], "drei", *base[1:], "--office", "NH-M", "--office", "WS-X", *password],
        **env,
    )
    wrong_role = run_cli(
        [
            "create-user",
            "vier",
            "--role",
            "network",
            "--scope",
            "demo",
            "--office",
            "NH-M",
            *password,
        ],
        **env,
    )
    assert created.returncode == 0, created.stderr
    assert "manager of Nordheide-Mitte, Nordheide-Ost" in created.stdout
    assert unknown.returncode == 2 and "no office with code 'WS-X'" in unknown.stderr
    assert "NH-S" in unknown.stderr, "the error lists the job centre's offices"
    assert wrong_role.returncode == 2 and "--office applies to" in wrong_role.stderr
    with sqlite3.connect(tmp_path / "m.sqlite3") as db:
        users = {r[0] for r in db.execute("SELECT username FROM staff_user")}
    assert "zwei" in users and "drei" not in users, "nothing is stored for a refused user"

    app = app_for(Settings(database_url=env["RESONANZ_DATABASE_URL"]).with_secret())
    transport = httpx.ASGITransport(app=app)
    async with lifespan(app), httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        login = await c.get("/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
        assert csrf, login.text
        signed = await c.post(
            "/login",
            data={"username": "zwei", "password": "a-long-password", "csrf_token": csrf[1]},
        )
        assert signed.status_code in (302, 303), signed.text
        overview = await c.get("/api/v1/results/overview")
        english = await c.get("/dashboard", headers={"accept-language": "en-GB,en;q=0.9"})
    assert '<html lang="en"' in english.text, "a new user sees the browser's language"
    assert overview.status_code == 200
    assert sorted(r["office"] for r in overview.json()["rows"]) == [
        "Nordheide-Mitte",
        "Nordheide-Ost",
    ]


def test_it_says_in_one_line_when_the_database_cannot_be_opened() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # in this process (tests/cli.py), as the interrupted demo load's migrate
    result = run_cli(
        ["migrate"], RESONANZ_DATABASE_URL=f"postgresql://u:secret@127.0.0.1:{port}/db"
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"resonanz: cannot open the database PostgreSQL at 127.0.0.1:{port}/db "
        f"(RESONANZ_DATABASE_URL): [Errno 111] Connect call failed ('127.0.0.1', {port})"
    ]


def test_it_refuses_to_print_urls_when_its_port_is_taken(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {
            "RESONANZ_DATABASE_URL": f"sqlite:///{tmp_path}/p.sqlite3",
            "RESONANZ_PORT": str(port),
        }
        result = _run(["demo"], tmp_path, **env)
    assert result.returncode == 2
    assert "respondent:" not in result.stdout
    assert result.stderr.strip() == (
        f"resonanz: cannot listen on 127.0.0.1:{port} (RESONANZ_HOST, RESONANZ_PORT): "
        "Address already in use"
    )


def test_it_refuses_workers_on_sqlite_in_one_line(tmp_path: Path) -> None:
    env = {"RESONANZ_DATABASE_URL": f"sqlite:///{tmp_path}/w.sqlite3"}
    result = _run(["serve", "--workers", "2"], tmp_path, **env)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "--workers needs PostgreSQL" in result.stderr


def test_serve_refuses_a_fixed_date_for_the_dashboards_in_one_line(tmp_path: Path) -> None:
    """RESONANZ_TODAY publishes the month in progress early: for demos and tests, never
    served for real."""
    env = {
        "RESONANZ_DATABASE_URL": f"sqlite:///{tmp_path}/t.sqlite3",
        "RESONANZ_TODAY": "2030-01-02",
    }
    result = _run(["serve"], tmp_path, **env)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "RESONANZ_TODAY" in result.stderr
    assert not (tmp_path / "t.sqlite3").exists(), "refused before anything is touched"
