"""Questionnaire definitions: items, scales, translations, and checking a set of answers."""

from __future__ import annotations

import re
from importlib import resources
from typing import Any, Literal
from zoneinfo import ZoneInfo

import msgspec

from survey.i18n import N_

_FORM_INT = re.compile(r"-?[0-9]{1,5}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""Control characters other than tab and line breaks: never part of a comment (and PostgreSQL
cannot store NUL)."""

INDEX_ITEM = "_index"
"""The item code under which count tables keep each respondent's composite index."""
SERVICE_TYPES = ("benefits", "placement", "case_management", "under_25")
MODES = ("personal", "kiosk")
OFFICE_KINDS = ("main", "branch", "outreach")
"""Main office, branch, outreach point in a neighbourhood (a room in a community centre)."""
SERVICE_NAMES = {
    "benefits": N_("Benefits"),
    "placement": N_("Placement"),
    "case_management": N_("Case management"),
    "under_25": N_("Under 25"),
}
MODE_NAMES = {"personal": N_("Personal (QR code or link)"), "kiosk": N_("Kiosk (tablet)")}
KIND_NAMES = {"main": N_("Main office"), "branch": N_("Branch"), "outreach": N_("Outreach point")}
"""The staff's words for the codes above (staff catalog)."""
LOCAL_ZONE = ZoneInfo("Europe/Berlin")
"""Days and months of responses are those of the job centres' time zone."""

FREE_TEXT_OPTIONAL = N_(
    "A free-text question cannot be required: a compulsory comment pushes clients to write "
    "something, often personal details, and the survey promises that every question may be "
    "left out."
)
"""Why the administration refuses to make a free-text item required."""
INDEX_SCALE = 420
"""Composite index values are stored as 420 × mean (420 is divisible by 1..7: exact)."""
MAX_INDEX_ITEMS = 7


class Scale(msgspec.Struct, frozen=True):
    min: int
    max: int
    labels: dict[str, dict[str, str]] = {}
    """locale -> value (as string) -> label; a scale may label only its ends."""


class Item(msgspec.Struct, frozen=True):
    code: str
    type: Literal["scale", "text"]
    text: dict[str, str]
    scale: str | None = None
    required: bool = False
    """Never for a free-text item (FREE_TEXT_OPTIONAL): `load_definition` reads it as False."""
    index: bool = False
    max_length: int = 1000


class Translation(msgspec.Struct, frozen=True):
    status: Literal["reviewed", "draft"] = "draft"


class Definition(msgspec.Struct, frozen=True):
    code: str
    name: dict[str, str]
    source_locale: str
    scales: dict[str, Scale]
    items: list[Item]
    translations: dict[str, Translation] = {}

    def item(self, code: str) -> Item | None:
        return next((i for i in self.items if i.code == code), None)

    def scale_of(self, item: Item) -> Scale:
        assert item.scale is not None
        return self.scales[item.scale]

    def text(self, texts: dict[str, str], locale: str) -> str:
        """The text in `locale`, falling back to the questionnaire's source language."""
        return texts[self.text_locale(texts, locale)]

    def text_locale(self, texts: dict[str, str], locale: str) -> str:
        """The language `text` shows: `locale`, or the source language where it has no text."""
        for code in (locale, self.source_locale):
            if texts.get(code):
                return code
        return next(iter(texts))

    @property
    def index_items(self) -> list[Item]:
        return [i for i in self.items if i.index]


class Checked(msgspec.Struct, frozen=True):
    values: dict[str, int]
    texts: dict[str, str]
    errors: dict[str, str]
    """item code -> reason: required, unknown_item, out_of_range, not_an_integer, too_long."""


def load_definition(raw: bytes | str | dict[str, Any]) -> Definition:
    data = msgspec.json.encode(raw) if isinstance(raw, dict) else raw
    definition = msgspec.json.decode(data, type=Definition)
    _check_definition(definition)
    if any(i.required and i.type == "text" for i in definition.items):
        items = [
            msgspec.structs.replace(i, required=i.required and i.type != "text")
            for i in definition.items
        ]
        definition = msgspec.structs.replace(definition, items=items)
    return definition


def standard_definition_bytes() -> bytes:
    return resources.files("survey.data").joinpath("standard_questionnaire.json").read_bytes()


def item_bank_bytes() -> bytes:
    """The item bank's questions beyond the standard questionnaire's, with their texts in the
    respondent languages, in the shape of a questionnaire definition (so `resonanz i18n status
    --questionnaire survey/data/item_bank.json` and export/import work on it too)."""
    return resources.files("survey.data").joinpath("item_bank.json").read_bytes()


def _check_definition(d: Definition) -> None:
    codes = [i.code for i in d.items]
    if len(codes) != len(set(codes)):
        raise ValueError(f"questionnaire {d.code}: item codes repeat")
    for item in d.items:
        if item.type == "scale" and item.scale not in d.scales:
            raise ValueError(f"questionnaire {d.code}: item {item.code} has unknown scale")
        if d.source_locale not in item.text:
            raise ValueError(f"questionnaire {d.code}: item {item.code} has no source text")
    if len(d.index_items) > MAX_INDEX_ITEMS:
        raise ValueError(f"questionnaire {d.code}: at most {MAX_INDEX_ITEMS} index items")


def check_answers(d: Definition, answers: dict[str, Any], *, from_form: bool = False) -> Checked:
    """Check answers against the items; form values arrive as strings and empty means unanswered."""
    values: dict[str, int] = {}
    texts: dict[str, str] = {}
    errors: dict[str, str] = {}
    codes = {item.code for item in d.items}
    for code in answers:
        if code not in codes:
            errors[code] = "unknown_item"
    for item in d.items:
        raw = answers.get(item.code)
        if from_form and isinstance(raw, str):
            raw = raw.strip()
            if raw == "":
                raw = None
        if raw is None:
            if item.required:
                errors[item.code] = "required"
            continue
        if item.type == "text":
            if isinstance(raw, str):
                raw = line_breaks(raw)
            if not isinstance(raw, str) or _CONTROL.search(raw):
                errors[item.code] = "not_text"
            elif len(raw) > item.max_length:
                errors[item.code] = "too_long"
            elif raw.strip():
                texts[item.code] = raw.strip()
            elif item.required:
                errors[item.code] = "required"
            continue
        value = _as_int(raw, from_form)
        if value is None:
            errors[item.code] = "not_an_integer"
            continue
        scale = d.scale_of(item)
        if not scale.min <= value <= scale.max:
            errors[item.code] = "out_of_range"
            continue
        values[item.code] = value
    return Checked(values=values, texts=texts, errors=errors)


def line_breaks(text: str) -> str:
    """Every line break as LF. A form POST sends CRLF (the HTML form submission algorithm),
    while the textarea's maxlength counted each as one character: a limit counts them so."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def composite_index(d: Definition, values: dict[str, int]) -> int | None:
    """420 × mean of the answered index items, or None when none was answered."""
    answered = [values[i.code] for i in d.index_items if i.code in values]
    if not answered:
        return None
    return sum(answered) * INDEX_SCALE // len(answered)


def _as_int(raw: Any, from_form: bool) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if from_form and isinstance(raw, str) and _FORM_INT.fullmatch(raw):
        return int(raw)
    return None


def _index_items() -> dict[str, tuple[float, ...]]:
    definition = load_definition(standard_definition_bytes())
    out = {}
    for item in definition.index_items:
        scale = definition.scale_of(item)
        out[item.code] = tuple(float(v) for v in range(scale.min, scale.max + 1))
    return out


INDEX_ITEMS: dict[str, tuple[float, ...]] = _index_items()
"""The standard questionnaire's index items with their answer levels. A published index is
the mean of their published indices (survey/dashboard/disclosure.py, `ProtectedTable.counts`),
so a protected table that holds the index holds them too."""
