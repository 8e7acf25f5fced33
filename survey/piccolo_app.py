"""Piccolo app registration, so `piccolo migrations` finds our tables."""

from __future__ import annotations

import os

from piccolo.conf.apps import AppConfig

from survey.tables import ALL_TABLES

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="survey",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=ALL_TABLES,
    migration_dependencies=[],
    commands=[],
)
