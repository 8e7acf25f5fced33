"""`resonanz setup`: the first network or job centre of an empty installation, and its admin."""

from __future__ import annotations

import datetime as dt
import secrets

import msgspec

from survey.auth.guard import hash_token
from survey.auth.passwords import hash_password, password_problem
from survey.auth.queries import username_taken
from survey.demo import ensure_standard_questionnaire
from survey.manage import audit
from survey.manage.importer import SLUG
from survey.manage.users import INVITATION_DAYS, _unusable_hash, set_password_url
from survey.tables import Invitation, Membership, Network, Organization, User


class SetupRefused(Exception):
    pass


class SetupResult(msgspec.Struct):
    network: str | None
    organization: str | None
    username: str
    role: str
    sign_in_url: str
    set_password_url: str | None


async def setup(
    *,
    base_url: str,
    username: str,
    password: str | None,
    network_name: str | None = None,
    network_slug: str | None = None,
    org_name: str | None = None,
    org_slug: str | None = None,
) -> SetupResult:
    """Create the network and/or job centre and its first admin, all or nothing.

    With a job centre the user becomes its admin; with only a network, its coordinator.
    Without a password the result carries a one-time link to set one.
    """
    if not (network_slug or org_slug):
        raise SetupRefused("name a network (--network-slug) or a job centre (--job-centre-slug)")
    for label, slug, name in (
        ("network", network_slug, network_name),
        ("job centre", org_slug, org_name),
    ):
        if slug is None:
            continue
        if not SLUG.match(slug):
            raise SetupRefused(
                f"the {label} slug {slug!r} must be 2–80 lower-case letters, digits and hyphens"
            )
        if not (name or "").strip():
            raise SetupRefused(f"the {label} needs a name")
    if not 2 <= len(username) <= 80 or not all(c.isalnum() or c in "._@-" for c in username):
        raise SetupRefused("the username must be 2–80 letters, digits, '.', '_', '@' or '-'")
    problem = None if password is None else password_problem(password, username)
    if problem is not None:
        raise SetupRefused(problem)
    if network_slug and await Network.exists().where(Network.slug == network_slug):
        raise SetupRefused(f"a network with slug {network_slug!r} exists already")
    if org_slug and await Organization.exists().where(Organization.slug == org_slug):
        raise SetupRefused(f"a job centre with slug {org_slug!r} exists already")
    if await username_taken(username):
        raise SetupRefused(f"a user named {username!r} exists already (in some case)")
    await ensure_standard_questionnaire()
    now = dt.datetime.now(dt.UTC)
    token = None
    async with Network._meta.db.transaction():
        network_id = None
        if network_slug:
            network = Network(name=(network_name or "").strip(), slug=network_slug)
            await network.save()
            network_id = network.id
        org_id = None
        if org_slug:
            org = Organization(name=(org_name or "").strip(), slug=org_slug, network=network_id)
            await org.save()
            org_id = org.id
        user = User(
            username=username,
            display_name=username,
            password_hash=hash_password(password) if password else _unusable_hash(),
            locale="",
            created_at=now,
        )
        await user.save()
        role = "admin" if org_id else "network"
        await Membership(
            user=user.id, role=role, organization=org_id, network=None if org_id else network_id
        ).save()
        if network_id and org_id:
            await Membership(user=user.id, role="network", network=network_id).save()
        if password is None:
            token = secrets.token_urlsafe(24)
            await Invitation(
                user=user.id,
                token_hash=hash_token(token),
                expires_at=now + dt.timedelta(days=INVITATION_DAYS),
            ).save()
        await audit.record(
            None, "setup", org_id, network=network_slug, job_centre=org_slug, admin=username
        )
    return SetupResult(
        network=network_slug,
        organization=org_slug,
        username=username,
        role=role,
        sign_in_url=f"{base_url.rstrip('/')}/login",
        set_password_url=set_password_url(base_url, token) if token else None,
    )
