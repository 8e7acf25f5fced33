"""An item's sums kept for several offices at once are read back at once (issue 17, q31):
`_each_counts` of the offices `_keep_each` kept together is the matrix it kept, the same bits
as reading each office's kept figure (the code before), and a copy of it."""

from __future__ import annotations

import numpy as np

from survey.dashboard.disclosure import index_matrices
from survey.questionnaire import INDEX_ITEM, INDEX_ITEMS
from tests.unit.test_dashboard_figure_work import MONTHS, _table


def test_the_sums_kept_together_are_read_back_as_each_office_kept() -> None:
    _, table, alone = _table(0)
    offices = (*table.grid.offices, 99)  # one office the grid does not hold
    for months in (MONTHS[-6:], MONTHS[3:5]):
        index_matrices([table], [[o] for o in offices], months)
        for code in INDEX_ITEMS:
            assert (code, offices, months) in table._rows, "kept together"
            found = table._each_counts(code, offices, months)
            # the code before: each office's kept figure, one after the other
            before = np.array([alone.counts(code, [o], months) for o in offices])
            assert found.tobytes() == before.tobytes()
            found[:] = -1.0  # a copy: what is kept does not change
            assert table._each_counts(code, offices, months).tobytes() == before.tobytes()
        assert all(key[0] != INDEX_ITEM for key in table._rows), "the index is tilted after"
        assert [m.tobytes() for m in index_matrices([table], [[o] for o in offices], months)] == [
            m.tobytes() for m in index_matrices([alone], [[o] for o in offices], months)
        ]
