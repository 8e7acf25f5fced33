"""Learning from the best on hand-built counts: who is named as clearly better on which
question, and what is never said (a small office, a worse office one may not see, a verdict
against a group that would give a single office away)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from survey.auth.schemas import OfficeRef, Scope
from survey.dashboard import best, results
from survey.dashboard.disclosure import INDEX_LEVELS, Grid, ProtectedTable, protect
from survey.dashboard.filters import parse_filters
from survey.dashboard.queries import CountRow
from survey.dashboard.schemas import Learning
from survey.questionnaire import INDEX_ITEM, INDEX_SCALE

RNG = np.random.default_rng(20261128)
MONTH = "2026-02"
CENTRES = {1: 10, 2: 10, 3: 20, 4: 20, 5: 30, 6: 30}
MIDDLE = [5, 10, 20, 15, 10]
SPECIAL = {
    (3, "respect"): [0, 0, 5, 15, 40],  # clearly better
    (4, "respect"): [30, 20, 5, 3, 2],  # clearly worse
}
SMALL = 6
"""Office 6 has 6 responses, all with the best answer to every question."""


def _cell(office: int, item: str, counts: list[int], levels: list[int]) -> list[CountRow]:
    return [
        CountRow(office, item, level, MONTH, n, int(RNG.integers(0, 2**31, n).sum()))
        for level, n in zip(levels, counts, strict=True)
        if n
    ]


def _table(offices: list[int]) -> ProtectedTable:
    rows: list[CountRow] = []
    for office in offices:
        for item in results.SCALE_ITEMS:
            levels = [int(v) for v in results.scale_levels(item.code)]
            if office == 6:
                counts = [0] * (len(levels) - 1) + [SMALL]
            elif len(levels) == 5:
                counts = SPECIAL.get((office, item.code), MIDDLE)
            else:  # the 0-10 recommend question
                counts = [2, 2, 3, 4, 5, 8, 8, 8, 8, 6, 6]
            rows += _cell(office, item.code, counts, levels)
        n = SMALL if office == 6 else 60
        rows += _cell(office, INDEX_ITEM, [n], [int(INDEX_SCALE * INDEX_LEVELS[6])])
    items = [INDEX_ITEM, *(i.code for i in results.SCALE_ITEMS)]
    return protect(rows, Grid(tuple(offices), (MONTH,), results.grid_levels(items), min_n=10))


def _scope(visible: set[int], offices: list[int], user: int = 1) -> Scope:
    group = tuple(
        OfficeRef(o, f"office {o}", f"O{o}", CENTRES[o], f"centre {CENTRES[o]}") for o in offices
    )
    return Scope(user, f"u{user}", "U", "de", ("manager",), frozenset(visible), group, "network")


FILTERS = parse_filters({"from": MONTH, "to": MONTH}, dt.date(2026, 3, 1))


def _learning(visible: set[int], offices: list[int], level: str = "office") -> Learning:
    level_ = "organization" if level == "organization" else "office"
    return best.learning(
        _scope(visible, offices), _table(offices), FILTERS, 10, level_, lambda t: t["de"]
    )


def _verdicts(learning: Learning, item: str) -> dict[int, str | None]:
    column = [i.item for i in learning.items].index(item)
    return {u.id: u.verdicts[column] for u in learning.units}


def test_a_manager_learns_who_is_clearly_better_on_each_question() -> None:
    learning = _learning({1}, [1, 2, 3, 4, 5, 6])
    respect = next(i for i in learning.items if i.item == "respect")
    assert respect.better == [3]
    assert respect.withheld is None
    assert [u.id for u in learning.units] == [1, 3]  # one's own office, then who is better
    own, other = learning.units
    assert own.own and all(v is not None for v in own.verdicts)
    assert not other.own
    assert _verdicts(learning, "respect")[3] == "better"
    assert {v for i, v in enumerate(other.verdicts) if learning.items[i].item != "respect"} == {
        None
    }


def test_the_coordinator_sees_strengths_and_weaknesses_of_every_office() -> None:
    learning = _learning({1, 2, 3, 4, 5, 6}, [1, 2, 3, 4, 5, 6])
    respect = _verdicts(learning, "respect")
    assert respect[3] == "better"
    assert respect[4] == "worse"
    assert respect[6] == "too few responses"
    assert len(learning.units) == 6
    centres = _learning({1, 2, 3, 4, 5, 6}, [1, 2, 3, 4, 5, 6], "organization")
    assert [u.id for u in centres.units] == [10, 20, 30]
    assert all(len(u.verdicts) == len(results.SCALE_ITEMS) for u in centres.units)


def test_an_office_with_too_few_responses_is_never_named_however_good() -> None:
    for visible in ({1}, {1, 2, 3, 4, 5, 6}):
        learning = _learning(visible, [1, 2, 3, 4, 5, 6])
        assert all(6 not in i.better for i in learning.items)


def test_an_office_one_may_not_see_is_never_shown_as_worse() -> None:
    learning = _learning({1}, [1, 2, 3, 4, 5, 6])
    assert 4 not in [u.id for u in learning.units]
    assert all(v in (None, "better") for u in learning.units if not u.own for v in u.verdicts)


def test_no_verdict_against_a_group_that_would_give_one_office_away() -> None:
    # two offices: the group minus one's own office is the other office
    pair = _learning({1}, [1, 3])
    assert all(i.withheld and not i.better for i in pair.items)
    assert [u.id for u in pair.units] == [1]
    assert set(pair.units[0].verdicts) == {"withheld"}
    # office 3 against the rest {1, 2, 5}: without the offices one sees, office 5 alone
    rest = _learning({1, 2}, [1, 2, 3, 5])
    respect = next(i for i in rest.items if i.item == "respect")
    assert respect.withheld is None
    assert 3 not in respect.better


def test_the_learning_table_is_kept_per_table_and_scope_and_never_given_to_another_scope(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    offices = [1, 2, 3, 4, 5, 6]
    table = _table(offices)
    fits: list[int] = []
    fit = best.group_model
    monkeypatch.setattr(best, "group_model", lambda *a, **k: fits.append(1) or fit(*a, **k))
    monkeypatch.setattr(best, "_kept", type(best._kept)())
    coordinator, manager = _scope(set(offices), offices, 1), _scope({1}, offices, 2)

    def learn(scope: Scope, on: ProtectedTable, text: str = "de") -> Learning:
        return best.learning(scope, on, FILTERS, 10, "office", lambda t: t[text])

    first = learn(coordinator, table)
    computed = len(fits)
    assert computed == len(results.SCALE_ITEMS)  # one model per question
    again = learn(coordinator, table, "en")
    assert len(fits) == computed, "the same table and scope: kept, not computed again"
    assert again.units == first.units and [i.text for i in again.items] != [
        i.text for i in first.items
    ], "the same verdicts with the texts of the page's language"
    mine = learn(manager, table)  # the same table, another scope: its own verdicts
    assert len(fits) == 2 * computed
    assert 4 not in [u.id for u in mine.units], "never the coordinator's 'worse' of office 4"
    monkeypatch.setattr(best, "_kept", type(best._kept)())
    assert learn(manager, table) == mine, "what is kept is what would be computed"
    # the same answers with other record keys: other published cells, so computed again
    before = len(fits)
    learn(manager, _table(offices))
    assert len(fits) == before + computed
    first.units[0].verdicts[0] = None  # a page changing what it got changes nothing kept
    assert learn(coordinator, table).units[0].verdicts[0] is not None


def test_the_fingerprint_changes_with_every_published_cell_and_nothing_else() -> None:
    offices = [1, 2, 3]
    table = _table(offices)
    assert table.fingerprint() == table.fingerprint()
    assert _table(offices).fingerprint() != table.fingerprint()  # other record keys: noise
    months = protect([], Grid((1, 2, 3), (MONTH,), results.grid_levels(["respect"]), min_n=10))
    later = protect([], Grid((1, 2, 3), (MONTH,), results.grid_levels(["respect"]), min_n=10,
                         published_through=MONTH))  # fmt: skip
    assert months.fingerprint() != later.fingerprint()
