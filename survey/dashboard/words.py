"""Figures in plain words, the same on the page and in the CSV."""

from __future__ import annotations

import decimal
import functools
import math
from collections.abc import Callable, Sequence

from babel import Locale
from babel.numbers import NumberPattern, parse_pattern

from survey.dashboard.schemas import Forecast
from survey.i18n import N_

FIRST = N_(
    "If the true difference is as large as estimated now (%(diff)s points), about %(months)d "
    "months of answers would make it clear (in 4 cases out of 5)."
)
FIRST_BEYOND = N_(
    "If the true difference is as large as estimated now (%(diff)s points), even %(max)d "
    "months of answers would not make it clear in 4 cases out of 5."
)
TYPICAL = N_(
    "A difference of %(diff)s points would become clear with about %(months)d months of answers."
)
TYPICAL_BEYOND = N_(
    "Even a difference of %(diff)s points would not become clear in 4 cases out of 5 within "
    "%(max)d months."
)


@functools.lru_cache(maxsize=2**13, typed=True)
def number(value: float | None, locale: str, digits: int = 1) -> str:
    """A figure with `digits` decimals in the locale's way; one that rounds to zero is
    written without a sign ("0,0", not "-0,0"); None is empty. Kept per process (k27: a
    page writes some 300 figures, babel's formatting was about 40 % of rendering a page, and
    the figures of a view that is read again are the same values): the last 8,192, some
    2.5 MB outside the dashboard cache's count (r28: 65,536 took 19.6 MB), the figures of the
    views read most."""
    if value is None:
        return ""
    if value == 0 or (math.isfinite(value) and _rounded(value, digits) == 0):  # -0.0 too
        value = 0.0
    pattern, parsed = _format(locale, digits)
    return str(pattern.apply(value, parsed))


def sign(value: float, digits: int = 1) -> str:
    """A plus before a figure that `number` writes above zero; "" before the rest (a negative
    one has its minus, one that rounds to zero none)."""
    return "+" if value > 0 and math.isfinite(value) and _rounded(value, digits) > 0 else ""


def _rounded(value: float, digits: int) -> decimal.Decimal:
    """`value` rounded as babel rounds it when it writes it: its decimal text, half to even
    (Python's `round` rounds the binary value: round(-0.05, 1) is -0.1, babel writes -0.0)."""
    return decimal.Decimal(str(value)).quantize(decimal.Decimal(1).scaleb(-digits))


@functools.cache
def _format(locale: str, digits: int) -> tuple[NumberPattern, Locale]:
    """babel's `format_decimal` parses its locale and pattern on every call (a page formats
    some 300 figures): parsed once here, applied the same way."""
    return parse_pattern("#,##0." + "0" * digits if digits else "#,##0"), Locale.parse(locale)


def time_to_verdict(
    forecast: Sequence[Forecast], gettext: Callable[[str], str], num: Callable[[float], str]
) -> str:
    """The overview's time to verdict in one or two sentences: empty where there is a
    verdict."""
    out = []
    for i, f in enumerate(forecast):
        diff = sign(f.difference) + num(f.difference)
        if f.months is not None:
            text = FIRST if i == 0 else TYPICAL
            out.append(gettext(text) % {"months": f.months, "diff": diff})
        else:
            text = FIRST_BEYOND if i == 0 else TYPICAL_BEYOND
            out.append(gettext(text) % {"max": f.max_months, "diff": diff})
    return " ".join(out)
