"""Plain data for the respondent templates and the questionnaire API."""

from __future__ import annotations

from typing import Any

from babel import Locale
from litestar import Request
from litestar.response import Template

from survey.i18n import N_, html_lang, negotiate, text_direction, translations
from survey.questionnaire import Definition, Item
from survey.respond.schemas import ItemOut, LinkInfo, QuestionnaireOut

KIOSK_IDLE_SECONDS = 90
KIOSK_RESET_SECONDS = 8


def available_locales(definition: Definition) -> list[str]:
    return list(definition.translations) or [definition.source_locale]


def locale_for(request: Request[Any, Any, Any], definition: Definition) -> str:
    return negotiate(
        request.query_params.get("lang"),
        request.headers.get("accept-language"),
        available_locales(definition),
    )


def language_name(locale: str) -> str:
    """The language's name in its own script, from babel's locale data."""
    try:
        name = Locale.parse(html_lang(locale), sep="-").get_display_name() or locale
    except (ValueError, LookupError):
        return locale
    return name[:1].upper() + name[1:]


def _labels(definition: Definition, item: Item, locale: str) -> dict[str, str]:
    scale = definition.scale_of(item)
    return scale.labels.get(locale) or scale.labels.get(definition.source_locale, {})


def item_view(definition: Definition, item: Item, locale: str) -> dict[str, Any]:
    view: dict[str, Any] = {
        "code": item.code,
        "type": item.type,
        "text": definition.text(item.text, locale),
        "required": item.required,
        "max_length": item.max_length,
        "hint": "",
    }
    if item.type == "scale":
        scale = definition.scale_of(item)
        labels = _labels(definition, item, locale)
        values = range(scale.min, scale.max + 1)
        full = all(str(v) in labels for v in values)
        view["levels"] = len(values)
        view["options"] = [(v, labels[str(v)] if full else str(v)) for v in values]
        if not full and labels:
            view["hint"] = ", ".join(f"{v} = {label}" for v, label in labels.items())
    return view


def _context(locale: str) -> dict[str, Any]:
    gettext = translations(locale).gettext
    return {
        "locale": locale,
        "html_lang": html_lang(locale),
        "dir": text_direction(locale),
        "_": gettext,
    }


def reason_texts(gettext: Any) -> dict[str, str]:
    return {
        "required": gettext("Please choose an answer."),
        "out_of_range": gettext("Please choose one of the answers shown."),
        "not_an_integer": gettext("Please choose one of the answers shown."),
        "unknown_item": gettext("This question is not part of the survey."),
        "too_long": gettext("Please write a shorter text."),
        "not_text": gettext("Please write a text."),
    }


def survey(
    link: LinkInfo,
    definition: Definition,
    locale: str,
    *,
    kind: str,
    submission_id: str,
    answers: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Template:
    context = _context(locale)
    items = [item_view(definition, item, locale) for item in definition.items]
    context |= {
        "title": definition.text(definition.name, locale),
        "office": link.office,
        "organization": link.organization,
        "languages": [(code, language_name(code)) for code in available_locales(definition)],
        "items": items,
        "item_codes": {i["code"] for i in items},
        "item_texts": {i["code"]: i["text"] for i in items},
        "reason_texts": reason_texts(context["_"]),
        "answers": answers or {},
        "errors": errors or {},
        "submission_id": submission_id,
        "action": f"/{kind}/{link.token}",
        "kiosk": kind == "k",
        "kiosk_idle_seconds": KIOSK_IDLE_SECONDS,
    }
    return Template(
        "respond/survey.html",
        context=context,
        status_code=422 if errors else 200,
        headers={"cache-control": "no-store"},
    )


def thanks(link: LinkInfo, locale: str, *, kind: str) -> Template:
    context = _context(locale) | {
        "kiosk": kind == "k",
        "kiosk_reset_seconds": KIOSK_RESET_SECONDS,
        "again_url": f"/{kind}/{link.token}?lang={locale}",
    }
    return Template("respond/thanks.html", context=context, headers={"cache-control": "no-store"})


def error_page(locale: str, status_code: int, detail: str) -> Template:
    context = _context(locale)
    headings = {404: N_("Survey not found"), 409: N_("Already sent")}
    heading = context["_"](headings.get(status_code, N_("Something is wrong")))
    return Template(
        "respond/error.html",
        context=context | {"heading": heading, "detail": detail},
        status_code=status_code,
        headers={"cache-control": "no-store"},
    )


def questionnaire_out(link: LinkInfo, definition: Definition, locale: str) -> QuestionnaireOut:
    items = []
    for item in definition.items:
        view = item_view(definition, item, locale)
        out = ItemOut(code=item.code, type=item.type, text=view["text"], required=item.required)
        if item.type == "scale":
            scale = definition.scale_of(item)
            out = ItemOut(
                code=item.code,
                type=item.type,
                text=view["text"],
                required=item.required,
                min=scale.min,
                max=scale.max,
                labels=_labels(definition, item, locale),
            )
        items.append(out)
    return QuestionnaireOut(
        link=link.token,
        locale=locale,
        dir=text_direction(locale),
        office=link.office,
        organization=link.organization,
        title=definition.text(definition.name, locale),
        version=link.version,
        items=items,
    )
