"""What is wrong with a staff form, said in the form's own words.

msgspec's messages ("Expected `str` of length <= 200 - at `$.name`") are for programs; the
pages name the field by its label and say what it takes, in the page's language. Text that no
staff field may hold (NUL, which PostgreSQL refuses in text, and the other control
characters) is refused for every field of every staff form before anything reads it.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar.datastructures import FormMultiDict

from survey.bodies import CONTROL
from survey.errors import BadRequest, DomainError, Invalid, refuse
from survey.i18n import N_

_CHOICE = N_("one of the choices offered")
NONE_CHOSEN = N_("choose at least one")
_PLAIN = N_("1 to 200 characters, without control or text-direction characters")
_OPTIONAL = N_("up to 200 characters, without control or text-direction characters")
FIELDS: dict[str, tuple[str, str]] = {
    "name": (N_("Name"), _PLAIN),
    "display_name": (N_("Display name"), _OPTIONAL),
    "label": (N_("Label (optional)"), _OPTIONAL),
    "slug": (
        N_("Short name (letters, digits, hyphens)"),
        N_(
            "2 to 80 lower-case letters, digits and hyphens, beginning and ending with a letter "
            "or digit"
        ),
    ),
    "code": (
        N_("Code (unique in the job centre)"),
        N_("up to 40 letters, digits and the signs _ . -, beginning with a letter or digit"),
    ),
    "username": (
        N_("Username"),
        N_("2 to 80 letters, digits and the signs _ . @ -, beginning with a letter or digit"),
    ),
    "value": (N_("Target index (0–100)"), N_("a number from 0 to 100")),
    "valid_from": (N_("From"), N_("a date (year-month-day)")),
    "valid_to": (N_("To"), N_("a date (year-month-day)")),
    "days": (N_("Valid for (days)"), N_("a whole number from 1 to 366")),
    "retention_months": (
        N_("Keep free-text answers (months)"),
        N_("a whole number from 1 to 120"),
    ),
    "idle_seconds": (
        N_("Kiosk: clear an unfinished survey after (seconds)"),
        N_("a whole number from 10 to 3600"),
    ),
    "item": (N_("Item"), _CHOICE),
    "kind": (N_("Kind"), _CHOICE),
    "mode": (N_("Mode"), _CHOICE),
    "role": (N_("Role"), _CHOICE),
    "service_type": (N_("Service type"), _CHOICE),
    "service_types": (N_("Service types offered"), NONE_CHOSEN),
    "poster_languages": (N_("Languages of the posters"), N_("at most 8 of the choices offered")),
    "organization_id": (N_("Job centre"), _CHOICE),
    "network_id": (N_("Network"), _CHOICE),
    "office_id": (N_("Office"), _CHOICE),
    "office_ids": (N_("Offices"), _CHOICE),
    "organization_ids": (N_("Job centres"), _CHOICE),
    "version_id": (N_("Questionnaire version"), _CHOICE),
}
CHECK_FIELD = N_("Please check the field “%(field)s”: %(rule)s.")
CONTROL_IN_FIELD = N_(
    "The field “%(field)s” holds a control character (such as a NUL byte), which no text "
    "may hold. Nothing was saved."
)
OURS = ("field", "rule")
_AT = re.compile(r"at `\$\.([A-Za-z_]+)|field `([A-Za-z_]+)`")


def form_problem(exc: msgspec.ValidationError) -> DomainError:
    """A refusal naming the form's field and what it takes (msgspec's text as the fallback)."""
    found = _AT.search(str(exc))
    field = (found[1] or found[2]) if found else None
    if field in FIELDS:
        label, rule = FIELDS[field]
        return refuse(Invalid, CHECK_FIELD, field=label, rule=rule, key=field, translate=OURS)
    return refuse(BadRequest, N_("The form has an invalid value: %(reason)s"), reason=exc)


def check_text(form: FormMultiDict) -> None:
    """422 naming the first field that holds a control character; nothing is read further."""
    for key, value in form.multi_items():
        if isinstance(value, str) and (CONTROL.search(value) or CONTROL.search(key)):
            label = FIELDS[key][0] if key in FIELDS else CONTROL.sub("", key)[:40]
            raise refuse(Invalid, CONTROL_IN_FIELD, field=label, key=key, translate=OURS)


def to_struct(kind: type[Any], values: dict[str, Any]) -> Any:
    """`values` (a form's, already picked) as the API's struct `kind`, or a refusal in words."""
    try:
        return msgspec.convert(values, kind, strict=False)
    except msgspec.ValidationError as exc:
        raise form_problem(exc) from None
