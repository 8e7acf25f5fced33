"""Dashboard filters: whole months, the previous period, one filter, reasons for bad input."""

from __future__ import annotations

import datetime as dt

import pytest

from survey.dashboard.filters import filter_query, months_between, parse_filters
from survey.errors import BadRequest

TODAY = dt.date(2026, 11, 24)


def test_it_defaults_to_the_last_twelve_months_that_are_over_and_the_twelve_before() -> None:
    f = parse_filters({}, TODAY)
    assert (f.first_month, f.last_month) == ("2025-11", "2026-10")
    assert (f.previous_first_month, f.previous_last_month) == ("2024-11", "2025-10")
    assert parse_filters({"to": "2026-11"}, TODAY).last_month == "2026-11", "asked for: shown"
    assert f.service_type is f.locale is f.mode is f.dimension is None


def test_it_takes_whole_months_and_one_filter_value() -> None:
    f = parse_filters({"from": "2026-03", "to": "2026-04", "language": "ar"}, TODAY)
    assert (f.previous_first_month, f.previous_last_month) == ("2026-01", "2026-02")
    assert (f.dimension, f.value) == ("locale", "ar")
    assert filter_query(f) == {"from": "2026-03", "to": "2026-04", "language": "ar"}
    edges = parse_filters({"from": "2026-03-01", "to": "2026-03-31"}, TODAY)
    assert (edges.first_month, edges.last_month) == ("2026-03", "2026-03")
    leap = parse_filters({"from": "2024-02-01", "to": "2024-02-29"}, TODAY)
    assert leap.previous_first_month == "2024-01"
    one = parse_filters({"filter": "mode:kiosk"}, TODAY)
    assert (one.dimension, one.value) == ("mode", "kiosk")
    assert parse_filters({"to": "2026-01"}, TODAY).first_month == "2025-02"


@pytest.mark.parametrize(
    "params, reason",
    [
        ({"from": "2026-13"}, "whole months"),
        ({"to": "soon"}, "whole months"),
        ({"from": "２０２６-01"}, "whole months"),
        ({"from": "2026-03-02"}, "whole months"),
        ({"to": "2026-02-28x"}, "whole months"),
        ({"to": "2024-02-28"}, "whole months"),
        ({"from": "2026-05", "to": "2026-04"}, "must not end before it starts"),
        ({"from": "2020-01", "to": "2026-01"}, "at most three years"),
        ({"from": "1990-01", "to": "1990-02"}, "between the years 2000 and 2100"),
        ({"to": "2026-12"}, "must not end after the current month"),
        ({"service_type": "astrology"}, "service_type must be one of"),
        ({"language": "klingon"}, "language must be one of"),
        ({"mode": "fax"}, "mode must be one of"),
        ({"language": "ar", "mode": "kiosk"}, "one filter at a time"),
        ({"filter": "language:ar", "language": "de"}, "one filter at a time"),
        ({"filter": "language"}, "filter must be one of"),
    ],
)
def test_it_refuses_bad_filters_with_a_reason(params: dict[str, str], reason: str) -> None:
    with pytest.raises(BadRequest, match=reason):
        parse_filters(params, TODAY)


def test_it_lists_the_months_of_a_period() -> None:
    assert months_between("2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]
