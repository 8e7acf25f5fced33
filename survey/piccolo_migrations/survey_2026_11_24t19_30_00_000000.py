from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-24T19:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "indexes Piccolo cannot declare: the count table's key, responses by office and day"

INDEXES = [
    (
        "CREATE UNIQUE INDEX daily_count_key ON daily_count "
        "(day, office, service_type, locale, mode, item, value)"
    ),
    "CREATE INDEX response_office_day ON response (office, day)",
]


class _Raw(Table, tablename="daily_count"):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="survey", description=DESCRIPTION)

    async def create_indexes():
        _Raw._meta.refresh_db()
        for statement in INDEXES:
            await _Raw.raw(statement)

    async def drop_indexes():
        _Raw._meta.refresh_db()
        for name in ("daily_count_key", "response_office_day"):
            await _Raw.raw(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
