"""The office page's work of a new view made cheaper stays the same figures (issue 17, q36):
what it works out now equals, bit for bit, what the code of f7fd22a worked out (kept here as
the reference)."""

from __future__ import annotations

import numpy as np
from plotly.colors import sample_colorscale

from analysis.charts import _diverging_palette
from survey.dashboard.disclosure import _holds_any


def _old_palette(n_levels: int) -> list[str]:
    """`analysis.charts._diverging_palette` of f7fd22a."""
    if n_levels == 1:
        return ["#92c5de"]
    return list(sample_colorscale("RdBu", np.linspace(0.05, 0.95, n_levels).tolist()))


def test_the_bars_colours_sampled_once_are_those_sampled_each_time() -> None:
    for n_levels in range(1, 18):
        assert list(_diverging_palette(n_levels)) == _old_palette(n_levels), n_levels
        assert _diverging_palette(n_levels) is _diverging_palette(n_levels)


def test_a_store_holds_any_of_the_keys_as_the_keys_looked_up_one_by_one_say() -> None:
    """`_holds_any` against the lookups it replaces in `_index_at_once`, with stores smaller
    and larger than the keys, empty, and holding one of them at either end."""
    months = ("2026-01", "2026-02")
    keys = {(code, (o,), months) for code in ("_index", "respect") for o in (1, 2, 3)}
    other = {("_index", (o,), ("2026-03",)): o for o in range(50)}
    stores: list[dict[object, object]] = [{}, {("respect", (2,), months): 1}, other,
                                          other | {("_index", (3,), months): 0},
                                          {("_index", (1, 2), months): 0}]  # fmt: skip
    for store in stores:
        old = any((code, (o,), months) in store for code in ("_index", "respect")
                  for o in (1, 2, 3))  # fmt: skip
        assert _holds_any(store, keys) == old
    assert [_holds_any(s, keys) for s in stores] == [False, True, False, True, False]
