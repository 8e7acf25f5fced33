from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

ID = "2026-11-28T06:20:01:000000"
VERSION = "1.38.0"
DESCRIPTION = (
    "existing responses and count rows get random record keys and key sums (Piccolo runs raw "
    "steps before added columns, hence a migration of its own); the rollups are emptied and "
    "made again, with key sums, by the next dashboard request"
)


class _Raw(Table, tablename="response"):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="survey", description=DESCRIPTION)

    async def fill_keys():
        _Raw._meta.refresh_db()
        postgres = isinstance(_Raw._meta.db, PostgresEngine)
        key = "floor(random() * 2147483648)::bigint" if postgres else "abs(random()) % 2147483648"
        await _Raw.raw(f"UPDATE response SET record_key = {key}")
        await _Raw.raw(f"UPDATE daily_count SET key_sum = {key}")
        await _Raw.raw("DELETE FROM rollup_count")

    manager.add_raw(fill_keys)
    return manager
