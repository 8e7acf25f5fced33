"""Respondent pages (/s personal, /k kiosk) and the respondent JSON API."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from litestar.types import ASGIApp

from survey.errors import BadRequest, Conflict, Invalid, NotFound
from survey.i18n import N_, negotiate
from survey.pagecache import cached_page, slot
from survey.questionnaire import Definition, check_answers
from survey.respond import page
from survey.respond.queries import LinkDirectory
from survey.respond.schemas import LinkInfo, QuestionnaireOut, SubmissionIn, SubmissionOut
from survey.respond.store import ResponseWriter, make_submission

MODES = {"s": "personal", "k": "kiosk"}


async def _active_link(
    state: State, token: str, mode: str | None = None
) -> tuple[LinkInfo, Definition]:
    directory: LinkDirectory = state.directory
    link = await directory.link(token)
    if link is None or not link.active:
        raise NotFound(N_("This survey link is unknown or no longer active."))
    if mode == "kiosk" and link.mode != "kiosk":
        raise NotFound(N_("This survey link is not a kiosk link."))
    return link, await directory.definition(link.version_id)


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
                link, definition, locale, kind=kind, submission_id=slot("submission_id")
            ),
            {"submission_id": str(uuid.uuid4())},
        )

    @post(["/s/{token:str}", "/k/{token:str}"], status_code=303)
    async def submit_form(
        self, request: Request[Any, Any, State], state: State, token: FromPath[str]
    ) -> Redirect | Template:
        kind = request.url.path[1]
        link, definition = await _active_link(state, token, MODES[kind])
        form = await request.form()
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        locale = negotiate(
            fields.pop("lang", None),
            request.headers.get("accept-language"),
            page.available_locales(definition),
        )
        raw_id = fields.pop("submission_id", "")
        try:
            submission_id = uuid.UUID(raw_id)
        except ValueError:
            raise BadRequest(N_("The form is incomplete. Please load the survey again.")) from None
        checked = check_answers(definition, fields, from_form=True)
        if checked.errors:
            return page.survey(
                link,
                definition,
                locale,
                kind=kind,
                submission_id=str(submission_id),
                answers=fields,
                errors=checked.errors,
            )
        writer: ResponseWriter = state.writer
        outcome = await writer.submit(
            make_submission(link, submission_id, locale, checked, definition)
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
        return page.questionnaire_out(link, definition, page.locale_for(request, definition))

    @post("/responses", status_code=201)
    async def submit(
        self, request: Request[Any, Any, State], state: State
    ) -> Response[SubmissionOut]:
        """Store one response. 201 when stored, 200 when this submission id was stored before."""
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
        link, definition = await _active_link(state, data.link)
        checked = check_answers(definition, data.answers)
        if checked.errors:
            raise Invalid(
                "Some answers are invalid: " + ", ".join(sorted(checked.errors)),
                {"errors": checked.errors},
            )
        locale = negotiate(data.locale, None, page.available_locales(definition))
        writer: ResponseWriter = state.writer
        outcome = await writer.submit(
            make_submission(link, data.submission_id, locale, checked, definition)
        )
        if outcome == "conflict":
            raise Conflict("This submission id was already stored with different answers.")
        return Response(
            SubmissionOut(submission_id=data.submission_id, link=link.token),
            status_code=201 if outcome == "created" else 200,
        )
