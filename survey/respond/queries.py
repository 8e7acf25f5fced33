"""Reading links and questionnaire versions for the respondent pages."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
import time
from collections.abc import Callable, Coroutine
from typing import Any, cast

import msgspec

from survey.questionnaire import Definition, load_definition
from survey.respond.schemas import LinkInfo
from survey.tables import Link, Organization, QuestionnaireVersion, Response

log = logging.getLogger(__name__)


async def find_link(token: str) -> LinkInfo | None:
    """The link of a token, whatever the case it was typed in: links are made of lower-case
    letters, and one made before (mixed case) is found by its exact token or in lower case."""
    row = await _link_row(token)
    if row is None:
        found = await Link.raw(
            "SELECT token FROM link WHERE lower(token) = {} LIMIT 2", token.lower()
        )
        if len(found) == 1:  # one alike in every case but this: it
            row = await _link_row(found[0]["token"])
    if row is None:
        return None
    off = row.pop("deactivated_at")
    return LinkInfo(**row, deactivated_at=None if off is None else _as_utc(off).timestamp())


LINK_BY_TOKEN = (
    "SELECT l.id, l.token, o.id AS office_id, o.name AS office, g.name AS organization, "
    "v.id AS version_id, v.number AS version, l.service_type, l.mode, l.active, "
    "g.id AS organization_id, l.deactivated_at, l.idle_seconds, l.codes_required FROM link l "
    "LEFT JOIN office o ON l.office = o.id LEFT JOIN organization g ON o.organization = g.id "
    "LEFT JOIN questionnaire_version v ON l.version = v.id WHERE l.token = {} LIMIT 1"
)
"""Piccolo's select of `Link.office._.organization._` and `Link.version._` written out, as
`EVERY_OFFICE` in survey/auth/queries.py: building that select and its SQL took 1.5 ms of CPU,
running this 0.17 ms (SQLite, 2026-11-30), on every respondent request the link directory
does not answer (each one where RESONANZ_LINK_CACHE_SECONDS is 0)."""


async def _link_row(token: str) -> dict[str, Any] | None:
    rows: list[dict[str, Any]] = await Link.raw(LINK_BY_TOKEN, token)
    return rows[0] if rows else None


def _as_utc(value: dt.datetime | str) -> dt.datetime:
    """SQLite hands timestamps back as text in some paths; both engines store UTC."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


async def set_link_active(token: str, active: bool, now: dt.datetime | None = None) -> bool:
    """Switch a link on or off; switching off records when (see LinkInfo.deactivated_at).
    False when there is no such link."""
    values: dict[Any, Any] = {Link.active: active}
    if not active:
        values[Link.deactivated_at] = now or dt.datetime.now(dt.UTC)
    changed = await Link.update(values).where(Link.token == token).returning(Link.id)
    return bool(changed)


async def response_stored(submission_id: str) -> bool:
    return await Response.exists().where(Response.submission_id == submission_id)


class PrivacyContacts(msgspec.Struct, frozen=True):
    organization: str
    controller: str
    officer: str


async def privacy_contacts(organization_id: int) -> PrivacyContacts:
    row = (
        await Organization.select(
            Organization.name, Organization.privacy_controller, Organization.privacy_officer
        )
        .where(Organization.id == organization_id)
        .first()
    )
    if row is None:
        return PrivacyContacts(organization="", controller="", officer="")
    return PrivacyContacts(
        organization=row["name"],
        controller=row["privacy_controller"] or "",
        officer=row["privacy_officer"] or "",
    )


async def load_version(version_id: int) -> Definition:
    row = (
        await QuestionnaireVersion.select(QuestionnaireVersion.definition)
        .where(QuestionnaireVersion.id == version_id)
        .first()
    )
    if row is None:
        raise LookupError(f"questionnaire version {version_id} does not exist")
    return load_definition(row["definition"])


class LinkDirectory:
    """Links and their questionnaire versions, reused for a few seconds.

    Versions are immutable once published, so they are kept for the process' lifetime;
    a link's active flag may change, so a link is asked again after `ttl` seconds.

    Under load many requests for the same link arrive together, so a lookup is not run
    twice at once: concurrent misses wait for the one query in flight, unless it has run for
    longer than `JOIN_SECONDS` (a hung query then holds up only the requests that joined it).
    Between `ttl` and `2 * ttl` seconds an entry is still answered while one refresh runs in
    the background, so requests do not queue behind it; older entries are not answered before
    the query returns. A change of a link therefore takes effect within `2 * ttl` seconds plus
    the time of one query. With `ttl <= 0` every call runs its own query (read after write).
    """

    JOIN_SECONDS = 1.0

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._links: dict[str, tuple[float, LinkInfo | None]] = {}
        self._versions: dict[int, Definition] = {}
        self._pending: dict[object, tuple[float, asyncio.Task[object]]] = {}

    async def link(self, token: str) -> LinkInfo | None:
        hit = self._links.get(token) if self._ttl > 0 else None  # only plausible ones are kept
        if hit is None and not _plausible(token):
            return None
        if self._ttl <= 0:
            return await self._fetch_link(token)
        age = self._clock() - hit[0] if hit is not None else math.inf
        if hit is not None and age < self._ttl:
            return hit[1]
        refresh, started = self._single_flight(("link", token), lambda: self._fetch_link(token))
        if hit is not None and age < 2 * self._ttl:
            if started:  # nobody awaits this refresh: say when it fails
                refresh.add_done_callback(_log_failure)
            return hit[1]
        return cast("LinkInfo | None", await asyncio.shield(refresh))

    async def _fetch_link(self, token: str) -> LinkInfo | None:
        started = self._clock()
        info = await find_link(token)
        if len(self._links) > 50_000:
            self._links.clear()
        self._links[token] = (started, info)
        return info

    async def definition(self, version_id: int) -> Definition:
        definition = self._versions.get(version_id)
        if definition is None:
            fetch, _ = self._single_flight(
                ("version", version_id), lambda: self._fetch_version(version_id)
            )
            definition = cast(Definition, await asyncio.shield(fetch))
        return definition

    async def _fetch_version(self, version_id: int) -> Definition:
        definition = self._versions[version_id] = await load_version(version_id)
        return definition

    def _single_flight(
        self, key: object, fetch: Callable[[], Coroutine[Any, Any, object]]
    ) -> tuple[asyncio.Task[object], bool]:
        """The task fetching `key` and whether it is new: the one already running (unless it
        has run for more than JOIN_SECONDS), or a new one running `fetch()`."""
        now = self._clock()
        pending = self._pending.get(key)
        if pending is not None and now - pending[0] <= self.JOIN_SECONDS:
            return pending[1], False
        task = asyncio.create_task(fetch())
        self._pending[key] = (now, task)
        task.add_done_callback(lambda done: self._settle(key, done))
        return task, True

    def _settle(self, key: object, task: asyncio.Task[object]) -> None:
        pending = self._pending.get(key)
        if pending is not None and pending[1] is task:
            del self._pending[key]
        if not task.cancelled():
            task.exception()  # retrieved: the waiters got it, or _log_failure reports it


def _log_failure(task: asyncio.Task[object]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("refreshing a survey link failed", exc_info=task.exception())


def _plausible(token: str) -> bool:
    return 0 < len(token) <= 64 and all(c.isalnum() or c in "-_" for c in token)
