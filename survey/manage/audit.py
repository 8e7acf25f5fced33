"""Writing and reading the audit log of administrative changes."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import msgspec

from survey.errors import BadRequest
from survey.i18n import N_
from survey.manage.access import Actor
from survey.manage.schemas import AuditOut
from survey.spreadsheet import text_cell
from survey.tables import AuditLog, Membership

PAGE_SIZE = 200


async def record(
    actor: Actor | None, action: str, organization: int | None = None, **detail: Any
) -> None:
    await AuditLog(
        at=dt.datetime.now(dt.UTC),
        user=actor.user_id if actor else None,
        username=actor.username[:80] if actor else "(command line)",
        action=action[:40],
        organization=organization,
        detail={k: v for k, v in detail.items() if v is not None},
    ).save()


def month_range(month: str) -> tuple[dt.datetime, dt.datetime]:
    try:
        start = dt.datetime.strptime(month, "%Y-%m").replace(tzinfo=dt.UTC)
    except ValueError:
        raise BadRequest(N_("The month must look like 2026-03.")) from None
    end = (start + dt.timedelta(days=32)).replace(day=1)
    return start, end


async def entries(
    actor: Actor,
    *,
    username: str = "",
    action: str = "",
    month: str = "",
    limit: int | None = PAGE_SIZE,
) -> list[AuditOut]:
    """Entries of the actor's job centres and of the users who work there, newest first."""
    users = await Membership.select(Membership.user).where(
        Membership.organization.is_in(list(actor.admin_orgs) or [-1])
    )
    user_ids = {r["user"] for r in users} | {actor.user_id}
    where = AuditLog.organization.is_in(list(actor.admin_orgs) or [-1]) | (
        AuditLog.organization.is_null() & AuditLog.user.is_in(list(user_ids))
    )
    query = AuditLog.select(
        AuditLog.id,
        AuditLog.at,
        AuditLog.username,
        AuditLog.action,
        AuditLog.organization,
        AuditLog.detail,
    ).where(where)
    if username:
        query = query.where(AuditLog.username == username)
    if action:
        query = query.where(AuditLog.action == action)
    if month:
        start, end = month_range(month)
        query = query.where((AuditLog.at >= start) & (AuditLog.at < end))
    query = query.order_by(AuditLog.id, ascending=False)
    if limit:
        query = query.limit(limit)
    rows = await query
    return [
        AuditOut(
            id=r["id"],
            at=r["at"],
            username=r["username"],
            action=r["action"],
            organization_id=r["organization"],
            detail=_detail(r["detail"]),
        )
        for r in rows
    ]


def _detail(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        value = msgspec.json.decode(raw or "{}")
    except msgspec.DecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def readable(value: Any) -> str:
    """A detail's value as text for the page: a list as its items, a mapping as
    `key value` pairs, never Python's repr ({'from': '2025-11'} becomes `from 2025-11`)."""
    if isinstance(value, dict):
        return ", ".join(f"{k} {readable(v)}" for k, v in value.items() if v not in (None, ""))
    if isinstance(value, list | tuple):
        return ", ".join(readable(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def as_csv(rows: list[AuditOut]) -> str:
    """Semicolon-separated with a BOM, as German spreadsheet programs open it."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["time (UTC)", "user", "action", "job centre", "detail"])
    for r in rows:
        writer.writerow(
            [
                r.at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S"),
                text_cell(r.username),
                r.action,
                r.organization_id or "",
                text_cell(msgspec.json.encode(r.detail).decode()),
            ]
        )
    return out.getvalue()
