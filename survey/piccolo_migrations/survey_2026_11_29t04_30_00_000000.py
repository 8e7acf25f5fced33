from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-29T04:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = (
    "organization.former_network: the network a job centre was removed from, so that its "
    "coordinators can add it back; an index on lower(link.token), so that a link typed in "
    "other case is found; an index on lower(staff_user.username) for signing in whatever the case"
)


class _Organization(Table, tablename="organization"):
    pass


STATEMENTS = [
    "ALTER TABLE organization ADD COLUMN former_network INTEGER NULL"
    " REFERENCES network (id) ON DELETE SET NULL",
    "CREATE INDEX IF NOT EXISTS link_token_lower ON link (lower(token))",
    "CREATE INDEX IF NOT EXISTS staff_user_username_lower ON staff_user (lower(username))",
]
BACKWARDS = [
    "DROP INDEX IF EXISTS staff_user_username_lower",
    "DROP INDEX IF EXISTS link_token_lower",
    # the networks job centres were removed from are forgotten: the schema before had no place
    "ALTER TABLE organization DROP COLUMN former_network",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="survey", description=DESCRIPTION)

    async def run():
        _Organization._meta.refresh_db()
        for statement in STATEMENTS:
            await _Organization.raw(statement)

    async def back():
        _Organization._meta.refresh_db()
        for statement in BACKWARDS:
            await _Organization.raw(statement)

    manager.add_raw(run)
    manager.add_raw_backwards(back)
    return manager
