"""What the administration adds to the dashboards (issue 11): targets met or missed, outreach
points against main offices as groups, and the note when a period spans questionnaire
versions.

Every figure here comes from the protected table (`disclosure.protect`), the same cells as
the other figures of the page, so a target's index is the index shown in the office's row.
A group of offices is pooled only from offices whose own figure the user sees: the pool is
then a sum of published figures and reveals nothing a subtraction of them would not.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from analysis import CountTable, compare_offices, satisfaction_index
from survey.auth.schemas import Scope
from survey.dashboard.disclosure import INDEX_LEVELS, ProtectedTable
from survey.dashboard.results import MIN_EFFECT, SCALE_ITEMS, current_months, scale_levels
from survey.dashboard.schemas import Filters, Verdict
from survey.i18n import N_
from survey.manage.questionnaires import VersionUsed
from survey.manage.targets import current_targets, judge, valid_targets
from survey.questionnaire import INDEX_ITEM, OFFICE_KINDS
from survey.tables import Target

TARGET_ITEMS = frozenset({INDEX_ITEM, *(i.code for i in SCALE_ITEMS)})
"""Items a target is judged on: the index and the scale items the dashboards compare."""


class TargetRow(msgspec.Struct):
    office_id: int
    office: str
    item: str
    target: float
    n: int | None
    index: float | None
    index_low: float | None
    index_high: float | None
    status: str
    """met, missed, undecided (the one-sided test does not decide yet) or too few responses."""
    needed: int | None
    """For undecided: about how many more responses would decide it at the present
    difference and spread."""


TARGET_WORDS = {
    "met": N_("met"),
    "missed": N_("missed"),
    "undecided": N_("not yet decidable"),
    "too few responses": N_("too few responses"),
}
CSV_COLUMNS = [
    "office_id", "office", "item", "target", "n", "index", "index_low", "index_high",
    "target_status", "needed",
]  # fmt: skip
"""The targets CSV: TargetRow's fields, its `status` as `target_status` (the CSV's own last
column `status` names the withheld cells)."""


def csv_row(row: TargetRow) -> dict[str, Any]:
    out = msgspec.structs.asdict(row)
    out["target_status"] = out.pop("status")
    return out


def csv_words(gettext: Callable[[str], str]) -> dict[str, Callable[[Any], Any]]:
    """The status and the item as the page names them (the index by its name)."""
    return {
        "target_status": lambda v: gettext(TARGET_WORDS[v]),
        # only an undecided target needs more responses: elsewhere it is blank, not withheld
        "needed": lambda v: "" if v is None else v,
        "item": lambda v: gettext(N_("Satisfaction index")) if v == INDEX_ITEM else v,
    }


class KindRow(msgspec.Struct):
    kind: str
    offices: int
    """Offices of this type pooled (those whose own figure is shown)."""
    left_out: int
    """Offices of this type left out: too few responses to show their own figure."""
    n: int
    index: float | None
    index_low: float | None
    index_high: float | None
    verdict: Verdict | None
    """Against the main offices (Mann–Whitney, at least a small effect); None for the main
    offices themselves or when there are none."""
    pvalue: float | None
    effect_size: float | None = None
    """Rank-biserial r against the main offices (positive: this type rates higher)."""
    beyond_chance: bool = False
    """The difference is beyond chance (q below 0.05) but smaller than the verdict's
    minimum effect (|r| < 0.1): "no clear difference" that the page words as too small."""


class VersionNote(msgspec.Struct):
    versions: list[VersionUsed]
    partial: list[tuple[str, list[str]]]
    """Items that not every version asks, with the versions that do ("Name v2")."""

    def labelled(self, text: Callable[[dict[str, str]], str]) -> VersionNote:
        """The note with each item of `partial` named by its text (`text` picks the page's
        language; the code where no version has a text for it)."""
        texts: dict[str, dict[str, str]] = {}
        for v in self.versions:
            for code, by_locale in v.texts.items():
                texts.setdefault(code, by_locale)
        partial = [(text(texts[code]) if texts.get(code) else code, where)
                   for code, where in self.partial]  # fmt: skip
        return VersionNote(versions=self.versions, partial=partial)


def _r(x: float | None, digits: int = 2) -> float | None:
    return None if x is None else round(x, digits) + 0.0  # never -0.0


def period_days(filters: Filters) -> tuple[dt.date, dt.date]:
    first = dt.date.fromisoformat(filters.first_month + "-01")
    last = dt.date.fromisoformat(filters.last_month + "-01")
    end = (last + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    return first, end


def target_day(filters: Filters, today: dt.date) -> dt.date:
    """Targets valid on the last day of the period (today, while the period runs)."""
    return min(period_days(filters)[1], today)


async def targets_of(
    scope: Scope, filters: Filters, today: dt.date
) -> dict[tuple[int, str], float]:
    """(office, item) -> target for the visible offices, on the day the page judges."""
    found = await current_targets(sorted(scope.visible), target_day(filters, today))
    return {k: v for k, v in found.items() if k[1] in TARGET_ITEMS}


async def targets_and_kinds(
    scope: Scope, filters: Filters, today: dt.date, office_id: int | None = None
) -> tuple[dict[tuple[int, str], float], dict[int, str]]:
    """`targets_of` (of the one visible office `office_id`, if given) and, without
    `office_id`, the kinds of the visible offices, in one statement: a page reads them
    on every view (an admin may change them), and building the two selects through Piccolo
    took longer than running them (issue 17)."""
    if office_id is None:
        offices = sorted(scope.visible)
    else:
        offices = [office_id] if office_id in scope.visible else []
    sql = f"SELECT 't' AS what, office, item, value FROM ({valid_targets(len(offices))}) AS t"
    day = target_day(filters, today)
    args: list[object] = [*offices, day, day]
    if office_id is None:
        marks = ", ".join("{}" for _ in offices) or "-1"
        sql += f" UNION ALL SELECT 'k' AS what, id, kind, NULL FROM office WHERE id IN ({marks})"
        args += offices
    targets: dict[tuple[int, str], float] = {}
    kinds: dict[int, str] = {}
    for r in await Target.raw(sql, *args):
        if r["what"] == "k":
            kinds[int(r["office"])] = str(r["item"])
        elif r["item"] in TARGET_ITEMS:
            targets[int(r["office"]), str(r["item"])] = float(r["value"])
    return targets, kinds


def judge_targets(
    scope: Scope,
    table: ProtectedTable,
    filters: Filters,
    min_n: int,
    targets: dict[tuple[int, str], float],
) -> list[TargetRow]:
    """Each target against the office's published index of the period (one-sided test)."""
    months = current_months(filters)
    names = {o.id: o.name for o in scope.group}
    rows = []
    for (office, item), target in sorted(targets.items(), key=lambda t: (names[t[0][0]], t[0][1])):
        counts = table.counts(item, [office], months)
        if item == INDEX_ITEM:  # the mean of its items, with their noise
            est = satisfaction_index(counts, INDEX_LEVELS,
                                     index_noise=table.index_noise([office], months))  # fmt: skip
        else:
            noise = table.noise_variance(item, [office], months)
            est = satisfaction_index(counts, scale_levels(item), noise=noise)
        shown = est.n >= min_n and est.value is not None
        verdict = (
            judge(est.value, est.ci_low, est.ci_high, est.n, target, se=est.se) if shown else None
        )
        rows.append(
            TargetRow(
                office_id=office,
                office=names[office],
                item=item,
                target=target,
                n=est.n if shown else None,
                index=_r(est.value) if shown else None,
                index_low=_r(est.ci_low) if shown else None,
                index_high=_r(est.ci_high) if shown else None,
                status=verdict.status if verdict else "too few responses",
                needed=verdict.needed if verdict else None,
            )
        )
    return rows


def compare_kinds(
    scope: Scope,
    table: ProtectedTable,
    filters: Filters,
    min_n: int,
    kinds: dict[int, str],
) -> list[KindRow]:
    """The user's visible offices pooled by type (main office, branch, outreach point), each
    type against the main offices; empty unless at least two types have offices shown."""
    months = current_months(filters)
    shown: dict[str, list[int]] = {k: [] for k in OFFICE_KINDS}
    left: dict[str, int] = {k: 0 for k in OFFICE_KINDS}
    for o in scope.group:
        if o.id not in scope.visible or kinds.get(o.id) not in shown:
            continue
        kind = kinds[o.id]
        if table.n(INDEX_ITEM, [o.id], months) >= min_n:
            shown[kind].append(o.id)
        else:
            left[kind] += 1
    present = [k for k in OFFICE_KINDS if shown[k]]
    if len(present) < 2:
        return []
    counts = {k: table.counts(INDEX_ITEM, shown[k], months) for k in present}
    # a pool's classes are the sum of its offices', their noise the sum of theirs; its index
    # is the mean of the pool's items, with their noise
    noise = {k: table.noise_variance(INDEX_ITEM, shown[k], months) for k in present}
    own = {k: table.index_noise(shown[k], months) for k in present}
    rows = []
    for kind in present:
        est = satisfaction_index(counts[kind], INDEX_LEVELS, index_noise=own[kind])
        verdict: Verdict | None = None
        pvalue = effect = None
        beyond = False
        if kind != "main" and "main" in present:
            pair = CountTable(["main", kind], list(INDEX_LEVELS), [counts["main"], counts[kind]])
            test = compare_offices(pair, min_n, min_effect=MIN_EFFECT,
                                   noise=(noise["main"], noise[kind]),
                                   index_noise=(own["main"], own[kind]))  # fmt: skip
            other = test.offices[1]
            verdict, pvalue, effect = other.verdict, other.pvalue, other.effect_size
            beyond = verdict == "no clear difference" and (
                other.qvalue is not None and other.qvalue < test.alpha
            )
        rows.append(
            KindRow(
                kind=kind,
                offices=len(shown[kind]),
                left_out=left[kind],
                n=est.n,
                index=_r(est.value),
                index_low=_r(est.ci_low),
                index_high=_r(est.ci_high),
                verdict=verdict,
                pvalue=None if pvalue is None else round(pvalue, 4),
                effect_size=None if effect is None else round(effect, 3),
                beyond_chance=beyond,
            )
        )
    return rows


def version_note(versions: Sequence[VersionUsed]) -> VersionNote | None:
    """When the offices' responses of the period come from more than one questionnaire
    version (`versions`, manage.questionnaires.versions_in_period): which, and the items not
    every one of them asks."""
    if len(versions) < 2:
        return None
    partial = []
    every = set.intersection(*(set(v.items) for v in versions))
    seen: list[str] = []
    for v in versions:
        seen += [i for i in v.items if i not in every and i not in seen]
    for item in seen:
        partial.append(
            (item, [f"{v.questionnaire} v{v.number}" for v in versions if item in v.items])
        )
    return VersionNote(versions=list(versions), partial=partial)
