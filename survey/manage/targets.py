"""Targets per office and item ("Steuerung nach Zielen"): a target index for a period."""

from __future__ import annotations

from survey.errors import Forbidden, Invalid
from survey.i18n import N_
from survey.manage import audit
from survey.manage.access import NOT_YOURS, Actor, office_org, refuse
from survey.manage.questionnaires import item_bank
from survey.manage.schemas import TargetIn, TargetOut
from survey.tables import Target


async def targets(actor: Actor, office_id: int | None = None) -> list[TargetOut]:
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
    rows = await query.order_by(Target.office.name).order_by(Target.valid_from)
    return [TargetOut(**r) for r in rows]


async def set_target(actor: Actor, data: TargetIn) -> TargetOut:
    """One target per office, item and period: an overlapping one for the same office and item
    is replaced."""
    org_id = await office_org(actor, data.office_id)
    if data.valid_to < data.valid_from:
        raise Invalid(N_("The period ends before it starts."))
    if data.item != "_index":
        bank = {b.code: b for b in await item_bank()}
        if data.item not in bank or bank[data.item].type != "scale":
            raise refuse(Invalid, N_("The item %(code)s is not in the item bank."), code=data.item)
    async with Target._meta.db.transaction():
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
    return next(t for t in await targets(actor, data.office_id) if t.id == target.id)


async def delete_target(actor: Actor, target_id: int) -> None:
    row = await Target.select(Target.office).where(Target.id == target_id).first()
    if row is None or row["office"] not in actor.admin_offices:
        raise Forbidden(NOT_YOURS)
    org_id = await office_org(actor, row["office"])
    await Target.delete().where(Target.id == target_id)
    await audit.record(actor, "target_deleted", org_id, target=target_id)
