"""The generalization ladder of the exports, on hand-built counts."""

from __future__ import annotations

import pytest

from survey.export.kanon import Cell, Ladder, generalize, smallest_class

JC = {1: 10, 2: 10, 3: 10, 9: 20}
LADDER = Ladder(k=5, grain="month", last_month="2026-06")


def _classes(outcome, counts) -> int | None:  # type: ignore[no-untyped-def]
    rows = []
    for cell, p in outcome.published.items():
        rows += [p.key()] * counts[cell]
    return smallest_class(rows)


def test_it_keeps_a_cell_of_k_responses_as_it_is() -> None:
    counts = {Cell(1, "benefits", "de", "personal", "2026-04"): 5}
    out = generalize(counts, JC, LADDER)
    (p,) = out.published.values()
    assert (p.step, p.office, p.month, p.language) == ("exact", 1, 4, "de")


def test_it_generalizes_month_then_office_then_language_then_suppresses() -> None:
    counts = {
        Cell(1, "benefits", "de", "personal", "2026-04"): 3,  # + May: quarter
        Cell(1, "benefits", "de", "personal", "2026-05"): 2,
        Cell(1, "benefits", "uk", "personal", "2026-04"): 2,  # + office 2: job centre
        Cell(2, "benefits", "uk", "personal", "2026-06"): 3,
        Cell(2, "benefits", "ps", "personal", "2026-05"): 1,  # rare languages: "other"
        Cell(3, "benefits", "fa", "personal", "2026-04"): 2,
        Cell(3, "benefits", "ar", "personal", "2026-06"): 2,
        Cell(3, "placement", "tr", "kiosk", "2026-05"): 1,  # alone at every step: suppressed
        Cell(3, "placement", "ro", "personal", "2026-04"): 2,  # + 3 more: service and mode go
        Cell(3, "under_25", "bg", "kiosk", "2026-06"): 3,
        Cell(9, "benefits", "ps", "personal", "2026-05"): 4,  # another job centre: never pooled
    }
    out = generalize(counts, JC, LADDER)
    steps = {c.language + c.month[-1] + str(c.office): p.step for c, p in out.published.items()}
    assert steps == {"de41": "quarter", "de51": "quarter", "uk41": "jobcentre",
                     "uk62": "jobcentre", "ps52": "language", "fa43": "language",
                     "ar63": "language", "tr53": "service_mode", "ro43": "service_mode",
                     "bg63": "service_mode"}  # fmt: skip
    # classes are formed among what is left: the lone kiosk response joins the ro and bg ones
    assert out.suppressed == {Cell(9, "benefits", "ps", "personal", "2026-05"): 4}
    tr = out.published[Cell(3, "placement", "tr", "kiosk", "2026-05")]
    assert tr.step == "service_mode" and tr.service_type is None and tr.mode is None
    assert out.by_step["service_mode"] == 6
    assert out.by_step["language"] == 5
    assert _classes(out, counts) >= 5


def test_it_waits_for_the_end_of_a_quarter_before_pooling_its_months() -> None:
    counts = {
        Cell(1, "benefits", "de", "personal", "2026-07"): 3,
        Cell(1, "benefits", "de", "personal", "2026-08"): 2,
        Cell(1, "benefits", "de", "personal", "2026-09"): 5,
    }
    running = generalize(counts, JC, Ladder(k=5, last_month="2026-08"))
    assert running.published == {}  # only the two complete months, both too small
    assert sum(running.pending.values()) == 5 and not running.suppressed
    over = generalize(counts, JC, Ladder(k=5, last_month="2026-09"))
    steps = sorted(p.step for p in over.published.values())
    assert steps == ["exact", "quarter", "quarter"] and not over.pending


def test_it_never_publishes_the_running_month() -> None:
    counts = {Cell(1, "benefits", "de", "personal", "2026-07"): 50}
    assert generalize(counts, JC, Ladder(last_month="2026-06")).published == {}


def test_a_quarter_grain_starts_at_quarters_and_uses_office_types_when_there_are_some() -> None:
    counts = {
        Cell(1, "benefits", "de", "personal", "2026-04"): 3,
        Cell(2, "benefits", "de", "personal", "2026-05"): 2,
        Cell(3, "benefits", "de", "personal", "2026-05"): 7,
    }
    out = generalize(counts, JC, Ladder(k=5, grain="quarter", last_month="2026-06"),
                     office_type_of={1: 100, 2: 100, 3: 200})  # fmt: skip
    by_office = {c.office: p for c, p in out.published.items()}
    assert by_office[3].step == "exact" and by_office[3].month is None
    assert by_office[1].step == by_office[2].step == "office_type"
    assert by_office[1].office is None and by_office[1].office_type == 100


async def test_kept_scopes_are_bounded_by_their_cells_and_renewed_by_the_stamp(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from survey.export import microdata
    from survey.export.queries import OfficeInfo

    class Reader:
        identity = "fake"
        stamp_value: tuple[int, ...] = (1,)
        counted = 0

        async def stamp(self, offices: object, last_day: object) -> tuple[int, ...]:
            return self.stamp_value

        async def cell_counts(self, offices: list[int], last_day: object) -> list[tuple]:  # type: ignore[type-arg]
            self.counted += 1
            return [(o, "benefits", "de", "personal", "2026-04", 1, 5) for o in offices]

    monkeypatch.setattr(microdata, "_decided", type(microdata._decided)())
    monkeypatch.setattr(microdata, "CACHED_CELLS", 2)
    reader = Reader()
    one = [OfficeInfo(1, "A", "A", 10, "JC", "jc")]
    two = [OfficeInfo(2, "B", "B", 10, "JC", "jc"), OfficeInfo(3, "C", "C", 10, "JC", "jc")]

    async def decide(offices: list[OfficeInfo]) -> None:
        await microdata.scope_outcome(reader, offices, "2026-06", k=5, grain="month")  # type: ignore[arg-type]

    await decide(one)
    await decide(one)
    assert reader.counted == 1  # kept
    await decide(two)  # 1 + 2 cells > 2: the older scope goes, the newest stays
    await decide(two)
    assert reader.counted == 2 and len(microdata._decided) == 1
    await decide(one)
    assert reader.counted == 3
    reader.stamp_value = (2,)  # the data changed
    await decide(one)
    assert reader.counted == 4
