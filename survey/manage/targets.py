"""Targets per office and item ("Steuerung nach Zielen"): a target index for a period."""

from __future__ import annotations

import contextlib
import datetime as dt
import math

import msgspec

from survey.errors import Conflict, Forbidden, Invalid, refuse
from survey.i18n import N_
from survey.manage import audit, locks
from survey.manage.access import NOT_YOURS, Actor, office_org
from survey.manage.questionnaires import item_bank
from survey.manage.schemas import TargetIn, TargetOut, TargetPatch
from survey.tables import Target


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


async def set_target(actor: Actor, data: TargetIn) -> TargetOut:
    """One target per office, item and period: an overlapping one for the same office and item
    is replaced."""
    org_id = await office_org(actor, data.office_id)
    check_period(data.valid_from, data.valid_to)
    if data.item != "_index":
        bank = {b.code: b for b in await item_bank()}
        if data.item not in bank:
            raise refuse(Invalid, N_("The item %(code)s is not in the item bank."), code=data.item)
        if bank[data.item].type != "scale":
            raise refuse(
                Invalid,
                N_("The item %(code)s is answered in free text; targets are set for scale items."),
                code=data.item,
            )
    async with _office_held(data.office_id):
        await Target.delete().where(
            (Target.office == data.office_id)
            & (Target.item == data.item)
            & (Target.valid_from <= data.valid_to)
            & (Target.valid_to >= data.valid_from)
        )
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
        se = (high - low) / (2 * 1.959963984540054)
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


async def current_targets(office_ids: list[int], on: dt.date) -> dict[tuple[int, str], float]:
    """(office, item) -> the target valid on `on`."""
    rows = await Target.select(Target.office, Target.item, Target.value).where(
        Target.office.is_in(office_ids or [-1])
        & (Target.valid_from <= on)
        & (Target.valid_to >= on)
    )
    return {(int(r["office"]), str(r["item"])): float(r["value"]) for r in rows}
