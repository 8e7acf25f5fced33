"""Real faults for tests: a TCP proxy in front of PostgreSQL that can be cut and restored,
and a SQLite writer whose connection turns read-only or full."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from survey.respond.store import SQLiteStore


class Proxy:
    """Forwards 127.0.0.1:port to the database; `cut()` is the database going away (every
    connection reset, new ones refused), `restore()` its return on the same port."""

    def __init__(self, target_url: str) -> None:
        parts = urlsplit(target_url)
        self._parts = parts
        self._target = (parts.hostname or "127.0.0.1", parts.port or 5432)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    @property
    def url(self) -> str:
        netloc = self._parts.netloc.rsplit("@", 1)
        auth = netloc[0] + "@" if len(netloc) == 2 else ""
        return urlunsplit(self._parts._replace(netloc=f"{auth}127.0.0.1:{self.port}"))

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def restore(self) -> None:
        await self.start()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers -= {writer, up_writer}


def break_sqlite_writer(store: SQLiteStore, pragma: str) -> Callable[[], None]:
    """Make the writer's connection (and every one it opens) fail writes the way a read-only
    file does (`query_only=ON`: SQLITE_READONLY). Returns the repair."""
    original = store._connect

    def broken() -> sqlite3.Connection:
        conn = original()
        conn.execute(_pragma(conn, pragma))
        return conn

    if store._conn is not None:
        store._conn.execute(_pragma(store._conn, pragma))
    store._connect = broken  # type: ignore[method-assign]

    def repair() -> None:
        store._connect = original  # type: ignore[method-assign]

    return repair


def _pragma(conn: sqlite3.Connection, pragma: str) -> str:
    if pragma == "full":
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        return f"PRAGMA max_page_count = {pages}"
    return "PRAGMA query_only = ON"


class SmallDisk:
    """A tmpfs of its own for a SQLite file, filled up to the last byte like a server's disk
    (needs root with CAP_SYS_ADMIN, else the test skips)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.filler = path / "filler"

    def fill(self) -> None:
        with contextlib.suppress(OSError), open(self.filler, "wb") as f:
            while True:
                f.write(b"\0" * 4096)
                f.flush()

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)


@contextlib.contextmanager
def small_disk(tmp_path: Path, template: Path, size: str = "8m") -> Iterator[SmallDisk]:
    import pytest

    path = tmp_path / "disk"
    path.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        shutil.copy(template, path / "resonanz.sqlite3")
        yield SmallDisk(path)
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


class PostgresFaults:
    """A database of its own on the test server, for faults that would disturb other tests:
    turning it read-only (as a server does after a failover to a standby) and putting the
    responses table on a tmpfs tablespace that fills up. Needs a superuser URL and a server
    on this machine (the tablespace directory is mounted here); the test skips otherwise."""

    def __init__(self, admin_url: str, name: str) -> None:
        parts = urlsplit(admin_url)
        self.admin_url = admin_url
        self.name = name
        self.url = urlunsplit(parts._replace(path=f"/{name}"))
        self.disk: Path | None = None

    async def _admin(self, *statements: str) -> None:
        import asyncpg

        conn = await asyncpg.connect(self.admin_url)
        try:
            for statement in statements:
                await conn.execute(statement)
        finally:
            await conn.close()

    async def create(self) -> None:
        await self._admin(
            f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)", f"CREATE DATABASE {self.name}"
        )

    async def drop(self) -> None:
        await self._admin(
            f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)",
            f"DROP TABLESPACE IF EXISTS {self.name}_disk",
        )
        if self.disk is not None:
            subprocess.run(["umount", "-l", str(self.disk)], capture_output=True)
            shutil.rmtree(self.disk, ignore_errors=True)

    async def drop_connections(self) -> None:
        """Every connection of the app ends, as in a failover."""
        await self._admin(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{self.name}' AND pid <> pg_backend_pid()"
        )

    async def read_only(self, on: bool) -> None:
        value = "SET default_transaction_read_only = on" if on else "RESET ALL"
        await self._admin(f"ALTER DATABASE {self.name} {value}")
        await self.drop_connections()

    async def small_disk(self, table: str, size: str = "4m") -> SmallDisk:
        """Move `table` onto a tmpfs of its own (mounted for the server's postgres user)."""
        import tempfile

        import pytest

        path = Path(tempfile.mkdtemp(prefix="resonanz-pgdisk-"))
        path.chmod(0o755)
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path)],
            capture_output=True,
        )
        if mounted.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
        self.disk = path
        space = path / "space"
        space.mkdir()
        shutil.chown(space, "postgres", "postgres")
        await self._admin(f"CREATE TABLESPACE {self.name}_disk LOCATION '{space}'")
        conn_url = self.url
        import asyncpg

        conn = await asyncpg.connect(conn_url)
        try:
            await conn.execute(f"ALTER TABLE {table} SET TABLESPACE {self.name}_disk")
        finally:
            await conn.close()
        return SmallDisk(path)
