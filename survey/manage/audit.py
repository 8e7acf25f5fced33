"""Writing and reading the audit log of administrative changes."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import msgspec

from survey.errors import BadRequest
from survey.i18n import N_
from survey.manage.access import Actor
from survey.manage.schemas import AuditOut
from survey.questionnaire import LOCAL_ZONE
from survey.spreadsheet import text_cell
from survey.tables import AuditLog, Membership

PAGE_SIZE = 200

ACTIONS = {
    "login": N_("Signed in"),
    "login_failed": N_("Sign-in refused"),
    "logout": N_("Signed out"),
    "password_set": N_("Password set by one-time link"),
    "password_changed": N_("Password changed"),
    "password_change_failed": N_("Password change refused"),
    "password_reset": N_("Password reset"),
    "export": N_("Download or export"),
    "hide comment": N_("Comment hidden"),
    "token_created": N_("API token created"),
    "token_revoked": N_("API token revoked"),
    "user_invited": N_("User invited"),
    "user_roles_changed": N_("Roles changed"),
    "user_deactivated": N_("User deactivated"),
    "user_reactivated": N_("User reactivated"),
    "user_unlocked": N_("User unlocked"),
    "network_created": N_("Network created"),
    "network_renamed": N_("Network renamed"),
    "network_member_added": N_("Job centre added to the network"),
    "network_member_removed": N_("Job centre removed from the network"),
    "organization_created": N_("Job centre created"),
    "organization_changed": N_("Job centre changed"),
    "organization_erased": N_("Job centre erased"),
    "office_created": N_("Office created"),
    "office_changed": N_("Office changed"),
    "office_deactivated": N_("Office deactivated"),
    "office_reactivated": N_("Office reactivated"),
    "link_created": N_("Link created"),
    "link_deactivated": N_("Link deactivated"),
    "link_reactivated": N_("Link reactivated"),
    "questionnaire_created": N_("Questionnaire created"),
    "version_created": N_("Questionnaire version created"),
    "version_changed": N_("Questionnaire version changed"),
    "version_published": N_("Questionnaire version published"),
    "target_set": N_("Target set"),
    "target_changed": N_("Target changed"),
    "target_deleted": N_("Target deleted"),
    "retention_applied": N_("Old comments deleted (retention)"),
    "setup": N_("Set up"),
    "structure_imported": N_("Structure imported"),
    "demo_loaded": N_("Demo data loaded"),
}
"""Every action code the application writes, with its name on the page (the code stays in the
CSV, in the filter's address and in each name's title)."""

DETAIL_KEYS = {
    "what": N_("what"),
    "format": N_("format"),
    "via": N_("via"),
    "filters": N_("filters"),
    "period": N_("period"),
    "rows": N_("rows"),
    "anonymization": N_("anonymization"),
    "target": N_("target"),
    "role": N_("role"),
    "offices": N_("offices"),
    "office": N_("office"),
    "name": N_("name"),
    "network": N_("network"),
    "link": N_("link"),
    "item": N_("item"),
    "value": N_("value"),
    "was": N_("before"),
    "reason": N_("reason"),
    "failures": N_("failures in a row"),
    "device": N_("known browser"),
    "token": N_("token"),
    "version": N_("version"),
    "number": N_("number"),
    "questionnaire": N_("questionnaire"),
    "job_centre": N_("job centre"),
    "admin": N_("admin"),
    "text_answers": N_("comments"),
    "before": N_("older than"),
    "kind": N_("kind"),
    "service_types": N_("service types"),
    "poster_languages": N_("poster languages"),
    "retention_months": N_("retention (months)"),
    "comment": N_("comment"),
    "other_sessions": N_("other sessions"),
    "from": N_("from"),
    "to": N_("to"),
    "language": N_("language"),
    "mode": N_("mode"),
    "service_type": N_("service type"),
    "adjust": N_("adjustment"),
    "expires_at": N_("valid until"),
    "tokens_revoked": N_("tokens revoked"),
    "counted_before": N_("counted before"),
    "level": N_("level"),
}
"""The detail's keys on the page; a key not listed here is shown as written."""

DETAIL_VALUES = {
    "responses": N_("responses"),
    "comments": N_("comments"),
    "page": N_("page"),
    "api": N_("API"),
    "cli": N_("command line"),
    "wrong password": N_("wrong password"),
    "unknown user": N_("unknown user"),
    "account locked": N_("account locked"),
    "locked": N_("locked"),
    "ended": N_("ended"),
    "overview": N_("overview"),
    "benchmark": N_("benchmark"),
    "targets": N_("targets"),
    "learning from the best": N_("learning from the best"),
    "office": N_("office"),
    "organization": N_("job centre"),
    "none": N_("none (observed index)"),
    "items": N_("questions"),
    "trend": N_("trend"),
    "comparison": N_("comparison"),
}
"""Values of ours (not names people typed) that are words, translated on the page under
WORD_KEYS."""


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
    """The month as the page shows its times: in the job centres' time zone (LOCAL_ZONE)."""
    try:
        start = dt.datetime.strptime(month, "%Y-%m").replace(tzinfo=LOCAL_ZONE)
    except ValueError:
        raise BadRequest(N_("The month must look like 2026-03.")) from None
    end = (start + dt.timedelta(days=32)).replace(day=1)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


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


WORD_KEYS = frozenset({"what", "via", "reason", "other_sessions", "level", "adjust", "format"})
"""The detail keys whose values are words of ours: only theirs are translated (a name, target
or comment somebody typed is shown as typed, even when it equals one of our words)."""


def readable(
    value: Any, gettext: Callable[[str], str] = lambda s: s, key: str | None = None
) -> str:
    """A detail's value (under `key`) as text for the page: a list as its items, a mapping as
    `key value` pairs, never Python's repr ({'from': '2025-11'} becomes `from 2025-11`);
    keys, and the words of ours among the values under WORD_KEYS, through `gettext`."""
    if isinstance(value, dict):
        return ", ".join(
            f"{key_name(k, gettext)} {readable(v, gettext, k)}"
            for k, v in value.items()
            if v not in (None, "")
        )
    if isinstance(value, list | tuple):
        return ", ".join(readable(v, gettext, key) for v in value)
    if isinstance(value, bool):
        return gettext(N_("yes")) if value else gettext(N_("no"))
    if key not in WORD_KEYS or not isinstance(value, str):
        return str(value)
    if value in DETAIL_VALUES:
        return gettext(DETAIL_VALUES[value])
    if key == "what" and value.startswith("office "):  # a dashboard's office table
        table, _, kind = value[7:].partition(".")
        if table in DETAIL_VALUES:
            return f"{gettext(N_('office'))}, {gettext(DETAIL_VALUES[table])} ({kind})"
    return value


KEYS_OF_ACTIONS = {
    ("password_reset", "target"): N_("user"),
    ("user_unlocked", "target"): N_("user"),
}
"""Detail keys that mean something else in some actions (r27: a reset's `target` is the user
it was for, not a steering target, "Zielwert")."""


def key_name(key: str, gettext: Callable[[str], str], action: str = "") -> str:
    name = KEYS_OF_ACTIONS.get((action, key)) or DETAIL_KEYS.get(key)
    return gettext(name) if name else key


def action_name(code: str, gettext: Callable[[str], str]) -> str:
    return gettext(ACTIONS[code]) if code in ACTIONS else code


def action_choices(gettext: Callable[[str], str], chosen: str = "") -> list[tuple[str, str]]:
    """(code, name) of every action, by name; an unknown code asked for is kept as typed."""
    choices = sorted(((c, gettext(n)) for c, n in ACTIONS.items()), key=lambda c: c[1].casefold())
    if chosen and chosen not in ACTIONS:
        choices.append((chosen, chosen))
    return choices


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
