"""The dashboards' default views worked out in the background, before anyone asks.

Staff figures change only when a month closes (the month in progress is in no figure) or
when an admin changes something. So right after start-up, and again whenever the last
published month moves on, each comparison group's default views (the overview, the
benchmark, every office page; the period and filters a page opens with) are worked out once,
as its network coordinator would open them, in each staff language. That fills this process's
caches of closed months (survey/dashboard/cache.py): the protected tables, the statistics and
models of their published counts, the version notes, the office pages' comments and the
charts. Those caches hold nothing that depends on who asks, so a manager's first view of the
same period reads the same tables; what depends on the user (the rows they may see) is still
worked out on their request, from the cached tables. A view with another period or a filter
is worked out when first asked for, from the group's rolled-up counts the warming reads
first (survey/dashboard/rolled_counts.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar.datastructures import State

from survey.auth.queries import every_office
from survey.auth.schemas import OfficeRef, Scope
from survey.dashboard import rolled_counts, routes, stored
from survey.dashboard.filters import parse_filters, publication_day, published_through
from survey.i18n import UI_LOCALES
from survey.settings import Settings

log = logging.getLogger("resonanz.warm")
CHECK_SECONDS = 600
"""How often the loop looks whether the last published month moved on."""
PAUSE_SECONDS = 0.01
"""A pause between two views, so requests that arrive meanwhile are not held up long."""


async def comparison_groups() -> list[Scope]:
    """One scope per comparison group (a network, or a job centre in none) that sees all of
    its offices, as the group's coordinator does."""
    offices = await every_office()
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for o in offices:
        key = ("network", o["network_id"]) if o["network_id"] else ("org", o["organization_id"])
        groups.setdefault(key, []).append(o)
    return [
        Scope(
            user_id=0,
            username="",
            display_name="",
            locale="",
            roles=("network",),
            visible=frozenset(o["id"] for o in members),
            group=tuple(
                OfficeRef(o["id"], o["name"], o["code"], o["organization_id"], o["organization"])
                for o in members
            ),
            group_name=members[0]["network"] or members[0]["organization"],
            # the comments are prepared too, for the job centres' own staff who read them
            readable=frozenset(o["id"] for o in members),
        )
        for members in groups.values()
    ]


async def warm(state: State) -> int:
    """Work out the default views of every comparison group; returns how many."""
    settings: Settings = state.settings
    filters = parse_filters({}, publication_day(settings))
    views = 0
    done = await routes._rolled(state)
    await stored.prune(None if done.month is None else done.month.isoformat()[:7])
    for scope in await comparison_groups():
        # its rolled-up counts, for the views nobody asked for yet (the default views below
        # may all be kept in the database and read none)
        await rolled_counts.held(state, [o.id for o in scope.group], done)
        plan = await routes._steering_plan(state, scope, filters)
        await routes._overview(state, scope, filters, None, plan)
        await routes._steering(state, scope, filters, plan)
        for locale in UI_LOCALES:
            await routes._benchmark_page(state, scope, filters, None, locale)
        views += 2
        await asyncio.sleep(PAUSE_SECONDS)
        for office in scope.group:
            for locale in UI_LOCALES:
                await routes._office_page(state, scope, office.id, filters, locale)
            office_plan = await routes._steering_plan(state, scope, filters, office.id)
            await routes._steering(state, scope, filters, office_plan, office.id)
            views += 1
            await asyncio.sleep(PAUSE_SECONDS)
    return views


PAGES = ("dashboard/overview.html", "dashboard/office.html", "dashboard/benchmark.html")


def compile_templates(app: Any) -> None:
    """Compile the dashboard pages' templates (Jinja compiles a template on its first use:
    about 0.3 s of a restarted server's first dashboard view)."""
    engine = getattr(getattr(app, "template_engine", None), "engine", None)
    if engine is not None:
        for name in PAGES:
            engine.get_template(name)


@asynccontextmanager
async def warming(app: Any) -> AsyncIterator[None]:
    """The app warms its dashboards `warm_after_seconds` after start-up, then again whenever
    the last published month moves on (0: never)."""
    settings: Settings = app.state.settings
    if settings.warm_after_seconds <= 0:
        yield
        return

    async def loop() -> None:
        await asyncio.sleep(settings.warm_after_seconds)
        compile_templates(app)
        done = None
        while True:
            month = published_through(publication_day(settings))
            if month != done:
                started = time.perf_counter()
                try:
                    views = await warm(app.state)
                    done = month
                    log.info("dashboards warmed: %d views in %.1f s", views,
                             time.perf_counter() - started)  # fmt: skip
                except Exception:
                    log.exception("warming the dashboards failed; the next check tries again")
            await asyncio.sleep(CHECK_SECONDS)

    task = asyncio.create_task(loop(), name="warm-dashboards")
    try:
        yield
    finally:
        task.cancel()
