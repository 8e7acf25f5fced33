from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import BigInt, Boolean, Integer
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-28T06:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = (
    "record keys for the cell key method: response.record_key, key_sum in the count tables; "
    "text_answer.hidden (an admin hid the comment)"
)


def _params(default: object) -> dict[str, object]:
    return {
        "default": default,
        "null": False,
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
    for class_name, table, column, column_class, default in (
        ("Response", "response", "record_key", Integer, 0),
        ("DailyCount", "daily_count", "key_sum", BigInt, 0),
        ("RollupCount", "rollup_count", "key_sum", BigInt, 0),
        ("TextAnswer", "text_answer", "hidden", Boolean, False),
    ):
        manager.add_column(
            table_class_name=class_name,
            tablename=table,
            column_name=column,
            db_column_name=column,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=_params(default),
            schema=None,
        )

    return manager
