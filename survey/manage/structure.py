"""Networks, job centres, offices, service types and links: reading and changing them."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from survey.errors import BadRequest, Conflict, Forbidden, Invalid, refuse, worded
from survey.i18n import N_
from survey.manage import audit
from survey.manage.access import NOT_YOURS, Actor, link_office, office_org
from survey.manage.schemas import (
    LinkIn,
    LinkOut,
    NetworkIn,
    NetworkOut,
    OfficeIn,
    OfficeOut,
    OfficePatch,
    OrganizationIn,
    OrganizationOut,
    OrganizationPatch,
    ServiceTypeOut,
)
from survey.questionnaire import SERVICE_NAMES
from survey.tables import (
    Link,
    Membership,
    Network,
    Office,
    OfficeService,
    Organization,
    QuestionnaireVersion,
    ServiceType,
)

MODE_PATH = {"personal": "s", "kiosk": "k"}
LINK_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
"""Lower-case letters and digits without l, o, 0 and 1: a link typed from a poster cannot be
mistaken (the lookup ignores case, for tokens made before)."""
LINK_LENGTH = 22
"""22 characters of 32: 110 random bits."""


def new_link_token() -> str:
    return "".join(secrets.choice(LINK_ALPHABET) for _ in range(LINK_LENGTH))


def _db() -> Any:
    return Office._meta.db


# ---- networks and job centres (network coordinator) ----------------------------------------


async def networks(actor: Actor, former: list[OrganizationOut] | None = None) -> list[NetworkOut]:
    """The actor's networks; `former`: `former_members(actor)` when the caller has read it."""
    rows = await Network.select().where(Network.id.is_in(list(actor.networks) or [-1]))
    members = await Organization.select(Organization.id, Organization.network).where(
        Organization.network.is_in(list(actor.networks) or [-1])
    )
    if former is None:
        former = await former_members(actor)
    return [
        NetworkOut(
            id=r["id"],
            name=r["name"],
            slug=r["slug"],
            members=sorted(m["id"] for m in members if m["network"] == r["id"]),
            former_members=[o.id for o in former if o.former_network_id == r["id"]],
        )
        for r in sorted(rows, key=lambda r: r["name"])
    ]


NETWORKS_ONLY = N_("Only a network coordinator may create networks.")
IN_A_NETWORK = N_("A coordinator creates job centres inside one of their networks.")


def require_coordinator(actor: Actor | None, reason: str = NETWORKS_ONLY) -> None:
    """403 unless `actor` coordinates a network (or is `resonanz setup`, None): what creating
    a network or a job centre needs, checked before the form's fields are."""
    if actor is not None and not actor.networks:
        raise Forbidden(reason)


async def create_network(actor: Actor | None, data: NetworkIn) -> NetworkOut:
    """Only `resonanz setup` (actor None) or an existing coordinator creates a network."""
    require_coordinator(actor)
    if await Network.exists().where(Network.slug == data.slug):
        raise refuse(Conflict, N_("The short name %(slug)s is taken already."), slug=data.slug)
    name = trimmed(data.name)
    network = Network(name=name, slug=data.slug)
    async with _db().transaction():
        await network.save()
        if actor is not None:
            await Membership(user=actor.user_id, role="network", network=network.id).save()
        await audit.record(actor, "network_created", network=network.id, name=name)
    return NetworkOut(id=network.id, name=name, slug=data.slug, members=[])


async def rename_network(actor: Actor, network_id: int, name: str) -> None:
    actor.require_network(network_id)
    name = trimmed(name)
    await Network.update({Network.name: name}).where(Network.id == network_id)
    await audit.record(actor, "network_renamed", network=network_id, name=name)


async def add_member(actor: Actor, network_id: int, org_id: int) -> None:
    """A coordinator adds a job centre they also administer, or one removed from this network
    that has joined no other since (taking it back); joining another network needs leaving the
    old one first."""
    actor.require_network(network_id)
    row = await (
        Organization.select(Organization.network, Organization.former_network)
        .where(Organization.id == org_id)
        .first()
    )
    if row is None:
        raise Forbidden(NOT_YOURS)
    taken_back = row["network"] is None and row["former_network"] == network_id
    if org_id not in actor.own_orgs and org_id not in actor.admin_orgs and not taken_back:
        raise Forbidden(NOT_YOURS)
    if row["network"] not in (None, network_id):
        raise Conflict(N_("This job centre belongs to another network; it must leave it first."))
    await Organization.update(
        {Organization.network: network_id, Organization.former_network: None}
    ).where(Organization.id == org_id)
    await audit.record(actor, "network_member_added", org_id, network=network_id)


async def remove_member(actor: Actor, network_id: int, org_id: int) -> None:
    """The job centre leaves the network; its coordinators may add it back (`add_member`)
    until it joins another."""
    actor.require_network(network_id)
    row = await Organization.select(Organization.network).where(Organization.id == org_id).first()
    if row is None or row["network"] != network_id:
        raise Forbidden(NOT_YOURS)
    await Organization.update(
        {Organization.network: None, Organization.former_network: network_id}
    ).where(Organization.id == org_id)
    await audit.record(actor, "network_member_removed", org_id, network=network_id)


async def former_members(actor: Actor) -> list[OrganizationOut]:
    """Job centres removed from the actor's networks that have joined no other since, with
    the network they left as `former_network_id`."""
    rows = await (
        Organization.select()
        .where(
            Organization.former_network.is_in(list(actor.networks) or [-1])
            & Organization.network.is_null()
        )
        .order_by(Organization.name)
    )
    return [_org(r) for r in rows]


async def member_name(actor: Actor, network_id: int, org_id: int) -> tuple[str, str]:
    """(job centre, network) names of a member of the actor's network; 403 otherwise."""
    actor.require_network(network_id)
    row = await (
        Organization.select(Organization.name, Organization.network.name.as_alias("network_name"))
        .where((Organization.id == org_id) & (Organization.network == network_id))
        .first()
    )
    if row is None:
        raise Forbidden(NOT_YOURS)
    return str(row["name"]), str(row["network_name"])


async def organizations(actor: Actor) -> list[OrganizationOut]:
    rows = await (
        Organization.select()
        .where(Organization.id.is_in(list(actor.admin_orgs) or [-1]))
        .order_by(Organization.name)
    )
    return [_org(r) for r in rows]


def _org(r: dict[str, Any]) -> OrganizationOut:
    return OrganizationOut(
        id=r["id"],
        name=r["name"],
        slug=r["slug"],
        network_id=r["network"],
        retention_months=r["retention_months"],
        former_network_id=r.get("former_network"),
    )


def trimmed(name: str) -> str:
    """A name without its outer spaces; 400 when nothing else is left."""
    name = name.strip()
    if not name:
        raise BadRequest(N_("A name must not be empty or consist of spaces only."))
    return name


def name_key(name: str) -> str:
    """What makes two names of job centres or offices the same: case and outer spaces aside
    (two alike could not be told apart in any list or filter)."""
    return name.strip().casefold()


async def _name_free(name: str, org_id: int | None = None) -> None:
    """409 when another job centre has this name (`name_key`)."""
    rows = await Organization.select(Organization.id, Organization.name)
    wanted = name_key(name)
    if any(name_key(r["name"]) == wanted and r["id"] != org_id for r in rows):
        raise refuse(Conflict, N_("A job centre named %(name)s exists already."), name=name)


async def create_organization(actor: Actor | None, data: OrganizationIn) -> OrganizationOut:
    """A coordinator creates job centres in their network; `resonanz setup` (actor None) too."""
    if actor is not None:
        if data.network_id is None:
            raise Forbidden(IN_A_NETWORK)
        actor.require_network(data.network_id)
    if await Organization.exists().where(Organization.slug == data.slug):
        raise refuse(Conflict, N_("The short name %(slug)s is taken already."), slug=data.slug)
    name = trimmed(data.name)
    await _name_free(name)
    org = Organization(
        name=name,
        slug=data.slug,
        network=data.network_id,
        retention_months=data.retention_months,
    )
    await org.save()
    await audit.record(actor, "organization_created", org.id, name=name, slug=data.slug)
    row = await Organization.select().where(Organization.id == org.id).first()
    assert row is not None
    return _org(row)


async def change_organization(actor: Actor, org_id: int, data: OrganizationPatch) -> None:
    actor.require_org(org_id)
    values: dict[Any, Any] = {}
    name = None if data.name is None else trimmed(data.name)
    if name is not None:
        await _name_free(name, org_id)
        values[Organization.name] = name
    if data.retention_months is not None:
        values[Organization.retention_months] = data.retention_months
    if values:
        await Organization.update(values).where(Organization.id == org_id)
        await audit.record(
            actor,
            "organization_changed",
            org_id,
            name=name,
            retention_months=data.retention_months,
        )


# ---- service types and offices (admin of a job centre) -------------------------------------


async def service_types() -> list[ServiceTypeOut]:
    rows = await ServiceType.select().order_by(ServiceType.id)
    return [
        ServiceTypeOut(code=r["code"], name_de=r["name_de"], name_en=r["name_en"]) for r in rows
    ]


async def _check_service_types(codes: list[str]) -> list[str]:
    known = {s.code for s in await service_types()}
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise refuse(
            Invalid,
            N_("Unknown service type: %(codes)s (known: %(known)s)."),
            codes=", ".join(unknown),
            known=", ".join(sorted(known)),
        )
    return list(dict.fromkeys(codes))


async def offices(
    actor: Actor, org_id: int | None = None, *, include_inactive: bool = True
) -> list[OfficeOut]:
    query = Office.select(
        Office.id,
        Office.organization.id.as_alias("organization_id"),
        Office.organization.name.as_alias("organization"),
        Office.name,
        Office.code,
        Office.kind,
        Office.active,
        Office.poster_languages,
    ).where(Office.id.is_in(list(actor.admin_offices) or [-1]))
    if org_id is not None:
        query = query.where(Office.organization == org_id)
    if not include_inactive:
        query = query.where(Office.active == True)  # noqa: E712
    rows = await query.order_by(Office.organization.name).order_by(Office.name)
    services = await OfficeService.select(OfficeService.office, OfficeService.service_type).where(
        OfficeService.office.is_in([r["id"] for r in rows] or [-1])
    )
    by_office: dict[int, list[str]] = {}
    for s in services:
        by_office.setdefault(s["office"], []).append(s["service_type"])
    return [
        OfficeOut(
            **{k: v for k, v in r.items() if k != "poster_languages"},
            service_types=by_office.get(r["id"], []),
            poster_languages=[c for c in (r["poster_languages"] or "").split(",") if c],
        )
        for r in rows
    ]


async def office(actor: Actor, office_id: int) -> OfficeOut:
    await office_org(actor, office_id)
    found = [o for o in await offices(actor) if o.id == office_id]
    if not found:
        raise Forbidden(NOT_YOURS)
    return found[0]


async def _office_name_free(name: str, org_id: int, office_id: int | None = None) -> None:
    """409 when another office of the job centre has this name (`name_key`)."""
    rows = await Office.select(Office.id, Office.name).where(Office.organization == org_id)
    wanted = name_key(name)
    if any(name_key(r["name"]) == wanted and r["id"] != office_id for r in rows):
        raise refuse(
            Conflict, N_("This job centre has an office named %(name)s already."), name=name
        )


async def create_office(actor: Actor | None, data: OfficeIn) -> OfficeOut:
    if actor is not None:
        actor.require_org(data.organization_id)
    name = trimmed(data.name)
    services = await _check_service_types(data.service_types)
    codes = await Office.select(Office.code).where(Office.organization == data.organization_id)
    if data.code.casefold() in {r["code"].casefold() for r in codes}:  # nh-m next to NH-M
        raise refuse(
            Conflict,
            N_("This job centre has an office with the code %(code)s already."),
            code=data.code,
        )
    await _office_name_free(name, data.organization_id)
    new = Office(organization=data.organization_id, name=name, code=data.code, kind=data.kind)
    async with _db().transaction():
        await new.save()
        for code in services:
            await OfficeService(office=new.id, service_type=code).save()
        await audit.record(actor, "office_created", data.organization_id, office=new.id, name=name)
    org = await Organization.select(Organization.name).where(
        Organization.id == data.organization_id
    )
    return OfficeOut(
        id=new.id,
        organization_id=data.organization_id,
        organization=str(org[0]["name"]) if org else "",
        name=name,
        code=data.code,
        kind=data.kind,
        active=True,
        service_types=services,
    )


async def change_office(actor: Actor | None, office_id: int, data: OfficePatch) -> None:
    """Rename, change kind or service types, deactivate or reactivate; answers stay."""
    org_id = (
        await office_org(actor, office_id, whole_org=True)
        if actor is not None
        else await _office_org_unchecked(office_id)
    )
    services = (
        await _check_service_types(data.service_types) if data.service_types is not None else None
    )
    values: dict[Any, Any] = {}
    name = None if data.name is None else trimmed(data.name)
    if name is not None:
        await _office_name_free(name, org_id, office_id)
        values[Office.name] = name
    if data.kind is not None:
        values[Office.kind] = data.kind
    if data.active is not None:
        values[Office.active] = data.active
    if data.poster_languages is not None:
        values[Office.poster_languages] = ",".join(dict.fromkeys(data.poster_languages))
    async with _db().transaction():
        if values:
            await Office.update(values).where(Office.id == office_id)
        if services is not None:
            await OfficeService.delete().where(OfficeService.office == office_id)
            for code in services:
                await OfficeService(office=office_id, service_type=code).save()
        action = {True: "office_reactivated", False: "office_deactivated", None: "office_changed"}[
            data.active
        ]
        await audit.record(
            actor,
            action,
            org_id,
            office=office_id,
            name=name,
            kind=data.kind,
            service_types=services,
            poster_languages=data.poster_languages,
        )


async def _office_org_unchecked(office_id: int) -> int:
    row = await Office.select(Office.organization).where(Office.id == office_id).first()
    if row is None:
        raise Forbidden(NOT_YOURS)
    return int(row["organization"])


# ---- links -------------------------------------------------------------------------------


def link_url(base_url: str, token: str, mode: str) -> str:
    return f"{base_url.rstrip('/')}/{MODE_PATH.get(mode, 's')}/{token}"


async def links(
    actor: Actor, base_url: str, *, office_id: int | None = None, org_id: int | None = None
) -> list[LinkOut]:
    query = Link.select(
        Link.id,
        Link.token,
        Link.office.id.as_alias("office_id"),
        Link.office.name.as_alias("office"),
        Link.version.id.as_alias("version_id"),
        Link.version.number.as_alias("version"),
        Link.version._.questionnaire._.name.as_alias("questionnaire"),
        Link.service_type,
        Link.mode,
        Link.label,
        Link.active,
        Link.created_at,
        Link.idle_seconds,
        Link.codes_required,
    ).where(Link.office.is_in(list(actor.admin_offices) or [-1]))
    if office_id is not None:
        query = query.where(Link.office == office_id)
    if org_id is not None:
        query = query.where(Link.office.organization == org_id)
    rows = await query.order_by(Link.office.name).order_by(Link.id)
    return [LinkOut(**r, url=link_url(base_url, r["token"], r["mode"])) for r in rows]


async def create_link(actor: Actor | None, data: LinkIn, base_url: str) -> LinkOut:
    org_id = (
        await office_org(actor, data.office_id)
        if actor is not None
        else await _office_org_unchecked(data.office_id)
    )
    office_row = (
        await Office.select(Office.active, Office.name).where(Office.id == data.office_id).first()
    )
    assert office_row is not None
    if not office_row["active"]:
        raise Conflict(N_("The office is deactivated; reactivate it before adding links."))
    version = await (
        QuestionnaireVersion.select(
            QuestionnaireVersion.published_at,
            QuestionnaireVersion.number,
            QuestionnaireVersion.questionnaire.organization.as_alias("organization"),
            QuestionnaireVersion.questionnaire.name.as_alias("questionnaire"),
        )
        .where(QuestionnaireVersion.id == data.version_id)
        .first()
    )
    if version is None or version["organization"] not in (None, org_id):
        raise Forbidden(NOT_YOURS)
    if version["published_at"] is None:
        raise Conflict(N_("Only a published questionnaire version can be given to clients."))
    offered = await OfficeService.select(OfficeService.service_type).where(
        OfficeService.office == data.office_id
    )
    if data.service_type not in {r["service_type"] for r in offered}:
        raise worded(  # the API names the code, a page the service type in its words
            Invalid,
            f"The office does not offer the service type {data.service_type}.",
            N_("The office does not offer the service type %(code)s."),
            translate=("code",),
            code=SERVICE_NAMES.get(data.service_type, data.service_type),
        )
    token = new_link_token()
    now = dt.datetime.now(dt.UTC)
    link = Link(
        token=token,
        office=data.office_id,
        version=data.version_id,
        service_type=data.service_type,
        mode=data.mode,
        label=data.label,
        active=True,
        created_at=now,
        idle_seconds=data.idle_seconds,
        codes_required=data.codes_required and data.mode == "personal",
    )
    await link.save()
    await audit.record(actor, "link_created", org_id, link=link.id, office=data.office_id)
    return LinkOut(
        id=link.id,
        token=token,
        url=link_url(base_url, token, data.mode),
        office_id=data.office_id,
        office=office_row["name"],
        version_id=data.version_id,
        version=version["number"],
        questionnaire=version["questionnaire"],
        service_type=data.service_type,
        mode=data.mode,
        label=data.label,
        active=True,
        created_at=now,
    )


async def set_link_active(actor: Actor, link_id: int, active: bool) -> None:
    office_id = await link_office(actor, link_id)
    org_id = await office_org(actor, office_id)
    # when it was switched off: a kiosk's queued answers from pages served before still count
    changes: dict[Any, Any] = {Link.active: active}
    if not active:
        changes[Link.deactivated_at] = dt.datetime.now(dt.UTC)
    await Link.update(changes).where(Link.id == link_id)
    await audit.record(
        actor, "link_reactivated" if active else "link_deactivated", org_id, link=link_id
    )
