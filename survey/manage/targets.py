"""Targets per office and item ("Steuerung nach Zielen"): a target index for a period."""

from __future__ import annotations

import contextlib
import datetime as dt
import math
from collections.abc import Collection
from typing import Any

import msgspec

from analysis.indices import Z95
from survey.errors import Conflict, Forbidden, Invalid, refuse
from survey.i18n import N_
from survey.manage import audit, locks
from survey.manage.access import NOT_YOURS, Actor, office_org
from survey.manage.questionnaires import item_bank
from survey.manage.schemas import TargetIn, TargetOut, TargetPatch
from survey.questionnaire import INDEX_ITEM
from survey.tables import Link, QuestionnaireVersion, Target


def _office_held(office_id: int) -> contextlib.AbstractAsyncContextManager[None]:
    """One change of an office's targets at a time: two at once could each find no overlap
    and leave two targets for one office, item and day."""
    return locks.held("SELECT id FROM office WHERE id = {} FOR UPDATE", office_id)


FIRST_YEAR, LAST_YEAR, MAX_YEARS = 2000, 2099, 10


def check_period(valid_from: dt.date, valid_to: dt.date) -> None:
    """A period that ends after it starts, within 2000–2099 and at most 10 years long."""
    if valid_to < valid_from:
        raise Invalid(N_("The period ends before it starts."))
    if valid_from.year < FIRST_YEAR or valid_to.year > LAST_YEAR:
        raise refuse(
            Invalid,
            N_("A target's period lies between %(first)d and %(last)d."),
            first=FIRST_YEAR,
            last=LAST_YEAR,
        )
    if (valid_to - valid_from).days >= round(365.25 * MAX_YEARS):
        raise refuse(
            Invalid, N_("A target's period is at most %(years)d years long."), years=MAX_YEARS
        )


def check_months(valid_from: dt.date, valid_to: dt.date) -> None:
    """Whole calendar months, as the dashboards count: they compare a period with the target
    of its last month, so a target that ends within a month would be judged for that month
    only while it runs."""
    if valid_from.day != 1 or (valid_to + dt.timedelta(days=1)).day != 1:
        raise Invalid(
            N_(
                "A target runs in whole calendar months: from the first day of a month to the "
                "last day of a month."
            )
        )


class Overlap(Conflict):
    """The period overlaps targets of the same office and item (`overlapping`)."""

    overlapping: list[TargetOut]


def _period(t: TargetOut) -> str:
    return f"{t.valid_from.isoformat()} – {t.valid_to.isoformat()}"


def _overlap(found: list[TargetOut]) -> Overlap:
    exc = refuse(
        Overlap,
        N_(
            'The period overlaps %(targets)s of the same office and item; send "replace": '
            "true to replace it, or choose another period."
        ),
        targets="; ".join(f"{t.value:g} ({_period(t)}, id {t.id})" for t in found),
    )
    assert isinstance(exc, Overlap)
    exc.overlapping = found
    return exc


def _json(raw: Any) -> Any:
    return msgspec.json.decode(raw) if isinstance(raw, str | bytes) else raw


async def asked_items(office_id: int) -> set[str] | None:
    """The items the questionnaire versions of the office's active links ask (None: the office
    has no active link)."""
    versions = await Link.select(Link.version).where(
        (Link.office == office_id) & (Link.active == True)  # noqa: E712
    )
    if not versions:
        return None
    rows = await QuestionnaireVersion.select(QuestionnaireVersion.definition).where(
        QuestionnaireVersion.id.is_in(list({r["version"] for r in versions}))
    )
    return {str(i["code"]) for r in rows for i in _json(r["definition"]).get("items", [])}


def judged_items() -> frozenset[str]:
    """The items the dashboards judge targets on (the satisfaction index among them)."""
    from survey.dashboard.steering import TARGET_ITEMS  # it imports this module

    return TARGET_ITEMS


async def check_item(office_id: int, item: str) -> None:
    """A target is set on an item the dashboards judge and the office's questionnaire asks;
    any other would be kept and never shown."""
    if item == INDEX_ITEM:
        return
    bank = {b.code: b for b in await item_bank()}
    if item not in bank:
        raise refuse(Invalid, N_("The item %(code)s is not in the item bank."), code=item)
    if bank[item].type != "scale":
        raise refuse(
            Invalid,
            N_("The item %(code)s is answered in free text; targets are set for scale items."),
            code=item,
        )
    judged = judged_items()
    if item not in judged:
        raise refuse(
            Invalid,
            N_(
                "The dashboards judge targets on the satisfaction index and on %(items)s only; "
                "a target on %(code)s would never be shown."
            ),
            items=", ".join(sorted(judged - {INDEX_ITEM})),
            code=item,
        )
    asked = await asked_items(office_id)
    if asked is None:
        raise refuse(
            Invalid,
            N_(
                "The office has no active link, so no questionnaire asks %(code)s there; set a "
                "target on the satisfaction index, or make a link first."
            ),
            code=item,
        )
    if item not in asked:
        raise refuse(
            Invalid,
            N_(
                "The office's questionnaire does not ask %(code)s, so a target on it would "
                "never be judged."
            ),
            code=item,
        )


async def overlapping(
    actor: Actor, office_id: int, item: str, valid_from: dt.date, valid_to: dt.date,
    *, but: int | None = None,
) -> list[TargetOut]:  # fmt: skip
    """The targets of the office and item whose period overlaps this one."""
    return [
        t
        for t in await targets(actor, office_id)
        if t.item == item and t.id != but and t.valid_from <= valid_to and t.valid_to >= valid_from
    ]


async def targets(
    actor: Actor, office_id: int | None = None, target_id: int | None = None
) -> list[TargetOut]:
    query = Target.select(
        Target.id,
        Target.office.id.as_alias("office_id"),
        Target.office.name.as_alias("office"),
        Target.item,
        Target.value,
        Target.valid_from,
        Target.valid_to,
    ).where(Target.office.is_in(list(actor.admin_offices) or [-1]))
    if office_id is not None:
        query = query.where(Target.office == office_id)
    if target_id is not None:
        query = query.where(Target.id == target_id)
    rows = await query.order_by(Target.office.name).order_by(Target.valid_from)
    return [TargetOut(**r) for r in rows]


async def set_target(actor: Actor, data: TargetIn, *, replacing: Collection[int] = ()) -> TargetOut:
    """One target per office, item and month. A period that overlaps targets of the same
    office and item is refused (409, naming them) unless `data.replace` is set or every one
    of them is in `replacing` (the ids the page showed and the user confirmed)."""
    org_id = await office_org(actor, data.office_id)
    check_period(data.valid_from, data.valid_to)
    check_months(data.valid_from, data.valid_to)
    await check_item(data.office_id, data.item)
    async with _office_held(data.office_id):
        found = await overlapping(actor, data.office_id, data.item, data.valid_from, data.valid_to)
        if found and not data.replace and not {t.id for t in found} <= set(replacing):
            raise _overlap(found)
        if found:
            await Target.delete().where(Target.id.is_in([t.id for t in found]))
        target = Target(
            office=data.office_id,
            item=data.item,
            value=data.value,
            valid_from=data.valid_from,
            valid_to=data.valid_to,
        )
        await target.save()
        await audit.record(
            actor,
            "target_set",
            org_id,
            office=data.office_id,
            item=data.item,
            value=data.value,
            period=f"{data.valid_from}/{data.valid_to}",
            replaced="; ".join(f"{t.value:g} {t.valid_from}/{t.valid_to}" for t in found) or None,
        )
        # read back while the office is held: a request waiting for it replaces this target
        return next(t for t in await targets(actor, data.office_id) if t.id == target.id)


async def target(actor: Actor, target_id: int) -> TargetOut:
    """One target of the actor's offices; 403 alike for another's and for none."""
    found = await targets(actor, target_id=target_id)
    if not found:
        raise Forbidden(NOT_YOURS)
    return found[0]


async def change_target(actor: Actor, target_id: int, data: TargetPatch) -> TargetOut:
    """A new value or period; refused when the period would end before it starts or overlap
    another target of the same office and item (replace that one through set_target)."""
    before = await target(actor, target_id)
    value = before.value if data.value is None else data.value
    valid_from = data.valid_from or before.valid_from
    valid_to = data.valid_to or before.valid_to
    check_period(valid_from, valid_to)
    if data.valid_from or data.valid_to:
        check_months(valid_from, valid_to)
    org_id = await office_org(actor, before.office_id)
    async with _office_held(before.office_id):
        other = (
            await Target.select(Target.valid_from, Target.valid_to)
            .where(
                (Target.office == before.office_id)
                & (Target.item == before.item)
                & (Target.id != target_id)
                & (Target.valid_from <= valid_to)
                & (Target.valid_to >= valid_from)
            )
            .first()
        )
        if other is not None:
            raise refuse(
                Conflict,
                N_("Another target of this office and item covers %(start)s to %(end)s."),
                start=str(other["valid_from"])[:10],
                end=str(other["valid_to"])[:10],
            )
        await Target.update(
            {Target.value: value, Target.valid_from: valid_from, Target.valid_to: valid_to}
        ).where(Target.id == target_id)
        await audit.record(
            actor,
            "target_changed",
            org_id,
            target=target_id,
            office=before.office_id,
            item=before.item,
            value=value,
            period=f"{valid_from}/{valid_to}",
            was=f"{before.value} {before.valid_from}/{before.valid_to}",
        )
    return await target(actor, target_id)


async def delete_target(actor: Actor, target_id: int) -> None:
    row = await Target.select(Target.office).where(Target.id == target_id).first()
    if row is None or row["office"] not in actor.admin_offices:
        raise Forbidden(NOT_YOURS)
    org_id = await office_org(actor, row["office"])
    await Target.delete().where(Target.id == target_id)
    await audit.record(actor, "target_deleted", org_id, target=target_id)


class TargetVerdict(msgspec.Struct, frozen=True):
    status: str
    """met, missed, or undecided (the interval still holds the target)."""
    target: float
    needed: int | None = None
    """For undecided: about how many more responses a decision needs at the present
    difference and spread (None when the index equals the target)."""


Z_ONE_SIDED = 1.6448536269514722
"""5 % one-sided: the 0.95 quantile of the standard normal distribution."""


def judge(
    index: float | None,
    low: float | None,
    high: float | None,
    n: int,
    target: float,
    *,
    se: float | None = None,
) -> TargetVerdict | None:
    """A one-sided test of the index against its target from the published figures.

    The standard error is `se` when given (that of `analysis.satisfaction_index`), else it
    comes from the 95 % interval shown beside the index (se = (high - low) / (2 · 1.96)); the
    index meets the target when
    index - 1.645 · se ≥ target, misses it when index + 1.645 · se < target, and is undecided
    otherwise. The responses still needed scale n by (1.645 · se / |index - target|)², since se
    shrinks with 1/√n. Nothing is judged from a withheld figure (None in, None out).
    """
    if index is None or low is None or high is None or n <= 0:
        return None
    if se is None:
        se = (high - low) / (2 * Z95)
    margin = Z_ONE_SIDED * se
    if index - margin >= target:
        return TargetVerdict("met", target)
    if index + margin < target:
        return TargetVerdict("missed", target)
    gap = abs(index - target)
    if gap == 0 or se == 0:
        return TargetVerdict("undecided", target)
    total = n * (margin / gap) ** 2
    return TargetVerdict("undecided", target, max(1, math.ceil(total - n)))


def valid_targets(count: int) -> str:
    """The statement of the targets (office, item, value) of `count` offices valid on a day;
    its arguments: the offices, then the day twice."""
    marks = ", ".join("{}" for _ in range(count)) or "-1"
    return (
        f"SELECT office, item, value FROM target WHERE office IN ({marks}) "
        "AND valid_from <= {} AND valid_to >= {}"
    )


async def current_targets(office_ids: list[int], on: dt.date) -> dict[tuple[int, str], float]:
    """(office, item) -> the target valid on `on`."""
    rows = await Target.raw(valid_targets(len(office_ids)), *office_ids, on, on)
    return {(int(r["office"]), str(r["item"])): float(r["value"]) for r in rows}
