from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-29T15:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = (
    "dashboard_figure.default_for: the last published month whose default views a kept row "
    "is one of (the warming marks them), so that pruning deletes every other row first "
    "(survey/dashboard/stored.py, r25's finding 5)"
)


class _DashboardFigure(Table, tablename="dashboard_figure"):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="survey", description=DESCRIPTION)

    async def run():
        _DashboardFigure._meta.refresh_db()
        await _DashboardFigure.raw(
            "ALTER TABLE dashboard_figure ADD COLUMN default_for VARCHAR(7) NOT NULL DEFAULT ''"
        )

    async def back():
        _DashboardFigure._meta.refresh_db()
        await _DashboardFigure.raw("ALTER TABLE dashboard_figure DROP COLUMN default_for")

    manager.add_raw(run)
    manager.add_raw_backwards(back)
    return manager
