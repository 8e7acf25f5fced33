"""Questionnaires of a job centre: drafts built from the item bank, published immutably.

A job centre starts from the standard questionnaire. A draft version may gain, lose and
reorder items (each from the item bank, with its stable code and scale), mark them required,
and have texts per language with a review status. Publishing freezes the version for good;
answers are compared only on the same item codes and scales.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any, Literal, cast

import msgspec

from survey.errors import Conflict, Forbidden, Invalid, refuse
from survey.i18n import N_, RESPOND_LOCALES
from survey.manage import audit
from survey.manage.access import NOT_YOURS, Actor, version_org
from survey.manage.schemas import (
    MAX_TEXT,
    BankItemOut,
    QuestionnaireIn,
    QuestionnaireOut,
    VersionItem,
    VersionOut,
    VersionPatch,
)
from survey.questionnaire import (
    FREE_TEXT_OPTIONAL,
    MAX_INDEX_ITEMS,
    item_bank_bytes,
    load_definition,
    standard_definition_bytes,
)
from survey.tables import BankItem, Questionnaire, QuestionnaireVersion, Response

SOURCE = "de"
_ITEM_BANK: dict[str, Any] = msgspec.json.decode(item_bank_bytes())
YESNO: dict[str, Any] = _ITEM_BANK["scales"]["yesno"]
EXTRA_ITEMS: list[dict[str, Any]] = _ITEM_BANK["items"]
"""The item bank beyond the standard questionnaire (survey/data/item_bank.json)."""


def _standard() -> dict[str, Any]:
    return cast("dict[str, Any]", msgspec.json.decode(standard_definition_bytes()))


def bank_scales() -> dict[str, Any]:
    scales: dict[str, Any] = _standard()["scales"]
    return scales | {"yesno": YESNO}


async def ensure_item_bank() -> None:
    """The item bank holds the standard questionnaire's items and a few more, as the files
    have them (a bank item made by an older release gets the texts added since); idempotent."""
    have = {r["code"]: _json(r["definition"]) for r in await BankItem.select()}
    for item in [*_standard()["items"], *EXTRA_ITEMS]:
        if item["code"] not in have:
            await BankItem.insert(BankItem(code=item["code"], definition=item)).on_conflict(
                action="DO NOTHING"
            )
        elif have[item["code"]] != item:
            await BankItem.update({BankItem.definition: item}).where(BankItem.code == item["code"])


def _json(raw: Any) -> Any:
    return msgspec.json.decode(raw) if isinstance(raw, str | bytes) else raw


async def item_bank() -> list[BankItemOut]:
    await ensure_item_bank()
    rows = await BankItem.select().order_by(BankItem.id)
    out = []
    for r in rows:
        d = _json(r["definition"])
        out.append(
            BankItemOut(code=d["code"], type=d["type"], scale=d.get("scale"), text=d["text"])
        )
    return out


async def _bank() -> dict[str, dict[str, Any]]:
    await ensure_item_bank()
    return {r["code"]: _json(r["definition"]) for r in await BankItem.select()}


def _version_out(row: dict[str, Any], questionnaire_id: int) -> VersionOut:
    d = _json(row["definition"])
    return VersionOut(
        id=row["id"],
        questionnaire_id=questionnaire_id,
        number=row["number"],
        published_at=row["published_at"],
        items=[
            {
                "code": i["code"],
                "type": i["type"],
                "scale": i.get("scale"),
                "required": i.get("required", False),
                "text": i["text"],
            }
            for i in d["items"]
        ],
        translations={k: v.get("status", "draft") for k, v in d.get("translations", {}).items()},
    )


async def questionnaires(actor: Actor) -> list[QuestionnaireOut]:
    """The standard questionnaire and the job centres' own, with their versions."""
    if not actor.is_admin:
        raise Forbidden(NOT_YOURS)
    rows = await (
        Questionnaire.select()
        .where(
            Questionnaire.organization.is_null()
            | Questionnaire.organization.is_in(list(actor.admin_orgs) or [-1])
        )
        .order_by(Questionnaire.id)
    )
    versions = await (
        QuestionnaireVersion.select()
        .where(QuestionnaireVersion.questionnaire.is_in([r["id"] for r in rows] or [-1]))
        .order_by(QuestionnaireVersion.number)
    )
    return [
        QuestionnaireOut(
            id=r["id"],
            code=r["code"],
            name=r["name"],
            organization_id=r["organization"],
            versions=[_version_out(v, r["id"]) for v in versions if v["questionnaire"] == r["id"]],
        )
        for r in rows
    ]


async def create_questionnaire(actor: Actor, data: QuestionnaireIn) -> QuestionnaireOut:
    """A job centre's own questionnaire, whose first draft is the standard questionnaire."""
    actor.require_org(data.organization_id)
    if await Questionnaire.exists().where(Questionnaire.code == data.code):
        raise refuse(Conflict, N_("The short name %(slug)s is taken already."), slug=data.code)
    definition = _standard()
    definition["code"] = data.code
    definition["name"] = {**definition["name"], SOURCE: data.name}
    async with Questionnaire._meta.db.transaction():
        q = Questionnaire(organization=data.organization_id, code=data.code, name=data.name)
        await q.save()
        v = QuestionnaireVersion(questionnaire=q.id, number=1, definition=definition)
        await v.save()
        await audit.record(actor, "questionnaire_created", data.organization_id, questionnaire=q.id)
    return next(x for x in await questionnaires(actor) if x.id == q.id)


async def _questionnaire_org(actor: Actor, questionnaire_id: int) -> int:
    row = await (
        Questionnaire.select(Questionnaire.organization)
        .where(Questionnaire.id == questionnaire_id)
        .first()
    )
    if row is None or row["organization"] is None or not actor.may_org(row["organization"]):
        raise Forbidden(NOT_YOURS)
    return int(row["organization"])


async def new_version(
    actor: Actor, questionnaire_id: int, items: list[VersionItem] | None = None
) -> VersionOut:
    """A new draft: a copy of the latest version (items changed as given). One draft at a
    time, so two people cannot publish competing versions by accident."""
    org_id = await _questionnaire_org(actor, questionnaire_id)
    rows = await (
        QuestionnaireVersion.select()
        .where(QuestionnaireVersion.questionnaire == questionnaire_id)
        .order_by(QuestionnaireVersion.number, ascending=False)
    )
    if rows and rows[0]["published_at"] is None:
        raise Conflict(N_("This questionnaire has an unpublished draft already; change that one."))
    definition = _json(rows[0]["definition"]) if rows else _standard()
    if items is not None:
        definition = await _with_items(definition, items)
    number = (rows[0]["number"] + 1) if rows else 1
    v = QuestionnaireVersion(questionnaire=questionnaire_id, number=number, definition=definition)
    await v.save()
    await audit.record(actor, "version_created", org_id, version=v.id, number=number)
    row = await QuestionnaireVersion.select().where(QuestionnaireVersion.id == v.id).first()
    assert row is not None
    return _version_out(row, questionnaire_id)


async def version(actor: Actor, version_id: int) -> VersionOut:
    _, row = await version_org(actor, version_id)
    full = await QuestionnaireVersion.select().where(QuestionnaireVersion.id == version_id).first()
    assert full is not None
    out = _version_out(full, row["questionnaire_id"])
    if full["published_at"] is None:
        reference = await _reference_items(row["questionnaire_id"])
        out.outdated_translations = outdated_translations(_json(full["definition"]), reference)
    return out


async def _reference_items(questionnaire_id: int) -> dict[str, dict[str, Any]]:
    """Each item as this questionnaire last published it, else as the item bank has it: the
    German wording its translations were made for."""
    reference = await _bank()
    published = await (
        QuestionnaireVersion.select(QuestionnaireVersion.definition)
        .where(
            (QuestionnaireVersion.questionnaire == questionnaire_id)
            & QuestionnaireVersion.published_at.is_not_null()
        )
        .order_by(QuestionnaireVersion.number)
    )
    for row in published:
        reference |= {i["code"]: i for i in _json(row["definition"])["items"]}
    return reference


def _same(a: str | None, b: str | None) -> bool:
    return " ".join((a or "").split()) == " ".join((b or "").split())


def outdated_translations(
    definition: dict[str, Any], reference: dict[str, dict[str, Any]]
) -> dict[str, list[str]]:
    """Item code -> the languages whose text was made for another German wording: the German
    text differs from the reference's while the translation is still the reference's."""
    out: dict[str, list[str]] = {}
    for item in definition["items"]:
        ref = reference.get(item["code"], {}).get("text", {})
        text = item["text"]
        if not ref or _same(text.get(SOURCE), ref.get(SOURCE)):
            continue
        langs = [
            lang
            for lang, translated in text.items()
            if lang != SOURCE and translated.strip() and _same(translated, ref.get(lang))
        ]
        if langs:
            out[item["code"]] = langs
    return out


async def _draft(actor: Actor, version_id: int) -> tuple[int, dict[str, Any], dict[str, Any]]:
    org_id, row = await version_org(actor, version_id)
    if org_id is None:
        raise Conflict(N_("The standard questionnaire cannot be changed; start your own from it."))
    if row["published_at"] is not None:
        raise Conflict(
            N_("A published version never changes. Create a new version to change items or texts.")
        )
    return org_id, row, _json(row["definition"])


async def _with_items(definition: dict[str, Any], items: list[VersionItem]) -> dict[str, Any]:
    """The definition with exactly these items in this order (from the definition or the bank)."""
    codes = [i.code for i in items]
    if len(codes) != len(set(codes)):
        raise Invalid(N_("An item appears twice."))
    bank = await _bank()
    current = {i["code"]: i for i in definition["items"]}
    scales = bank_scales()
    new_items = []
    for spec in items:
        base = current.get(spec.code) or bank.get(spec.code)
        if base is None:
            raise refuse(Invalid, N_("The item %(code)s is not in the item bank."), code=spec.code)
        item = copy.deepcopy(base)
        if (
            spec.required
            and item["type"] == "text"
            and not current.get(spec.code, {}).get("required")
        ):
            raise Invalid(FREE_TEXT_OPTIONAL)
        item["required"] = spec.required and item["type"] != "text"  # a draft made before: off
        item["text"] = {**item["text"], **{k: v for k, v in spec.text.items() if v.strip()}}
        for lang in spec.text:
            if lang not in RESPOND_LOCALES:
                raise refuse(Invalid, N_("Unknown language %(lang)s."), lang=lang)
            if not spec.text[lang].strip():
                item["text"].pop(lang, None)
        if item.get("scale") and item["scale"] not in definition["scales"]:
            definition["scales"][item["scale"]] = scales[item["scale"]]
        new_items.append(item)
    if sum(1 for i in new_items if i.get("index")) > MAX_INDEX_ITEMS:
        raise Invalid(N_("At most 7 items can form the satisfaction index."))
    used = {i.get("scale") for i in new_items}
    definition = {
        **definition,
        "items": new_items,
        "scales": {k: v for k, v in definition["scales"].items() if k in used},
    }
    return definition


async def change_version(actor: Actor, version_id: int, data: VersionPatch) -> VersionOut:
    org_id, _, definition = await _draft(actor, version_id)
    if data.items is not None:
        definition = await _with_items(definition, data.items)
    if data.review is not None:
        translations = dict(definition.get("translations", {}))
        for lang, status in data.review.items():
            if lang not in RESPOND_LOCALES:
                raise refuse(Invalid, N_("Unknown language %(lang)s."), lang=lang)
            translations[lang] = {"status": status}
        definition["translations"] = translations
    updated = (
        await QuestionnaireVersion.update({QuestionnaireVersion.definition: definition})
        .where(
            (QuestionnaireVersion.id == version_id) & QuestionnaireVersion.published_at.is_null()
        )
        .returning(QuestionnaireVersion.id)
    )
    if not updated:  # published in between
        raise Conflict(N_("A published version never changes. Create a new version."))
    await audit.record(actor, "version_changed", org_id, version=version_id)
    return await version(actor, version_id)


async def set_texts(
    actor: Actor, version_id: int, lang: str, texts: dict[str, str], status: str
) -> VersionOut:
    """Texts of one language for many items at once (the editor's form)."""
    _, _, definition = await _draft(actor, version_id)
    if status not in ("reviewed", "draft", ""):
        raise refuse(Invalid, N_("Unknown status %(status)s."), status=status[:40])
    for code, text in texts.items():
        if len(text) > MAX_TEXT:  # the API's struct checks it; a struct built here is not
            raise refuse(
                Invalid,
                N_("The text of %(code)s has %(length)d characters; at most %(max)d are allowed."),
                code=code[:40],
                length=len(text),
                max=MAX_TEXT,
            )
    items = [
        VersionItem(
            code=i["code"],
            required=i.get("required", False),
            text={lang: texts[i["code"]]} if i["code"] in texts else {},
        )
        for i in definition["items"]
    ]
    review: dict[str, Literal["reviewed", "draft"]] | None = None
    if status:
        review = {lang: "reviewed" if status == "reviewed" else "draft"}
    return await change_version(actor, version_id, VersionPatch(items=items, review=review))


async def edit_items(actor: Actor, version_id: int, action: str, code: str) -> VersionOut:
    """One step of the editor: add, remove, up, down, required, optional."""
    _, _, definition = await _draft(actor, version_id)
    items = [
        VersionItem(code=i["code"], required=i.get("required", False)) for i in definition["items"]
    ]
    codes = [i.code for i in items]
    if action == "add":
        if code in codes:
            raise refuse(Conflict, N_("The item %(code)s is in the version already."), code=code)
        items.append(VersionItem(code=code, required=False))
    elif code not in codes:
        raise refuse(Invalid, N_("The item %(code)s is not in this version."), code=code)
    else:
        at = codes.index(code)
        if action == "remove":
            del items[at]
        elif action == "up" and at > 0:
            items[at - 1], items[at] = items[at], items[at - 1]
        elif action == "down" and at < len(items) - 1:
            items[at + 1], items[at] = items[at], items[at + 1]
        elif action in ("required", "optional"):
            items[at] = VersionItem(code=code, required=action == "required")
        elif action not in ("up", "down"):
            raise Invalid(N_("Unknown action."))
    if not items:
        raise Invalid(N_("A version needs at least one item."))
    return await change_version(actor, version_id, VersionPatch(items=items))


def publish_problems(definition: dict[str, Any]) -> list[str]:
    """Item codes without a German text (items and scale labels)."""
    missing = [i["code"] for i in definition["items"] if not i["text"].get(SOURCE, "").strip()]
    return missing


OUTDATED_CHOICES = ("german", "keep")
"""What publishing does with translations made for an earlier German wording: drop them (the
question is shown in German in those languages) or keep them (the admin confirms they still
say the same, e.g. after a typo fixed in the German text)."""


async def publish(actor: Actor, version_id: int, outdated: str | None = None) -> VersionOut:
    org_id, row, definition = await _draft(actor, version_id)
    missing = publish_problems(definition)
    if missing:
        raise refuse(
            Invalid,
            N_("Cannot publish: the item %(code)s has no German text."),
            code=", ".join(missing),
        )
    stale = outdated_translations(definition, await _reference_items(row["questionnaire_id"]))
    if outdated not in (None, "", *OUTDATED_CHOICES):
        raise refuse(Invalid, N_("Unknown choice %(choice)s."), choice=str(outdated)[:40])
    if stale and not outdated:
        raise refuse(
            Conflict,
            N_(
                "Cannot publish: the German text of %(items)s changed, but the translations "
                "(%(languages)s) were made for the earlier wording. Update them, or choose to "
                "show these questions in German in those languages, or confirm that the "
                "translations still fit."
            ),
            items=", ".join(stale),
            languages=", ".join(sorted({lang for langs in stale.values() for lang in langs})),
        )
    if stale and outdated == "german":
        for item in definition["items"]:
            for lang in stale.get(item["code"], []):
                item["text"].pop(lang, None)
    try:
        load_definition(definition)
    except (ValueError, msgspec.ValidationError) as exc:
        raise refuse(Invalid, N_("Cannot publish: %(reason)s"), reason=exc) from None
    now = dt.datetime.now(dt.UTC)
    changes: dict[Any, Any] = {QuestionnaireVersion.published_at: now}
    if stale and outdated == "german":  # else the draft as stored (an edit made meanwhile too)
        changes[QuestionnaireVersion.definition] = definition
    done = (
        await QuestionnaireVersion.update(changes)
        .where(
            (QuestionnaireVersion.id == version_id) & QuestionnaireVersion.published_at.is_null()
        )
        .returning(QuestionnaireVersion.id)
    )
    if not done:
        raise Conflict(N_("This version is published already."))
    # who decided what about which translations
    decided = {"outdated_translations": stale, "choice": outdated} if stale else {}
    await audit.record(actor, "version_published", org_id, version=version_id, **decided)
    return await version(actor, version_id)


class VersionUsed(msgspec.Struct, frozen=True):
    questionnaire: str
    number: int
    items: tuple[str, ...]
    texts: dict[str, dict[str, str]] = msgspec.field(default_factory=dict)
    """Each item's text by language, as the version asks it."""


async def versions_in_period(
    office_ids: list[int], start: dt.date, end: dt.date
) -> list[VersionUsed]:
    """The questionnaire versions answered at these offices in the period, oldest first: more
    than one means the period spans versions, and only their common items compare.

    A response has the version of its link, so the versions of the offices' links are the
    only candidates; with one of them, whether any response came in the period is a single
    look in the (office, day) index instead of a pass over every response of the period."""
    offices = ", ".join(str(int(o)) for o in office_ids or [-1])
    links = await Response.raw(f"SELECT DISTINCT version FROM link WHERE office IN ({offices})")
    candidates = sorted(int(r["version"]) for r in links)
    where = f"FROM response WHERE day >= {{}} AND day <= {{}} AND office IN ({offices})"
    if len(candidates) <= 1:
        rows = await Response.raw(f"SELECT version {where} LIMIT 1", start, end)
    else:
        rows = await Response.raw(f"SELECT DISTINCT version {where}", start, end)
    ids = sorted({int(r["version"]) for r in rows})
    if not ids:
        return []
    # written out: Piccolo's join took longer to build than to run, on every new dashboard view
    found = await QuestionnaireVersion.raw(
        "SELECT v.number, v.definition, q.name AS questionnaire FROM questionnaire_version v "
        "LEFT JOIN questionnaire q ON v.questionnaire = q.id "
        f"WHERE v.id IN ({', '.join(str(i) for i in ids)}) ORDER BY v.id"
    )
    return [
        VersionUsed(
            questionnaire=str(r["questionnaire"]),
            number=int(r["number"]),
            items=tuple(i["code"] for i in items),
            texts={i["code"]: dict(i.get("text") or {}) for i in items},
        )
        for r in found
        for items in [_json(r["definition"])["items"]]
    ]
