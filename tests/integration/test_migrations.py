"""The newest migrations go back to the schema before them and forward again, on SQLite and
PostgreSQL, through Piccolo's own commands (`piccolo migrations backwards survey <id>`)."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from piccolo.apps.migrations.commands.backwards import run_backwards
from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from survey.db import make_engine, prepare_sqlite, use_engine
from survey.settings import Settings
from tests.conftest import POSTGRES_ADMIN_URL, POSTGRES_URL, _recreate_database, run_async

FORMER_NETWORK = "2026-11-29T04:30:00:000000"
BEFORE_IT = "2026-11-29T01:40:00:000000"
UNTER_25 = "2026-11-29T17:40:00:000000"
BEFORE_UNTER_25 = "2026-11-29T15:00:00:000000"


@pytest.fixture(params=["sqlite", "postgres"])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine[Any]]:
    """The tables bound to a database of their own without a table yet, and bound back to
    their engine afterwards. On PostgreSQL a scratch database next to the worker's, dropped
    afterwards: the worker's keeps its schema whatever fails here."""
    import survey.piccolo_conf as conf

    bound, name = conf.DB, ""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        prepare_sqlite(str(tmp_path / "migrations.sqlite3"))
    elif not POSTGRES_URL:
        pytest.skip("PostgreSQL tests need RESONANZ_TEST_POSTGRES=postgresql://... (CI sets it)")
    else:
        name = urlsplit(POSTGRES_URL).path.lstrip("/") + "_migrations"
        run_async(_recreate_database(POSTGRES_ADMIN_URL, name))
        url = urlunsplit(urlsplit(POSTGRES_URL)._replace(path=f"/{name}"))
    engine = make_engine(Settings(database_url=url))
    use_engine(engine)
    try:
        yield engine
    finally:
        use_engine(bound)
        if name:
            run_async(_drop_database(POSTGRES_ADMIN_URL, name))


async def _drop_database(admin_url: str, name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def _schema(engine: Engine[Any]) -> dict[str, list[Any]]:
    """Tables, columns, indexes and constraints, as the engine describes them (not where a
    column stands among the others: PostgreSQL numbers a column added again after the last)."""
    if isinstance(engine, SQLiteEngine):
        rows = await engine.run_ddl(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' "
            "ORDER BY type, name"
        )
        return {"sqlite_master": [dict(r) for r in rows]}
    assert isinstance(engine, PostgresEngine)
    queries = {
        "columns": "SELECT table_name, column_name, data_type, is_nullable, column_default "
        "FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2",
        "indexes": "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
        "ORDER BY 1",
        "constraints": "SELECT conrelid::regclass::text AS on_table, conname, "
        "pg_get_constraintdef(oid) AS definition FROM pg_constraint "
        "WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2",
    }
    return {key: [dict(r) for r in await engine.run_ddl(sql)] for key, sql in queries.items()}


async def _step(command: Any, migration_id: str, **options: Any) -> None:
    with contextlib.redirect_stdout(io.StringIO()) as out:
        result = await command("survey", migration_id=migration_id, **options)
    assert result.success, f"{result.message}\n{out.getvalue()}"


async def test_the_former_network_migration_goes_back_and_forward_again(
    empty_engine: Engine[Any],
) -> None:
    await _step(run_forwards, BEFORE_IT)
    before = await _schema(empty_engine)
    await _step(run_forwards, FORMER_NETWORK)
    after = await _schema(empty_engine)
    assert "former_network" in str(after) and "former_network" not in str(before)
    assert "link_token_lower" in str(after) and "staff_user_username_lower" in str(after)

    await _step(run_backwards, FORMER_NETWORK, auto_agree=True)
    assert await _schema(empty_engine) == before
    await _step(run_forwards, FORMER_NETWORK)
    assert await _schema(empty_engine) == after


async def test_the_under_25_service_type_is_called_unter_25_in_german(
    empty_engine: Engine[Any],
) -> None:
    """t23 #18: the seed named it "U25", which the office form showed while the filters, the
    exports and the method notes say "Unter 25". A name an administrator gave is kept."""
    names = "SELECT code, name_de FROM service_type WHERE code = 'under_25'"
    await _step(run_forwards, BEFORE_UNTER_25)
    assert [dict(r) for r in await empty_engine.run_ddl(names)] == [
        {"code": "under_25", "name_de": "U25"}
    ]
    await _step(run_forwards, UNTER_25)
    assert [dict(r) for r in await empty_engine.run_ddl(names)] == [
        {"code": "under_25", "name_de": "Unter 25"}
    ]
    await _step(run_backwards, UNTER_25, auto_agree=True)
    assert [dict(r) for r in await empty_engine.run_ddl(names)] == [
        {"code": "under_25", "name_de": "U25"}
    ]
    await empty_engine.run_ddl("UPDATE service_type SET name_de = 'Junge Menschen'")
    await _step(run_forwards, UNTER_25)
    assert [dict(r) for r in await empty_engine.run_ddl(names)] == [
        {"code": "under_25", "name_de": "Junge Menschen"}
    ]
