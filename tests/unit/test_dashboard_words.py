"""The time-to-verdict sentences say what the simulation promises: a verdict in 4 cases out of
5, never that a verdict could not come at all."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from survey.dashboard import words
from survey.dashboard.schemas import Forecast
from survey.i18n import translations


def test_a_verdict_beyond_the_horizon_is_a_4_in_5_promise_in_english_and_german() -> None:
    """r25: "even 36 months of answers would not make it clear" overstated the forecast, which
    only says the chance of a verdict stays below 4 in 5 within 36 months."""
    forecast = [Forecast(3.7, 5, None, None, 36), Forecast(5.0, 5, None, None, 36)]
    said = {
        locale: words.time_to_verdict(
            forecast,
            translations(locale, "staff").gettext,
            lambda value, locale=locale: words.number(value, locale),
        )
        for locale in ("en", "de")
    }
    assert said["en"].count("in 4 cases out of 5") == 2, said["en"]
    assert said["de"].count("in 4 von 5 Fällen") == 2, said["de"]
    assert "+3.7" in said["en"] and "+3,7" in said["de"]


def test_a_figure_written_again_is_not_formatted_again(monkeypatch: Any) -> None:
    """k27: babel's formatting was about 40 % of rendering a page (some 300 figures); a view
    read again writes the same values, now formatted once per process, the same text."""
    from babel.numbers import NumberPattern

    formatted: list[object] = []
    inner = NumberPattern.apply

    def apply(self: NumberPattern, value: Any, *args: Any, **kwargs: Any) -> str:
        formatted.append(value)
        return inner(self, value, *args, **kwargs)

    monkeypatch.setattr(NumberPattern, "apply", apply)
    words.number.cache_clear()
    first = [words.number(v, locale) for v in (72.345, -0.04, 1234.5) for locale in ("de", "en")]
    assert first == ["72,3", "72.3", "0,0", "0.0", "1.234,5", "1,234.5"]
    again = [words.number(v, locale) for v in (72.345, -0.04, 1234.5) for locale in ("de", "en")]
    assert again == first and len(formatted) == 6
    assert words.number(2, "de", 0) == "2" and words.number(2.0, "de", 0) == "2"


@given(
    st.floats(min_value=-1000, max_value=1000, allow_nan=False)
    | st.sampled_from([-0.05, 0.05, -0.005, 0.25, -0.5, 0.5, -0.0]),
    st.integers(min_value=0, max_value=2),
)
def test_a_figure_that_is_written_as_zero_has_no_sign(value: float, digits: int) -> None:
    """A tester saw "−0,0" as an office's change: babel rounds the decimal text half to even
    (-0.05 → -0.0), Python's `round` the binary value (round(-0.05, 1) → -0.1), and the sign
    was decided by the second ("+0,0" for 0.05). `number` and `sign` now decide it as babel
    writes the figure."""
    for locale in ("de", "en"):
        text = words.sign(value, digits) + words.number(value, locale, digits)
        shown = float(text.replace(".", "").replace(",", ".") if locale == "de" else
                      text.replace(",", ""))  # fmt: skip
        if shown == 0:
            assert text.lstrip("0.,") == "", (value, digits, text)
        else:
            assert text[0] == ("+" if value > 0 else "-"), (value, digits, text)
        assert abs(shown - value) <= 0.5 * 10**-digits + 1e-9, (value, digits, text)
