"""The pooled figures learning from the best hides, decided with the numbers of responses it
read from its matrix (issue 17, q33), are those decided with each office's read again."""

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
