from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns import Boolean, ForeignKey, OnDelete, Timestamptz, Varchar
from piccolo.table import Table

ID = "2026-11-28T07:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = (
    "posters and slips: office.poster_languages, link.codes_required and slip_code "
    "(one-time codes, kept as HMACs, marked used and nothing else)"
)


class _Link(Table, tablename="link"):
    pass


class SlipCode(Table, tablename="slip_code"):
    link = ForeignKey(references=_Link, on_delete=OnDelete.cascade, index=True)
    code_hash = Varchar(length=64, unique=True)
    used = Boolean(default=False)
    created_at = Timestamptz()


COLUMNS = [
    "ALTER TABLE office ADD COLUMN poster_languages VARCHAR(200) NOT NULL DEFAULT ''",
    "ALTER TABLE link ADD COLUMN codes_required BOOLEAN NOT NULL DEFAULT FALSE",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="survey", description=DESCRIPTION)

    async def run():
        _Link._meta.refresh_db()
        SlipCode._meta.refresh_db()
        for statement in COLUMNS:
            await _Link.raw(statement)
        await SlipCode.create_table(if_not_exists=True)

    manager.add_raw(run)
    return manager
