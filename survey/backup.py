"""`resonanz backup` and `resonanz restore`: SQLite's online backup API, pg_dump/pg_restore.

A backup is taken while the app serves: SQLite copies a consistent snapshot page by page
(the writer keeps writing in between); pg_dump reads one snapshot in one transaction. A
restore replaces the whole database and then migrates it, so a backup from an older release
comes back in the current schema. Files are created readable by their owner only: they hold
every answer, free texts included.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from survey.settings import Settings


class BackupError(Exception):
    """One line that says what went wrong and what to do."""


def _private_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


def _pg_tool(name: str) -> str:
    tool = shutil.which(name)
    if tool is None:
        raise BackupError(
            f"{name} is not installed (Debian: apt-get install postgresql-client; its major "
            "version must be at least the server's)"
        )
    return tool


def _pg_args(url: str) -> tuple[str, dict[str, str]]:
    """The URL without its password (which would show in `ps`), and the password as PGPASSWORD."""
    parts = urlsplit(url)
    env = dict(os.environ)
    if parts.password:
        env["PGPASSWORD"] = unquote(parts.password)
        host = parts.hostname or ""
        host = f"[{host}]" if ":" in host else host
        user = f"{parts.username}@" if parts.username else ""
        netloc = f"{user}{host}" + (f":{parts.port}" if parts.port else "")
        url = urlunsplit(parts._replace(netloc=netloc))
    return url.replace("postgres://", "postgresql://", 1), env


def _run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        message = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        raise BackupError(f"{Path(args[0]).name} failed: {message}")


def backup(settings: Settings, target: Path) -> int:
    """Write a backup of the database to `target`; returns its size in bytes."""
    if target.exists() and target.is_dir():
        raise BackupError(f"{target} is a folder; name the backup file")
    partial = target.with_name(target.name + ".partial")
    _private_file(partial)
    try:
        if settings.is_sqlite:
            if not settings.sqlite_path.exists():
                raise BackupError(f"there is no database at {settings.sqlite_path}")
            source = sqlite3.connect(f"file:{settings.sqlite_path}?mode=ro", uri=True)
            copy = sqlite3.connect(partial)
            try:
                with copy:
                    source.backup(copy, pages=1024)
            finally:
                copy.close()
                source.close()
        else:
            url, env = _pg_args(settings.database_url)
            _run(
                [_pg_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={partial}",
                 f"--dbname={url}"],
                env,
            )  # fmt: skip
        partial.replace(target)  # a backup file is complete or absent, never half written
    finally:
        partial.unlink(missing_ok=True)
    return target.stat().st_size


def has_responses(settings: Settings) -> bool:
    """Whether the configured database holds any response (then restore wants --replace)."""
    if settings.is_sqlite:
        if not settings.sqlite_path.exists():
            return False
        conn = sqlite3.connect(f"file:{settings.sqlite_path}?mode=ro", uri=True)
        try:
            return bool(conn.execute("SELECT 1 FROM response LIMIT 1").fetchone())
        except sqlite3.OperationalError:  # no such table: an empty or new file
            return False
        finally:
            conn.close()
    url, env = _pg_args(settings.database_url)
    done = subprocess.run(
        [_pg_tool("psql"), "-XAtq", f"--dbname={url}", "-c",
         "SELECT 1 FROM information_schema.tables WHERE table_name = 'response'"],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0 or not done.stdout.strip():
        return False
    done = subprocess.run(
        [_pg_tool("psql"), "-XAtq", f"--dbname={url}", "-c", "SELECT 1 FROM response LIMIT 1"],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    return bool(done.stdout.strip())


def restore(settings: Settings, source: Path) -> None:
    """Replace the configured database with the backup in `source` (migrate it afterwards)."""
    if not source.is_file():
        raise BackupError(f"there is no backup file at {source}")
    with open(source, "rb") as f:
        head = f.read(16)
    if settings.is_sqlite:
        if not head.startswith(b"SQLite format 3"):
            raise BackupError(f"{source} is not a SQLite backup (was it made from PostgreSQL?)")
        check = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            result = check.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            check.close()
        if result != "ok":
            raise BackupError(f"{source} is damaged: {result}")
        target_path = settings.sqlite_path
        if not target_path.exists():
            _private_file(target_path)
        target = sqlite3.connect(target_path, timeout=30)
        backup_file = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            backup_file.backup(target, pages=1024)  # into the live file: readers see it whole
        finally:
            backup_file.close()
            target.close()
        return
    if not head.startswith(b"PGDMP"):
        raise BackupError(f"{source} is not a pg_dump custom-format backup (made from SQLite?)")
    url, env = _pg_args(settings.database_url)
    _run(
        [_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
         "--exit-on-error", f"--dbname={url}", str(source)],
        env,
    )  # fmt: skip
