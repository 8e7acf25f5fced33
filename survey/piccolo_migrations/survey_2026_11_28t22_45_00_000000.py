from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

ID = "2026-11-28T22:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = (
    "dashboard speed (issue 17): rollup_count keeps the composite index in its 17 "
    "quarter-point classes (the value 105 x the class number, as the dashboards read it), "
    "not the raw 420 x mean (up to 29 values per office, month and view at the million), and "
    "a row with item '_n' (value 0) per office x month x view with the responses that have "
    "an index (the sum of its '_index' rows): the filter's value rows a filtered view's "
    "blocks need. Every published figure stays the same: the classes' counts and key sums are "
    "the sums of their values' (survey/dashboard/queries.py)"
)

CLASS = "((4 * value + 210) / 420) * 105"
"""queries.INDEX_CLASS for the index rows (integer division of non-negative numbers)."""
COLUMNS = "grain, start, office, service_type, locale, mode, item, value, n, key_sum"
CELL = "grain, start, office, service_type, locale, mode"


class _Raw(Table, tablename="rollup_count"):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="survey", description=DESCRIPTION)

    async def run():  # in the migration's transaction: all or nothing
        _Raw._meta.refresh_db()
        # classes first under a scratch item (a class's value may equal a raw value)
        await _Raw.raw(
            f"INSERT INTO rollup_count ({COLUMNS}) SELECT {CELL}, '_index classes', {CLASS}, "
            f"SUM(n), SUM(key_sum) FROM rollup_count WHERE item = '_index' "
            f"GROUP BY {CELL}, {CLASS}"
        )
        await _Raw.raw("DELETE FROM rollup_count WHERE item = '_index'")
        await _Raw.raw("UPDATE rollup_count SET item = '_index' WHERE item = '_index classes'")
        await _Raw.raw(
            f"INSERT INTO rollup_count ({COLUMNS}) SELECT {CELL}, '_n', 0, SUM(n), "
            f"SUM(key_sum) FROM rollup_count WHERE item = '_index' AND grain = 'month' "
            f"GROUP BY {CELL}"
        )
        if isinstance(_Raw._meta.db, PostgresEngine):
            await _Raw.raw("ANALYZE rollup_count")

    async def back():  # the classes stay: the dashboards of before read them the same
        _Raw._meta.refresh_db()
        await _Raw.raw("DELETE FROM rollup_count WHERE item = '_n'")

    manager.add_raw(run)
    manager.add_raw_backwards(back)
    return manager
