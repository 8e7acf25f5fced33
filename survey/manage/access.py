"""Who may change what: the one place the administration checks roles.

The HTML pages and the JSON API both build an `Actor` from the signed-in user and call the
functions in `survey.manage`, which ask this module before they read or write anything.

A refusal never tells whether the thing exists: an id outside the actor's job centres gets
the same 403 as an id that was never used.
"""

from __future__ import annotations

from typing import Any

import msgspec

from survey.auth.schemas import Scope
from survey.errors import Forbidden
from survey.i18n import N_
from survey.tables import Link, Membership, Office, Organization, QuestionnaireVersion

NOT_YOURS = N_("This belongs to a job centre you do not administer (or does not exist).")


class Actor(msgspec.Struct, frozen=True):
    user_id: int
    username: str
    networks: frozenset[int]
    """Networks the user coordinates."""
    admin_orgs: frozenset[int]
    """Job centres the user administers as a whole (or as coordinator of their network)."""
    admin_offices: frozenset[int]
    """Offices the user administers: those of admin_orgs and office-scoped admin roles."""
    own_orgs: frozenset[int]
    """Job centres the user administers as a whole by an admin role of their own."""
    via_token: bool = False

    @property
    def is_admin(self) -> bool:
        return bool(self.networks or self.admin_orgs or self.admin_offices)

    def may_org(self, org_id: int) -> bool:
        return org_id in self.admin_orgs

    def require_org(self, org_id: int | None) -> int:
        if org_id is None or org_id not in self.admin_orgs:
            raise Forbidden(NOT_YOURS)
        return org_id

    def require_network(self, network_id: int | None) -> int:
        if network_id is None or network_id not in self.networks:
            raise Forbidden(NOT_YOURS)
        return network_id


async def load_actor(scope: Scope) -> Actor:
    """The user's administrative reach; an API token limited to job centres narrows it (the
    limit `guard.signed_in` read with the token, so every page and route that builds an
    Actor from the scope narrows alike)."""
    rows = await Membership.select(
        Membership.role, Membership.network, Membership.organization, Membership.office
    ).where(Membership.user == scope.user_id)
    networks = {r["network"] for r in rows if r["role"] == "network" and r["network"]}
    own = {
        r["organization"]
        for r in rows
        if r["role"] == "admin" and r["organization"] and not r["office"]
    }
    orgs = set(own)
    if networks:
        members = await Organization.select(Organization.id).where(
            Organization.network.is_in(list(networks))
        )
        orgs |= {r["id"] for r in members}
    offices = {r["office"] for r in rows if r["role"] == "admin" and r["office"]}
    if scope.via_token and scope.limit:
        # no network-wide change (a new job centre, members) through such a token either
        limit = set(scope.limit)
        networks = set()
        orgs &= limit
        own &= limit
        if offices:
            inside = await Office.select(Office.id).where(
                Office.id.is_in(list(offices)) & Office.organization.is_in(list(limit))
            )
            offices = {r["id"] for r in inside}
    if orgs:
        rows_ = await Office.select(Office.id).where(Office.organization.is_in(list(orgs)))
        offices |= {r["id"] for r in rows_}
    return Actor(
        user_id=scope.user_id,
        username=scope.username,
        networks=frozenset(networks),
        admin_orgs=frozenset(orgs),
        admin_offices=frozenset(offices),
        own_orgs=frozenset(own),
        via_token=scope.via_token,
    )


async def office_org(actor: Actor, office_id: int, *, whole_org: bool = False) -> int:
    """The job centre of an office the actor administers; 403 otherwise (existing or not).

    `whole_org`: the actor must administer the whole job centre, not only this office.
    """
    if office_id not in actor.admin_offices:
        raise Forbidden(NOT_YOURS)
    row = await Office.select(Office.organization).where(Office.id == office_id).first()
    if row is None:
        raise Forbidden(NOT_YOURS)
    if whole_org:
        actor.require_org(row["organization"])
    return int(row["organization"])


async def link_office(actor: Actor, link_id: int) -> int:
    row = await Link.select(Link.office).where(Link.id == link_id).first()
    if row is None or row["office"] not in actor.admin_offices:
        raise Forbidden(NOT_YOURS)
    return int(row["office"])


async def version_org(actor: Actor, version_id: int) -> tuple[int | None, dict[str, Any]]:
    """(job centre, row) of a questionnaire version the actor may edit; standard versions
    (no job centre) may be read by every admin but changed by nobody."""
    row = await (
        QuestionnaireVersion.select(
            QuestionnaireVersion.id,
            QuestionnaireVersion.number,
            QuestionnaireVersion.definition,
            QuestionnaireVersion.published_at,
            QuestionnaireVersion.questionnaire.id.as_alias("questionnaire_id"),
            QuestionnaireVersion.questionnaire.organization.as_alias("organization"),
        )
        .where(QuestionnaireVersion.id == version_id)
        .first()
    )
    if row is None or (row["organization"] is not None and not actor.may_org(row["organization"])):
        raise Forbidden(NOT_YOURS)
    if row["organization"] is None and not actor.is_admin:
        raise Forbidden(NOT_YOURS)
    return row["organization"], row
