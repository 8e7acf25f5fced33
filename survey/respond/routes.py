"""Respondent pages (/s personal, /k kiosk), the privacy notice, and the respondent JSON API."""

from __future__ import annotations

import time
import uuid
from functools import cache
from pathlib import Path
from typing import Any, cast
from urllib.parse import unquote_plus

import msgspec
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from litestar.types import ASGIApp

from survey.errors import (
    BadRequest,
    Conflict,
    DomainError,
    Forbidden,
    Gone,
    Invalid,
    NotFound,
    TooManyRequests,
)
from survey.i18n import N_, RESPOND_LOCALES, negotiate, translations
from survey.pagecache import RawResponse, cached_page, slot
from survey.questionnaire import Definition, check_answers
from survey.respond import codes, page
from survey.respond.limits import RateLimiter, retry_after
from survey.respond.queries import (
    LinkDirectory,
    PrivacyContacts,
    privacy_contacts,
    response_stored,
)
from survey.respond.schemas import LinkInfo, QuestionnaireOut, SubmissionIn, SubmissionOut
from survey.respond.stamp import FAST_SECONDS, ForgedStamp, make_stamp, read_stamp
from survey.respond.store import Outcome, ResponseWriter, Submission, make_submission
from survey.respond.visit import new_visit, read_visit, visit_submission_id, visit_submission_ids
from survey.settings import Settings

FRONTEND = Path(__file__).resolve().parent.parent.parent / "frontend"
MODES = {"s": "personal", "k": "kiosk"}
ENDED = N_("This survey has ended. Thank you for wanting to take part.")
INCOMPLETE = N_("The form is incomplete. Please load the survey again.")
UNKNOWN = N_("This survey link is unknown or no longer active.")
QUEUED_GRACE_SECONDS = 14 * 86400
"""How long after its deactivation a link still takes answers from pages served before."""
NOT_RANDOM_IDS = frozenset({uuid.UUID(int=0), uuid.UUID(int=(1 << 128) - 1)})
"""The nil and the max UUID (RFC 9562): well formed, but no client's random id. Two clients
(or scripts) sending one would share an idempotency key: the second's answers refused (409)."""


async def _link_in_mode(state: State, token: str, mode: str | None) -> LinkInfo:
    """The link of `token`, or 404 when there is none or it is not of `mode` (the page's
    path: /k/ for kiosk links, /s/ for personal ones; None: either)."""
    directory: LinkDirectory = state.directory
    link = await directory.link(token)
    if link is None:
        raise NotFound(UNKNOWN)
    if mode is not None and link.mode != mode:  # a kiosk's token on /s/ would escape its limits
        raise NotFound(N_("This survey link is not a kiosk link.") if mode == "kiosk" else UNKNOWN)
    return link


async def _active_link(
    state: State, token: str, mode: str | None = None
) -> tuple[LinkInfo, Definition]:
    link = await _link_in_mode(state, token, mode)
    if not link.active:
        raise Gone(ENDED)
    return link, await state.directory.definition(link.version_id)


async def _link_for_answers(
    request: Request[Any, Any, State],
    state: State,
    token: str,
    issued: str | None,
    mode: str | None = None,
) -> tuple[LinkInfo, Definition, bool]:
    """The link answers are sent to, and whether to flag them (sent too fast, or unsigned).

    Over the rate limits of the link or of the client's address: 429 with Retry-After.
    A deactivated link refuses new answers, but takes those given on a page it served before
    the deactivation (a kiosk's queue from a time without network), for QUEUED_GRACE_SECONDS.
    """
    link = await _link_in_mode(state, token, mode)
    settings: Settings = state.settings
    limiter: RateLimiter = state.limiter
    wait = 0.0
    if settings.rate_limits:
        address = client_address(request, settings.trusted_proxies)
        wait = limiter.check(link.token, link.mode, address)
    if wait:
        raise TooManyRequests(
            N_("Many answers are arriving at once. Please send yours again in a moment."),
            {"retry_after": retry_after(wait)},
        )
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
    return link, await state.directory.definition(link.version_id), flagged


def _error_page(exc: DomainError, locale: str, kind: str, token: str) -> Template:
    return page.error_page(
        locale,
        exc.status_code,
        translations(locale).gettext(exc.detail),
        page.privacy_url(kind, token),
        headers=_retry_header(exc),
    )


def _retry_header(exc: DomainError) -> dict[str, str]:
    wait = exc.extra.get("retry_after")
    return {"retry-after": str(wait)} if wait else {}


def _json_error(exc: DomainError) -> Response[dict[str, Any]]:
    return Response(
        {"status_code": exc.status_code, "detail": exc.detail, **exc.extra},
        status_code=exc.status_code,
        headers=_retry_header(exc),
    )


@cache
def _worker_script() -> bytes:
    return (FRONTEND / "static" / "js" / "kiosk-sw.js").read_bytes()


CODE_NEEDED = N_("Please enter the code from your slip.")
CODE_REFUSED = N_("This code is unknown or has already been used.")


async def _store(
    state: State,
    link: LinkInfo,
    submission: Submission,
    code: str | None,
) -> Outcome:
    """Store a response; on a link that asks for slip codes, use up its code first (given
    back when the response is not stored). A resend of a stored response needs no code."""
    writer: ResponseWriter = state.writer
    secret = state.settings.secret_key
    claimed = False
    if link.codes_required and link.mode == "personal":
        claimed = bool(code) and await codes.claim(secret, link.id, code or "")
        if not claimed and not await response_stored(submission.submission_id):
            raise Forbidden(CODE_REFUSED if code else CODE_NEEDED)
    try:
        outcome = await writer.submit(submission)
    except BaseException:
        if claimed:
            await codes.release(secret, link.id, code or "")
        raise
    if claimed and outcome != "created":
        await codes.release(secret, link.id, code or "")
    return outcome


async def _form_fields(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The form's text fields; of a name sent twice, the last. An urlencoded body (what a
    browser sends for this form) is read as Litestar reads it, but into a plain dict: its
    multidict per request took as long as the rest of the form's checks. Its bytes are
    UTF-8 (a browser sends them so, escaped): any other is refused, not read as Latin-1."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type == "application/x-www-form-urlencoded":
        try:
            return parse_form((await request.body()).decode("utf-8"))
        except UnicodeDecodeError:
            raise BadRequest(INCOMPLETE) from None
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def parse_form(body: str) -> dict[str, str]:
    """`dict(urllib.parse.parse_qsl(body, keep_blank_values=True))`, in a fraction of its
    time: a pair without escapes is taken as it is."""
    fields: dict[str, str] = {}
    for pair in body.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        if "%" in pair or "+" in pair:
            name, value = unquote_plus(name), unquote_plus(value)
        fields[name] = value
    return fields


def _sent(page: Template) -> ASGIApp:
    """A page for a handler annotated to return an ASGI app: Litestar sends any Response a
    handler returns as a response, whatever the annotation says."""
    return cast("ASGIApp", page)


def see_other(location: str) -> RawResponse:
    """303 to `location` (a path of this app), without a body and never stored: what
    Litestar's Redirect sent (plus no-store), without its response objects per request."""
    headers = [(b"location", location.encode()), (b"content-length", b"0"), _NO_STORE]
    return RawResponse(303, headers, b"")


_NO_STORE = (b"cache-control", b"no-store")


def client_address(request: Request[Any, Any, Any], proxies: tuple[str, ...]) -> str | None:
    """The client's address for the rate limits: the peer, or behind a trusted proxy the last
    X-Forwarded-For hop that is not itself one of the proxies. A proxy that names no client
    gives None (no bucket per address; the link's own limit still holds): counting every
    client behind it as one address would refuse a whole office after ten answers."""
    peer = request.client.host if request.client else None
    if peer is None or peer not in proxies:
        return peer
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",")]
    return next((h for h in reversed(hops) if h and h not in proxies), None)


def _kiosk_thanks(link: LinkInfo, locale: str, outcome: Outcome) -> ASGIApp:
    """A kiosk's form sent without JavaScript: the thank-you page in the client's language as
    the answer to the POST itself, at the form's address (the start's, /k/<token>), so that
    no address names the client's language. A reload sends the same answers again; that
    duplicate is redirected to the thank-you page without a language (the tablet's), so the
    next client sees neither the last one's language nor, after the reset, their answers."""
    if outcome == "duplicate":
        return see_other(f"/k/{link.token}/thanks")
    return _sent(page.thanks(link, locale, kind="k"))


def _visit_slots(definition: Definition) -> dict[str, str]:
    """A kiosk page's slots for its visit key, by language link ("": the form's field)."""
    return {code: f"visit-{code}" for code in ("", *page.available_locales(definition))}


def _markers(slots: dict[str, str]) -> dict[str, str]:
    return {code: slot(name) for code, name in slots.items()}


def _kiosk_start(
    request: Request[Any, Any, Any],
    link: LinkInfo,
    definition: Definition,
    locale: str,
    next_client: bool = False,
) -> ASGIApp:
    """The kiosk's start screen, rendered once per link and language, each view with a new
    visit key in its language links (`next_client`: the one that also empties the browser's
    pages kept for Back)."""
    slots = _visit_slots(definition)
    return cached_page(
        request,
        ("kiosk", locale, link, "next") if next_client else ("kiosk", locale, link),
        lambda: page.kiosk_start(
            link, definition, locale, _markers(slots), next_client=next_client
        ),
        dict.fromkeys(slots.values(), new_visit()),
    )


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
        if kind == "k" and "lang" not in request.query_params:
            return _kiosk_start(request, link, definition, locale)
        slots = _visit_slots(definition) if kind == "k" else {}
        submission_id = uuid.uuid4()
        visit = read_visit(request.query_params.get("visit")) if kind == "k" else None
        if visit:  # a kiosk's form without JavaScript (see visit.py)
            for made in visit_submission_ids(link.token, visit):
                if await response_stored(str(made)):
                    return see_other(f"/k/{link.token}")
            submission_id = visit_submission_id(link.token, visit)
        return cached_page(
            request,
            ("survey", kind, locale, link, bool(visit)),
            lambda: page.survey(
                link,
                definition,
                locale,
                kind=kind,
                submission_id=slot("submission_id"),
                issued=slot("issued"),
                code=slot("code"),
                visit=_markers(slots) if visit else None,
            ),
            {
                "submission_id": str(submission_id),
                "issued": make_stamp(state.settings.secret_key, link.token),
                "code": request.query_params.get("code", "")[:40],
            }
            | (dict.fromkeys(slots.values(), visit) if visit else {}),
        )

    @post(["/s/{token:str}", "/k/{token:str}"], status_code=303, media_type=MediaType.HTML)
    async def submit_form(
        self, request: Request[Any, Any, State], state: State, token: FromPath[str]
    ) -> ASGIApp:
        kind = request.url.path[1]
        fields = await _form_fields(request)
        requested = fields.pop("lang", None)
        issued = fields.pop("issued", None)
        incomplete = fields.pop("incomplete", "") == "1"
        raw_id = fields.pop("submission_id", "")
        code = fields.pop("code", "").strip()
        visit = read_visit(fields.pop("visit", None)) if kind == "k" else None
        locale = negotiate(requested, request.headers.get("accept-language"), RESPOND_LOCALES)
        try:
            link, definition, flagged = await _link_for_answers(
                request, state, token, issued, MODES[kind]
            )
        except DomainError as exc:
            return _sent(_error_page(exc, locale, kind, token))
        locale = negotiate(
            requested, request.headers.get("accept-language"), page.available_locales(definition)
        )
        try:
            submission_id = uuid.UUID(raw_id)
        except ValueError:
            submission_id = None
        if submission_id is None or submission_id in NOT_RANDOM_IDS:
            raise BadRequest(INCOMPLETE)
        checked = check_answers(definition, fields, from_form=True)
        left_out = any(
            item.type == "scale" and item.code not in checked.values for item in definition.items
        )

        def again(**problems: Any) -> Template:
            """The form once more, with what was given and what is to be done."""
            return page.survey(
                link,
                definition,
                locale,
                kind=kind,
                submission_id=str(submission_id),
                issued=issued or "",
                answers=fields,
                code=code,
                visit=dict.fromkeys(_visit_slots(definition), visit) if visit else None,
                **problems,
            )

        if checked.errors or (left_out and not incomplete):
            if kind == "k" and await response_stored(str(submission_id)):
                # the kiosk's "send anyway?" page sent again once its answers are stored (a
                # reload after Back): neither a second response nor the answers on screen
                return see_other(f"/k/{token}/thanks")
            return _sent(again(errors=checked.errors, confirm=not checked.errors))
        submission = make_submission(
            link, submission_id, locale, checked, definition, flagged=flagged
        )
        try:
            outcome = await _store(state, link, submission, code)
        except Forbidden as exc:
            reason = translations(locale).gettext(exc.detail)
            return _sent(again(code_error=reason))
        if outcome == "conflict":  # in the form's language, as every other refusal here
            sent_before = Conflict(N_("These answers were already sent with different content."))
            return _sent(_error_page(sent_before, locale, kind, token))
        if kind == "k":
            return _kiosk_thanks(link, locale, outcome)
        return see_other(f"/{kind}/{token}/thanks?lang={locale}")

    @get("/k/{token:str}/next", cache_control=None)
    async def next_client(
        self, request: Request[Any, Any, State], state: State, token: FromPath[str]
    ) -> ASGIApp:
        """The start screen a kiosk's thank-you page goes back to without JavaScript: the
        one of /k/<token>, telling the browser to drop the pages it keeps for Back."""
        link, definition = await _active_link(state, token, "kiosk")
        return _kiosk_start(
            request, link, definition, page.locale_for(request, definition), next_client=True
        )

    @get(["/s/{token:str}/thanks", "/k/{token:str}/thanks"], cache_control=None)
    async def thanks(
        self, request: Request[Any, Any, State], state: State, token: FromPath[str]
    ) -> ASGIApp:
        kind = request.url.path[1]
        # also once the link is switched off: the answers sent from a page it served before
        # are taken for a while (`_link_for_answers`), and their sender is thanked, not told
        # the survey has ended
        link = await _link_in_mode(state, token, MODES[kind])
        definition = await state.directory.definition(link.version_id)
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
            raise NotFound(UNKNOWN)
        definition = await directory.definition(link.version_id)
        locale = page.locale_for(request, definition)
        return page.privacy(
            locale,
            await privacy_contacts(link.organization_id),
            state.settings,
            back_url=None if not link.active else f"/k/{token}" if kind == "k" else None,
            privacy_path=page.privacy_url(kind, token),
            kiosk=link if kind == "k" else None,
        )

    @get("/k/sw.js", cache_control=None)
    async def kiosk_worker(self) -> Response[bytes]:
        """The kiosk's service worker; served from /k/ so that its scope covers every kiosk."""
        return Response(
            _worker_script(),
            media_type="text/javascript",
            headers={"cache-control": "no-cache", "service-worker-allowed": "/k/"},
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

        `submission_id` is a random UUID the client makes once per response (the nil and the
        max UUID are refused, 422). `answers` may leave out any question that is not
        required, all of them too: `{}` is stored, as the survey form stores a form sent
        empty after its "send anyway?" question (it adds nothing to the dashboards' counts;
        the research export has it as a row without answers).
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
        if data.submission_id in NOT_RANDOM_IDS:
            raise Invalid(
                f"submission_id {data.submission_id} is not a random id: make a random UUID "
                "(version 4) for each response."
            )
        try:
            link, definition, flagged = await _link_for_answers(
                request, state, data.link, data.issued
            )
            checked = check_answers(definition, data.answers)
            if checked.errors:
                raise Invalid(
                    "Some answers are invalid: " + ", ".join(sorted(checked.errors)),
                    {"errors": checked.errors},
                )
            locale = negotiate(data.locale, None, page.available_locales(definition))
            submission = make_submission(
                link, data.submission_id, locale, checked, definition, flagged=flagged
            )
            outcome = await _store(state, link, submission, data.code)
        except DomainError as exc:
            return _json_error(_in_language(exc, language))  # type: ignore[return-value]
        if outcome == "conflict":
            raise Conflict("This submission id was already stored with different answers.")
        return Response(
            SubmissionOut(submission_id=data.submission_id, link=link.token),
            status_code=201 if outcome == "created" else 200,
        )
