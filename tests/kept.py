"""The demo's core with its dashboards' views kept in it (survey/dashboard/stored.py), for
the test files that only read pages of it: what a page says of its figures, not how the
figures are worked out.

The views are worked out once for the run by the warming (survey/dashboard/warm.py: every
comparison group's and staff scope's default views and the coordinators' control views, in
each staff language), on a copy of the demo's core, and kept sealed with the suite's secret;
each test copies that database as `settings` copies the plain one, and its app reads the kept
views instead of working them out again. That the kept figures are the figures worked out
anew is proved by tests/integration/test_dashboard_cache.py and test_dashboard_stored.py,
which start from the plain demo core (docs/testing.md)."""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from pathlib import Path
from unittest import mock

import pytest

from survey.app import create_app, lifespan
from survey.dashboard import warm
from survey.settings import Settings
from tests.conftest import SECRET, _shared_root, once, run_async


async def _keep_views(path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{path}",
        secret_key=SECRET,
        link_cache_seconds=0,
        rate_limits=False,
        warm_after_seconds=0,
    )
    app = create_app(settings)
    async with lifespan(app):
        with mock.patch.object(warm, "SHARE", 0):  # no pauses between views: nobody waits
            await warm.warm(app.state, controls=False)


def demo_with_kept_views(plain: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo core's template `plain` with its views kept: built by the first
    xdist worker to ask, while the others wait."""
    path = _shared_root(tmp_path_factory) / "demo-core-kept.sqlite3"

    def build() -> None:
        shutil.copy(plain, path)
        run_async(_keep_views(path))
        with contextlib.closing(sqlite3.connect(path)) as db:  # all of it in the one file
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    once(tmp_path_factory, "demo-core-kept", build)
    return path
