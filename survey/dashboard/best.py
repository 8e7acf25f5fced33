"""Learning from the best ("Lernen von den Besten"): per question, which offices or job centres
of the comparison group are clearly above (or below) its average, so a team lead knows whom
to ask.

The benchmark's model and rule (`results.group_model` and `model_verdict`: the random-effects
model is at least 97.5% sure that the unit's true index lies above or below the group's
average: the 95% interval of the difference lies wholly on one side of zero), one
question at a time, on the published counts of the protected table only. What is said, and to
whom:

- a unit whose published n on the question is below the minimum is never named;
- no verdict where the group's own figure on the question is withheld, or the rest of the
  group a unit is compared with would reveal a single office or job centre, or fewer
  responses than the minimum, by subtraction from what the user sees (`pooled_figure_hidden`):
  a verdict against a withheld group gives it back;
- a unit the user may see gets every verdict; a unit they may not see is named only where it
  is clearly better (what the network shares so that its members can learn from each other),
  never with a figure and never as worse.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, NamedTuple

import numpy as np

from analysis import CountTable
from survey.auth.schemas import Scope
from survey.dashboard import cache
from survey.dashboard.disclosure import ProtectedTable, hidden_pools, hidden_rest, seen_blocks
from survey.dashboard.results import (
    SCALE_ITEMS,
    TOO_FEW,
    WITHHELD,
    comparison_units,
    current_months,
    group_model,
    index_noise,
    scale_levels,
    too_few_offices,
)
from survey.dashboard.schemas import BestItem, BestUnit, Filters, Learning, Verdict

WORDS: dict[str, Verdict] = {
    "above": "better",
    "below": "worse",
    "no clear difference": "no clear difference",
}
"""The model's verdicts in the words of the pages (clearly above average: better)."""


LEARNING_KEPT = 256
"""Learning tables kept per process (least recently used dropped first): a network's table is
a few kilobytes, and computing one fits a model per question (the dearest part of an office
page after its charts)."""
_kept = cache.memo(LEARNING_KEPT)


class _Item(NamedTuple):
    code: str
    text: dict[str, str]
    better: tuple[int, ...]
    withheld: str | None


class _Unit(NamedTuple):
    id: int
    name: str
    organization: str
    own: bool
    verdicts: tuple[Verdict | None, ...]


def learning(
    scope: Scope,
    table: ProtectedTable,
    filters: Filters,
    min_n: int,
    level: Literal["office", "organization"],
    item_text: Callable[[dict[str, str]], str],
) -> Learning:
    """Per question, who is clearly better or worse; computed once per table, scope, period,
    filter and level and then kept (`LEARNING_KEPT`). The key holds everything the verdicts
    depend on: the table's fingerprint (its published cells: new responses in a published
    month, or a month newly published, give another), the user's visible offices and
    comparison group, the filters, the minimum and the level, so one user's table is never
    another's unless they would see exactly the same."""
    key = (table.fingerprint(), scope.visible, scope.group, scope.group_name, filters, min_n,
           level)  # fmt: skip
    found: tuple[tuple[_Item, ...], tuple[_Unit, ...]] | None = _kept.get(key)
    if found is None:
        found = _verdicts(scope, table, filters, min_n, level)
        _kept.put(key, found)
    items, units = found
    return Learning(
        filters,
        min_n,
        level,
        scope.group_name,
        [BestItem(i.code, item_text(i.text), list(i.better), i.withheld) for i in items],
        [BestUnit(u.id, u.name, u.organization, u.own, list(u.verdicts)) for u in units],
    )


def _verdicts(
    scope: Scope,
    table: ProtectedTable,
    filters: Filters,
    min_n: int,
    level: Literal["office", "organization"],
) -> tuple[tuple[_Item, ...], tuple[_Unit, ...]]:
    months = current_months(filters)
    units, visible = comparison_units(scope, level)
    everyone = frozenset(o.id for o in scope.group)
    verdicts: dict[int, list[Verdict | None]] = {uid: [] for uid, _, _ in units}
    items = []
    for item in SCALE_ITEMS:
        code = item.code
        matrix = table.matrix(code, [ids for _, _, ids in units], months)
        labels = [str(uid) for uid, _, _ in units]
        noise = index_noise(table, [ids for _, _, ids in units], months, code)
        # only the verdicts are shown: a fit without the intervals gives the same ones
        model = group_model(CountTable(labels, list(scale_levels(code)), matrix), min_n,
                            index_noise=noise, intervals=False)  # fmt: skip
        # `model_verdict`'s "too few offices", counted once per question, not once per unit
        few = too_few_offices(model, min_n)
        n_of = _each_n(table, code, scope, months, matrix if level == "office" else None)
        pools = hidden_pools(scope, table, months, min_n, code, n_of)  # (its n read once)
        known = [frozenset({o.id}) for o in scope.visible_offices if n_of[o.id] >= min_n]
        known += [pool for pool, reason in pools.items() if reason is None]
        blocks = seen_blocks(known)  # in order once for every unit's rest (as each sorts it)
        group_hidden = pools[everyone]
        better = []
        for (uid, _, ids), effect in zip(units, model.offices, strict=True):
            rest = everyone - set(ids)
            verdict: Verdict
            if effect.n < min_n:
                verdict = TOO_FEW
            elif (
                group_hidden
                or pools.get(frozenset(ids))
                or hidden_rest(scope, rest, blocks, n_of, min_n)
            ):
                verdict = WITHHELD
            else:  # fewer than three offices with enough responses: nothing to compare
                verdict = TOO_FEW if few else WORDS.get(effect.verdict, TOO_FEW)
            if verdict == "better":
                better.append(uid)
            verdicts[uid].append(verdict if uid in visible or verdict == "better" else None)
        items.append(_Item(code, item.text, tuple(better), group_hidden or None))
    organization = {o.id: o.organization for o in scope.group}
    shown = [
        _Unit(
            uid,
            name,
            organization[ids[0]] if level == "office" else name,
            uid in visible,
            tuple(verdicts[uid]),
        )
        for uid, name, ids in units
        if uid in visible or any(v == "better" for v in verdicts[uid])
    ]
    shown.sort(key=lambda u: (not u.own, u.organization, u.name))
    return tuple(items), tuple(shown)


def _each_n(
    table: ProtectedTable, code: str, scope: Scope, months: list[str], matrix: np.ndarray | None
) -> dict[int, int]:
    """`table.n(code, [office], months)` of each office of the group, from the offices'
    published counts in one matrix (`matrix`, when it is the group's offices' in their
    order already: the office level's): whole numbers, the same sums in any order."""
    if matrix is None:
        matrix = table.matrix(code, [[o.id] for o in scope.group], months)
    return {o.id: int(n) for o, n in zip(scope.group, matrix.sum(axis=1).tolist(), strict=True)}
