from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-28T15:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = (
    "dashboard speed (issue 17): rollup_count keeps each single filter's months with the "
    "other two filters summed ('*') instead of every combination of the three, so a filtered "
    "page reads one range of the key; responses sent too fast get a partial index"
)


class _Raw(Table, tablename="rollup_count"):
    pass


SINGLE = (
    ("service_type, '*', '*'", "service_type"),
    ("'*', locale, '*'", "locale"),
    ("'*', '*', mode", "mode"),
)
COMBINATION = "grain = 'month' AND service_type <> '*' AND locale <> '*' AND mode <> '*'"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="survey", description=DESCRIPTION)

    async def run():
        _Raw._meta.refresh_db()
        for dims, column in SINGLE:
            await _Raw.raw(
                "INSERT INTO rollup_count (grain, start, office, service_type, locale, mode, "
                f"item, value, n, key_sum) SELECT grain, start, office, {dims}, item, value, "
                f"SUM(n), SUM(key_sum) FROM rollup_count WHERE {COMBINATION} "
                f"GROUP BY grain, start, office, {column}, item, value ON CONFLICT DO NOTHING"
            )
        await _Raw.raw(f"DELETE FROM rollup_count WHERE {COMBINATION}")
        await _Raw.raw("CREATE INDEX response_flagged ON response (office, day) WHERE flagged")

    async def back():
        _Raw._meta.refresh_db()
        await _Raw.raw("DROP INDEX IF EXISTS response_flagged")
        # the combinations cannot be made again from the single filters: roll up anew
        await _Raw.raw("DELETE FROM rollup_count WHERE grain = 'month'")

    manager.add_raw(run)
    manager.add_raw_backwards(back)
    return manager
