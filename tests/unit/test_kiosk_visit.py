"""The no-JS kiosk's visit keys: the id a visit's form gets is made under a key of this process
that is replaced every few hours, so the tablet's history can later be joined to no response."""

from __future__ import annotations

import pytest

from survey.respond import visit


def test_a_visit_is_recognised_across_one_change_of_key_and_never_after_two(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(visit.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(visit, "_keys", [])
    key = visit.new_visit()
    first = visit.visit_submission_id("tok", key)
    assert visit.visit_submission_id("tok", key) == first, "the same key, the same id"
    assert visit.visit_submission_id("other", key) != first, "bound to the link"
    assert visit.visit_submission_id("tok", visit.new_visit()) != first
    clock[0] += visit.KEY_HOURS * 3600 - 1
    assert visit.visit_submission_ids("tok", key) == [first]
    clock[0] += 1  # a new key: the form served now gets another id, the old one still counts
    assert visit.visit_submission_id("tok", key) != first
    assert first in visit.visit_submission_ids("tok", key)
    clock[0] += visit.KEY_HOURS * 3600  # the key that made it is gone
    assert first not in visit.visit_submission_ids("tok", key)
    assert len(visit.visit_submission_ids("tok", key)) == 2


def test_a_key_past_its_time_is_dropped_however_long_nobody_used_the_kiosk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """r25: keys changed only when a form was opened, so after a quiet weekend a Friday
    visit was still recognised 71 hours later."""
    clock = [1000.0]
    monkeypatch.setattr(visit.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(visit, "_keys", [])
    key = visit.new_visit()
    friday = visit.visit_submission_id("tok", key)
    clock[0] += 71 * 3600  # nobody opened a kiosk form since
    assert friday not in visit.visit_submission_ids("tok", key)
    assert len(visit._keys) == 1, "only the new key is held"
