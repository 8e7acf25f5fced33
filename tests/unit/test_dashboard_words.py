"""The time-to-verdict sentences say what the simulation promises: a verdict in 4 cases out of
5, never that a verdict could not come at all."""

from __future__ import annotations

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
