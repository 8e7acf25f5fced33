"""Locale negotiation and gettext catalogs (compiled from the .po files when first used)."""

from __future__ import annotations

import gettext
import io
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.core import negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
DEFAULT_LOCALE = "de"
UI_LOCALES = ("de", "en")


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
    choices = list(available)
    if requested:
        exact = {c.lower(): c for c in choices}.get(requested.lower())
        if exact:
            return exact
    preferred = ([requested] if requested else []) + parse_accept_language(accept_language)
    found = negotiate_locale(preferred, choices, sep="-") if preferred else None
    if found is None and preferred:
        # babel matches "de-AT" to "de" only through aliases; try the primary subtags too
        primaries = [p.split("-")[0].split("_")[0] for p in preferred]
        found = negotiate_locale(primaries, choices, sep="-")
    return found or (DEFAULT_LOCALE if DEFAULT_LOCALE in choices else choices[0])


def html_lang(locale: str) -> str:
    """The `lang` attribute: private-use tags such as de-x-ls are announced as their language."""
    return locale.split("-x-")[0]


def text_direction(locale: str) -> str:
    try:
        return Locale.parse(html_lang(locale), sep="-").text_direction
    except (ValueError, UnknownLocaleError):
        return "ltr"


@cache
def translations(locale: str, domain: str = "respond") -> gettext.NullTranslations:
    """Catalog `domain` ("respond" for respondents, "staff" for staff pages) in `locale`.

    Compiled from the .po file in memory when first used, so a compiled catalog is never stale.
    """
    po = LOCALE_DIR / locale / "LC_MESSAGES" / f"{domain}.po"
    if not po.exists():
        return gettext.NullTranslations()
    with po.open("rb") as f:
        catalog = read_po(f, locale=html_lang(locale).replace("-", "_"))
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return gettext.GNUTranslations(buf)
