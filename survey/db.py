"""Database engines: SQLite (embedded default) and PostgreSQL, migrations and lifespan."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import TYPE_CHECKING, Any

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine
from piccolo.table import Table

from survey.tables import ALL_TABLES

if TYPE_CHECKING:
    from survey.settings import Settings

SQLITE_BUSY_TIMEOUT_S = 10.0
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


def make_engine(settings: Settings) -> Engine[Any]:
    if settings.is_sqlite:
        # isolation_level=None: each statement commits inside aiosqlite's thread; otherwise
        # the write lock is held until Piccolo's separate commit() call comes back through
        # the event loop, which the response writer may be waiting on.
        return SQLiteEngine(
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
    """Bind the tables to `engine`; on PostgreSQL, run its connection pool meanwhile.

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
    else:
        yield
