"""Plain data for the respondent templates and the questionnaire API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from babel.lists import format_list
from litestar import Request
from litestar.response import Template

from survey.i18n import (
    N_,
    RESPOND_LOCALES,
    babel_locale,
    format_number,
    html_lang,
    language_name,
    negotiate,
    text_direction,
    translations,
)
from survey.questionnaire import Definition, Item
from survey.respond.queries import PrivacyContacts
from survey.respond.schemas import ItemOut, LinkInfo, QuestionnaireOut
from survey.settings import Settings

KIOSK_RESET_SECONDS = 8
KIOSK_PLAIN_IDLE_SECONDS = 600
"""A kiosk survey page without JavaScript goes back to the start after 10 minutes (a meta
refresh in <noscript>). Without a script the page cannot tell a slow reader from an empty
tablet: it sees no touch, so the link's idle time (60 s) would throw away the answers of
someone still reading. The survey takes about a minute, a Leichte Sprache reader a few; after
10 minutes the client has almost surely gone, and the next client, who comes out of a
counseling session of their own, rarely finds the last one's answers."""


def kiosk_warn_seconds(idle_seconds: int) -> int:
    """How long before the idle reset the kiosk asks "Are you still there?" (kiosk.js): 20 s,
    or a third of an idle time under a minute."""
    return max(1, min(20, idle_seconds // 3))


CLEAR_BACK_FORWARD_CACHE = {"clear-site-data": '"cache"'}
"""What the next client's start screen tells the browser: forget the pages kept for Back, the
last client's too. A browser may keep no-store pages in its back-forward cache (Chromium
does), and without JavaScript nothing else sends them away. It also empties the tablet's
HTTP cache of this site: a stylesheet fetched again per client."""


def visit_query(visit: Mapping[str, str] | None, code: str) -> str:
    """The `&visit=` part of a kiosk language link, when the page belongs to a visit."""
    return f"&visit={visit[code]}" if visit else ""


def available_locales(definition: Definition) -> list[str]:
    """The questionnaire's languages that the respondent pages speak, in the definition's order."""
    configured = [code for code in definition.translations if code in RESPOND_LOCALES]
    return configured or [definition.source_locale]


def locale_for(request: Request[Any, Any, Any], definition: Definition) -> str:
    return negotiate(
        request.query_params.get("lang"),
        request.headers.get("accept-language"),
        available_locales(definition),
    )


def _labels(definition: Definition, item: Item, locale: str) -> dict[str, str]:
    """The scale's labels in `locale`; a label missing there is taken from the source language."""
    scale = definition.scale_of(item)
    source = scale.labels.get(definition.source_locale, {})
    own = scale.labels.get(locale, {})
    return {value: own.get(value) or label for value, label in source.items()}


def item_view(definition: Definition, item: Item, locale: str, number: int = 0) -> dict[str, Any]:
    shown = definition.text_locale(item.text, locale)
    view: dict[str, Any] = {
        "code": item.code,
        "number": format_number(number, locale),
        "type": item.type,
        "text": item.text[shown],
        # a question without a text in `locale` is shown in German: marked as German, left to
        # right, so a screen reader reads it with its German voice and an RTL page does not
        # reverse it
        "text_lang": "" if shown == locale else html_lang(shown),
        "text_dir": text_direction(shown),
        "required": item.required,
        # "(optional)" only says something where other questions must be answered
        "optional": not item.required and any(i.required for i in definition.items),
        "max_length": item.max_length,
        "limit": format_number(item.max_length, locale),
        "hint": "",
    }
    if item.type == "scale":
        scale = definition.scale_of(item)
        labels = _labels(definition, item, locale)
        values = range(scale.min, scale.max + 1)
        full = all(str(v) in labels for v in values)
        view["levels"] = len(values)
        view["options"] = [
            (v, labels[str(v)] if full else format_number(v, locale)) for v in values
        ]
        own = scale.labels.get(locale, {})
        source = definition.source_locale
        view["source_labels"] = (
            {v for v in values if not own.get(str(v))} if full and locale != source else set()
        )
        view["source_lang"] = html_lang(source)
        if not full and labels:
            view["hint"] = format_list(
                [f"{format_number(int(v), locale)} = {label}" for v, label in labels.items()],
                locale=babel_locale(locale),
            )
    return view


def _context(locale: str, privacy_url: str = "/privacy") -> dict[str, Any]:
    catalog = translations(locale)
    return {
        "locale": locale,
        "html_lang": html_lang(locale),
        "dir": text_direction(locale),
        "_": catalog.gettext,
        "ngettext": catalog.ngettext,
        "privacy_url": f"{privacy_url}?lang={locale}",
    }


def privacy_url(kind: str, token: str) -> str:
    return f"/{kind}/{token}/privacy"


def missing_links(
    items: list[dict[str, Any]], answered: Any, gettext: Any
) -> list[tuple[str, str]]:
    """Links to the scale questions left out, for the "send anyway?" step."""
    return [
        (f"#q-{item['code']}", gettext("Question %(number)s") % {"number": item["number"]})
        for item in items
        if item["type"] == "scale" and item["code"] not in answered
    ]


def reason_texts(gettext: Any) -> dict[str, str]:
    return {
        "required": gettext("Please choose an answer."),
        "out_of_range": gettext("Please choose one of the answers shown."),
        "not_an_integer": gettext("Please choose one of the answers shown."),
        "unknown_item": gettext("This question is not part of the survey."),
        "too_long": gettext("Please write at most %(limit)s characters."),
        "not_text": gettext("Please write a text."),
    }


def problems(
    items: list[dict[str, Any]], errors: dict[str, str], reasons: dict[str, str]
) -> dict[str, str]:
    """Item code -> what to do, in the page's language; a text too long is told its limit
    (the form's maxlength, which the browser enforces only with the same count of breaks)."""
    said: dict[str, str] = {}
    for item in items:
        reason = errors.get(item["code"])
        if reason == "too_long":
            said[item["code"]] = reasons[reason] % {"limit": item["limit"]}
        elif reason:
            said[item["code"]] = reasons[reason]
    return said


def error_links(
    items: list[dict[str, Any]], errors: dict[str, str], reasons: dict[str, str], gettext: Any
) -> list[tuple[str, str]]:
    """Links of the error summary, in question order: "Question 2: Please choose an answer.";
    an answer to a question the survey does not have (a stale or altered form) said once."""
    said = problems(items, errors, reasons)
    links = [
        (
            f"#q-{item['code']}",
            gettext("Question %(number)s: %(problem)s")
            % {"number": item["number"], "problem": said[item["code"]]},
        )
        for item in items
        if item["code"] in said
    ]
    if "unknown_item" in errors.values():
        links.append(("#error-summary", reasons["unknown_item"]))
    return links


def survey(
    link: LinkInfo,
    definition: Definition,
    locale: str,
    *,
    kind: str,
    submission_id: str,
    issued: str,
    answers: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    confirm: bool = False,
    code: str = "",
    code_error: str = "",
    visit: Mapping[str, str] | None = None,
) -> Template:
    """The survey form; `confirm` asks whether to send it with the questions left out.
    `visit`: a kiosk visit's key (see visit.py) per language link, and under "" for the form."""
    context = _context(locale, privacy_url(kind, link.token))
    gettext = context["_"]
    items = [item_view(definition, item, locale, n) for n, item in enumerate(definition.items, 1)]
    reasons = reason_texts(gettext)
    answers = answers or {}
    context |= {
        "title": definition.text(definition.name, locale),
        "office": link.office,
        "organization": link.organization,
        "languages": [
            (code, language_name(code), visit_query(visit, code))
            for code in available_locales(definition)
        ],
        "visit": visit[""] if visit else "",
        "items": items,
        "error_links": ([("#in-code", code_error)] if code_error else [])
        + error_links(items, errors or {}, reasons, gettext),
        "needs_code": link.codes_required and link.mode == "personal",
        "code": code,
        "code_error": code_error,
        "problems": problems(items, errors or {}, reasons),
        "answers": answers,
        "errors": errors or {},
        "confirm_links": missing_links(items, answers, gettext) if confirm else [],
        "submission_id": submission_id,
        "issued": issued,
        "token": link.token,
        "action": f"/{kind}/{link.token}",
        "thanks_url": f"/{kind}/{link.token}/thanks?lang={locale}",
        "kiosk": kind == "k",
        "kiosk_idle_seconds": link.idle_seconds,
        "kiosk_warn_seconds": kiosk_warn_seconds(link.idle_seconds),
        "kiosk_plain_idle_seconds": KIOSK_PLAIN_IDLE_SECONDS,
        "kiosk_reset_seconds": KIOSK_RESET_SECONDS,
        "start_url": f"/k/{link.token}",
    }
    return Template(
        "respond/survey.html",
        context=context,
        status_code=422 if errors else 403 if code_error else 200,
        headers={"cache-control": "no-store"},
    )


def kiosk_start(
    link: LinkInfo,
    definition: Definition,
    locale: str,
    visit: Mapping[str, str] | None = None,
    *,
    next_client: bool = False,
) -> Template:
    """The kiosk's first screen: a large button per language, each in its own script.
    `visit`: the key of the next visit per language (see visit.py); `next_client`: the
    screen a thank-you page goes back to, which empties the back-forward cache."""
    context = _context(locale, privacy_url("k", link.token))
    context |= {
        "title": definition.text(definition.name, locale),
        "office": link.office,
        "organization": link.organization,
        "languages": [
            (
                code,
                language_name(code),
                f"/k/{link.token}?lang={code}{visit_query(visit, code)}",
                text_direction(code),
            )
            for code in available_locales(definition)
        ],
        "token": link.token,
        "start_url": f"/k/{link.token}",
    }
    headers = {"cache-control": "no-store"} | (CLEAR_BACK_FORWARD_CACHE if next_client else {})
    return Template("respond/kiosk.html", context=context, headers=headers)


def thanks(link: LinkInfo, locale: str, *, kind: str) -> Template:
    context = _context(locale, privacy_url(kind, link.token)) | {
        "kiosk": kind == "k",
        "kiosk_reset_seconds": KIOSK_RESET_SECONDS,
        # a kiosk starts the next client in the tablet's language, not in the last client's
        # (which would tell the next person what language the previous one read)
        "again_url": f"/k/{link.token}" if kind == "k" else f"/{kind}/{link.token}?lang={locale}",
        # without JavaScript (the <noscript> refresh, the button): that start screen, which
        # also empties the back-forward cache
        "next_url": f"/k/{link.token}/next",
    }
    return Template("respond/thanks.html", context=context, headers={"cache-control": "no-store"})


def error_page(
    locale: str,
    status_code: int,
    detail: str,
    privacy: str = "/privacy",
    headers: dict[str, str] | None = None,
) -> Template:
    context = _context(locale, privacy)
    headings = {
        404: N_("Survey not found"),
        409: N_("Already sent"),
        410: N_("This survey has ended"),
        429: N_("Please wait a moment"),
    }
    heading = context["_"](headings.get(status_code, N_("Something is wrong")))
    return Template(
        "respond/error.html",
        context=context | {"heading": heading, "detail": detail},
        status_code=status_code,
        headers={"cache-control": "no-store", **(headers or {})},
    )


PRIVACY_TITLE = N_("Privacy notice")


def privacy(
    locale: str,
    contacts: PrivacyContacts,
    settings: Settings,
    back_url: str | None,
    privacy_path: str = "/privacy",
    kiosk: LinkInfo | None = None,
) -> Template:
    """The notice of GDPR Art. 13 in the respondent's language, or in English while that
    language has no translation of it yet (never half one language, half another)."""
    if translations(locale).gettext(PRIVACY_TITLE) == PRIVACY_TITLE and locale != "en":
        shown = "en"
    else:
        shown = locale
    context = _context(shown, privacy_path)
    controller = contacts.controller or settings.privacy_controller
    if not controller and contacts.organization:
        controller = contacts.organization
    context |= {
        "controller": controller.splitlines(),
        "officer": (contacts.officer or settings.privacy_officer).splitlines(),
        "organization": contacts.organization,
        "back_url": back_url,
        "requested": locale,
        "privacy_url": f"{privacy_path}?lang={locale}",
        # on a kiosk the notice is one more screen that goes back to the start when left alone
        "kiosk_start": f"/k/{kiosk.token}" if kiosk else None,
        "kiosk_idle_seconds": kiosk.idle_seconds if kiosk else 0,
    }
    return Template("respond/privacy.html", context=context, headers={"cache-control": "no-store"})


def questionnaire_out(
    link: LinkInfo, definition: Definition, locale: str, issued: str = ""
) -> QuestionnaireOut:
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
        issued=issued,
    )
