"""The published index is the mean of its index items' published indices (issue 10): the
index's quarter-point classes are tilted to it, a table of the index without its items is
refused, and the noise terms the comparison allows for are what fresh noise gives."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.significance import midranks, mw_noise_variance
from survey.dashboard.disclosure import (
    FIRST_NOISE,
    INDEX_GRID,
    INDEX_LEVELS,
    MAX_NOISE,
    Grid,
    nonnegative,
    protect,
    retarget,
    retarget_rows,
    with_index_items,
)
from survey.dashboard.queries import CountRow
from survey.questionnaire import INDEX_ITEM, INDEX_ITEMS, INDEX_SCALE

ITEMS = list(INDEX_ITEMS)
X17 = 100 * (np.asarray(INDEX_LEVELS) - 1) / 4
X5 = np.array([0.0, 25, 50, 75, 100])
STEP = X17[1]
"""One class of the composite on the index scale (6.25 points)."""


def _answers(rng: np.random.Generator, n: int, shift: float = 0.0) -> np.ndarray:
    """n respondents' answers (1–5) to the seven index items, correlated as real ones are."""
    latent = 3.6 + shift + rng.normal(0, 0.9, n)
    return np.clip(np.rint(latent[:, None] + rng.normal(0, 0.7, (n, len(ITEMS)))), 1, 5)


def _rows(office: int, month: str, answers: np.ndarray, keys: np.ndarray) -> list[CountRow]:
    """The count rows the database gives for these respondents (NaN: item not answered)."""
    cells: dict[tuple[str, int], list[int]] = {}
    for person, row in enumerate(answers):
        given = row[~np.isnan(row)]
        composite = int(given.sum() * INDEX_SCALE // given.size)
        for item, value in [(INDEX_ITEM, composite), *zip(ITEMS, row.tolist(), strict=True)]:
            if value == value:  # not NaN
                cell = cells.setdefault((item, int(value)), [0, 0])
                cell[0] += 1
                cell[1] += int(keys[person])
    return [CountRow(office, i, v, month, n, k) for (i, v), (n, k) in cells.items()]


def _index(counts: np.ndarray, x: np.ndarray) -> float:
    return float(counts @ x / counts.sum())


def test_a_table_of_the_index_without_its_items_is_refused() -> None:
    with pytest.raises(ValueError, match="index items"):
        Grid((1,), ("2026-03",), {INDEX_ITEM: INDEX_LEVELS})
    without_one = {k: v for k, v in INDEX_GRID.items() if k != "waiting"}
    with pytest.raises(ValueError, match="waiting"):
        Grid((1,), ("2026-03",), without_one)
    assert with_index_items(["overall", INDEX_ITEM]) == ("overall", INDEX_ITEM, *ITEMS[:-1])
    assert with_index_items(["overall"]) == ("overall",), "no index: nothing added"
    Grid((1,), ("2026-03",), {"overall": (1, 2, 3, 4, 5)})  # an item alone is fine


def test_the_published_index_is_the_mean_of_the_item_indices_and_keeps_n() -> None:
    rng = np.random.default_rng(20261129)
    few = _answers(rng, 40, -0.4)
    few[3:, ITEMS.index("waiting")] = np.nan  # three answers: below the minimum
    rows = [*_rows(1, "2026-03", _answers(rng, 60), rng.integers(0, 2**31, 60)),
            *_rows(2, "2026-03", few, rng.integers(0, 2**31, 40))]  # fmt: skip
    table = protect(rows, Grid((1, 2), ("2026-03",), INDEX_GRID, min_n=10))
    for offices in ([1], [2], [1, 2]):
        counts = table.counts(INDEX_ITEM, offices, ["2026-03"])
        n = counts.sum()
        assert n == table.n(INDEX_ITEM, offices, ["2026-03"]) and (counts >= 0).all()
        items = [table.counts(i, offices, ["2026-03"]) for i in ITEMS]
        means = [_index(c, X5) for c in items if c.sum() >= 10]
        assert len(means) == (6 if offices == [2] else 7), "the withheld item is left out"
        assert _index(counts, X17) == pytest.approx(np.mean(means), abs=STEP / 2 / n + 1e-9)
    both = table.n(INDEX_ITEM, [1, 2], ["2026-03"])
    assert both == table.n(INDEX_ITEM, [1], ["2026-03"]) + table.n(INDEX_ITEM, [2], ["2026-03"])


def test_whole_counts_are_tilted_to_any_mean_within_half_a_class() -> None:
    rng = np.random.default_rng(7)
    for _ in range(300):
        n = int(rng.integers(1, 200))
        counts = np.bincount(rng.integers(8, 12, n), minlength=17).astype(float)
        mean = float(rng.uniform(1, 5))  # also far outside the classes the counts use
        out = retarget(counts, INDEX_LEVELS, mean)
        assert out.sum() == n and (out >= 0).all() and np.array_equal(out, np.round(out))
        assert abs(out @ np.asarray(INDEX_LEVELS) / n - mean) <= 0.125 / n + 1e-9


def test_the_index_noise_and_its_covariance_are_what_fresh_noise_gives() -> None:
    """One office, 50 respondents in January and 50 in February (each month a block), the
    same answers and 200 draws of record keys: the published indices vary as `index_noise`
    says, their difference as the two variances and `index_covariance` say (negative: the
    running total at the end of January enters both), and far less than the 17 classes' own
    noise would move their mean (19 times less over 1,000 draws)."""
    rng = np.random.default_rng(11)
    answers = {m: _answers(rng, 50) for m in ("2026-01", "2026-02")}
    grid = Grid((1,), ("2026-01", "2026-02"), INDEX_GRID, min_n=10)
    jan, feb, said, shared, classes = [], [], [], [], []
    for _ in range(200):
        rows = [r for m, a in answers.items() for r in _rows(1, m, a, rng.integers(0, 2**31, 50))]
        table = protect(rows, grid)
        jan.append(_index(table.counts(INDEX_ITEM, [1], ["2026-01"]), X17))
        feb.append(_index(table.counts(INDEX_ITEM, [1], ["2026-02"]), X17))
        said.append([table.index_noise([1], [m]) for m in ("2026-01", "2026-02")])
        shared.append(table.index_covariance([1], ["2026-01"], ["2026-02"]))
        c = table.counts(INDEX_ITEM, [1], ["2026-02"])
        nu = table.noise_variance(INDEX_ITEM, [1], ["2026-02"])
        classes.append(nu * float(((X17 - _index(c, X17)) ** 2).sum()) / c.sum() ** 2)
    v_jan, v_feb = np.mean(said, axis=0)
    cov = float(np.mean(shared))
    assert cov < 0
    for found, expected in ((np.var(jan), v_jan), (np.var(feb), v_feb),
                            (np.var(np.subtract(feb, jan)), v_jan + v_feb - 2 * cov)):  # fmt: skip
        assert 0.7 * expected <= found <= 1.4 * expected, (found, expected)
    assert np.mean(classes) > 10 * v_feb


def test_the_rank_noise_of_tilted_counts_is_what_mw_noise_variance_says() -> None:
    """Under the null (an office and the rest with the same shares), level noise of variance 1
    cut at zero (`nonnegative`) and then tilted to a mean with noise of its own (`retarget`),
    400 draws: U − n1·n2/2 of the published counts varies as `mw_noise_variance` with the
    means' noise says or somewhat less (0.77 here: the noise of empty levels is cut at zero;
    a test allowing for it is not liberal), and less than the plain level noise would give
    it (most of U's noise is not along the mean: its mid-ranks are flat where few answer)."""
    rng = np.random.default_rng(3)
    shares = np.array([0, 0, 0, 1, 2, 3, 5, 8, 10, 12, 13, 14, 12, 9, 6, 3, 2], float)
    a, b = np.round(300 * shares / shares.sum()), np.round(1500 * shares / shares.sum())
    v_a, v_b = 0.07, 0.003  # the published means' noise variances (index points²)
    values = np.arange(-MAX_NOISE, MAX_NOISE + 1)
    u = []
    for _ in range(400):
        out = []
        for counts, v in ((a, v_a), (b, v_b)):
            noisy = nonnegative(counts + rng.choice(values, 17, p=FIRST_NOISE), INDEX_LEVELS)
            mean = _index(counts, X17) + rng.normal(0, np.sqrt(v))
            out.append(retarget(noisy, INDEX_LEVELS, 1 + 4 * mean / 100))
        pa, pb = out
        u.append(float(pa @ midranks(pa + pb)) - pa.sum() * (pa.sum() + 1) / 2
                 - pa.sum() * pb.sum() / 2)  # fmt: skip
    n1, n2 = np.array(a.sum()), np.array(b.sum())
    said = float(mw_noise_variance(a + b, n1, n2, np.array(1.0), np.array(1.0), scale=X17,
                                   sum_noise1=n1 * n1 * v_a, sum_noise2=n2 * n2 * v_b))  # fmt: skip
    plain = float(mw_noise_variance(a + b, n1, n2, np.array(1.0), np.array(1.0)))
    assert 0.65 * said <= float(np.var(u)) <= 1.1 * said, (np.var(u), said)
    assert said < plain


def test_the_index_of_every_office_tilted_at_once_is_each_tilted_alone() -> None:
    """`retarget_rows` against `retarget` row by row: small and large counts, empty rows,
    means inside, at and outside the levels used, far from the counts' own (many moves)."""
    rng = np.random.default_rng(11)
    levels = INDEX_LEVELS
    rows, means = [], []
    for k in range(400):
        size = int(rng.choice([0, 1, 3, 12, 60, 400, 3000]))
        p = rng.dirichlet(np.full(len(levels), rng.choice([0.1, 0.5, 2.0])))
        rows.append(rng.multinomial(size, p).astype(float))
        means.append(float(rng.uniform(0.5, 5.5)) if k % 3 else float(p @ levels) + 0.3)
    counts = np.array(rows)
    together = retarget_rows(counts, levels, means)
    for row, mean, found in zip(counts, means, together, strict=True):
        assert np.array_equal(found, retarget(row, levels, mean)), (row, mean)
    assert not np.array_equal(together, counts), "tilted"
    scale = (1.0, 2.0, 3.0, 4.0, 5.0)
    small = rng.integers(0, 9, (50, 5)).astype(float)
    wanted = rng.uniform(1, 5, 50).tolist()
    for row, mean, found in zip(small, wanted, retarget_rows(small, scale, wanted), strict=True):
        assert np.array_equal(found, retarget(row, scale, mean))
