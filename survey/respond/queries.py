"""Reading links and questionnaire versions for the respondent pages."""

from __future__ import annotations

import time

from survey.questionnaire import Definition, load_definition
from survey.respond.schemas import LinkInfo
from survey.tables import Link, QuestionnaireVersion


async def find_link(token: str) -> LinkInfo | None:
    row = (
        await Link.select(
            Link.id,
            Link.token,
            Link.office.id.as_alias("office_id"),
            Link.office.name.as_alias("office"),
            Link.office.organization.name.as_alias("organization"),
            Link.version.id.as_alias("version_id"),
            Link.version.number.as_alias("version"),
            Link.service_type,
            Link.mode,
            Link.active,
        )
        .where(Link.token == token)
        .first()
    )
    return None if row is None else LinkInfo(**row)


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
    """

    def __init__(self, ttl: float) -> None:
        self._ttl = ttl
        self._links: dict[str, tuple[float, LinkInfo | None]] = {}
        self._versions: dict[int, Definition] = {}

    async def link(self, token: str) -> LinkInfo | None:
        now = time.monotonic()
        hit = self._links.get(token)
        if hit is not None and now - hit[0] < self._ttl:
            return hit[1]
        info = await find_link(token) if _plausible(token) else None
        if len(self._links) > 50_000:
            self._links.clear()
        self._links[token] = (now, info)
        return info

    async def definition(self, version_id: int) -> Definition:
        definition = self._versions.get(version_id)
        if definition is None:
            definition = self._versions[version_id] = await load_version(version_id)
        return definition

    def forget(self, token: str | None = None) -> None:
        if token is None:
            self._links.clear()
        else:
            self._links.pop(token, None)


def _plausible(token: str) -> bool:
    return 0 < len(token) <= 64 and all(c.isalnum() or c in "-_" for c in token)
