from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns import Bytea, Timestamptz, Varchar
from piccolo.table import Table

ID = "2026-11-29T01:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = (
    "dashboard speed (issue 17): dashboard_figure keeps the figures of a dashboard view whose "
    "months are all closed (survey/dashboard/stored.py), so that a restarted server's first "
    "view reads them instead of working them out again"
)


class DashboardFigure(Table, tablename="dashboard_figure"):
    key = Varchar(length=64, unique=True)
    kind = Varchar(length=20)
    code = Varchar(length=32)
    rolled = Varchar(length=7)
    made_at = Timestamptz()
    value = Bytea()


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="survey", description=DESCRIPTION)

    async def run():
        DashboardFigure._meta.refresh_db()
        await DashboardFigure.create_table(if_not_exists=True)

    async def back():
        DashboardFigure._meta.refresh_db()
        await DashboardFigure.raw("DROP TABLE IF EXISTS dashboard_figure")

    manager.add_raw(run)
    manager.add_raw_backwards(back)
    return manager
