"""Retention: free-text answers are deleted after each job centre's period (default 12 months),
daily by the app and on demand by `resonanz retention apply`; and deleting all data of a job
centre on request."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec

from survey.auth.queries import token_limit
from survey.dashboard import stored
from survey.dashboard.filters import month_index, published_through
from survey.dashboard.queries import mark_comments_changed
from survey.errors import Forbidden, Invalid, refuse
from survey.i18n import N_
from survey.manage import audit, locks
from survey.manage.access import NOT_YOURS, Actor
from survey.manage.schemas import ErasureOut
from survey.respond.store import LOCAL_ZONE
from survey.tables import (
    ApiToken,
    AuditLog,
    Link,
    Membership,
    Office,
    Organization,
    Questionnaire,
    QuestionnaireVersion,
    Response,
    TextAnswer,
    User,
)

log = logging.getLogger("resonanz.retention")
DAY_SECONDS = 24 * 3600
FIRST_RUN_SECONDS = 60

_OLD_TEXT = (
    "FROM text_answer WHERE response IN (SELECT r.id FROM response r JOIN office o "
    "ON o.id = r.office WHERE o.organization = {} AND r.day < {})"
)


class RetentionRow(msgspec.Struct):
    organization_id: int
    organization: str
    slug: str
    months: int
    cutoff: dt.date
    text_answers: int


def months_before(day: dt.date, months: int) -> dt.date:
    month = day.year * 12 + day.month - 1 - months
    year, month = divmod(month, 12)
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month + 1, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def today() -> dt.date:
    return dt.datetime.now(LOCAL_ZONE).date()


async def due(on: dt.date | None = None) -> list[RetentionRow]:
    """Per job centre: free-text answers older than its retention period (to be deleted)."""
    on = on or today()
    rows = await Organization.select(
        Organization.id, Organization.name, Organization.slug, Organization.retention_months
    ).order_by(Organization.name)
    out = []
    for r in rows:
        cutoff = months_before(on, r["retention_months"])
        count = await TextAnswer.raw(f"SELECT COUNT(*) AS n {_OLD_TEXT}", r["id"], cutoff)
        out.append(
            RetentionRow(
                organization_id=r["id"],
                organization=r["name"],
                slug=r["slug"],
                months=r["retention_months"],
                cutoff=cutoff,
                text_answers=int(count[0]["n"]),
            )
        )
    return out


async def apply(on: dt.date | None = None) -> list[RetentionRow]:
    """Delete what `due` counts; each job centre's deletion is audited with its count."""
    rows = await due(on)
    for row in rows:
        if row.text_answers:
            await TextAnswer.raw(f"DELETE {_OLD_TEXT}", row.organization_id, row.cutoff)
            await mark_comments_changed()
            await audit.record(
                None,
                "retention_applied",
                row.organization_id,
                text_answers=row.text_answers,
                before=row.cutoff.isoformat(),
            )
    return rows


@asynccontextmanager
async def daily(app: Any) -> AsyncIterator[None]:
    """The app applies retention a minute after it starts and then once a day."""

    async def loop() -> None:
        await asyncio.sleep(FIRST_RUN_SECONDS)
        while True:
            try:
                deleted = sum(r.text_answers for r in await apply())
                if deleted:
                    log.info("retention: deleted %d free-text answers", deleted)
            except Exception:
                log.exception("retention run failed; it runs again tomorrow")
            await asyncio.sleep(DAY_SECONDS)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()


class Erasure(msgspec.Struct):
    organization: str
    slug: str
    counts: dict[str, int]
    counted_before: dt.date
    """Responses, answers and free-text answers are counted up to the day before this one."""
    organization_id: int


def counted_before(on: dt.date | None = None) -> dt.date:
    """The first day of the month in progress as the figures see it (the day after the last
    month any figure counts, filters.published_through): the counts of an erasure stop there,
    so that a new response never moves them (it would show who just answered, how many
    questions, whether with a comment); the responses from that day on are deleted all the
    same. Only imports into past months and retention add or remove rows before it."""
    index = month_index(published_through(on or today())) + 1
    return dt.date(index // 12, index % 12 + 1, 1)


async def erasure(slug: str, on: dt.date | None = None) -> Erasure:
    """What deleting all data of a job centre removes (its users lose their roles there);
    the responses of the month in progress are removed too but not counted."""
    before = counted_before(on)
    org = await Organization.select().where(Organization.slug == slug).first()
    if org is None:
        known = sorted(r["slug"] for r in await Organization.select(Organization.slug))
        raise LookupError(f"no job centre with slug {slug!r} (known: {', '.join(known) or 'none'})")
    offices = [
        r["id"] for r in await Office.select(Office.id).where(Office.organization == org["id"])
    ]
    ids = offices or [-1]
    responses = await Response.count().where(Response.office.is_in(ids) & (Response.day < before))
    counted = (
        "(SELECT id FROM response WHERE day < {} AND office IN "
        "(SELECT id FROM office WHERE organization = {}))"
    )
    answers = await Response.raw(
        f"SELECT COUNT(*) AS n FROM answer WHERE response IN {counted}", before, org["id"]
    )
    texts = await Response.raw(
        f"SELECT COUNT(*) AS n FROM text_answer WHERE response IN {counted}", before, org["id"]
    )
    return Erasure(
        organization=org["name"],
        organization_id=int(org["id"]),
        slug=slug,
        counts={
            "offices": len(offices),
            "links": await Link.count().where(Link.office.is_in(ids)),
            "responses": responses,
            "answers": int(answers[0]["n"]),
            "text_answers": int(texts[0]["n"]),
            "questionnaires": await Questionnaire.count().where(
                Questionnaire.organization == org["id"]
            ),
            "roles": await Membership.count().where(
                (Membership.organization == org["id"]) | Membership.office.is_in(ids)
            ),
        },
        counted_before=before,
    )


async def erase(slug: str, actor: Actor | None = None) -> Erasure:
    """Delete every row of the job centre in one transaction, the month in progress's
    responses too; the audit log keeps that it happened (with the dry run's counts, not the
    data). Users left without any role are deactivated.
    `actor`: who asked for it on a page or through the API (None: the command line)."""
    plan = await erasure(slug)
    org_id = plan.organization_id
    sub = "SELECT id FROM office WHERE organization = {}"
    responses = f"SELECT id FROM response WHERE office IN ({sub})"
    # IMMEDIATE on SQLite (the write lock from the start: it reads, then writes, while the
    # dashboards' warming may write), the job centre's row locked on PostgreSQL
    async with locks.held("SELECT id FROM organization WHERE id = {} FOR UPDATE", org_id):
        if not await Organization.exists().where(Organization.id == org_id):
            raise LookupError(f"job centre {slug!r} was deleted meanwhile")
        members = await Membership.select(Membership.user).where(
            (Membership.organization == org_id)
            | Membership.office.is_in(
                [
                    r["id"]
                    for r in await Office.select(Office.id).where(Office.organization == org_id)
                ]
                or [-1]
            )
        )
        for statement in (
            f"DELETE FROM text_answer WHERE response IN ({responses})",
            f"DELETE FROM answer WHERE response IN ({responses})",
            f"DELETE FROM response WHERE office IN ({sub})",
            f"DELETE FROM daily_count WHERE office IN ({sub})",
            f"DELETE FROM rollup_count WHERE office IN ({sub})",
            f"DELETE FROM mix_count WHERE office IN ({sub})",
            f"DELETE FROM link WHERE office IN ({sub})",
            f"DELETE FROM target WHERE office IN ({sub})",
            f"DELETE FROM office_service WHERE office IN ({sub})",
            f"DELETE FROM membership WHERE organization = {{}} OR office IN ({sub})",
        ):
            await Organization.raw(statement, *([org_id] * statement.count("{}")))
        versions = await QuestionnaireVersion.select(QuestionnaireVersion.id).where(
            QuestionnaireVersion.questionnaire.organization == org_id
        )
        if versions:
            await QuestionnaireVersion.delete().where(
                QuestionnaireVersion.id.is_in([v["id"] for v in versions])
            )
        await Questionnaire.delete().where(Questionnaire.organization == org_id)
        await Office.delete().where(Office.organization == org_id)
        await Organization.delete().where(Organization.id == org_id)
        await mark_comments_changed()
        await stored.forget()  # the group's kept figures were made with its responses
        for m in {r["user"] for r in members}:
            if not await Membership.exists().where(Membership.user == m):
                await User.update({User.active: False}).where(User.id == m)
        tokens = await _revoke_tokens_of(org_id)
        entries = await _detach_audit_entries(org_id)
        # the entry belongs to no job centre (none is left to read it under, and on SQLite a
        # later one may get the same id), so the person who erased it finds it under their
        # own name; from the command line only the operator reads it, in the database
        await audit.record(
            actor,
            "organization_erased",
            None,
            organization_id=org_id,
            slug=slug,
            counted_before=plan.counted_before.isoformat(),
            tokens_revoked=tokens,
            audit_entries_detached=entries,
            **plan.counts,
        )
    # again once it is committed: a figure made meanwhile from the data before (the warming,
    # a view) is deleted by its own check or by this (survey/dashboard/stored.py)
    await mark_comments_changed()
    await stored.forget()
    return plan


async def _revoke_tokens_of(org_id: int) -> int:
    """Revoke every API token limited to the erased job centre (among others or alone):
    SQLite may give a later job centre its id, and the limit would then cover that one.
    Dropping the id from the limit would not do: an empty limit means all of the user's."""
    rows = await ApiToken.select(ApiToken.id, ApiToken.organizations).where(
        ApiToken.revoked == False  # noqa: E712 (a Piccolo condition, not a comparison)
    )
    named = [r["id"] for r in rows if org_id in token_limit(r["organizations"])]
    if named:
        await ApiToken.update({ApiToken.revoked: True}).where(ApiToken.id.is_in(named))
    return len(named)


async def _detach_audit_entries(org_id: int) -> int:
    """The erased job centre's audit entries are kept (who did what and when while its data
    existed: an export before the erasure stays accountable) but belong to no job centre and
    no account any more, so that no later job centre (SQLite may give it the same id) and no
    other job centre of their users reads them; each keeps the erased id in its detail and
    the user's name, for the operator, who reads them in the database."""
    rows = await AuditLog.select(AuditLog.id, AuditLog.detail).where(
        AuditLog.organization == org_id
    )
    for r in rows:
        raw = r["detail"]
        detail = msgspec.json.decode(raw or "{}") if isinstance(raw, str | bytes) else raw
        await AuditLog.update(
            {
                AuditLog.organization: None,
                AuditLog.user: None,
                AuditLog.detail: {**(detail or {}), "erased_organization": org_id},
            }
        ).where(AuditLog.id == r["id"])
    return len(rows)


async def _slug_of(actor: Actor, org_id: int) -> str:
    """An admin of the whole job centre (or the coordinator of its network) may delete it;
    anyone else gets the same 403 whether it exists or not."""
    actor.require_org(org_id)
    row = await Organization.select(Organization.slug).where(Organization.id == org_id).first()
    if row is None:
        raise Forbidden(NOT_YOURS)
    return str(row["slug"])


def _out(org_id: int, plan: Erasure, erased: bool) -> ErasureOut:
    return ErasureOut(
        organization_id=org_id,
        organization=plan.organization,
        slug=plan.slug,
        counts=plan.counts,
        counted_before=plan.counted_before,
        erased=erased,
    )


async def erasure_for(actor: Actor, org_id: int) -> ErasureOut:
    """The dry run: what deleting all data of the job centre would remove."""
    try:
        return _out(org_id, await erasure(await _slug_of(actor, org_id)), erased=False)
    except LookupError:
        raise Forbidden(NOT_YOURS) from None


async def erase_for(actor: Actor, org_id: int, confirm: str) -> ErasureOut:
    """Delete all data of the job centre once its short name is typed again."""
    slug = await _slug_of(actor, org_id)
    if confirm.strip() != slug:
        raise refuse(
            Invalid,
            N_("Nothing was deleted: type the short name %(slug)s to confirm."),
            slug=slug,
        )
    try:
        return _out(org_id, await erase(slug, actor), erased=True)
    except LookupError:  # deleted by a request that came first
        raise Forbidden(NOT_YOURS) from None
