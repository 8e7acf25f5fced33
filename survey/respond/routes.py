"""Respondent pages (/s personal, /k kiosk), the privacy notice, and the respondent JSON API."""

from __future__ import annotations

import time
import uuid
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from litestar.types import ASGIApp

from survey.errors import BadRequest, Conflict, DomainError, Gone, Invalid, NotFound
from survey.i18n import N_, RESPOND_LOCALES, negotiate, translations
from survey.pagecache import cached_page, slot
from survey.questionnaire import Definition, check_answers
from survey.respond import page
from survey.respond.queries import LinkDirectory, PrivacyContacts, privacy_contacts
from survey.respond.schemas import LinkInfo, QuestionnaireOut, SubmissionIn, SubmissionOut
from survey.respond.stamp import FAST_SECONDS, ForgedStamp, make_stamp, read_stamp
from survey.respond.store import ResponseWriter, make_submission
from survey.settings import Settings

MODES = {"s": "personal", "k": "kiosk"}
ENDED = N_("This survey has ended. Thank you for wanting to take part.")
QUEUED_GRACE_SECONDS = 14 * 86400
"""How long after its deactivation a link still takes answers from pages served before."""


async def _active_link(
    state: State, token: str, mode: str | None = None
) -> tuple[LinkInfo, Definition]:
    directory: LinkDirectory = state.directory
    link = await directory.link(token)
    if link is None:
        raise NotFound(N_("This survey link is unknown or no longer active."))
    if mode == "kiosk" and link.mode != "kiosk":
        raise NotFound(N_("This survey link is not a kiosk link."))
    if not link.active:
        raise Gone(ENDED)
    return link, await directory.definition(link.version_id)


async def _link_for_answers(
    state: State, token: str, issued: str | None, mode: str | None = None
) -> tuple[LinkInfo, Definition, bool]:
    """The link answers are sent to, and whether to flag them (sent too fast, or unsigned).

    A deactivated link refuses new answers, but takes those given on a page it served before
    the deactivation (a kiosk's queue from a time without network), for QUEUED_GRACE_SECONDS.
    """
    directory: LinkDirectory = state.directory
    link = await directory.link(token)
    if link is None:
        raise NotFound(N_("This survey link is unknown or no longer active."))
    if mode == "kiosk" and link.mode != "kiosk":
        raise NotFound(N_("This survey link is not a kiosk link."))
    settings: Settings = state.settings
    now = time.time()
    served: int | None = None
    if issued:
        try:
            served = read_stamp(settings.secret_key, link.token, issued, now)
        except ForgedStamp:
            raise BadRequest(
                N_("This form was not issued by this survey. Please load the survey again.")
            ) from None
    if not link.active:
        off = link.deactivated_at
        if served is None or off is None or served >= off or now - off > QUEUED_GRACE_SECONDS:
            raise Gone(ENDED)
    flagged = served is None or now - served < FAST_SECONDS
    return link, await directory.definition(link.version_id), flagged


def _in_language(exc: DomainError, locale: str) -> DomainError:
    """The reason also in the respondent's language (`message`), for the kiosk to show."""
    exc.extra.setdefault("message", translations(locale).gettext(exc.detail))
    return exc


class RespondController(Controller):
    include_in_schema = False

    @get(["/s/{token:str}", "/k/{token:str}"], cache_control=None)
    async def survey(
        self, request: Request[Any, Any, State], state: State, token: FromPath[str]
    ) -> ASGIApp:
        kind = request.url.path[1]
        link, definition = await _active_link(state, token, MODES[kind])
        locale = page.locale_for(request, definition)
        return cached_page(
            request,
            ("survey", kind, locale, link),
            lambda: page.survey(
                link,
                definition,
                locale,
                kind=kind,
                submission_id=slot("submission_id"),
                issued=slot("issued"),
            ),
            {
                "submission_id": str(uuid.uuid4()),
                "issued": make_stamp(state.settings.secret_key, link.token),
            },
        )

    @post(["/s/{token:str}", "/k/{token:str}"], status_code=303)
    async def submit_form(
        self, request: Request[Any, Any, State], state: State, token: FromPath[str]
    ) -> Redirect | Template:
        kind = request.url.path[1]
        form = await request.form()
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        requested = fields.pop("lang", None)
        issued = fields.pop("issued", None)
        incomplete = fields.pop("incomplete", "") == "1"
        raw_id = fields.pop("submission_id", "")
        locale = negotiate(requested, request.headers.get("accept-language"), RESPOND_LOCALES)
        try:
            link, definition, flagged = await _link_for_answers(state, token, issued, MODES[kind])
        except DomainError as exc:
            return page.error_page(
                locale,
                exc.status_code,
                translations(locale).gettext(exc.detail),
                page.privacy_url(kind, token),
            )
        locale = negotiate(
            requested, request.headers.get("accept-language"), page.available_locales(definition)
        )
        try:
            submission_id = uuid.UUID(raw_id)
        except ValueError:
            raise BadRequest(N_("The form is incomplete. Please load the survey again.")) from None
        checked = check_answers(definition, fields, from_form=True)
        left_out = any(
            item.type == "scale" and item.code not in checked.values for item in definition.items
        )
        if checked.errors or (left_out and not incomplete):
            return page.survey(
                link,
                definition,
                locale,
                kind=kind,
                submission_id=str(submission_id),
                issued=issued or "",
                answers=fields,
                errors=checked.errors,
                confirm=not checked.errors,
            )
        writer: ResponseWriter = state.writer
        outcome = await writer.submit(
            make_submission(link, submission_id, locale, checked, definition, flagged=flagged)
        )
        if outcome == "conflict":
            raise Conflict(N_("These answers were already sent with different content."))
        return Redirect(f"/{kind}/{token}/thanks?lang={locale}", status_code=303)

    @get(["/s/{token:str}/thanks", "/k/{token:str}/thanks"], cache_control=None)
    async def thanks(
        self, request: Request[Any, Any, State], state: State, token: FromPath[str]
    ) -> ASGIApp:
        kind = request.url.path[1]
        link, definition = await _active_link(state, token, MODES[kind])
        locale = page.locale_for(request, definition)
        return cached_page(
            request, ("thanks", kind, locale, link), lambda: page.thanks(link, locale, kind=kind)
        )

    @get(["/s/{token:str}/privacy", "/k/{token:str}/privacy"], cache_control=None)
    async def link_privacy(
        self, request: Request[Any, Any, State], state: State, token: FromPath[str]
    ) -> Template:
        """The privacy notice of the link's job centre (also while the link is switched off)."""
        kind = request.url.path[1]
        directory: LinkDirectory = state.directory
        link = await directory.link(token)
        if link is None:
            raise NotFound(N_("This survey link is unknown or no longer active."))
        definition = await directory.definition(link.version_id)
        locale = page.locale_for(request, definition)
        return page.privacy(
            locale,
            await privacy_contacts(link.organization_id),
            state.settings,
            back_url=f"/{kind}/{token}?lang={locale}" if link.active else None,
            privacy_path=page.privacy_url(kind, token),
        )

    @get("/privacy", cache_control=None)
    async def privacy(self, request: Request[Any, Any, State], state: State) -> Template:
        """The privacy notice without a link (from an error page): the settings' contacts."""
        locale = negotiate(
            request.query_params.get("lang"),
            request.headers.get("accept-language"),
            RESPOND_LOCALES,
        )
        return page.privacy(
            locale,
            PrivacyContacts(organization="", controller="", officer=""),
            state.settings,
            None,
        )


class RespondApiController(Controller):
    path = "/api/v1"
    tags = ("respond",)

    @get("/links/{token:str}/questionnaire")
    async def questionnaire(
        self,
        request: Request[Any, Any, State],
        state: State,
        token: FromPath[str],
        lang: FromQuery[str | None] = None,
    ) -> QuestionnaireOut:
        """The items of a link's questionnaire in one language (`?lang=` or Accept-Language)."""
        link, definition = await _active_link(state, token)
        return page.questionnaire_out(
            link,
            definition,
            page.locale_for(request, definition),
            make_stamp(state.settings.secret_key, link.token),
        )

    @post("/responses", status_code=201)
    async def submit(
        self, request: Request[Any, Any, State], state: State
    ) -> Response[SubmissionOut]:
        """Store one response. 201 when stored, 200 when this submission id was stored before.

        `issued` is the signed issue time of the survey page (its `issued` form field): a
        response without one, or sent less than 5 seconds after its page was served, is
        stored but flagged. Errors carry `message`, the reason in the response's language.
        """
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != "application/json":
            raise BadRequest("Send the response as application/json.", status_code=415)
        body = await request.body()
        try:
            data = msgspec.json.decode(body, type=SubmissionIn)
        except msgspec.ValidationError as exc:
            raise BadRequest(f"Invalid response: {exc}") from None
        except msgspec.DecodeError as exc:
            raise BadRequest(f"Malformed JSON: {exc}") from None
        except RecursionError:  # thousands of nested arrays: refused, not a 500
            raise BadRequest("Malformed JSON: nested too deeply.") from None
        language = negotiate(data.locale, None, RESPOND_LOCALES)
        try:
            link, definition, flagged = await _link_for_answers(state, data.link, data.issued)
        except DomainError as exc:
            raise _in_language(exc, language) from None
        checked = check_answers(definition, data.answers)
        if checked.errors:
            raise Invalid(
                "Some answers are invalid: " + ", ".join(sorted(checked.errors)),
                {"errors": checked.errors},
            )
        locale = negotiate(data.locale, None, page.available_locales(definition))
        writer: ResponseWriter = state.writer
        outcome = await writer.submit(
            make_submission(link, data.submission_id, locale, checked, definition, flagged=flagged)
        )
        if outcome == "conflict":
            raise Conflict("This submission id was already stored with different answers.")
        return Response(
            SubmissionOut(submission_id=data.submission_id, link=link.token),
            status_code=201 if outcome == "created" else 200,
        )
