"""Questionnaire translations exchanged with translators as PO files.

One entry per text: msgctxt names the text (`name`, `item:<code>`, `scale:<scale>:<value>`),
msgid is the source (German) text, msgstr the translation. Import checks the whole file first
and changes nothing when anything is wrong.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.plurals import get_plural
from babel.messages.pofile import PoFileError, read_po, write_po

from survey.i18n import RESPOND_LOCALES, html_lang
from survey.questionnaire import Definition, load_definition

_PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}|%\([A-Za-z_][A-Za-z0-9_]*\)[sd]|%[sd]")
_HEADER = re.compile(r'^"(Language|Plural-Forms):\s*(.*?)\\n"\s*$', re.IGNORECASE)
_HEADER_FIELD = re.compile(r"^([A-Za-z-]+):\s*(.*)$")


class ImportRefused(Exception):
    """The PO file has problems; `problems` are "file:line: what" lines."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def texts(definition: Definition) -> Iterator[tuple[str, dict[str, str]]]:
    """Every translatable text of a questionnaire: (context, locale -> text)."""
    yield "name", definition.name
    for item in definition.items:
        yield f"item:{item.code}", item.text
    for code, scale in definition.scales.items():
        for value in scale.labels.get(definition.source_locale, {}):
            yield (
                f"scale:{code}:{value}",
                {loc: labels[value] for loc, labels in scale.labels.items() if value in labels},
            )


def completeness(definition: Definition, locale: str) -> tuple[int, int]:
    """(translated, total) texts of the questionnaire in `locale`."""
    all_texts = list(texts(definition))
    return sum(1 for _, t in all_texts if t.get(locale)), len(all_texts)


def export(definition: Definition, locale: str) -> bytes:
    """A PO file for translating `definition` into `locale` (existing translations filled in)."""
    _check_configured(locale, definition)
    catalog = Catalog(
        locale=html_lang(locale), project=f"Resonanz questionnaire {definition.code}", fuzzy=False
    )
    catalog.header_comment = (
        f"# Questionnaire {definition.code!r} in {locale}.\n"
        "# msgctxt names the text; translate msgstr, keep {placeholders} as they are."
    )
    draft = definition.translations.get(locale)
    for context, by_locale in texts(definition):
        source = by_locale[definition.source_locale]
        comments = [f"en: {by_locale['en']}"] if by_locale.get("en") else []
        flags = ["fuzzy"] if draft is not None and draft.status == "draft" else []
        catalog.add(
            source,
            by_locale.get(locale, ""),
            context=context,
            auto_comments=comments,
            flags=flags if by_locale.get(locale) else [],
        )
    buf = io.BytesIO()
    write_po(buf, catalog, width=100, omit_header=False)
    text = buf.getvalue().decode()
    # babel writes the babel locale (de for de-x-ls); the file must name the configured tag
    text = re.sub(r'^"Language: [^"\\]*\\n"$', f'"Language: {locale}\\\\n"', text, flags=re.M)
    return text.encode()


def _check_configured(locale: str, definition: Definition) -> None:
    if locale not in RESPOND_LOCALES:
        raise ImportRefused(
            [f"language {locale!r} is not configured (configured: {', '.join(RESPOND_LOCALES)})"]
        )
    if locale == definition.source_locale:
        raise ImportRefused([f"{locale} is the questionnaire's source language"])


def placeholders(text: str) -> list[str]:
    return sorted(_PLACEHOLDER.findall(text))


def _broken(text: str) -> bool:
    rest = _PLACEHOLDER.sub("", text).replace("%%", "")
    return "{" in rest or "}" in rest or "%(" in rest


def _headers(lines: list[str]) -> dict[str, tuple[str, int]]:
    """Header fields of a PO file (lower-case name -> (value, line)), continuation lines joined."""
    fields: dict[str, tuple[str, int]] = {}
    pending, start = "", 0
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if fields and (not stripped or stripped.startswith(("msgctxt", "#"))):
            break
        if not (stripped.startswith('"') and stripped.endswith('"')):
            continue
        if not pending:
            start = number
        pending += stripped[1:-1]
        if pending.endswith("\\n"):
            if m := _HEADER_FIELD.match(pending[:-2]):
                fields.setdefault(m[1].lower(), (m[2].strip(), start))
            pending = ""
    return fields


def read_translations(path: Path, definition: Definition) -> tuple[str, dict[str, str], bool]:
    """(locale, context -> translation, any fuzzy) from a PO file, or ImportRefused."""
    raw = path.read_bytes()
    lines = raw.decode("utf-8", errors="replace").splitlines()
    headers = _headers(lines)
    problems: list[str] = []
    where = str(path)
    locale, line_no = headers.get("language", ("", 1))
    if not locale:
        raise ImportRefused([f"{where}:1: the header names no Language"])
    if locale not in RESPOND_LOCALES:
        raise ImportRefused(
            [
                f"{where}:{line_no}: language {locale!r} is not configured "
                f"(configured: {', '.join(RESPOND_LOCALES)})"
            ]
        )
    if locale == definition.source_locale:
        raise ImportRefused(
            [f"{where}:{line_no}: {locale} is the source language; change it in the definition"]
        )
    expected = get_plural(html_lang(locale).replace("-", "_")).num_plurals
    if "plural-forms" in headers:
        value, line_no = headers["plural-forms"]
        found = re.search(r"nplurals\s*=\s*(\d+)", value)
        if found is None or int(found[1]) != expected:
            problems.append(
                f"{where}:{line_no}: Plural-Forms {value!r} is wrong for {locale} "
                f"(nplurals={expected})"
            )
    # babel cannot parse private-use tags such as de-x-ls: the language is known by now
    cleaned = [
        '"Language: \\n"' if _HEADER.match(line.strip()) and "anguage" in line else line
        for line in lines
    ]
    try:
        catalog = read_po(io.StringIO("\n".join(cleaned) + "\n"), abort_invalid=True)
    except PoFileError as exc:
        raise ImportRefused([f"{where}: {exc}"]) from None
    known = dict(texts(definition))
    found_texts: dict[str, str] = {}
    fuzzy = False
    for message in catalog:
        if not message.id:
            continue
        at = f"{where}:{message.lineno}"
        if message.pluralizable:
            problems.append(f"{at}: questionnaire texts have no plural forms (msgid_plural)")
            continue
        if not message.context:
            problems.append(f"{at}: entry without msgctxt (which text is it?)")
            continue
        if message.context not in known:
            kind, _, code = message.context.partition(":")
            what = "item code" if kind == "item" else "text"
            problems.append(f"{at}: unknown {what} {code or message.context!r}")
            continue
        source = known[message.context][definition.source_locale]
        if message.id != source:
            problems.append(f"{at}: the source text of {message.context} has changed; export again")
            continue
        string = str(message.string or "")
        if not string.strip():
            continue
        if _broken(string):
            problems.append(f"{at}: broken placeholder in {string!r}")
            continue
        if placeholders(string) != placeholders(source):
            problems.append(
                f"{at}: placeholders {placeholders(string)} do not match the source's "
                f"{placeholders(source)}"
            )
            continue
        found_texts[message.context] = string
        fuzzy = fuzzy or message.fuzzy
    if problems:
        raise ImportRefused(problems)
    return locale, found_texts, fuzzy


def apply(data: dict[str, Any], locale: str, found: dict[str, str], status: str) -> dict[str, Any]:
    """The definition data with `found` translations for `locale` written in, checked."""
    data = json.loads(json.dumps(data))
    for context, text in found.items():
        kind, _, rest = context.partition(":")
        if kind == "name":
            data["name"][locale] = text
        elif kind == "item":
            item = next(i for i in data["items"] if i["code"] == rest)
            item["text"][locale] = text
        else:
            scale, _, value = rest.partition(":")
            data["scales"][scale].setdefault("labels", {}).setdefault(locale, {})[value] = text
    data.setdefault("translations", {})[locale] = {"status": status}
    load_definition(data)
    return data


def import_file(po: Path, definition_path: Path, *, reviewed: bool = False) -> tuple[str, int]:
    """Write the PO file's translations into the definition JSON file.

    Returns (locale, number of texts). The language is `draft` unless `reviewed` is given and
    no entry is fuzzy.
    """
    raw = definition_path.read_bytes()
    definition = load_definition(raw)
    locale, found, fuzzy = read_translations(po, definition)
    status = "reviewed" if reviewed and not fuzzy else "draft"
    data = apply(json.loads(raw), locale, found, status)
    definition_path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    return locale, len(found)
