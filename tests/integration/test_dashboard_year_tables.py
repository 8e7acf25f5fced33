"""The protected tables of calendar years a process holds with the rolled-up counts
(survey/dashboard/routes.py, `_of_years`): a view's table put together from them is the table
`protect` makes from the view's count rows, for every period a view can ask (from the
January of its first year through any month), every single filter (one nobody answered in
included), the overview's items and every item of a detailed office; one year's table never
serves another view, office or item set."""

from __future__ import annotations

from litestar import Litestar

from survey.dashboard import results, rolled_counts, routes
from survey.dashboard.filters import (
    month_index,
    month_name,
    parse_filters,
    publication_day,
    published_through,
    today,
)
from survey.questionnaire import INDEX_ITEM, MODES, SERVICE_TYPES
from survey.tables import Office
from tests.conftest import ONE_ENGINE


@ONE_ENGINE  # counts put together, not read: both engines read alike (docs/testing.md)
async def test_tables_of_years_put_together_are_the_tables_protect_makes(
    app: Litestar, demo: object
) -> None:
    state = app.state
    offices = [r["id"] for r in await Office.select(Office.id).order_by(Office.id)]
    done = await routes._rolled(state)
    assert done.month is not None
    rolled = done.month.isoformat()[:7]
    erased = await rolled_counts.erased(state)
    assert await rolled_counts.held(state, offices, done) is not None
    published = published_through(publication_day(state.settings))
    min_n = state.settings.min_responses
    now = month_index(today().isoformat()[:7])
    lasts = [month_name(m) for m in range(now - 26, now + 1)]
    views = [{}, {"language": "de"}, {"language": "fa"}, {"mode": MODES[1]},
             *({"service_type": s} for s in SERVICE_TYPES)]  # fmt: skip
    item_sets = [(sorted({INDEX_ITEM, "overall", "recommend"}), None),
                 (list(routes.EVERY_ITEM), offices[1])]  # fmt: skip
    compared = together = 0
    for view in views:
        filters = parse_filters(view, today())
        every = not view or view == {"language": "de"}
        for items, detail in item_sets:
            for k, last in enumerate(lasts):
                if not every and k % 5:
                    continue
                for first in sorted({last[:4] + "-01", month_name(month_index(last) - 13)}):
                    grid, counted = results.view_grid(offices, items, first, last, min_n,
                                                      published)  # fmt: skip
                    closed = counted <= rolled
                    whole = await routes._protect(state, grid, filters, done, erased, counted,
                                                  closed, detail)  # fmt: skip
                    if not closed:
                        continue
                    made = await routes._of_years(state, grid, filters, done, erased, detail)
                    assert made.fingerprint() == whole.fingerprint(), (view, items, first, last)
                    compared += 1
                    together += len({m[:4] for m in grid.months}) > 1
    assert compared > 150 and together > 50
    assert len(rolled_counts.year_tables(state)) > 30, "held once per year, view and items"
