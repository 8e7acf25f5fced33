"""Users, failed logins, API tokens, the audit log and the scope a user's roles give."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import msgspec

from survey.auth.schemas import OfficeRef, Scope
from survey.i18n import N_
from survey.tables import ApiToken, AuditLog, Office, User


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


EVERY_OFFICE = (
    "SELECT o.id, o.name, o.code, g.id AS organization_id, g.name AS organization, "
    "n.id AS network_id, n.name AS network FROM office o "
    "LEFT JOIN organization g ON o.organization = g.id "
    "LEFT JOIN network n ON g.network = n.id ORDER BY g.name ASC, o.name ASC"
)
"""Piccolo's join of `Office.organization._.network._` written out: building that select took
longer than running it (issue 17: ForeignKey.__getattribute__ on every staff request)."""
USER_WITH_ROLES = (
    "SELECT u.id, u.username, u.display_name, u.locale, u.active, u.locked_until, "
    "u.session_epoch, m.role, m.network, m.organization, m.office FROM staff_user u "
    'LEFT JOIN membership m ON m."user" = u.id WHERE u.id = {} ORDER BY m.id'
)
"""The user's row with each of its memberships (one row with no role when it has none)."""


Membership_ = tuple[str, int | None, int | None, int | None]
"""A membership as `_resolved` reads it: role, network, job centre, office."""
Office_ = tuple[int, str, str, int, str, int | None, str | None]
"""An office as `_resolved` reads it: id, name, code, job centre's id and name, network's."""
_offices: list[tuple[Office_, ...]] = [()]
"""The office rows read last (one copy of them for every user's entry of `_resolved`)."""


async def every_office() -> list[dict[str, Any]]:
    """Every office with its job centre and network (ids and names), by job centre and name."""
    rows: list[dict[str, Any]] = await Office.raw(EVERY_OFFICE)
    return rows


async def load_scope(user_id: int, epoch: int | None = None) -> Scope | None:
    """The user's roles resolved to offices; None for an unknown, deactivated or locked user, or for
    a session from before the user's last sign-out or lockout (`epoch`). Read anew on every call
    (two statements); only the resolving of the rows read is shared (`_resolved`)."""
    rows = await User.raw(USER_WITH_ROLES, user_id)
    if not rows:
        return None
    user = rows[0]
    if not user["active"]:
        return None
    locked = user["locked_until"]
    if locked is not None and _aware(locked) > dt.datetime.now(dt.UTC):
        return None
    if epoch is not None and epoch != user["session_epoch"]:
        return None
    memberships = tuple(
        (str(r["role"]), r["network"], r["organization"], r["office"])
        for r in rows
        if r["role"] is not None
    )
    offices = tuple(
        (int(o["id"]), str(o["name"]), str(o["code"]), o["organization_id"], str(o["organization"]),
         o["network_id"], o["network"])
        for o in await every_office()
    )  # fmt: skip
    if offices == _offices[0]:  # the entries of `_resolved` share one copy of the same rows
        offices = _offices[0]
    else:  # and hold none of the rows before: no stale copy of every office kept in memory
        _resolved.cache_clear()
        _offices[0] = offices
    return Scope(
        user_id=int(user["id"]),
        username=user["username"],
        display_name=user["display_name"] or user["username"],
        locale=user["locale"] or "",
        **_resolved(memberships, offices),
    )


def _aware(at: dt.datetime | str) -> dt.datetime:
    """A timestamp as the engine gives it in a raw row (SQLite: text), with its zone."""
    value = dt.datetime.fromisoformat(at) if isinstance(at, str) else at
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


@functools.lru_cache(maxsize=256)
def _resolved(memberships: tuple[Membership_, ...], offices: tuple[Office_, ...]) -> dict[str, Any]:
    """What roles (role, network, job centre, office) give over the offices (id, name, code,
    job centre's id and name, network's id and name): a function of the rows alone, so it is
    worked out once for the same rows (a change to either is another key)."""
    by_network: dict[int, set[int]] = {}
    by_org: dict[int, set[int]] = {}
    for o in offices:
        by_org.setdefault(o[3], set()).add(o[0])
        if o[5] is not None:
            by_network.setdefault(o[5], set()).add(o[0])
    visible: set[int] = set()
    administered: set[int] = set()
    readable: set[int] = set()  # comments: the job centre's own staff only
    researched: set[int] = set()
    for role, network, organization, office in memberships:
        if role == "network" and network:
            visible |= by_network.get(network, set())
        elif role in ("admin", "manager"):
            if office:
                reach = {office}
            elif organization:
                reach = by_org.get(organization, set())
            else:
                reach = set()
            visible |= reach
            readable |= reach
            if role == "admin":
                administered |= reach
        elif (
            role == "researcher"
        ):  # researchers export the responses of their job centre or network
            if office:
                researched.add(office)
            elif organization:
                researched |= by_org.get(organization, set())
            elif network:
                researched |= by_network.get(network, set())
    mine = [o for o in offices if o[0] in visible]
    networks = {o[5] for o in mine if o[5]}
    orgs = {o[3] for o in mine if not o[5]}
    group = [o for o in offices if o[5] in networks or o[3] in orgs]
    names = sorted({o[6] or o[4] for o in mine})
    return {
        "roles": tuple(sorted({m[0] for m in memberships})),
        "visible": frozenset(visible),
        "group": tuple(OfficeRef(o[0], o[1], o[2], o[3], o[4]) for o in group),
        "group_name": " · ".join(names),
        "exportable": frozenset(visible | researched),
        "administered": frozenset(administered),
        "readable": frozenset(readable),
    }
