from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Boolean, Integer, Text, Timestamptz
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-28T06:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = (
    "respondent flow: link.deactivated_at (queued kiosk answers from before it are taken), "
    "link.idle_seconds (kiosk idle reset), response.flagged (sent faster than a person "
    "answers), organization.privacy_controller/privacy_officer (the privacy notice)"
)


def _params(default: object, null: bool = False) -> dict[str, object]:
    return {
        "default": default,
        "null": null,
        "primary_key": False,
        "unique": False,
        "index": False,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
    }


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="survey", description=DESCRIPTION)
    columns = [
        ("Link", "link", "deactivated_at", Timestamptz, _params(None, null=True)),
        ("Link", "link", "idle_seconds", Integer, _params(60)),
        ("Response", "response", "flagged", Boolean, _params(False)),
        ("Organization", "organization", "privacy_controller", Text, _params("")),
        ("Organization", "organization", "privacy_officer", Text, _params("")),
    ]
    for class_name, tablename, column, column_class, params in columns:
        manager.add_column(
            table_class_name=class_name,
            tablename=tablename,
            column_name=column,
            db_column_name=column,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=params,
            schema=None,
        )
    return manager
