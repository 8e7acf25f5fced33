from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns import BigInt, Date, ForeignKey, Integer, OnDelete, Varchar
from piccolo.table import Table

ID = "2026-11-28T17:40:14:000000"
VERSION = "1.38.0"
DESCRIPTION = (
    "fair comparison (issue 14): mix_count, responses per office × month × service type × "
    "language × mode, the network's cross-tab of the client-mix adjusters; filled by the "
    "dashboards from daily_count like rollup_count"
)


class _Office(Table, tablename="office"):
    pass


class MixCount(Table, tablename="mix_count"):
    start = Date()
    office = ForeignKey(references=_Office, null=True, on_delete=OnDelete.cascade)
    service_type = Varchar(length=40)
    locale = Varchar(length=20)
    mode = Varchar(length=16)
    n = Integer()
    key_sum = BigInt(default=0)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="survey", description=DESCRIPTION)

    async def run():
        for table in (_Office, MixCount):
            table._meta.refresh_db()
        await MixCount.create_table(if_not_exists=True)
        await MixCount.raw(
            "CREATE UNIQUE INDEX mix_count_key ON mix_count "
            "(start, office, service_type, locale, mode)"
        )

    async def back():
        MixCount._meta.refresh_db()
        await MixCount.raw("DROP TABLE IF EXISTS mix_count")

    manager.add_raw(run)
    manager.add_raw_backwards(back)
    return manager
