"""The dashboards' default views worked out in the background, before anyone asks.

Staff figures change only when a month closes (the month in progress is in no figure) or when
an admin changes something. So right after start-up, and again whenever the last published
month moves on, each comparison group's default views (the overview, the benchmark, every
office page; the period and filters a page opens with) are worked out once, as its network
coordinator would open them, in each staff language. That fills this process's caches of closed
months (survey/dashboard/cache.py): the protected tables, the statistics and models of their
published counts, the version notes, the office pages' comments and the charts. Those caches
hold nothing that depends on who asks. A job centre's own staff (managers and admins) see only
their offices, and their figures are not the coordinator's rows narrowed down: a pooled figure
(the network's index, the benchmark's target, the rest of the group an office is compared with)
is withheld for them where, with what they see, it would give away the offices they may not see
(`disclosure.hidden_pools`), and with it the verdicts made against it. So their default views
are worked out too, once per distinct set of offices seen (`staff_scopes`, as their own
requests build it), from the same tables. Learning from the best (survey/dashboard/best.py) at
both levels is one of the default views. The results API's default views (its keys are not the
pages') are worked out for each distinct set of offices the active API tokens see
(`token_scopes`: a token limited to some job centres sees a set no user has). A view with
another period is worked out when first asked for, from the group's rolled-up counts the
warming reads first (survey/dashboard/rolled_counts.py).

Once every group's default views are done, the warming goes on with the other views the
pages' controls offer for the default period (`control_views`): the index as observed
instead of adjusted for client mix, and each single filter value of the filter select
(service type, language of the response, mode), on the overview, the benchmark (both
levels) and every office page; the overview's column headings only sort the same figures
(routes._overview). Between two of those views it pauses as long as the last one took, so
that it never takes more than half of the process's time from the requests. A period the
user types in is worked out when first asked for.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import msgspec
from litestar.datastructures import State

from survey import memory
from survey.auth.queries import every_office, limited_scope, load_scope, token_limits
from survey.auth.schemas import DASHBOARD_ROLES, OfficeRef, Scope
from survey.dashboard import cache, rolled_counts, routes, stored
from survey.dashboard.filters import LOCALES, parse_filters, publication_day, published_through
from survey.dashboard.schemas import Filters
from survey.i18n import UI_LOCALES, language_name
from survey.questionnaire import MODES, SERVICE_TYPES
from survey.settings import Settings
from survey.tables import Membership

log = logging.getLogger("resonanz.warm")
CHECK_SECONDS = 600
"""How often the loop looks whether the last published month moved on."""
PAUSE_SECONDS = 0.01
"""A pause between two views, so requests that arrive meanwhile are not held up long."""
SHARE = 1.0
"""After each view the defaults do not open with, a pause this many times as long as the view
took (1: the warming takes at most half of the process's time from requests)."""


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


def _seen(scope: Scope) -> tuple[object, ...]:
    """What a view's kept figures depend on of the user (routes._stored, best.learning)."""
    return (scope.group, scope.visible, scope.group_name)


async def staff_scopes(groups: list[Scope]) -> list[Scope]:
    """One scope per distinct set of offices the dashboards' users see other than a whole
    comparison group (the coordinators' `groups`): a job centre's managers and admins, or an
    office's. Each is the scope of one of those users, as their requests load it
    (`load_scope`), without what names the user."""
    rows = await Membership.select(
        Membership.user, Membership.role, Membership.network, Membership.organization,
        Membership.office,
    ).order_by(Membership.user)  # fmt: skip
    roles: dict[int, set[tuple[Any, ...]]] = {}
    for r in rows:
        if r["role"] in DASHBOARD_ROLES:
            roles.setdefault(r["user"], set()).add(
                (r["role"], r["network"], r["organization"], r["office"])
            )
    seen = {_seen(g) for g in groups}
    tried: set[frozenset[tuple[Any, ...]]] = set()
    found = []
    for user, memberships in roles.items():
        if frozenset(memberships) in tried:
            continue
        scope = await load_scope(user)
        if scope is None or not scope.may_see_dashboards:
            continue  # deactivated or locked: another user with the same roles may do
        tried.add(frozenset(memberships))
        if _seen(scope) not in seen:
            seen.add(_seen(scope))
            found.append(msgspec.structs.replace(scope, user_id=0, username="",
                                                 display_name="", locale=""))  # fmt: skip
    return found


async def token_scopes() -> list[Scope]:
    """One scope per distinct set of offices the active API tokens see (a token limited to
    some job centres sees only their offices: a scope no user has), as their requests load
    it (`load_scope`, `limited_scope`), without what names the user."""
    found: dict[tuple[object, ...], Scope] = {}
    tried: set[tuple[int, frozenset[int]]] = set()
    for user, limit in await token_limits():
        if (user, frozenset(limit)) in tried:
            continue
        tried.add((user, frozenset(limit)))
        scope = await load_scope(user)
        if scope is None:
            continue  # deactivated or locked: its tokens are refused
        scope = await limited_scope(scope, limit)
        if scope.may_see_dashboards and _seen(scope) not in found:
            found[_seen(scope)] = msgspec.structs.replace(
                scope, user_id=0, username="", display_name="", locale="", via_token=True
            )
    return list(found.values())


async def _api(state: State, scope: Scope, filters: Filters) -> int:
    """The results API's views of `filters` as a script asks for them with a token (the
    overview, the benchmark and learning from the best at their default level, the targets,
    each office; the texts in German, the API's default): their keys are not the pages'
    (the pages' overview holds its targets' items, their office figures every item).
    Returns how many."""
    await routes._overview(state, scope, filters, None)
    await routes._benchmark(state, scope, filters, None)
    await routes._best(state, scope, filters, None, "de")
    if filters.dimension is None:
        await routes._targets(state, scope, filters, None)
    for office in scope.visible_offices:
        await routes._office(state, scope, office.id, filters, "de")
    return 3 + len(scope.visible_offices)


def control_views(default: Filters) -> list[Filters]:
    """The views other than `default` that the pages' controls offer for its period: the
    observed index (`adjust=none`), and each single filter value the filter select lists (a
    filtered view is never adjusted; the select keeps `adjust` as it was, so the default
    one)."""
    views = [msgspec.structs.replace(default, adjust="none")]
    for name, values in (("service_type", SERVICE_TYPES), ("locale", LOCALES), ("mode", MODES)):
        views += [msgspec.structs.replace(default, **{name: value}) for value in values]
    return views


async def _pages(
    state: State, scope: Scope, filters: Filters, levels: tuple[str, ...], share: bool = False,
    best: bool = False,
) -> int:  # fmt: skip
    """Every page `scope` sees for `filters`: the overview with its steering block, the
    benchmark at `levels`, learning from the best at both levels (`best`) and each office
    page, in each staff language; returns how many (the benchmark's levels count as one
    view, learning's as one). `share`: after each, a pause as long as it took."""
    started = time.perf_counter()
    plan = await routes._steering_plan(state, scope, filters)
    await routes._overview(state, scope, filters, None, plan)
    await routes._steering(state, scope, filters, plan)
    for level in levels:
        for locale in UI_LOCALES:
            await routes._benchmark_page(state, scope, filters, level, locale)
    views = 2
    if best:
        for level in ("office", "organization"):
            for locale in UI_LOCALES:
                await routes._best(state, scope, filters, level, locale)
        views += 1
    await _pause(started, share)
    for office in scope.visible_offices:
        started = time.perf_counter()
        for locale in UI_LOCALES:
            await routes._office_page(state, scope, office.id, filters, locale)
        office_plan = await routes._steering_plan(state, scope, filters, office.id)
        await routes._steering(state, scope, filters, office_plan, office.id)
        views += 1
        await _pause(started, share)
    return views


async def _pause(started: float, share: bool) -> None:
    took = time.perf_counter() - started
    await asyncio.sleep(max(PAUSE_SECONDS, SHARE * took) if share else PAUSE_SECONDS)


async def warm(state: State, *, controls: bool = True) -> int:
    """Work out the default views of every comparison group, then those of every other set
    of offices users see (`staff_scopes`) and the results API's of the API tokens'
    (`token_scopes`), then (`controls`) the other views the coordinators' pages' controls
    offer for the default period; returns how many."""
    settings: Settings = state.settings
    on = publication_day(settings)
    default, published = parse_filters({}, on), published_through(on)
    views = 0
    done = await routes._rolled(state)
    await stored.prune(None if done.month is None else done.month.isoformat()[:7], published)
    stored.unmark()
    groups = await comparison_groups()
    staff = await staff_scopes(groups)
    tokens = await token_scopes()

    async def default_views(first: bool) -> int:  # the groups', the staff's, the tokens'
        count = 0
        with _defaults(published):
            for n, scope in enumerate((*groups, *staff)):
                if first and n < len(groups):
                    # its rolled-up counts, for the views nobody asked for yet (the default
                    # views may all be kept in the database and read none)
                    await rolled_counts.held(state, [o.id for o in scope.group], done)
                count += await _pages(state, scope, default, ("office",), best=True)
            for scope in tokens:
                count += await _api(state, scope, default)
        return count

    background = cache.BACKGROUND.set(True)  # its figures in a thread of its own
    try:
        views += await default_views(first=True)
        if controls:
            views += await _controls(state, groups, default)
            # the default views are the ones opened most: read once more (from the process
            # cache or the kept rows, worked out again by none), so the control views, not
            # they, are the least recently used when the process cache is full (r25: from
            # about 26 offices on)
            await default_views(first=False)
    finally:
        cache.BACKGROUND.reset(background)
    return views


@contextmanager
def _defaults(published: str) -> Iterator[None]:
    """The kept rows read or written meanwhile are the default views of `published`: pruned
    last (survey/dashboard/stored.py)."""
    token = stored.DEFAULT_FOR.set(published)
    try:
        yield
    finally:
        stored.DEFAULT_FOR.reset(token)


async def _controls(state: State, groups: list[Scope], default: Filters) -> int:
    """The coordinators' views the pages' controls offer for the default period."""
    views = 0
    for scope in groups:
        started = time.perf_counter()  # the default view's other level of the benchmark
        for locale in UI_LOCALES:
            await routes._benchmark_page(state, scope, default, "organization", locale)
        views += 1
        await _pause(started, True)
        for filters in control_views(default):
            views += await _pages(state, scope, filters, ("office", "organization"), True)
    return views


PAGES = ("dashboard/overview.html", "dashboard/office.html", "dashboard/benchmark.html",
         "dashboard/best.html")  # fmt: skip
LAYOUT = ("staff.html", "base.html", "macros/staff.html", "dashboard/_steering.html")
"""What the pages extend and import (compiled on their first render, not with the page)."""


def compile_templates(app: Any) -> None:
    """Compile the dashboard pages' templates and what they extend and import (Jinja compiles
    a template on its first use: about 0.3 s of a restarted server's first dashboard view),
    and load the names of the response languages the filter form lists in each staff
    language (babel's locale data: about 0.1 s on first use)."""
    engine = getattr(getattr(app, "template_engine", None), "engine", None)
    if engine is not None:
        for name in (*PAGES, *LAYOUT):
            engine.get_template(name)
    for staff_locale in UI_LOCALES:
        for locale in LOCALES:
            language_name(locale, staff_locale)


def _import_statistics() -> None:
    """scipy's modules the figures use (imported when first used, analysis/_scipy.py)."""
    import importlib

    for name in ("scipy.stats", "scipy.special", "scipy.optimize"):
        importlib.import_module(name)


async def prepare(state: State) -> None:
    """What a process's first view nobody asked for yet would otherwise pay, done at once
    after start-up instead of with the warming (k27: at the million, a typed-in period's
    first overview after a restart took 2.2-2.7 s of CPU, the default views being kept
    rows): scipy's statistics imported (0.7-0.9 s), and each comparison group's rolled-up
    counts read (`rolled_counts.held`, about 1.1 s). In the warming's own thread and
    order, before its delay; the warming then finds them done."""
    background = cache.BACKGROUND.set(True)
    try:
        await cache.worked_out(_import_statistics)
        done = await routes._rolled(state)
        for group in await comparison_groups():
            await rolled_counts.held(state, [o.id for o in group.group], done)
    finally:
        cache.BACKGROUND.reset(background)
    memory.freeze_with_statistics()  # what it made is kept: out of the full collections
    state.dashboards_prepared = True


@asynccontextmanager
async def warming(app: Any) -> AsyncIterator[None]:
    """The app warms its dashboards `warm_after_seconds` after start-up, then again whenever
    the last published month moves on (0: never). The templates are compiled before the app
    serves (k27: in the seconds before the warming, a restarted server's first view of each
    page compiled its template, 0.2-0.5 s of CPU; the figures themselves are kept rows), and
    what a first new view would pay is done at once (`prepare`)."""
    settings: Settings = app.state.settings
    if settings.warm_after_seconds <= 0:
        yield
        return
    compile_templates(app)

    async def loop() -> None:
        try:
            await prepare(app.state)
        except Exception:
            log.exception("preparing the dashboards failed; the warming reads them later")
        await asyncio.sleep(settings.warm_after_seconds)
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
