"""Locale negotiation, babel formatting, catalogs that are never stale, and PO exchange."""

from __future__ import annotations

import ast
import datetime as dt
import json
import re
import shutil
from pathlib import Path

import pytest

from survey.cli import main
from survey.i18n import (
    RESPOND_LOCALES,
    SOURCE_LOCALE,
    catalogs,
    format_date,
    format_number,
    format_percent,
    html_lang,
    language_name,
    negotiate,
    questionnaire_po,
    text_direction,
    translations,
)
from survey.questionnaire import item_bank_bytes, load_definition, standard_definition_bytes

STANDARD_JSON = Path(__file__).resolve().parents[2] / "survey/data/standard_questionnaire.json"


@pytest.mark.parametrize(
    ("requested", "accept", "expected"),
    [
        ("ar", None, "ar"),
        ("DE-X-LS", None, "de-x-ls"),
        ("xx", "uk-UA,uk;q=0.9", "uk"),
        (None, "de-AT", "de"),
        (None, "prs", "fa"),
        (None, "pbt-AF", "ps"),
        ("klingon", "tlh", "de"),
        ("", "", "de"),
        (None, "*;q=0.5, fr;q=0", "de"),
    ],
)
def test_it_negotiates_the_language_or_falls_back_to_german(
    requested: str | None, accept: str | None, expected: str
) -> None:
    assert negotiate(requested, accept, RESPOND_LOCALES) == expected


def test_it_names_each_language_in_its_own_script() -> None:
    assert language_name("ar") == "العربية"
    assert language_name("uk") == "Українська"
    assert language_name("tr") == "Türkçe"
    assert language_name("de-x-ls") == "Leichte Sprache"
    assert html_lang("de-x-ls") == "de"
    assert [code for code in RESPOND_LOCALES if text_direction(code) == "rtl"] == ["ar", "fa", "ps"]


def test_it_formats_dates_and_numbers_for_the_locale() -> None:
    day = dt.date(2026, 11, 24)
    assert format_date(day, "de") == "24. November 2026"
    assert format_date(day, "de-x-ls") == "24. November 2026"
    assert format_date(day, "uk").startswith("24 листопада 2026")
    assert format_number(1234.5, "de") == "1.234,5"
    assert format_number(1234.5, "en") == "1,234.5"
    assert format_percent(0.853, "de", 1) == "85,3\xa0%"


@pytest.mark.parametrize("domain", sorted(catalogs.DOMAINS))
def test_the_catalog_templates_hold_every_message_in_the_source(domain: str) -> None:
    extracted = catalogs.extract(domain)
    assert catalogs._ids(extracted) == catalogs._ids(catalogs.read_pot(domain)), (
        "run `make i18n` (resonanz i18n update) and commit the catalogs"
    )


@pytest.mark.parametrize("domain", sorted(catalogs.DOMAINS))
def test_every_marked_message_in_the_python_source_is_extracted(domain: str) -> None:
    """babel's extractor does not look into f-strings: a message marked there (as four of
    the dashboard's cells were) is left out of the template, and `make i18n` then dropped
    its German translation. Python's own parser finds every marked literal."""
    root = Path(catalogs.__file__).resolve().parents[2]
    config = (root / "survey" / "i18n" / "babel" / f"{domain}.cfg").read_text()
    files = {path for pattern in re.findall(r"^\[python: (.+)\]$", config, re.M)
             for path in root.glob(pattern.replace("**.py", "**/*.py"))}  # fmt: skip
    marked = {
        node.args[0].value
        for path in files
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        and node.func.id in ("N_", "_", "gettext") and node.args
        and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
    }  # fmt: skip
    extracted = {m.id for m in catalogs.extract(domain) if isinstance(m.id, str)}
    assert files and not marked - extracted, sorted(marked - extracted)


@pytest.mark.parametrize("locale", [code for code in RESPOND_LOCALES if code != SOURCE_LOCALE])
def test_every_language_translates_every_interface_message(locale: str) -> None:
    template = catalogs.extract("respond")
    done, total = catalogs.completeness(locale, "respond", template)
    assert done == total, f"{locale}: {total - done} messages untranslated"
    assert catalogs.interface_status(locale, "respond") == (
        "reviewed" if locale == "de" else "draft"
    )
    catalog = catalogs.read_catalog(locale, "respond")
    assert catalog is not None
    for message in catalog:
        if message.id and "python-format" in message.flags:
            # a plural message: every form of the language, against the singular and plural
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            forms = message.string if isinstance(message.string, tuple) else (message.string,)
            assert forms and all(forms), (locale, ids[0])
            for text in (*ids, *forms):
                assert questionnaire_po.placeholders(str(text)) == (
                    questionnaire_po.placeholders(str(ids[0]))
                ), (locale, ids[0], text)


def test_the_compiled_catalog_speaks_the_language() -> None:
    assert translations("de-x-ls").gettext("Send answers") == "Antworten abschicken"
    assert translations("ps").gettext("Read aloud") == "په لوړ غږ ولولئ"
    assert translations("en").gettext("Send answers") == "Send answers"


def test_the_standard_questionnaire_and_the_item_bank_have_every_language_with_honest_status() -> (
    None
):
    standard = load_definition(standard_definition_bytes())
    bank = load_definition(item_bank_bytes())
    for definition, texts in ((standard, 22), (bank, 17)):
        assert list(definition.translations) == list(RESPOND_LOCALES)
        for locale in RESPOND_LOCALES:
            assert questionnaire_po.completeness(definition, locale) == (texts, texts), locale
            expected = "reviewed" if locale in ("de", "en") else "draft"
            assert definition.translations[locale].status == expected
    shared = {code: standard.scales[code] for code in bank.scales if code in standard.scales}
    assert shared == {code: bank.scales[code] for code in shared}, "the same answer labels"


def test_status_reports_interface_and_questionnaire_with_drafts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["i18n", "status"]) == 0
    out = capsys.readouterr().out
    assert "interface (respond catalog" in out
    assert "questionnaire 'standard'" in out
    assert re.search(r"ar\s+العربية\s+(\d+)/\1\s+100%\s+draft", out)
    assert re.search(r"en\s+English\s+22/22\s+100%\s+reviewed", out)


@pytest.fixture
def questionnaire(tmp_path: Path) -> Path:
    path = tmp_path / "standard.json"
    shutil.copy(STANDARD_JSON, path)
    return path


def _export(questionnaire: Path, lang: str, tmp_path: Path) -> Path:
    out = tmp_path / f"{lang}.po"
    assert (
        main(["i18n", "export", lang, "--questionnaire", str(questionnaire), "-o", str(out)]) == 0
    )
    return out


def _import(po: Path, questionnaire: Path, *extra: str) -> int:
    return main(["i18n", "import", str(po), "--questionnaire", str(questionnaire), *extra])


def test_it_round_trips_a_translation_through_a_po_file(
    questionnaire: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    po = _export(questionnaire, "de-x-ls", tmp_path)
    text = po.read_text()
    assert '"Language: de-x-ls\\n"' in text
    assert 'msgctxt "item:respect"' in text
    po.write_text(
        text.replace(
            'msgstr "Ich musste nicht zu lange warten."', 'msgstr "Das Warten war kurz genug."'
        )
    )
    assert _import(po, questionnaire, "--reviewed") == 0
    data = json.loads(questionnaire.read_text())
    waiting = next(i for i in data["items"] if i["code"] == "waiting")
    assert waiting["text"]["de-x-ls"] == "Das Warten war kurz genug."
    assert data["translations"]["de-x-ls"] == {"status": "draft"}, "fuzzy entries stay draft"
    assert "imported 22 texts in de-x-ls" in capsys.readouterr().out


def test_a_translator_can_review_a_language(questionnaire: Path, tmp_path: Path) -> None:
    po = _export(questionnaire, "pl", tmp_path)
    po.write_text(po.read_text().replace("#, fuzzy\n", ""))
    assert _import(po, questionnaire, "--reviewed") == 0
    assert json.loads(questionnaire.read_text())["translations"]["pl"] == {"status": "reviewed"}


BAD_INPUT = {
    "unknown item code": (
        'msgctxt "item:respect"',
        'msgctxt "item:kindness"',
        r"uk\.po:\d+: unknown item code 'kindness'",
    ),
    "broken placeholder": (
        'msgstr "Моє питання зрозуміли."',
        'msgstr "Моє питання {office зрозуміли."',
        r"uk\.po:\d+: broken placeholder",
    ),
    "placeholder not in the source": (
        'msgstr "Моє питання зрозуміли."',
        'msgstr "Моє питання зрозуміли в {office}."',
        r"uk\.po:\d+: placeholders \['\{office\}'\] do not match",
    ),
    "wrong plural forms header": (
        '"Plural-Forms: nplurals=3;',
        '"Plural-Forms: nplurals=2;',
        r"uk\.po:1[0-9]: Plural-Forms .* is wrong for uk \(nplurals=3\)",
    ),
    "a plural entry": (
        "",
        '\nmsgctxt "item:waiting"\nmsgid "Tag"\nmsgid_plural "Tage"\nmsgstr[0] "день"\n',
        r"uk\.po:\d+: questionnaire texts have no plural forms",
    ),
    "language not configured": (
        '"Language: uk\\n"',
        '"Language: fr\\n"',
        r"uk\.po:\d+: language 'fr' is not configured",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_it_refuses_a_bad_po_file_naming_file_line_and_problem(
    case: str, questionnaire: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    po = _export(questionnaire, "uk", tmp_path)
    text = po.read_text()
    old, new, message = BAD_INPUT[case]
    if old:
        assert old in text
        text = text.replace(old, new, 1)
    else:
        text += new
    po.write_text(text)
    before = questionnaire.read_bytes()
    capsys.readouterr()
    assert _import(po, questionnaire) == 1
    err = capsys.readouterr().err
    assert re.search(message, err), err
    assert "nothing was changed" in err
    assert questionnaire.read_bytes() == before


def test_it_refuses_to_export_a_language_that_is_not_configured(
    questionnaire: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["i18n", "export", "fr", "--questionnaire", str(questionnaire)]) == 1
    assert "language 'fr' is not configured" in capsys.readouterr().err
