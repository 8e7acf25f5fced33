"""Dashboard filters: the default period, the previous period, and reasons for bad input."""

from __future__ import annotations

import datetime as dt

import pytest

from survey.dashboard.figures import months_between, parse_filters
from survey.errors import BadRequest

TODAY = dt.date(2026, 11, 24)


def test_it_defaults_to_the_last_twelve_months_and_the_twelve_before() -> None:
    f = parse_filters({}, TODAY)
    assert (f.date_from, f.date_to) == (dt.date(2025, 12, 1), TODAY)
    assert (f.previous_from, f.previous_to) == (dt.date(2024, 12, 1), dt.date(2025, 11, 30))
    assert f.recent_from == dt.date(2026, 10, 28) and f.recent_days == 28
    assert f.service_type is f.locale is f.mode is None


def test_it_takes_a_period_and_the_filter_values() -> None:
    f = parse_filters(
        {"from": "2026-03-01", "to": "2026-03-31", "service_type": "placement",
         "language": "ar", "mode": "kiosk"},
        TODAY,
    )  # fmt: skip
    assert (f.previous_from, f.previous_to) == (dt.date(2026, 1, 29), dt.date(2026, 2, 28))
    assert (f.service_type, f.locale, f.mode) == ("placement", "ar", "kiosk")
    january = parse_filters({"to": "2027-01-15"}, TODAY)
    assert (january.date_from, january.previous_from) == (dt.date(2026, 2, 1), dt.date(2025, 2, 1))


@pytest.mark.parametrize(
    "params, reason",
    [
        ({"from": "2026-13-01"}, "from must be a date"),
        ({"to": "soon"}, "to must be a date"),
        ({"from": "2026-05-02", "to": "2026-05-01"}, "must not end before it starts"),
        ({"from": "2020-01-01", "to": "2026-01-01"}, "at most three years"),
        ({"from": "1990-01-01", "to": "1990-02-01"}, "between the years 2000 and 2100"),
        ({"service_type": "astrology"}, "service_type must be one of"),
        ({"language": "klingon"}, "language must be one of"),
        ({"mode": "fax"}, "mode must be one of"),
    ],
)
def test_it_refuses_bad_filters_with_a_reason(params: dict[str, str], reason: str) -> None:
    with pytest.raises(BadRequest, match=reason):
        parse_filters(params, TODAY)


def test_it_lists_the_months_of_a_period() -> None:
    assert months_between(dt.date(2025, 11, 25), dt.date(2026, 2, 1)) == [
        "2025-11", "2025-12", "2026-01", "2026-02",
    ]  # fmt: skip
