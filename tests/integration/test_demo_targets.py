"""The demo's targets on the day a page judges, whatever day the demo is loaded on."""

from __future__ import annotations

import datetime as dt

import pytest

from survey.dashboard.filters import parse_filters
from survey.dashboard.steering import target_day
from survey.demo import DEMO_TARGETS, _targets
from survey.manage.targets import current_targets
from survey.tables import Office, Target


@pytest.mark.parametrize("day", [dt.date(2027, 1, 15), dt.date(2027, 2, 1), dt.date(2027, 7, 1)])
async def test_the_demo_s_targets_hold_on_the_day_its_default_pages_judge(
    demo: object, day: dt.date
) -> None:
    # in January (and on 1 February) the default period ends in December: until 2026-11-29 the
    # demo's targets held for the calendar year it was loaded in only, and January's pages of a
    # demo loaded in January showed no targets (found by faketime, r30)
    await Target.delete(force=True)
    await _targets(day)
    offices = {r["id"]: r["name"] for r in await Office.select(Office.id, Office.name)}
    judged = target_day(parse_filters({}, day), day)
    found = await current_targets(sorted(offices), judged)
    shown = {offices[office]: value for (office, item), value in found.items() if item == "_index"}
    assert shown == {name: value for name, value in DEMO_TARGETS if name in offices.values()}
    assert shown, "the core demo has offices with targets"
