"""Piccolo configuration. `DB` is replaced by `survey.db.use_engine` at run time."""

from __future__ import annotations

import os
from typing import Any

from piccolo.conf.apps import AppRegistry
from piccolo.engine.base import Engine

from survey.db import make_engine
from survey.settings import Settings

DB: Engine[Any] = make_engine(
    Settings(database_url=os.environ.get("RESONANZ_DATABASE_URL", Settings().database_url))
)

APP_REGISTRY = AppRegistry(apps=["survey.piccolo_app"])
