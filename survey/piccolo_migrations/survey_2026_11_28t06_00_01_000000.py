from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-28T06:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "API tokens from before expiry existed expire 90 days from now"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="survey", description=DESCRIPTION
    )

    async def existing_tokens_expire_in_90_days():
        import datetime as dt

        from survey.tables import ApiToken

        await ApiToken.raw(
            "UPDATE api_token SET expires_at = {} WHERE expires_at IS NULL",
            dt.datetime.now(dt.UTC) + dt.timedelta(days=90),
        )

    manager.add_raw(existing_tokens_expire_in_90_days)

    return manager
