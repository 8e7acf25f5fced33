"""The work of a new overview made cheaper stays the same figures (issue 17, q30): what the
overview works out for every office at once equals, bit for bit, what it worked out office
by office before."""

from __future__ import annotations

import pytest

from tests.unit.test_dashboard_figure_work import CASES, MONTHS, _table

PAIRS = [
    (MONTHS[-12:-6], MONTHS[-6:]),  # a period and the one before it, in one year
    (MONTHS[9:15], MONTHS[15:21]),  # across the turn of the year
    (MONTHS[:12], MONTHS[12:]),  # two whole years
    (MONTHS[3:5], MONTHS[3:5]),  # the same months twice
    (MONTHS[-1:], MONTHS[-7:-1]),  # the later one first
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_every_office_s_index_covariance_worked_out_at_once_is_its_own(case: int) -> None:
    """`index_covariance_each` against `index_covariance` office by office, to the bit, on
    each of the six tables of the figure work's tests (each test builds its own case's):
    offices with and without index items in either period, offices the grid does not hold."""
    name, table, fresh = _table(case)
    offices = [*table.grid.offices, 99]
    for before, after in PAIRS:
        found = table.index_covariance_each(offices, before, after)
        assert found == [fresh.index_covariance([o], before, after) for o in offices], name
    assert table.index_covariance_each([], MONTHS[:3], MONTHS[3:6]) == []
