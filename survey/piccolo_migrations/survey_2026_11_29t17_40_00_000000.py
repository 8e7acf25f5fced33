from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-29T17:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = (
    "service_type under_25: German name 'Unter 25' (seeded as 'U25', which the office form "
    "showed while the filters, exports and method notes say 'Unter 25'; t23's finding 18); "
    "a name an administrator changed is kept"
)


class _ServiceType(Table, tablename="service_type"):
    pass


async def _rename(old: str, new: str) -> None:
    _ServiceType._meta.refresh_db()
    await _ServiceType.raw(
        "UPDATE service_type SET name_de = {} WHERE code = 'under_25' AND name_de = {}", new, old
    )


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="survey", description=DESCRIPTION)

    async def run():
        await _rename("U25", "Unter 25")

    async def back():
        await _rename("Unter 25", "U25")

    manager.add_raw(run)
    manager.add_raw_backwards(back)
    return manager
