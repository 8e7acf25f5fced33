from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

ID = "2026-11-28T20:15:00:000000"
VERSION = "1.38.0"
DESCRIPTION = (
    "dashboard speed (issue 17): rollup_count gets a covering index led by the item, so a "
    "page's first (cold) view reads its rows, index rows of each filter view included, from "
    "the index alone instead of looking up every row (SQLite: 46-61 -> 18-24 ms for an "
    "overview's or a filter view's rows at the million)"
)


class _Raw(Table, tablename="rollup_count"):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="survey", description=DESCRIPTION)

    async def run():
        _Raw._meta.refresh_db()
        columns = "grain, item, service_type, locale, mode, start, office, value"
        if isinstance(_Raw._meta.db, PostgresEngine):
            await _Raw.raw(
                f"CREATE INDEX rollup_count_read ON rollup_count ({columns}) INCLUDE (n, key_sum)"
            )
        else:
            await _Raw.raw(f"CREATE INDEX rollup_count_read ON rollup_count ({columns}, n, key_sum)")

    async def back():
        _Raw._meta.refresh_db()
        await _Raw.raw("DROP INDEX IF EXISTS rollup_count_read")

    manager.add_raw(run)
    manager.add_raw_backwards(back)
    return manager
