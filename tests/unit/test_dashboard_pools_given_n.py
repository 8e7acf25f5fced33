"""The pooled figures a page hides, decided once (issue 17, q33): learning from the best with
the numbers of responses it read from its matrix, the overview and the office page with the
index's pools `office_rows` decided; the same as decided again, office by office."""

from __future__ import annotations

import datetime as dt

from survey.dashboard import best, results
from survey.dashboard.disclosure import hidden_pools
from survey.dashboard.filters import parse_filters
from tests.unit.test_dashboard_page_work import MONTHS, _scope, _table


def test_the_pools_hidden_with_the_matrix_s_numbers_are_those_read_office_by_office() -> None:
    offices = [1, 2, 3, 4, 5, 6, 7]
    table = _table(6, offices)
    filters = parse_filters({"from": MONTHS[1], "to": MONTHS[-1]}, dt.date(2026, 3, 1))
    months = results.current_months(filters)
    for visible in ({1, 2, 3, 4, 5, 6, 7}, {3, 4}, {6}):
        scope = _scope(visible, offices)
        for item in results.SCALE_ITEMS:
            for matrix in (table.matrix(item.code, [[o] for o in offices], months), None):
                n_of = best._each_n(table, item.code, scope, months, matrix)
                assert hidden_pools(scope, table, months, 10, item.code, n_of) == \
                    hidden_pools(scope, table, months, 10, item.code)  # fmt: skip


def test_the_pools_an_overview_and_an_office_page_read_are_those_of_the_period() -> None:
    """`office_rows` keeps the index's hidden pools it decided (`Rows.pools`): the overview and
    the office page read them instead of deciding them again, the same pools."""
    offices = [1, 2, 3, 4, 5, 6, 7]
    filters = parse_filters({"from": MONTHS[1], "to": MONTHS[-1]}, dt.date(2026, 3, 1))
    months = results.current_months(filters)
    scope, table = _scope({3, 4}, offices), _table(7, offices)
    found = results.office_rows(scope, table, filters, 10, only=3)  # (of all: the same code)
    assert found.pools == hidden_pools(scope, _table(7, offices), months, 10)
