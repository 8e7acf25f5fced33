from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-24T19:51:00:000000"
VERSION = "1.38.0"
DESCRIPTION = (
    "the rollup table's key (Piccolo cannot declare a composite unique index); the filter "
    "columns come before the date, so the summed rows ('*') of a period are one index range"
)


class _Raw(Table, tablename="rollup_count"):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="survey", description=DESCRIPTION)

    async def create_index():
        _Raw._meta.refresh_db()
        await _Raw.raw(
            "CREATE UNIQUE INDEX rollup_count_key ON rollup_count "
            "(grain, service_type, locale, mode, start, office, item, value)"
        )

    async def drop_index():
        _Raw._meta.refresh_db()
        await _Raw.raw("DROP INDEX IF EXISTS rollup_count_key")

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
