from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns import JSON, Date, ForeignKey, OnDelete, Real, Timestamptz, Varchar
from piccolo.table import Table

ID = "2026-11-28T06:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = (
    "administration: office kind, service types (and which an office offers), targets, the "
    "item bank, retention per job centre, token scope, one-time set-password links"
)

SERVICE_TYPES = [
    ("benefits", "Leistungen", "Benefits"),
    ("placement", "Vermittlung", "Placement"),
    ("case_management", "Fallmanagement", "Case management"),
    ("under_25", "U25", "Under 25"),
]


class _Office(Table, tablename="office"):
    pass


class _User(Table, tablename="staff_user"):
    pass


class ServiceType(Table, tablename="service_type"):
    code = Varchar(length=40, unique=True)
    name_de = Varchar(length=200)
    name_en = Varchar(length=200)


class OfficeService(Table, tablename="office_service"):
    office = ForeignKey(references=_Office, on_delete=OnDelete.cascade, index=True)
    service_type = Varchar(length=40)


class Target(Table, tablename="target"):
    office = ForeignKey(references=_Office, on_delete=OnDelete.cascade, index=True)
    item = Varchar(length=40)
    value = Real()
    valid_from = Date()
    valid_to = Date()


class BankItem(Table, tablename="bank_item"):
    code = Varchar(length=40, unique=True)
    definition = JSON()


class Invitation(Table, tablename="invitation"):
    user = ForeignKey(references=_User, on_delete=OnDelete.cascade, index=True)
    token_hash = Varchar(length=64, unique=True)
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


NEW = [ServiceType, OfficeService, Target, BankItem, Invitation]
COLUMNS = [
    "ALTER TABLE office ADD COLUMN kind VARCHAR(20) NOT NULL DEFAULT 'main'",
    "ALTER TABLE organization ADD COLUMN retention_months INTEGER NOT NULL DEFAULT 12",
    "ALTER TABLE api_token ADD COLUMN organizations JSON NOT NULL DEFAULT '[]'",
    "ALTER TABLE audit_log ADD COLUMN organization INTEGER NULL",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="survey", description=DESCRIPTION)

    async def run():
        for table in (_Office, _User, *NEW):
            table._meta.refresh_db()
        for statement in COLUMNS:
            await _Office.raw(statement)
        for table in NEW:
            await table.create_table(if_not_exists=True)
        for code, de, en in SERVICE_TYPES:
            await ServiceType.insert(ServiceType(code=code, name_de=de, name_en=en))
        await _Office.raw(
            "INSERT INTO office_service (office, service_type) "
            "SELECT o.id, s.code FROM office o CROSS JOIN service_type s"
        )

    manager.add_raw(run)
    return manager
