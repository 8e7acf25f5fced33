"""What staff print for a link: the QR poster (PDF, SVG) and slip sheets, with one-time codes
when the link asks for them. Only staff (admin, manager) of the link's job centre may."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.params import FromPath

from survey.auth import guard
from survey.auth.schemas import Scope
from survey.downloads import file_response
from survey.errors import BadRequest, Forbidden, NotFound
from survey.i18n import RESPOND_LOCALES
from survey.respond import codes, posters
from survey.respond.page import available_locales
from survey.respond.queries import find_link, load_version
from survey.respond.schemas import LinkInfo
from survey.settings import Settings
from survey.tables import Office

MAX_CODES = 400
"""Most one-time codes made in one request (50 sheets)."""


class PrintJob(msgspec.Struct, frozen=True):
    link: LinkInfo
    poster: posters.Poster


async def office_languages(office_id: int) -> list[str]:
    row = await Office.select(Office.poster_languages).where(Office.id == office_id).first()
    chosen = (row or {}).get("poster_languages") or ""
    return [code.strip() for code in chosen.split(",") if code.strip()]


async def print_job(
    settings: Settings, token: str, languages: list[str] | None, scope: Scope | None
) -> PrintJob:
    """The poster of a link: its URL, its office, and the texts in the chosen languages
    (asked for; else the office's choice; else DEFAULT_LANGUAGES), each one the link's
    questionnaire speaks. 403 for a user who may not print it, before any other answer
    (`scope` None: the operator's command line)."""
    link = await find_link(token)
    if link is None:
        raise NotFound("This survey link is unknown.")
    if scope is not None:
        await require_staff_of(scope, link)
    speaks = available_locales(await load_version(link.version_id))
    wanted = languages or await office_languages(link.office_id) or list(posters.DEFAULT_LANGUAGES)
    unknown = [code for code in wanted if code not in RESPOND_LOCALES]
    if unknown:
        raise BadRequest(
            f"Unknown language(s) {', '.join(unknown)}; known: {', '.join(RESPOND_LOCALES)}."
        )
    chosen = [code for code in dict.fromkeys(wanted) if code in speaks] or speaks[:1]
    mode_path = "k" if link.mode == "kiosk" else "s"
    return PrintJob(
        link=link,
        poster=posters.Poster(
            url=f"{settings.public_url}/{mode_path}/{link.token}",
            organization=link.organization,
            office=link.office,
            texts=posters.poster_texts(chosen),
        ),
    )


async def require_staff_of(scope: Scope, link: LinkInfo) -> None:
    """Admins and managers of the link's job centre, or of one of its offices, and the
    coordinators of its network (who may set up its offices and links); 403 else. These
    are the users whose scope sees an office of the link's job centre (`load_scope` resolved
    their roles to offices; a token limited to other job centres sees none of them)."""
    if link.organization_id not in {o.organization_id for o in scope.visible_offices}:
        raise Forbidden("Only staff of the link's job centre may print its posters.")


def _languages(request: Request[Any, Any, Any]) -> list[str] | None:
    values = request.query_params.getall("lang", [])
    chosen = [code for value in values for code in value.split(",") if code.strip()]
    return [code.strip() for code in chosen][: posters.MAX_POSTER_LANGUAGES] or None


class PrintController(Controller):
    """`?lang=de,ar,uk` chooses the languages (at most 8); the office's choice otherwise."""

    path = "/api/v1/links/{token:str}"
    tags = ("posters",)

    async def _job(self, request: Request[Any, Any, State], state: State, token: str) -> PrintJob:
        scope = await guard.signed_in(request, state)
        return await print_job(state.settings, token, _languages(request), scope)

    @get("/poster.pdf", media_type="application/pdf")
    async def poster_pdf(
        self, request: Request[Any, Any, State], state: State, token: FromPath[str]
    ) -> Response[bytes]:
        """An A4 poster: the invitation in each language, the QR code, the address."""
        job = await self._job(request, state, token)
        data = posters.poster_pdf(job.poster)
        return file_response(
            data, "application/pdf", f"resonanz-poster-{token}.pdf", disposition="inline"
        )

    @get("/poster.svg", media_type="image/svg+xml")
    async def poster_svg(
        self, request: Request[Any, Any, State], state: State, token: FromPath[str]
    ) -> Response[bytes]:
        job = await self._job(request, state, token)
        data = posters.poster_svg(job.poster).encode()
        return file_response(
            data, "image/svg+xml", f"resonanz-poster-{token}.svg", disposition="inline"
        )

    @get("/slips.pdf", media_type="application/pdf")
    async def slips_pdf(
        self, request: Request[Any, Any, State], state: State, token: FromPath[str]
    ) -> Response[bytes]:
        """A sheet of 8 slips to hand out after a session (no codes)."""
        job = await self._job(request, state, token)
        return file_response(
            posters.slips_pdf(job.poster),
            "application/pdf",
            f"resonanz-slips-{token}.pdf",
            disposition="inline",
        )

    @post("/code-slips.pdf", media_type="application/pdf", status_code=201)
    async def slips_with_codes(
        self, request: Request[Any, Any, State], state: State, token: FromPath[str]
    ) -> Response[bytes]:
        """Slips with new one-time codes (`?count=`, 8 to 400, default 8), each valid for one
        response. The codes are printed here once; only their hashes are kept. With a
        session cookie, send the CSRF token as `x-csrf-token`."""
        scope = await guard.signed_in(request, state)
        given = request.headers.get("x-csrf-token")
        if given is None and not scope.via_token:  # the form on the administration's links page
            given = (await request.form()).get("csrf_token")
        if not scope.via_token and scope.csrf != given:
            raise Forbidden("The form has expired. Please load the page again.")
        job = await print_job(state.settings, token, _languages(request), scope)
        raw = request.query_params.get("count", "8")
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_CODES:
            raise BadRequest(f"count must be a whole number from 1 to {MAX_CODES}.")
        made = await codes.make_codes(state.settings.secret_key, job.link.id, int(raw))
        return file_response(
            posters.slips_pdf(job.poster, made),
            "application/pdf",
            f"resonanz-codes-{token}.pdf",
            status_code=201,
        )
