"""The office page's and the benchmark's work of a new view made cheaper stays the same
figures (issue 17, k30): learning from the best, the office page's trend, item shares and
pools worked out at once equal, bit for bit, what the code before worked out one by one
(kept here as the reference); the kept rows a request makes are written once its answer
is sent."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any, Literal

import numpy as np
import pytest

from survey.auth.schemas import OfficeRef, Scope
from survey.dashboard import best, results, stored
from survey.dashboard.disclosure import (
    INDEX_LEVELS,
    Grid,
    ProtectedTable,
    hidden_pools,
    pooled_figure_hidden,
    protect,
)
from survey.dashboard.filters import parse_filters
from survey.dashboard.queries import CountRow
from survey.questionnaire import INDEX_ITEM, INDEX_SCALE

MONTHS = ("2025-11", "2025-12", "2026-01", "2026-02")
CENTRES = {1: 10, 2: 10, 3: 20, 4: 20, 5: 30, 6: 30, 7: 30}
ITEMS = [INDEX_ITEM, *(i.code for i in results.SCALE_ITEMS)]


def _table(seed: int, offices: list[int]) -> ProtectedTable:
    """Random counts of every item: offices of a few responses a month, and of hundreds."""
    rng = np.random.default_rng(seed)
    rows = []
    for office in offices:
        size = float(rng.choice([2.0, 12.0, 60.0]))
        tilt = rng.uniform(0.3, 3.0, 11)
        for month in MONTHS:
            for item in ITEMS:
                if item == INDEX_ITEM:
                    values = [int(INDEX_SCALE * v) for v in INDEX_LEVELS[4:]]
                else:
                    values = [int(v) for v in results.scale_levels(item)]
                for k, v in enumerate(values):
                    n = int(rng.poisson(size * tilt[k % 11] / len(values)))
                    if n:
                        rows.append(CountRow(office, item, v, month, n, int(rng.integers(2**40))))
    return protect(rows, Grid(tuple(offices), MONTHS, results.grid_levels(ITEMS), min_n=10))


def _scope(visible: set[int], offices: list[int]) -> Scope:
    group = tuple(
        OfficeRef(o, f"office {o}", f"O{o}", CENTRES[o], f"centre {CENTRES[o]}") for o in offices
    )
    return Scope(1, "u1", "U", "de", ("manager",), frozenset(visible), group, "network")


def _old_verdicts(
    scope: Scope, table: ProtectedTable, months: list[str], min_n: int,
    level: Literal["office", "organization"],
) -> tuple[Any, ...]:  # fmt: skip
    """`best._verdicts` before k30: the model's verdict asked unit by unit
    (`results.model_verdict`) and each office's n read one by one (`table.n`)."""
    units, visible = results.comparison_units(scope, level)
    everyone = frozenset(o.id for o in scope.group)
    verdicts: dict[int, list[Any]] = {uid: [] for uid, _, _ in units}
    items = []
    for item in results.SCALE_ITEMS:
        code = item.code
        matrix = table.matrix(code, [ids for _, _, ids in units], months)
        noise = results.index_noise(table, [ids for _, _, ids in units], months, code)
        model = results.group_model(
            results.CountTable([str(u) for u, _, _ in units], list(results.scale_levels(code)),
                               matrix),
            min_n, index_noise=noise, intervals=False,
        )  # fmt: skip
        pools = hidden_pools(scope, table, months, min_n, code)
        n_of = {o.id: table.n(code, [o.id], months) for o in scope.group}
        known = [frozenset({o.id}) for o in scope.visible_offices if n_of[o.id] >= min_n]
        known += [pool for pool, reason in pools.items() if reason is None]
        better = []
        for (uid, _, ids), effect in zip(units, model.offices, strict=True):
            said = results.model_verdict(effect, model, min_n)
            if effect.n < min_n:
                verdict = results.TOO_FEW
            elif (
                pools[everyone]
                or pools.get(frozenset(ids))
                or pooled_figure_hidden(scope, everyone - set(ids), known, n_of, min_n)
            ):
                verdict = results.WITHHELD
            else:
                verdict = best.WORDS.get(said, results.TOO_FEW)
            if verdict == "better":
                better.append(uid)
            verdicts[uid].append(verdict if uid in visible or verdict == "better" else None)
        items.append((code, tuple(better), pools[everyone] or None))
    return tuple(items), tuple(sorted((uid, tuple(v)) for uid, v in verdicts.items()))


@pytest.mark.parametrize(
    ("seed", "visible", "level"),
    [(1, {1, 2, 3, 4, 5, 6, 7}, "office"), (2, {3, 4}, "office"), (3, {1, 2}, "organization")],
)
def test_learning_from_the_best_says_what_it_said_unit_by_unit(
    seed: int, visible: set[int], level: Literal["office", "organization"]
) -> None:
    offices = [1, 2, 3, 4, 5, 6, 7]
    scope, table = _scope(visible, offices), _table(seed, offices)
    filters = parse_filters({"from": MONTHS[1], "to": MONTHS[-1]}, dt.date(2026, 3, 1))
    months = results.current_months(filters)
    items, units = best._verdicts(scope, table, filters, 10, level)
    old_items, old_units = _old_verdicts(scope, _table(seed, offices), months, 10, level)
    assert [(i.code, i.better, i.withheld) for i in items] == list(old_items)
    said = dict(old_units)
    assert units and all(u.verdicts == said[u.id] for u in units)


@pytest.mark.parametrize("seed", [4, 5])
def test_an_office_page_s_trend_items_and_pools_are_those_worked_out_one_by_one(seed: int) -> None:
    offices = [1, 2, 3, 4, 5]
    table = _table(seed, offices)
    for office in offices:
        months = list(MONTHS)
        assert repr(results.month_indices(table, office, months, 10)) == repr(
            [results.month_index(table, office, m, 10) for m in months]
        )
        asked = [(results.scale_levels(i), table.counts(i, [office], months)) for i in ITEMS[1:]]
        assert results._item_shares(asked, 10) == [
            (results._r(results.satisfaction_index(vec, levels).value),
             results._r(results.top_box(vec, 2).value) if len(levels) >= 4 else None)
            if vec.sum() >= 10 else (None, None)
            for levels, vec in asked
        ]  # fmt: skip
    assert results.month_indices(table, 1, [], 10) == []


def test_a_request_s_kept_rows_are_written_once_its_answer_is_sent() -> None:
    said: list[str] = []

    async def write(name: str) -> None:
        said.append(f"write {name}")

    async def app(scope: Any, receive: Any, send: Any) -> None:
        stored._later("a", write("a"))
        await asyncio.sleep(0)  # the rest of the answer's work
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"page"})

    async def send(message: Any) -> None:
        said.append(message["type"])

    async def run() -> None:
        await stored.after_answer(app)({"type": "http"}, None, send)
        await stored.settled()  # started before the answer returned: waited for
        stored._later("b", write("b"))  # outside a request: at once, as before
        await stored.settled()

    asyncio.run(run())
    assert said == ["http.response.start", "http.response.body", "write a", "write b"]
