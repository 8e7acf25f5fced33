"""Locale negotiation, gettext catalogs (compiled from the .po files when first used), and
dates and numbers formatted for a locale."""

from __future__ import annotations

import datetime as dt
import gettext
import io
from collections.abc import Iterable
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError, dates, numbers
from babel.core import negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
DEFAULT_LOCALE = "de"
UI_LOCALES = ("de", "en")
"""Languages of the staff pages."""
RESPOND_LOCALES = ("de", "de-x-ls", "en", "uk", "ar", "tr", "ru", "fa", "ps", "pl", "ro", "bg")
"""Languages a respondent can choose (BCP 47); de-x-ls is German in Leichte Sprache."""
SOURCE_LOCALE = "en"
"""The language of the msgids in the gettext catalogs."""
OWN_NAMES = {"de-x-ls": "Leichte Sprache"}
"""Names babel's locale data does not know."""
ALIASES = {"prs": "fa", "pbt": "ps", "pbu": "ps", "pst": "ps"}
"""ISO 639-3 codes browsers send for Dari and the Pashto varieties."""


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated where it is shown."""
    return message


def parse_accept_language(header: str | None) -> list[str]:
    """Language tags of an Accept-Language header, best first (q=0 dropped)."""
    if not header:
        return []
    weighted: list[tuple[float, int, str]] = []
    for pos, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and tag != "*" and quality > 0:
            weighted.append((-quality, pos, tag.strip()))
    return [tag for _, _, tag in sorted(weighted)]


def negotiate(requested: str | None, accept_language: str | None, available: Iterable[str]) -> str:
    """`?lang=` if available, else the best Accept-Language match, else German."""
    return _negotiate(requested, accept_language, tuple(available))


@lru_cache(maxsize=1024)
def _negotiate(requested: str | None, accept_language: str | None, choices: tuple[str, ...]) -> str:
    """Memoized: browsers send a handful of distinct headers, and babel's matching is slow."""
    if requested:
        exact = {c.lower(): c for c in choices}.get(requested.lower())
        if exact:
            return exact
    preferred = ([requested] if requested else []) + parse_accept_language(accept_language)
    preferred = [ALIASES.get(p.split("-")[0].lower(), p) for p in preferred]
    found = negotiate_locale(preferred, choices, sep="-") if preferred else None
    if found is None and preferred:
        # babel matches "de-AT" to "de" only through aliases; try the primary subtags too
        primaries = [p.split("-")[0].split("_")[0] for p in preferred]
        found = negotiate_locale(primaries, choices, sep="-")
    return found or (DEFAULT_LOCALE if DEFAULT_LOCALE in choices else choices[0])


def html_lang(locale: str) -> str:
    """The `lang` attribute: private-use tags such as de-x-ls are announced as their language."""
    return locale.split("-x-")[0]


def babel_locale(locale: str) -> Locale:
    """babel's Locale for a BCP 47 tag (de-x-ls -> de); German when babel does not know it."""
    try:
        return Locale.parse(html_lang(locale), sep="-")
    except (ValueError, TypeError, UnknownLocaleError):
        return Locale.parse(DEFAULT_LOCALE)


def text_direction(locale: str) -> str:
    return babel_locale(locale).text_direction


def language_name(locale: str, in_language: str | None = None) -> str:
    """The language's name in its own language and script ("العربية", "Leichte Sprache"), or
    in `in_language` ("Arabisch" in German, "Arabic" in English) for staff pages."""
    if locale in OWN_NAMES:
        german = in_language is None or in_language.startswith("de")
        return OWN_NAMES[locale] if german else f"Easy German ({OWN_NAMES[locale]})"
    try:
        name = Locale.parse(html_lang(locale), sep="-").get_display_name(in_language) or locale
    except (ValueError, TypeError, UnknownLocaleError):
        return locale
    return name[:1].upper() + name[1:]


def format_number(value: float | Decimal, locale: str) -> str:
    return numbers.format_decimal(value, locale=babel_locale(locale))


def format_percent(value: float | Decimal, locale: str, digits: int = 0) -> str:
    """A share (0.853) as a percentage with `digits` decimals, in the locale's own pattern."""
    known = babel_locale(locale)
    pattern = known.percent_formats[None].pattern
    if digits:
        pattern = pattern.replace("0", "0." + "0" * digits, 1)
    return numbers.format_percent(value, pattern, locale=known)


def format_date(value: dt.date, locale: str, form: str = "long") -> str:
    return dates.format_date(value, form, locale=babel_locale(locale))


def format_datetime(value: dt.datetime, locale: str, form: str = "medium") -> str:
    return dates.format_datetime(value, form, locale=babel_locale(locale))


def catalog_path(locale: str, domain: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{domain}.po"


@cache
def translations(locale: str, domain: str = "respond") -> gettext.NullTranslations:
    """Catalog `domain` ("respond" for respondents, "staff" for staff pages) in `locale`.

    Compiled from the .po file in memory when first used, so a compiled catalog is never stale.
    """
    po = catalog_path(locale, domain)
    if not po.exists():
        return gettext.NullTranslations()
    with po.open("rb") as f:
        catalog = read_po(f, locale=str(babel_locale(locale)))
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return gettext.GNUTranslations(buf)
