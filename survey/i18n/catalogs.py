"""The gettext catalogs of the interface: extract, update, and how complete each language is.

Wraps babel's Python API rather than `pybabel`, because `pybabel update` cannot read a
catalog for a private-use tag such as de-x-ls.
"""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from survey.i18n import (
    LOCALE_DIR,
    RESPOND_LOCALES,
    SOURCE_LOCALE,
    UI_LOCALES,
    babel_locale,
    catalog_path,
)

ROOT = LOCALE_DIR.parent.parent.parent
CONFIG_DIR = LOCALE_DIR.parent / "babel"
DOMAINS = {"respond": RESPOND_LOCALES, "staff": UI_LOCALES}
"""Each gettext domain and the languages it is translated into."""
WIDTH = 100
_STATUS = re.compile(r"^#\s*Status:\s*(reviewed|draft)\s*$", re.MULTILINE | re.IGNORECASE)


def template_path(domain: str) -> Path:
    return LOCALE_DIR.parent / f"{domain}.pot"


def extract(domain: str) -> Catalog:
    """All messages of `domain` in the source, by the mapping in survey/i18n/babel/<domain>.cfg."""
    with (CONFIG_DIR / f"{domain}.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f, str(CONFIG_DIR / f"{domain}.cfg"))
    catalog = Catalog(project="Resonanz", domain=domain, charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, strip_comment_tags=True
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def _write(catalog: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        write_po(f, catalog, width=WIDTH, no_location=True, sort_output=True)


def read_pot(domain: str) -> Catalog:
    with template_path(domain).open("rb") as f:
        return read_po(f, domain=domain)


def read_catalog(locale: str, domain: str) -> Catalog | None:
    path = catalog_path(locale, domain)
    if not path.exists():
        return None
    with path.open("rb") as f:
        return read_po(f, locale=str(babel_locale(locale)), domain=domain)


def write_template(domain: str) -> Path:
    path = template_path(domain)
    _write(extract(domain), path)
    return path


def update(domain: str) -> list[Path]:
    """Extract `domain` into its .pot and merge it into every language's .po (creating missing
    ones as drafts). Returns the files written."""
    template = extract(domain)
    written = [template_path(domain)]
    if written[0].exists():
        old = read_pot(domain)
        if _ids(old) == _ids(template):  # unchanged: keep the date, so git sees no change
            template.creation_date = old.creation_date
    _write(template, written[0])
    for locale in DOMAINS[domain]:
        if locale == SOURCE_LOCALE:
            continue
        catalog = read_catalog(locale, domain)
        if catalog is None:
            catalog = Catalog(locale=babel_locale(locale), domain=domain, charset="utf-8")
            catalog.header_comment = f"# {domain} messages in {locale}.\n# Status: draft"
            catalog.fuzzy = False
        catalog.update(template, update_header_comment=False)
        catalog.obsolete.clear()
        path = catalog_path(locale, domain)
        _write(catalog, path)
        written.append(path)
    return written


def _ids(catalog: Catalog) -> list[tuple[object, object]]:
    return sorted(((m.id, m.context) for m in catalog if m.id), key=repr)


def interface_status(locale: str, domain: str) -> str:
    """reviewed or draft, from the `# Status:` line of the catalog's header comment."""
    if locale == SOURCE_LOCALE:
        return "source"
    path = catalog_path(locale, domain)
    if not path.exists():
        return "missing"
    found = _STATUS.search(path.read_text(encoding="utf-8").split('msgid ""', 1)[0])
    return found[1].lower() if found else "draft"


def completeness(locale: str, domain: str, template: Catalog) -> tuple[int, int]:
    """(translated, total) of the messages in `template`; fuzzy ones do not count."""
    ids = [m.id for m in template if m.id]
    if locale == SOURCE_LOCALE:
        return len(ids), len(ids)
    catalog = read_catalog(locale, domain)
    if catalog is None:
        return 0, len(ids)
    done = 0
    for msgid in ids:
        message = catalog.get(msgid)
        strings = message.string if message is not None else None
        ok = all(strings) if isinstance(strings, tuple | list) else bool(strings)
        if message is not None and ok and not message.fuzzy:
            done += 1
    return done, len(ids)
