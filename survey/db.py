"""Database engines: SQLite (embedded default) and PostgreSQL, migrations and lifespan."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, suppress
from typing import TYPE_CHECKING, Any

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, dict_factory
from piccolo.table import Table

from survey.tables import ALL_TABLES

if TYPE_CHECKING:
    from survey.settings import Settings

SQLITE_BUSY_TIMEOUT_S = 10.0
SQLITE_POOL_SIZE = 4
"""Kept SQLite connections per engine and process (more would only wait for the same cores
and the one writer)."""
POSTGRES_CONNECT_TIMEOUT_S = 5.0
"""A new pool connection gives up after this long (asyncpg waits 60 s by default)."""
RETRY_AFTER_S = 5
"""What a 503 asks the client to wait before trying again."""
_SQLITE_UNAVAILABLE = ("locked", "busy", "readonly", "read-only", "disk", "full", "unable to open")


def is_unavailable(exc: BaseException) -> bool:
    """True when `exc` says the database cannot be reached or written right now (down,
    restarting, full, read-only, locked too long), not that a query or its data is wrong."""
    import asyncpg

    if isinstance(exc, sqlite3.OperationalError):
        return any(word in str(exc).lower() for word in _SQLITE_UNAVAILABLE)
    if isinstance(exc, sqlite3.DatabaseError):
        return "disk" in str(exc).lower() or "full" in str(exc).lower()
    if isinstance(exc, asyncpg.exceptions.InternalClientError):
        # the server ended the connection in the middle of an exchange (a failover, a
        # terminated backend): asyncpg then finds the connection in another operation's state
        return "another operation" in str(exc)
    return isinstance(
        exc,
        OSError  # refused, reset, unreachable
        | TimeoutError
        | asyncpg.PostgresConnectionError
        | asyncpg.exceptions.OperatorInterventionError  # shutting down, cannot connect now
        | asyncpg.exceptions.InsufficientResourcesError  # disk full, too many connections
        | asyncpg.exceptions.ReadOnlySQLTransactionError  # a read-only server or database
        | asyncpg.exceptions.ConnectionDoesNotExistError
        | asyncpg.InterfaceError,  # "connection is closed" and the like
    )


def is_connection_lost(exc: BaseException) -> bool:
    """True when `exc` says the one connection used is gone (the server ended it: a
    failover, a terminated backend, a restart), not that the database is unreachable or
    refuses to write: another connection from the pool may well work."""
    import asyncpg

    if isinstance(exc, asyncpg.exceptions.InternalClientError):
        return "another operation" in str(exc)
    if isinstance(exc, asyncpg.InterfaceError):
        return "closed" in str(exc)
    return isinstance(
        exc,
        asyncpg.exceptions.ConnectionDoesNotExistError
        | asyncpg.exceptions.AdminShutdownError  # terminating connection (administrator)
        | ConnectionResetError
        | BrokenPipeError,
    )


class _SQLitePool:
    """Up to `size` threads and kept connections that run one statement at a time each, for
    any event loop (a statement's answer goes to the loop that asked for it)."""

    def __init__(self, engine: PooledSQLiteEngine, size: int) -> None:
        self.pid = os.getpid()
        self.engine = engine
        self.executor = ThreadPoolExecutor(size, thread_name_prefix="resonanz-sqlite")
        self.lock = threading.Lock()
        self.idle: list[tuple[sqlite3.Connection, tuple[int, int] | None]] = []
        self.connections: set[sqlite3.Connection] = set()
        """Every kept connection, idle or busy."""

    def _file(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.engine.path)
        except OSError:
            return None
        return st.st_dev, st.st_ino

    def _connect(self) -> tuple[sqlite3.Connection, tuple[int, int] | None]:
        kwargs = {
            k: v
            for k, v in self.engine.connection_kwargs.items()
            if k not in ("iter_chunk_size", "loop")  # aiosqlite's own
        }
        conn = sqlite3.connect(**kwargs, check_same_thread=False)  # it moves between threads
        conn.row_factory = dict_factory
        conn.execute("PRAGMA foreign_keys = 1")  # a setting of the connection (autocommit)
        with self.lock:
            self.connections.add(conn)
        return conn, self._file()

    def _drop(self, conn: sqlite3.Connection) -> None:
        with self.lock:
            self.connections.discard(conn)
        with suppress(sqlite3.Error):
            conn.close()

    def _checkout(self) -> tuple[sqlite3.Connection, tuple[int, int] | None]:
        """The connection used last, unless the file at the path is another one now
        (replaced or deleted since: a kept connection would still read the old file)."""
        file = self._file()
        while True:
            with self.lock:
                if not self.idle:
                    break
                conn, kept = self.idle.pop()
            if file is not None and kept == file:
                return conn, kept
            self._drop(conn)
        return self._connect()

    def run(self, query: str, args: list[Any], insert_table: type[Table] | None) -> Any:
        """One statement, committed and its cursor closed before the answer (no read snapshot
        stays open); a connection on which a statement failed is closed, not kept."""
        conn, file = self._checkout()
        try:
            cursor = conn.execute(query, args)
            try:
                if insert_table is not None:  # SQLite before 3.35: no RETURNING
                    pk = insert_table._meta.primary_key._meta.db_column_name
                    cursor.execute(
                        f"SELECT {pk} FROM {insert_table._meta.tablename} "
                        f"WHERE ROWID = {cursor.lastrowid}"
                    )
                    rows: Any = [{pk: cursor.fetchone()[pk]}]
                else:
                    rows = cursor.fetchall()
            finally:
                cursor.close()
            if conn.in_transaction:
                conn.commit()
        except BaseException:
            self._drop(conn)
            raise
        with self.lock:
            self.idle.append((conn, file))
        return rows

    def close(self) -> None:
        """Wait for the statements under way, then close every kept connection."""
        self.executor.shutdown(wait=True)
        with self.lock:
            connections, self.connections, self.idle = list(self.connections), set(), []
        for conn in connections:
            with suppress(sqlite3.Error):
                conn.close()


class PooledSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLiteEngine opens a new aiosqlite connection (a thread, the file, a PRAGMA)
    for every statement outside a transaction: 2-3 ms of CPU each. Between `open_pool` and
    `close_pool` (see `engine_lifespan`) such statements run on kept connections instead,
    each committed on its own as before; transactions keep their own connection. Outside
    that span, and in a process forked from the one that opened the pool, nothing changes."""

    __slots__ = ("_pool",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pool: _SQLitePool | None = None

    def open_pool(self, size: int = SQLITE_POOL_SIZE) -> None:
        if self._pool is None or self._pool.pid != os.getpid():
            self._pool = _SQLitePool(self, size)

    async def close_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None and pool.pid == os.getpid():
            await asyncio.to_thread(pool.close)

    async def _run_in_new_connection(
        self,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: type[Table] | None = None,
    ) -> Any:
        pool = self._pool
        if pool is None or pool.pid != os.getpid():
            return await super()._run_in_new_connection(query, args, query_type, table)
        insert_table = None
        if query_type == "insert" and self.get_version_sync() < 3.35:
            assert table is not None
            insert_table = table
        loop = asyncio.get_running_loop()
        try:
            answer = loop.run_in_executor(pool.executor, pool.run, query, args or [], insert_table)
        except RuntimeError:  # closed meanwhile
            return await super()._run_in_new_connection(query, args, query_type, table)
        return await answer


def make_engine(settings: Settings) -> Engine[Any]:
    if settings.is_sqlite:
        # isolation_level=None: each statement commits inside its connection's thread;
        # otherwise the write lock is held until Piccolo's separate commit() call comes back
        # through the event loop, which the response writer may be waiting on.
        return PooledSQLiteEngine(
            path=str(settings.sqlite_path), timeout=SQLITE_BUSY_TIMEOUT_S, isolation_level=None
        )
    return PostgresEngine(
        config={"dsn": settings.database_url, "timeout": POSTGRES_CONNECT_TIMEOUT_S}
    )


def prepare_sqlite(path: str) -> None:
    """Create the file readable by its owner only (SQLite gives its -wal and -shm files the
    same mode), and switch it to WAL (persistent in the file) before anything else opens it."""
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    conn = sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_S)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
    finally:
        conn.close()


def use_engine(engine: Engine[Any]) -> None:
    """Bind every table, Piccolo's migration table and piccolo_conf to `engine`."""
    from piccolo.apps.migrations.tables import Migration

    import survey.piccolo_conf as conf

    conf.DB = engine
    os.environ["PICCOLO_CONF"] = "survey.piccolo_conf"
    tables: list[type[Table]] = [*ALL_TABLES, Migration]
    for table in tables:
        table._meta._db = engine


async def migrate(engine: Engine[Any]) -> None:
    """Apply all Piccolo migrations of the survey app to `engine`."""
    import contextlib
    import io

    from piccolo.apps.migrations.commands.forwards import run_forwards

    if isinstance(engine, SQLiteEngine):
        prepare_sqlite(engine.path)
    use_engine(engine)
    with contextlib.redirect_stdout(io.StringIO()) as out:
        result = await run_forwards("survey")
    if not result.success:
        raise RuntimeError(f"migration failed: {result.message}\n{out.getvalue()}")


async def _keep_session(connection: object) -> None:
    """What a pool connection needs on its way back to the pool, beyond asyncpg's own
    rollback of an open transaction: nothing (see `engine_lifespan`)."""


@asynccontextmanager
async def engine_lifespan(engine: Engine[Any], pool_size: int) -> AsyncIterator[None]:
    """Bind the tables to `engine` and run its connection pool meanwhile (SQLite's: kept
    connections for the statements outside transactions, see `PooledSQLiteEngine`; closed
    at the end, which also checkpoints the WAL into the file).

    A connection goes back to the pool with an open transaction rolled back (asyncpg always
    does that, without a round trip when there is none), but without asyncpg's reset query
    (`pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`): that is a round trip to
    the server after every query, and the one thing a form's POST waited for besides its
    commit. The app leaves nothing for it to undo on a pooled connection: no session-level
    SET, LISTEN, advisory lock or cursor outside a transaction (the exports, which set a
    snapshot, open connections of their own). A test holds this.
    """
    use_engine(engine)
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(min_size=1, max_size=pool_size, reset=_keep_session)
        try:
            yield
        finally:
            await engine.close_connection_pool()
    elif isinstance(engine, PooledSQLiteEngine):
        engine.open_pool()
        try:
            yield
        finally:
            await engine.close_pool()
    else:
        yield
