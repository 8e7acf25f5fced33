"""Learning from the best ("Lernen von den Besten"): per question, which offices or job centres
of the comparison group are clearly above (or below) its average, so a team lead knows whom
to ask.

The benchmark's model and rule (`results.group_model` and `model_verdict`: the random-effects
model is 95% sure that the unit's true index lies above or below the group's average), one
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
from typing import Literal

from analysis import CountTable
from survey.auth.schemas import Scope
from survey.dashboard.disclosure import ProtectedTable, hidden_pools, pooled_figure_hidden
from survey.dashboard.results import (
    SCALE_ITEMS,
    TOO_FEW,
    WITHHELD,
    comparison_units,
    current_months,
    group_model,
    model_verdict,
    scale_levels,
)
from survey.dashboard.schemas import BestItem, BestUnit, Filters, Learning, Verdict

WORDS: dict[str, Verdict] = {
    "above": "better",
    "below": "worse",
    "no clear difference": "no clear difference",
}
"""The model's verdicts in the words of the pages (clearly above average: better)."""


def learning(
    scope: Scope,
    table: ProtectedTable,
    filters: Filters,
    min_n: int,
    level: Literal["office", "organization"],
    item_text: Callable[[dict[str, str]], str],
) -> Learning:
    months = current_months(filters)
    units, visible = comparison_units(scope, level)
    everyone = frozenset(o.id for o in scope.group)
    verdicts: dict[int, list[Verdict | None]] = {uid: [] for uid, _, _ in units}
    items = []
    for item in SCALE_ITEMS:
        code = item.code
        matrix = table.matrix(code, [ids for _, _, ids in units], months)
        labels = [str(uid) for uid, _, _ in units]
        model = group_model(CountTable(labels, list(scale_levels(code)), matrix), min_n)
        pools = hidden_pools(scope, table, months, min_n, code)
        n_of = {o.id: table.n(code, [o.id], months) for o in scope.group}
        known = [frozenset({o.id}) for o in scope.visible_offices if n_of[o.id] >= min_n]
        known += [pool for pool, reason in pools.items() if reason is None]
        group_hidden = pools[everyone]
        better = []
        for (uid, _, ids), effect in zip(units, model.offices, strict=True):
            rest = everyone - set(ids)
            said = model_verdict(effect, model, min_n)
            verdict: Verdict
            if effect.n < min_n:
                verdict = TOO_FEW
            elif (
                group_hidden
                or pools.get(frozenset(ids))
                or pooled_figure_hidden(scope, rest, known, n_of, min_n)
            ):
                verdict = WITHHELD
            else:  # fewer than three offices with enough responses: nothing to compare
                verdict = WORDS.get(said, TOO_FEW)
            if verdict == "better":
                better.append(uid)
            verdicts[uid].append(verdict if uid in visible or verdict == "better" else None)
        items.append(
            BestItem(code, item_text(item.text), better, group_hidden if group_hidden else None)
        )
    organization = {o.id: o.organization for o in scope.group}
    shown = [
        BestUnit(
            uid,
            name,
            organization[ids[0]] if level == "office" else name,
            uid in visible,
            verdicts[uid],
        )
        for uid, name, ids in units
        if uid in visible or any(v == "better" for v in verdicts[uid])
    ]
    shown.sort(key=lambda u: (not u.own, u.organization, u.name))
    return Learning(filters, min_n, level, scope.group_name, items, shown)
