"""Users, failed logins, API tokens, the audit log and the scope a user's roles give."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from survey.auth.schemas import OfficeRef, Scope
from survey.i18n import N_
from survey.tables import ApiToken, AuditLog, Membership, Office, User


async def find_user(username: str) -> dict[str, Any] | None:
    """The user of this username, whatever its case; where two users differ only in case
    (made before usernames were unique in every case), only the exact one."""
    row = await _user_row(username)
    if row is None:
        alike = await User.raw(
            "SELECT username FROM staff_user WHERE lower(username) = {} LIMIT 2", username.lower()
        )
        if len(alike) == 1:
            row = await _user_row(str(alike[0]["username"]))
    return row


async def username_taken(username: str) -> bool:
    """Whether a user has this username in any case (Anna next to anna is refused)."""
    return bool(
        await User.raw(
            "SELECT id FROM staff_user WHERE lower(username) = {} LIMIT 1", username.lower()
        )
    )


async def _user_row(username: str) -> dict[str, Any] | None:
    return await (
        User.select(
            User.id,
            User.username,
            User.password_hash,
            User.active,
            User.failed_logins,
            User.locked_until,
            User.session_epoch,
        )
        .where(User.username == username)
        .first()
    )


async def end_sessions(user_id: int) -> None:
    """Invalidate every session cookie the user holds (sign-out, lockout)."""
    await User.raw("UPDATE staff_user SET session_epoch = session_epoch + 1 WHERE id = {}", user_id)


async def active_tokens(user_id: int) -> int:
    """How many API tokens of the user are not revoked (expired ones included: revoking
    them does no harm, and the count matches the tokens page's list)."""
    return int(await ApiToken.count().where(ApiToken.user == user_id, ApiToken.revoked.eq(False)))


async def revoke_tokens(user_id: int) -> int:
    """Revoke every API token of the user (a password changed or reset because someone else
    may know it); returns how many were active."""
    revoked = await active_tokens(user_id)
    await ApiToken.update({ApiToken.revoked: True}).where(
        ApiToken.user == user_id, ApiToken.revoked.eq(False)
    )
    return revoked


async def record_success(user_id: int, password_hash: str | None = None) -> None:
    values: dict[Any, Any] = {User.failed_logins: 0, User.locked_until: None}
    if password_hash:
        values[User.password_hash] = password_hash
    await User.update(values).where(User.id == user_id)


async def set_locale(user_id: int, locale: str) -> None:
    await User.update({User.locale: locale}).where(User.id == user_id)


async def audit(
    action: str, *, user_id: int | None = None, username: str = "", **detail: Any
) -> None:
    await AuditLog(
        at=dt.datetime.now(dt.UTC),
        user=user_id,
        username=username[:80],
        action=action,
        detail=detail,
    ).save()


class TokenRefused(Exception):
    """The token opens nothing; the message says why (the caller holds the token already)."""


async def user_for_token(token_hash: str, now: dt.datetime | None = None) -> int:
    """The user a token acts for, or TokenRefused: unknown, revoked, expired, or its user
    deactivated or locked. Checked on every request, so a change takes effect at once."""
    row = await (
        ApiToken.select(
            ApiToken.id,
            ApiToken.user,
            ApiToken.revoked,
            ApiToken.expires_at,
            ApiToken.user.active.as_alias("active"),
            ApiToken.user.locked_until.as_alias("locked_until"),
        )
        .where(ApiToken.token_hash == token_hash)
        .first()
    )
    now = now or dt.datetime.now(dt.UTC)
    if row is None or row["revoked"]:
        raise TokenRefused(N_("The API token is unknown or revoked."))
    if row["expires_at"] is None or row["expires_at"] <= now:
        raise TokenRefused(N_("The API token has expired."))
    if not row["active"] or (row["locked_until"] is not None and row["locked_until"] > now):
        raise TokenRefused(N_("The account of this API token is deactivated or locked."))
    await ApiToken.update({ApiToken.last_used_at: now}).where(ApiToken.id == row["id"])
    return int(row["user"])


async def token_organizations(token_hash: str) -> set[int]:
    """The job centres a token is limited to (empty: none, it acts with all its user's roles)."""
    row = (
        await ApiToken.select(ApiToken.organizations)
        .where(ApiToken.token_hash == token_hash)
        .first()
    )
    return token_limit(row["organizations"] if row else [])


def token_limit(raw: object) -> set[int]:
    """A token's `organizations` column as stored (JSON text on SQLite, a list on
    PostgreSQL): the job centres it is limited to."""
    value = msgspec.json.decode(raw) if isinstance(raw, str | bytes) else raw
    return {int(v) for v in value or [] if isinstance(v, int)} if isinstance(value, list) else set()


async def offices_of_organizations(organizations: set[int]) -> frozenset[int]:
    rows = await Office.select(Office.id).where(Office.organization.is_in(sorted(organizations)))
    return frozenset(int(r["id"]) for r in rows)


async def limited_scope(scope: Scope, limit: set[int]) -> Scope:
    """`scope` as an API token limited to the job centres `limit` sees it: only their offices
    (unchanged when `limit` is empty: the token acts with all its user's roles)."""
    if not limit:
        return scope
    offices = await offices_of_organizations(limit)
    return msgspec.structs.replace(
        scope,
        visible=scope.visible & offices,
        exportable=scope.exportable & offices,
        readable=scope.readable & offices,
        administered=scope.administered & offices,
        limit=frozenset(limit),
    )


async def token_limits(now: dt.datetime | None = None) -> list[tuple[int, set[int]]]:
    """(user, the job centres it is limited to) of every API token neither revoked nor
    expired, by user and token."""
    now = now or dt.datetime.now(dt.UTC)
    rows = await (
        ApiToken.select(ApiToken.user, ApiToken.organizations)
        .where(ApiToken.revoked.eq(False), ApiToken.expires_at > now)
        .order_by(ApiToken.user)
        .order_by(ApiToken.id)
    )
    return [(int(r["user"]), token_limit(r["organizations"])) for r in rows]


async def every_office() -> list[dict[str, Any]]:
    """Every office with its job centre and network (ids and names), by job centre and name."""
    return await Office.select(
        Office.id,
        Office.name,
        Office.code,
        Office.organization._.id.as_alias("organization_id"),
        Office.organization._.name.as_alias("organization"),
        Office.organization._.network._.id.as_alias("network_id"),
        Office.organization._.network._.name.as_alias("network"),
    ).order_by(Office.organization._.name, Office.name)


async def load_scope(user_id: int, epoch: int | None = None) -> Scope | None:
    """The user's roles resolved to offices; None for an unknown, deactivated or locked user, or for
    a session from before the user's last sign-out or lockout (`epoch`)."""
    user = await (
        User.select(
            User.id,
            User.username,
            User.display_name,
            User.locale,
            User.active,
            User.locked_until,
            User.session_epoch,
        )
        .where(User.id == user_id)
        .first()
    )
    if user is None or not user["active"]:
        return None
    if user["locked_until"] is not None and user["locked_until"] > dt.datetime.now(dt.UTC):
        return None
    if epoch is not None and epoch != user["session_epoch"]:
        return None
    memberships = await Membership.select(
        Membership.role, Membership.network, Membership.organization, Membership.office
    ).where(Membership.user == user_id)
    offices = await every_office()
    visible: set[int] = set()
    for m in memberships:
        if m["role"] == "network" and m["network"]:
            visible |= {o["id"] for o in offices if o["network_id"] == m["network"]}
        elif m["role"] in ("admin", "manager") and m["office"]:
            visible.add(m["office"])
        elif m["role"] in ("admin", "manager") and m["organization"]:
            visible |= {o["id"] for o in offices if o["organization_id"] == m["organization"]}
    administered: set[int] = set()
    for m in memberships:
        if m["role"] == "admin" and m["office"]:
            administered.add(m["office"])
        elif m["role"] == "admin" and m["organization"]:
            administered |= {o["id"] for o in offices if o["organization_id"] == m["organization"]}
    readable: set[int] = set()  # comments: the job centre's own staff only
    for m in memberships:
        if m["role"] in ("admin", "manager") and m["office"]:
            readable.add(m["office"])
        elif m["role"] in ("admin", "manager") and m["organization"]:
            readable |= {o["id"] for o in offices if o["organization_id"] == m["organization"]}
    exportable = set(visible)
    for m in memberships:  # researchers export the responses of their job centre or network
        if m["role"] != "researcher":
            continue
        if m["office"]:
            exportable.add(m["office"])
        elif m["organization"]:
            exportable |= {o["id"] for o in offices if o["organization_id"] == m["organization"]}
        elif m["network"]:
            exportable |= {o["id"] for o in offices if o["network_id"] == m["network"]}
    mine = [o for o in offices if o["id"] in visible]
    networks = {o["network_id"] for o in mine if o["network_id"]}
    orgs = {o["organization_id"] for o in mine if not o["network_id"]}
    group = [o for o in offices if o["network_id"] in networks or o["organization_id"] in orgs]
    names = sorted({o["network"] or o["organization"] for o in mine})
    return Scope(
        user_id=user["id"],
        username=user["username"],
        display_name=user["display_name"] or user["username"],
        locale=user["locale"] or "",
        roles=tuple(sorted({m["role"] for m in memberships})),
        visible=frozenset(visible),
        group=tuple(
            OfficeRef(o["id"], o["name"], o["code"], o["organization_id"], o["organization"])
            for o in group
        ),
        group_name=" · ".join(names),
        exportable=frozenset(exportable),
        administered=frozenset(administered),
        readable=frozenset(readable),
    )
