"""Staff users of a job centre: invite, roles, deactivate, reset password, unlock; API tokens."""

from __future__ import annotations

import contextlib
import datetime as dt
import secrets
from typing import Any

import msgspec

from survey.auth import throttle
from survey.auth.guard import hash_token, new_api_token
from survey.auth.passwords import hash_password, password_problem
from survey.auth.queries import audit as auth_audit
from survey.auth.queries import end_sessions, revoke_tokens, username_taken
from survey.errors import Conflict, Forbidden, Invalid, NotFound, refuse
from survey.i18n import N_
from survey.manage import audit, locks
from survey.manage.access import NOT_YOURS, Actor
from survey.manage.schemas import (
    NewToken,
    RoleOut,
    RolesIn,
    SetPasswordLink,
    TokenIn,
    TokenOut,
    UserIn,
    UserOut,
)
from survey.tables import ApiToken, Invitation, Membership, Office, Organization, User

INVITATION_DAYS = 7
LINK_GONE = N_("This link is unknown, used already or expired. Ask your admin for a new one.")


def _db() -> Any:
    return User._meta.db


def _admins_held(user_id: int) -> contextlib.AbstractAsyncContextManager[None]:
    """The last-admin check and the change in one transaction, with the job centres the
    user administers held (two admins deactivating each other at once both passed it)."""
    return locks.held(
        "SELECT id FROM organization WHERE id IN (SELECT organization FROM membership "
        "WHERE \"user\" = {} AND role = 'admin') ORDER BY id FOR UPDATE",
        user_id,
    )


def _unusable_hash() -> str:
    """No password can match it: a new or reset user signs in only after setting one."""
    return "!unset:" + secrets.token_hex(16)


async def _memberships(user_ids: list[int]) -> list[dict[str, Any]]:
    return await Membership.select(
        Membership.user,
        Membership.role,
        Membership.network,
        Membership.organization,
        Membership.office,
        Membership.organization.name.as_alias("org_name"),
        Membership.office.name.as_alias("office_name"),
        Membership.office.organization.as_alias("office_org"),
        Membership.network.name.as_alias("network_name"),
    ).where(Membership.user.is_in(user_ids or [-1]))


FIRST_ADMIN_ONLY = N_(
    "A network coordinator invites only the first admin of a member job centre; "
    "its own admins manage its people."
)


def _inside(actor: Actor, m: dict[str, Any]) -> bool:
    """A role the actor may change: in a job centre they administer by a role of their own
    (a coordinator's reach over member job centres does not include their people: it would
    let them sign in as a member's manager and read its clients' comments), or of a network
    they coordinate."""
    if m["role"] == "network":
        return m["network"] in actor.networks
    org = m["organization"] or m["office_org"]
    return org in actor.own_orgs


async def users(actor: Actor) -> list[UserOut]:
    """The users with a role in one of the job centres the actor administers by a role of
    their own (those whose people they manage)."""
    orgs = list(actor.own_orgs) or [-1]
    rows = await Membership.select(Membership.user).where(
        Membership.organization.is_in(orgs) | Membership.office.organization.is_in(orgs)
    )
    ids = sorted({r["user"] for r in rows})
    return await _users(ids)


async def _users(ids: list[int]) -> list[UserOut]:
    people = await (
        User.select(
            User.id,
            User.username,
            User.display_name,
            User.active,
            User.locked_until,
            User.created_at,
        )
        .where(User.id.is_in(ids or [-1]))
        .order_by(User.username)
    )
    roles = await _memberships(ids)
    now = dt.datetime.now(dt.UTC)
    throttled = await throttle.locked_users(ids)  # failed sign-ins (survey/auth/throttle.py)
    return [
        UserOut(
            id=p["id"],
            username=p["username"],
            display_name=p["display_name"],
            active=p["active"],
            locked=(p["locked_until"] is not None and p["locked_until"] > now)
            or p["id"] in throttled,
            roles=[
                RoleOut(
                    role=m["role"],
                    organization_id=m["organization"] or m["office_org"],
                    office_id=m["office"],
                    network_id=m["network"],
                    where=m["office_name"] or m["org_name"] or m["network_name"] or "",
                )
                for m in roles
                if m["user"] == p["id"]
            ],
            created_at=p["created_at"],
        )
        for p in people
    ]


async def require_user(actor: Actor, user_id: int) -> UserOut:
    """A user all of whose roles lie inside the actor's job centres (or networks); 403 else."""
    roles = await _memberships([user_id])
    if not roles or not all(_inside(actor, m) for m in roles):
        raise Forbidden(NOT_YOURS)
    found = await _users([user_id])
    if not found:
        raise Forbidden(NOT_YOURS)
    return found[0]


def set_password_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/account/set-password/{token}"


async def _new_invitation(user_id: int) -> tuple[str, dt.datetime]:
    token = secrets.token_urlsafe(24)
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=INVITATION_DAYS)
    await Invitation.update({Invitation.used_at: dt.datetime.now(dt.UTC)}).where(
        (Invitation.user == user_id) & Invitation.used_at.is_null()
    )
    await Invitation(user=user_id, token_hash=hash_token(token), expires_at=expires).save()
    return token, expires


async def _has_people(org_id: int) -> bool:
    """Whether anyone has a role in the job centre or one of its offices (invited or signed
    up, active or not): then its own people are there, and a coordinator's admin would be
    a way into their clients' comments (r23: a centre run by office admins and managers
    has no admin of the whole centre)."""
    return bool(
        await Membership.count().where(
            (Membership.organization == org_id) | (Membership.office.organization == org_id)
        )
    )


async def _check_role(actor: Actor | None, data: UserIn | RolesIn, *, first: bool = False) -> None:
    """The role must lie in a job centre whose people the actor manages; `first`: a
    coordinator may also invite the first admin of a member job centre that has nobody."""
    if actor is not None:
        actor.require_org(data.organization_id)
        if data.organization_id not in actor.own_orgs and not (
            first
            and data.role == "admin"
            and not data.office_ids
            and not await _has_people(data.organization_id)
        ):
            raise Forbidden(FIRST_ADMIN_ONLY)
    elif not await Organization.exists().where(Organization.id == data.organization_id):
        raise NotFound(N_("No such job centre."))
    if data.office_ids and data.role == "researcher":
        raise Invalid(N_("Only a manager or an admin can be limited to offices."))
    if data.office_ids:
        inside = await Office.select(Office.id).where(
            Office.id.is_in(list(data.office_ids)) & (Office.organization == data.organization_id)
        )
        if len({r["id"] for r in inside}) != len(set(data.office_ids)):
            raise Forbidden(NOT_YOURS)


async def _add_roles(user_id: int, data: UserIn | RolesIn) -> None:
    if data.office_ids:
        for office_id in dict.fromkeys(data.office_ids):
            await Membership(
                user=user_id, role=data.role, organization=data.organization_id, office=office_id
            ).save()
    else:
        await Membership(user=user_id, role=data.role, organization=data.organization_id).save()


async def set_roles(actor: Actor, user_id: int, data: RolesIn) -> UserOut:
    """Replace the user's roles (all inside the actor's job centres) by this one."""
    target = await require_user(actor, user_id)
    await _check_role(actor, data)
    keeps = data.organization_id if data.role == "admin" and not data.office_ids else None
    async with _admins_held(user_id):
        if any(org != keeps for org in await _last_admin_of(user_id)):
            raise Conflict(
                N_("This is the last admin of the job centre; invite another admin first.")
            )
        await Membership.delete().where(Membership.user == user_id)
        await _add_roles(user_id, data)
        await end_sessions(user_id)
        await audit.record(
            actor,
            "user_roles_changed",
            data.organization_id,
            target=target.username,
            role=data.role,
            offices=list(data.office_ids) or None,
        )
    return (await _users([user_id]))[0]


async def invite(actor: Actor | None, data: UserIn, base_url: str) -> SetPasswordLink:
    await _check_role(actor, data, first=True)
    if await username_taken(data.username):
        raise refuse(Conflict, N_("The username %(name)s is taken."), name=data.username)
    user = User(
        username=data.username,
        display_name=data.display_name or data.username,
        password_hash=_unusable_hash(),
        locale="",
        created_at=dt.datetime.now(dt.UTC),
    )
    async with _db().transaction():
        await user.save()
        await _add_roles(user.id, data)
        token, expires = await _new_invitation(user.id)
        await audit.record(
            actor,
            "user_invited",
            data.organization_id,
            target=data.username,
            role=data.role,
            offices=list(data.office_ids) or None,
        )
    return SetPasswordLink(
        user=(await _users([user.id]))[0],
        set_password_url=set_password_url(base_url, token),
        expires_at=expires,
    )


async def _last_admin_of(user_id: int) -> list[int]:
    """Job centres of which this user is the only active admin of the whole centre."""
    mine = await Membership.select(Membership.organization).where(
        (Membership.user == user_id)
        & (Membership.role == "admin")
        & Membership.office.is_null()
        & Membership.organization.is_not_null()
    )
    lonely: list[int] = []
    for m in mine:
        others = await Membership.count().where(
            (Membership.organization == m["organization"])
            & (Membership.role == "admin")
            & Membership.office.is_null()
            & (Membership.user != user_id)
            & (Membership.user.active == True)  # noqa: E712
        )
        if others == 0:
            lonely.append(m["organization"])
    return lonely


async def set_active(actor: Actor, user_id: int, active: bool) -> None:
    target = await require_user(actor, user_id)
    async with _admins_held(user_id):
        if not active and target.active and await _last_admin_of(user_id):
            raise Conflict(
                N_("This is the last admin of the job centre; invite another admin first.")
            )
        await User.update({User.active: active}).where(User.id == user_id)
        if not active:
            await end_sessions(user_id)
        await audit.record(
            actor,
            "user_reactivated" if active else "user_deactivated",
            _org_of(target),
            target=target.username,
        )


def _org_of(user: UserOut) -> int | None:
    return next((r.organization_id for r in user.roles if r.organization_id), None)


async def reset_password(actor: Actor, user_id: int, base_url: str) -> SetPasswordLink:
    """The old password stops working, every session ends, the user's API tokens are revoked
    (an administrator resets a password when someone else may know it, and a token they
    made with it would outlive the reset; r27), and a one-time link is shown."""
    target = await require_user(actor, user_id)
    async with _db().transaction():
        await User.update({User.password_hash: _unusable_hash()}).where(User.id == user_id)
        await end_sessions(user_id)
        revoked = await revoke_tokens(user_id)
        token, expires = await _new_invitation(user_id)
        await audit.record(actor, "password_reset", _org_of(target), target=target.username,
                           tokens_revoked=revoked)  # fmt: skip
    return SetPasswordLink(
        user=target, set_password_url=set_password_url(base_url, token), expires_at=expires
    )


async def unlock(actor: Actor, user_id: int) -> None:
    target = await require_user(actor, user_id)
    await User.update({User.failed_logins: 0, User.locked_until: None}).where(User.id == user_id)
    await throttle.unlock(user_id)
    await audit.record(actor, "user_unlocked", _org_of(target), target=target.username)


async def invitation_user(token: str) -> dict[str, Any]:
    row = await (
        Invitation.select(
            Invitation.id,
            Invitation.user,
            Invitation.expires_at,
            Invitation.used_at,
            Invitation.user.username.as_alias("username"),
            Invitation.user.active.as_alias("active"),
        )
        .where(Invitation.token_hash == hash_token(token))
        .first()
    )
    if (
        row is None
        or row["used_at"] is not None
        or row["expires_at"] < dt.datetime.now(dt.UTC)
        or not row["active"]
    ):
        raise NotFound(LINK_GONE)
    return row


async def set_password(token: str, password: str, repeated: str) -> str:
    """Use a one-time link: set the password, unlock, end old sessions. Returns the username."""
    row = await invitation_user(token)
    problem = password_problem(password, str(row["username"]))
    if problem is not None:
        raise Invalid(problem)
    if password != repeated:
        raise Invalid(N_("The two passwords differ."))
    password_hash = hash_password(password)
    async with _db().transaction():
        used = (
            await Invitation.update({Invitation.used_at: dt.datetime.now(dt.UTC)})
            .where((Invitation.id == row["id"]) & Invitation.used_at.is_null())
            .returning(Invitation.id)
        )
        if not used:
            raise NotFound(LINK_GONE)
        await User.update(
            {User.password_hash: password_hash, User.failed_logins: 0, User.locked_until: None}
        ).where(User.id == row["user"])
        await throttle.unlock(row["user"])
        await end_sessions(row["user"])
        await auth_audit("password_set", user_id=row["user"], username=row["username"])
    return str(row["username"])


# ---- API tokens (every signed-in user, for themselves) -----------------------------------


async def user_orgs(user_id: int) -> set[int]:
    rows = await _memberships([user_id])
    orgs = {m["organization"] or m["office_org"] for m in rows} - {None}
    networks = [m["network"] for m in rows if m["network"]]
    if networks:
        members = await Organization.select(Organization.id).where(
            Organization.network.is_in(networks)
        )
        orgs |= {r["id"] for r in members}
    return {int(o) for o in orgs}


def _token_out(r: dict[str, Any]) -> TokenOut:
    raw = r["organizations"]
    if isinstance(raw, str):
        raw = msgspec.json.decode(raw or "[]")
    return TokenOut(
        id=r["id"],
        name=r["name"],
        created_at=r["created_at"],
        expires_at=r["expires_at"],
        last_used_at=r["last_used_at"],
        revoked=r["revoked"],
        organization_ids=[int(v) for v in raw or []],
    )


async def tokens(user_id: int) -> list[TokenOut]:
    rows = await (
        ApiToken.select(
            ApiToken.id,
            ApiToken.name,
            ApiToken.created_at,
            ApiToken.expires_at,
            ApiToken.last_used_at,
            ApiToken.revoked,
            ApiToken.organizations,
        )
        .where(ApiToken.user == user_id)
        .order_by(ApiToken.id, ascending=False)
    )
    return [_token_out(r) for r in rows]


async def create_token(user_id: int, username: str, data: TokenIn) -> NewToken:
    allowed = await user_orgs(user_id)
    wanted = set(data.organization_ids)
    if not wanted <= allowed:
        raise Forbidden(NOT_YOURS)
    token = new_api_token()
    now = dt.datetime.now(dt.UTC)
    row = ApiToken(
        user=user_id,
        name=data.name,
        token_hash=hash_token(token),
        created_at=now,
        expires_at=now + dt.timedelta(days=data.days),
        organizations=sorted(wanted),
    )
    await row.save()
    await auth_audit(
        "token_created", user_id=user_id, username=username, name=data.name, token=row.id
    )
    return NewToken(token=token, details=(await _one_token(user_id, row.id)))


async def _one_token(user_id: int, token_id: int) -> TokenOut:
    found = [t for t in await tokens(user_id) if t.id == token_id]
    if not found:
        raise Forbidden(NOT_YOURS)
    return found[0]


async def revoke_token(user_id: int, username: str, token_id: int) -> None:
    await _one_token(user_id, token_id)
    await ApiToken.update({ApiToken.revoked: True}).where(
        (ApiToken.id == token_id) & (ApiToken.user == user_id)
    )
    await auth_audit("token_revoked", user_id=user_id, username=username, token=token_id)
