"""Every message staff read has a German translation in the "staff" catalog."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ROOT / "survey" / "i18n" / "locale"


def _extracted() -> set[str]:
    with (ROOT / "survey" / "i18n" / "babel" / "staff.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    keywords = {"_": None, "gettext": None, "N_": None}
    found = extract_from_dir(ROOT, method_map, options_map, keywords=keywords)
    return {message for _, _, message, _, _ in found if isinstance(message, str)}


def test_every_staff_message_is_translated_into_german() -> None:
    with (LOCALES / "de" / "LC_MESSAGES" / "staff.po").open("rb") as f:
        catalog = read_po(f, locale="de")
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    missing = _extracted() - translated
    assert not missing, f"run the staff extraction and translate: {sorted(missing)}"
    for verdict, german in (("better", "besser"), ("worse", "schlechter"),
                            ("no clear difference", "kein klarer Unterschied"),
                            ("too few responses", "zu wenige Antworten")):  # fmt: skip
        assert catalog.get(verdict).string == german


def test_a_figure_that_rounds_to_zero_has_no_sign() -> None:
    from survey.dashboard.results import _r
    from survey.dashboard.schemas import Forecast
    from survey.dashboard.words import number, time_to_verdict

    assert number(-0.04, "de") == "0,0"
    assert number(0.04, "en") == "0.0"
    assert number(-1.26, "de") == "-1,3"
    assert number(1234.5, "de", 0) == "1.234"
    assert number(None, "de") == ""
    assert str(_r(-0.001)) == "0.0"
    line = time_to_verdict(
        [Forecast(difference=0.04, per_month=40, needed=None, months=None, max_months=36)],
        lambda s: s,
        lambda v: number(v, "en"),
    )
    assert "+0.0" not in line and "(0.0 points)" in line, line
