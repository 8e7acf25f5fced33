"""The administration pages (/manage) and the one-time set-password page."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import FormMultiDict, State
from litestar.di import NamedDependency, Provide
from litestar.handlers import BaseRouteHandler
from litestar.params import FromPath
from litestar.response import Redirect, Template

from survey.auth import guard
from survey.auth.routes import NO_STORE, _checked_form, staff_error
from survey.auth.schemas import Scope
from survey.bodies import CONTROL
from survey.downloads import file_response
from survey.errors import BadRequest, Conflict, DomainError, Forbidden, in_words
from survey.i18n import N_, RESPOND_LOCALES, UI_LOCALES, language_name, translations
from survey.manage import audit, questionnaires, retention, structure, targets, users
from survey.manage.access import NOT_YOURS, Actor, load_actor, office_org, version_org
from survey.manage.problems import to_struct
from survey.manage.schemas import (
    LinkIn,
    NetworkIn,
    OfficeIn,
    OfficePatch,
    OrganizationIn,
    OrganizationPatch,
    QuestionnaireIn,
    RolesIn,
    TargetIn,
    TokenIn,
    UserIn,
)
from survey.questionnaire import KIND_NAMES, LOCAL_ZONE, MODE_NAMES, load_definition
from survey.respond import page as respond_page
from survey.respond.schemas import LinkInfo
from survey.security import CSP
from survey.tables import QuestionnaireVersion

ROLE_NAMES = {
    "network": N_("Network coordinator"),
    "admin": N_("Admin"),
    "manager": N_("Manager"),
    "researcher": N_("Researcher"),
}
DONE = {
    "office": N_("The office is saved."),
    "link": N_("The link is saved."),
    "user": N_("The user is saved."),
    "token": N_("The token is revoked."),
    "network": N_("The network is saved."),
    "removed": N_(
        "The job centre has left the network. Until it joins another network, you can add it "
        "back on this page."
    ),
    "organization": N_("The job centre is saved."),
    "texts": N_("The texts are saved."),
    "target": N_("The targets are saved."),
    "published": N_("The version is published. It can now be given to clients by a link."),
}


def local_time(value: dt.datetime | None) -> str:
    """A stored time (UTC) as the clock in the job centres showed it (LOCAL_ZONE)."""
    return "" if value is None else value.astimezone(LOCAL_ZONE).strftime("%Y-%m-%d %H:%M")


def _lang(value: str) -> str:
    if value not in RESPOND_LOCALES:
        raise BadRequest(N_("Unknown language."))
    return value


async def page_actor(staff: NamedDependency[Scope]) -> Actor:
    return await load_actor(staff)


def _translated_text(request: Request[Any, Any, Any], exc: DomainError) -> str:
    """A refusal's reason in the page's language, with the particulars filled in."""
    return in_words(exc, translations(guard.staff_locale(request), "staff").gettext)


def _translated(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    """Refusals on pages in the page's language, with the particulars filled in."""
    return staff_error(request, exc.status_code, _translated_text(request, exc))


def _typed(form: FormMultiDict) -> dict[str, Any]:
    """What the user typed into a form, to show it again (a list for each set of boxes)."""
    typed: dict[str, Any] = {
        k: v for k, v in form.items() if k != "csrf_token" and isinstance(v, str)
    }
    for key in ("service_types", "office_ids", "organization_ids", "poster_languages"):
        typed[key] = form.getall(key, [])
    return typed


def _again(
    request: Request[Any, Any, Any], exc: DomainError, form: FormMultiDict
) -> dict[str, Any]:
    """The form's page once more: the reason on top, what was typed kept, the refusal's
    status. A refusal for another's job centre stays a 403 page of its own."""
    if exc.status_code == 403:
        raise exc
    return {
        "refused": _translated_text(request, exc),
        "typed": _typed(form),
        "status_code": exc.status_code,
    }


def _int(form: FormMultiDict | dict[str, Any], key: str) -> int:
    raw = str(form.get(key) or "")
    if not raw.isdigit() or len(raw) > 9:
        raise BadRequest(N_("The form is missing a choice."))
    return int(raw)


def _month_day(value: str, *, last: bool) -> str:
    """A month field's 2026-03 as the first (or last) day of that month; anything else as
    typed, for the schema to check."""
    value = value.strip()
    if len(value) != 7 or value[4] != "-" or not (value[:4] + value[5:]).isdigit():
        return value
    year, month = int(value[:4]), int(value[5:])
    if not (1 <= month <= 12 and 1 <= year < 9999):
        return value
    if not last:
        return f"{value}-01"
    return (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).isoformat()


def _opt(form: FormMultiDict, key: str) -> str | None:
    value = str(form.get(key) or "").strip()
    return value or None


def ids_in_range(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """An id no row can have is refused like any id outside the user's job centres (and
    never reaches PostgreSQL, whose integer columns stop at 2^31 − 1)."""
    for value in connection.path_params.values():
        if isinstance(value, int) and not 0 < value < 2**31:
            raise Forbidden(NOT_YOURS)


class ManagePagesController(Controller):
    path = "/manage"
    include_in_schema = False
    guards = [ids_in_range]  # noqa: RUF012
    dependencies = {"staff": Provide(guard.signed_in), "actor": Provide(page_actor)}  # noqa: RUF012
    exception_handlers = {DomainError: _translated}  # noqa: RUF012

    def _page(
        self,
        request: Request[Any, Any, Any],
        staff: Scope,
        template: str,
        status_code: int = 200,
        **context: Any,
    ) -> Template:
        locale = guard.staff_locale(request, staff)
        gettext = translations(locale, "staff").gettext

        done = DONE.get(request.query_params.get("done", ""))
        return Template(
            f"manage/{template}",
            context=guard.page_context(request, staff, locale)
            | {
                "kinds": [(k, gettext(v)) for k, v in KIND_NAMES.items()],
                "kind_name": lambda k: gettext(KIND_NAMES.get(str(k), str(k))),
                "role_name": lambda r: gettext(ROLE_NAMES.get(str(r), str(r))),
                "mode_name": lambda m: gettext(MODE_NAMES.get(str(m), str(m))),
                "modes": [(k, gettext(v)) for k, v in MODE_NAMES.items()],
                "when": local_time,
                "done": gettext(done) if done else None,
                "section": template.split(".")[0],
            }
            | context,
            status_code=status_code,
            headers=dict(NO_STORE),
        )

    @staticmethod
    def _admin(actor: Actor) -> None:
        if not actor.is_admin:
            raise Forbidden(N_("Your role does not include administration."))

    @get("/", cache_control=None)
    async def index(
        self,
        request: Request[Any, Any, Any],
        staff: NamedDependency[Scope],
        actor: NamedDependency[Actor],
    ) -> Template:
        self._admin(actor)
        return self._page(
            request,
            staff,
            "index.html",
            organizations=await structure.organizations(actor),
            networks=await structure.networks(actor),
            offices=await structure.offices(actor),
        )

    # ---- networks and job centres --------------------------------------------------------

    @get("/network", cache_control=None)
    async def network_page(
        self,
        request: Request[Any, Any, Any],
        staff: NamedDependency[Scope],
        actor: NamedDependency[Actor],
    ) -> Template:
        return await self._network(request, staff, actor)

    async def _network(
        self, request: Request[Any, Any, Any], staff: Scope, actor: Actor, **again: Any
    ) -> Template:
        """The page; after a refusal (`again`) with the reason on top and what was typed in
        the form it came from (`typed["form"]`: which network's or job centre's form)."""
        self._admin(actor)
        former = await structure.former_members(actor)
        return self._page(
            request,
            staff,
            "network.html",
            **again,
            organizations=await structure.organizations(actor),
            networks=await structure.networks(actor, former),
            former=former,
        )

    async def _network_again(
        self, request: Request[Any, Any, Any], staff: Scope, actor: Actor, exc: DomainError,
        form: FormMultiDict, which: str,
    ) -> Template:  # fmt: skip
        again = _again(request, exc, form)
        again["typed"]["form"] = which
        return await self._network(request, staff, actor, **again)

    @post("/networks", status_code=303)
    async def create_network(
        self,
        request: Request[Any, Any, Any],
        state: State,
        staff: NamedDependency[Scope],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        form = await _checked_form(request, state, staff)
        structure.require_coordinator(actor)  # 403 before what the form lacks
        data = to_struct(NetworkIn, {"name": form.get("name"), "slug": form.get("slug")})
        await structure.create_network(actor, data)
        return Redirect("/manage/network?done=network", status_code=303)

    @post("/networks/{network_id:int}", status_code=303)
    async def rename_network(
        self,
        request: Request[Any, Any, Any],
        state: State,
        staff: NamedDependency[Scope],
        actor: NamedDependency[Actor],
        network_id: FromPath[int],
    ) -> Redirect | Template:
        form = await _checked_form(request, state, staff)
        name = str(form.get("name") or "").strip()
        try:
            if not name or len(name) > 200:
                raise BadRequest(N_("The name must have 1 to 200 characters."))
            await structure.rename_network(actor, network_id, name)
        except DomainError as exc:
            return await self._network_again(
                request, staff, actor, exc, form, f"network-{network_id}"
            )
        return Redirect("/manage/network?done=network", status_code=303)

    @post("/networks/{network_id:int}/members", status_code=303)
    async def add_member(
        self,
        request: Request[Any, Any, Any],
        state: State,
        staff: NamedDependency[Scope],
        actor: NamedDependency[Actor],
        network_id: FromPath[int],
    ) -> Redirect:
        form = await _checked_form(request, state, staff)
        await structure.add_member(actor, network_id, _int(form, "organization_id"))
        return Redirect("/manage/network?done=network", status_code=303)

    @get("/networks/{network_id:int}/members/{organization_id:int}/remove", cache_control=None)
    async def remove_member_page(
        self,
        request: Request[Any, Any, Any],
        staff: NamedDependency[Scope],
        actor: NamedDependency[Actor],
        network_id: FromPath[int],
        organization_id: FromPath[int],
    ) -> Template:
        """What removing a job centre from the network means, and the button that does it."""
        return await self._remove_member(request, staff, actor, network_id, organization_id)

    async def _remove_member(
        self, request: Request[Any, Any, Any], staff: Scope, actor: Actor, network_id: int,
        organization_id: int,
    ) -> Template:  # fmt: skip
        self._admin(actor)
        name, network = await structure.member_name(actor, network_id, organization_id)
        return self._page(
            request,
            staff,
            "network_remove.html",
            network_id=network_id,
            organization_id=organization_id,
            organization=name,
            network=network,
            keeps=organization_id in actor.own_orgs,
        )

    @post("/networks/{network_id:int}/members/{organization_id:int}/remove", status_code=303)
    async def remove_member(
        self,
        request: Request[Any, Any, Any],
        state: State,
        staff: NamedDependency[Scope],
        actor: NamedDependency[Actor],
        network_id: FromPath[int],
        organization_id: FromPath[int],
    ) -> Redirect | Template:
        """Only with the confirmation page's `confirm`; without it, that page."""
        form = await _checked_form(request, state, staff)
        if form.get("confirm") != "yes":
            return await self._remove_member(request, staff, actor, network_id, organization_id)
        await structure.remove_member(actor, network_id, organization_id)
        return Redirect("/manage/network?done=removed", status_code=303)

    @post("/organizations", status_code=303)
    async def create_organization(
        self,
        request: Request[Any, Any, Any],
        state: State,
        staff: NamedDependency[Scope],
        actor: NamedDependency[Actor],
    ) -> Redirect | Template:
        form = await _checked_form(request, state, staff)
        structure.require_coordinator(actor, structure.IN_A_NETWORK)  # 403 before the form's
        network_id = _int(form, "network_id")
        try:
            data = to_struct(
                OrganizationIn,
                {"name": form.get("name"), "slug": form.get("slug"), "network_id": network_id},
            )
            await structure.create_organization(actor, data)
        except DomainError as exc:
            return await self._network_again(
                request, staff, actor, exc, form, f"new-organization-{network_id}"
            )
        return Redirect("/manage/network?done=organization", status_code=303)

    @post("/organizations/{organization_id:int}", status_code=303)
    async def change_organization(
        self,
        request: Request[Any, Any, Any],
        state: State,
        staff: NamedDependency[Scope],
        actor: NamedDependency[Actor],
        organization_id: FromPath[int],
    ) -> Redirect | Template:
        form = await _checked_form(request, state, staff)
        try:
            data = to_struct(
                OrganizationPatch,
                {"name": _opt(form, "name"), "retention_months": _opt(form, "retention_months")},
            )
            await structure.change_organization(actor, organization_id, data)
        except DomainError as exc:
            return await self._network_again(
                request, staff, actor, exc, form, f"organization-{organization_id}"
            )
        return Redirect("/manage/network?done=organization", status_code=303)

    @get("/organizations/{organization_id:int}/erase", cache_control=None)
    async def erasure_page(
        self,
        request: Request[Any, Any, Any],
        staff: NamedDependency[Scope],
        actor: NamedDependency[Actor],
        organization_id: FromPath[int],
    ) -> Template:
        """The dry run, and the form that asks for the short name typed again."""
        plan = await retention.erasure_for(actor, organization_id)
        return self._page(request, staff, "erase.html", plan=plan)

    @post("/organizations/{organization_id:int}/erase", status_code=200)
    async def erase_organization(
        self,
        request: Request[Any, Any, Any],
        state: State,
        staff: NamedDependency[Scope],
        actor: NamedDependency[Actor],
        organization_id: FromPath[int],
    ) -> Template:
        form = await _checked_form(request, state, staff)
        done = await retention.erase_for(actor, organization_id, str(form.get("confirm") or ""))
        return self._page(request, staff, "erase.html", plan=done)

    # ---- offices -------------------------------------------------------------------------

    @get("/offices", cache_control=None)
    async def offices_page(
        self,
        request: Request[Any, Any, Any],
        staff: NamedDependency[Scope],
        actor: NamedDependency[Actor],
    ) -> Template:
        return await self._offices(request, staff, actor)

    async def _offices(
        self, request: Request[Any, Any, Any], staff: Scope, actor: Actor, **again: Any
    ) -> Template:
        self._admin(actor)
        return self._page(
            request,
            staff,
            "offices.html",
            **again,
            organizations=[o for o in await structure.organizations(actor)],
            offices=await structure.offices(actor),
            service_types=await structure.service_types(),
            poster_languages=[(code, language_name(code)) for code in RESPOND_LOCALES],
        )

    @post("/offices", status_code=303)
    async def create_office(
        self,
        request: Request[Any, Any, Any],
        state: State,
        staff: NamedDependency[Scope],
        actor: NamedDependency[Actor],
    ) -> Redirect | Template:
        form = await _checked_form(request, state, staff)
        try:
            data = to_struct(
                OfficeIn,
                {
                    "organization_id": _int(form, "organization_id"),
                    "name": str(form.get("name") or "").strip(),
                    "code": str(form.get("code") or "").strip(),
                    "kind": form.get("kind") or "main",
                    "service_types": form.getall("service_types", []),
                },
            )
            await structure.create_office(actor, data)  # another's job centre: 403 first
        except DomainError as exc:
            return await self._offices(request, staff, actor, **_again(request, exc, form))
        return Redirect("/manage/offices?done=office", status_code=303)

    @post("/offices/{office_id:int}", status_code=303)
    async def change_office(
        self,
        request: Request[Any, Any, Any],
        state: State,
        staff: NamedDependency[Scope],
        actor: NamedDependency[Actor],
        office_id: FromPath[int],
    ) -> Redirect:
        form = await _checked_form(request, state, staff)
        await office_org(actor, office_id, whole_org=True)  # another's office: 403 first
        active = form.get("active")
        data = to_struct(
            OfficePatch,
            {
                "name": _opt(form, "name"),
                "kind": _opt(form, "kind"),
                "service_types": form.getall("service_types", []) if "save" in form else None,
                "poster_languages": form.getall("poster_languages", []) if "save" in form else None,
                "active": None if active is None else active == "1",
            },
        )
        await structure.change_office(actor, office_id, data)
        return Redirect(f"/manage/offices?done=office#office-{office_id}", status_code=303)

    # ---- links ---------------------------------------------------------------------------

    @get("/links", cache_control=None)
    async def links_page(
        self,
        request: Request[Any, Any, Any],
        state: State,
        staff: NamedDependency[Scope],
        actor: NamedDependency[Actor],
    ) -> Template:
        return await self._links(request, state, staff, actor)

    async def _links(
        self,
        request: Request[Any, Any, Any],
        state: State,
        staff: Scope,
        actor: Actor,
        **again: Any,
    ) -> Template:
        self._admin(actor)
        office_id = request.query_params.get("office")
        chosen = int(office_id) if office_id and office_id.isdigit() else None
        if office_id and (chosen is None or chosen not in actor.admin_offices):
            raise Forbidden(NOT_YOURS)  # not silently the whole list instead
        typed = again.get("typed") or {}
        if str(typed.get("office_id", "")).isdigit():
            chosen = int(typed["office_id"])
        offices = await structure.offices(actor, include_inactive=False)
        versions = await QuestionnaireVersion.select(
            QuestionnaireVersion.id,
            QuestionnaireVersion.number,
            QuestionnaireVersion.questionnaire.name.as_alias("questionnaire"),
            QuestionnaireVersion.questionnaire.organization.as_alias("organization"),
        ).where(QuestionnaireVersion.published_at.is_not_null())
        return self._page(
            request,
            staff,
            "links.html",
            **again,
            offices=offices,
            chosen=chosen,
            links=await structure.links(
                actor,
                state.settings.public_url,
                office_id=chosen if chosen in actor.admin_offices else None,
            ),
            versions=[v for v in versions if v["organization"] in (None, *actor.admin_orgs)],
            service_types=await structure.service_types(),
        )

    @post("/links", status_code=303)
    async def create_link(
        self,
        request: Request[Any, Any, Any],
        state: State,
        staff: NamedDependency[Scope],
        actor: NamedDependency[Actor],
    ) -> Redirect | Template:
        form = await _checked_form(request, state, staff)
        try:
            data = to_struct(
                LinkIn,
                {
                    "office_id": _int(form, "office_id"),
                    "version_id": _int(form, "version_id"),
                    "service_type": str(form.get("service_type") or ""),
                    "mode": form.get("mode") or "personal",
                    "label": str(form.get("label") or "").strip(),
                    "idle_seconds": form.get("idle_seconds") or 60,
                    "codes_required": form.get("codes_required") == "1",
                },
            )
            link = await structure.create_link(actor, data, state.settings.public_url)
        except DomainError as exc:
            again = _again(request, exc, form)
            return await self._links(request, state, staff, actor, **again)
        return Redirect(
            f"/manage/links?office={link.office_id}&done=link#link-{link.id}", status_code=303
        )

    @post("/links/{link_id:int}/active", status_code=303)
    async def link_active(
        self,
        request: Request[Any, Any, Any],
        state: State,
        staff: NamedDependency[Scope],
        actor: NamedDependency[Actor],
        link_id: FromPath[int],
    ) -> Redirect:
        form = await _checked_form(request, state, staff)
        await structure.set_link_active(actor, link_id, form.get("active") == "1")
        back = request.query_params.get("office", "")
        suffix = f"office={back}&" if back.isdigit() else ""
        return Redirect(f"/manage/links?{suffix}done=link#link-{link_id}", status_code=303)

    # ---- users ---------------------------------------------------------------------------

    @get("/users", cache_control=None)
    async def users_page(
        self,
        request: Request[Any, Any, Any],
        staff: NamedDependency[Scope],
        actor: NamedDependency[Actor],
    ) -> Template:
        return await self._users(request, staff, actor)

    async def _users(
        self,
        request: Request[Any, Any, Any],
        staff: Scope,
        actor: Actor,
        refused: DomainError | None = None,
        typed: dict[str, Any] | None = None,
    ) -> Template:
        """The users page; with `refused`, its reason on top and the refusal's status (the
        table shows that nothing changed)."""
        self._admin(actor)
        return self._page(
            request,
            staff,
            "users.html",
            status_code=200 if refused is None else refused.status_code,
            refused=None if refused is None else _translated_text(request, refused),
            typed=typed or {},
            people=await users.users(actor),
            organizations=await structure.organizations(actor),
            offices=await structure.offices(actor, include_inactive=False),
        )

    @post("/users", status_code=200)
    async def invite(
        self,
        request: Request[Any, Any, Any],
        state: State,
        staff: NamedDependency[Scope],
        actor: NamedDependency[Actor],
    ) -> Template:
        form = await _checked_form(request, state, staff)
        try:
            data = to_struct(
                UserIn,
                {
                    "username": str(form.get("username") or "").strip(),
                    "display_name": str(form.get("display_name") or "").strip(),
                    "role": form.get("role"),
                    "organization_id": _int(form, "organization_id"),
                    "office_ids": [int(v) for v in form.getall("office_ids", []) if v.isdigit()],
                },
            )
            link = await users.invite(actor, data, state.settings.public_url)
        except DomainError as exc:
            if exc.status_code == 403:
                raise
            return await self._users(request, staff, actor, exc, _typed(form))
        return self._page(request, staff, "secret.html", kind="invite", secret=link)

    @post("/users/{user_id:int}/active", status_code=303)
    async def user_active(
        self,
        request: Request[Any, Any, Any],
        state: State,
        staff: NamedDependency[Scope],
        actor: NamedDependency[Actor],
        user_id: FromPath[int],
    ) -> Redirect | Template:
        form = await _checked_form(request, state, staff)
        try:
            await users.set_active(actor, user_id, form.get("active") == "1")
        except Conflict as exc:  # the last admin: the page again, with the reason
            return await self._users(request, staff, actor, exc)
        return Redirect(f"/manage/users?done=user#user-{user_id}", status_code=303)

    @post("/users/{user_id:int}/roles", status_code=303)
    async def user_roles(
        self,
        request: Request[Any, Any, Any],
        state: State,
        staff: NamedDependency[Scope],
        actor: NamedDependency[Actor],
        user_id: FromPath[int],
    ) -> Redirect | Template:
        form = await _checked_form(request, state, staff)
        data = to_struct(
            RolesIn,
            {
                "role": form.get("role"),
                "organization_id": _int(form, "organization_id"),
                "office_ids": [int(v) for v in form.getall("office_ids", []) if v.isdigit()],
            },
        )
        try:
            await users.set_roles(actor, user_id, data)
        except Conflict as exc:
            return await self._users(request, staff, actor, exc)
        return Redirect(f"/manage/users?done=user#user-{user_id}", status_code=303)

    @post("/users/{user_id:int}/reset", status_code=200)
    async def user_reset(
        self,
        request: Request[Any, Any, Any],
        state: State,
        staff: NamedDependency[Scope],
        actor: NamedDependency[Actor],
        user_id: FromPath[int],
    ) -> Template:
        await _checked_form(request, state, staff)
        link = await users.reset_password(actor, user_id, state.settings.public_url)
        return self._page(request, staff, "secret.html", kind="reset", secret=link)

    @post("/users/{user_id:int}/unlock", status_code=303)
    async def user_unlock(
        self,
        request: Request[Any, Any, Any],
        state: State,
        staff: NamedDependency[Scope],
        actor: NamedDependency[Actor],
        user_id: FromPath[int],
    ) -> Redirect:
        await _checked_form(request, state, staff)
        await users.unlock(actor, user_id)
        return Redirect(f"/manage/users?done=user#user-{user_id}", status_code=303)

    # ---- API tokens (every signed-in user) -----------------------------------------------

    @get("/tokens", cache_control=None)
    async def tokens_page(
        self,
        request: Request[Any, Any, Any],
        staff: NamedDependency[Scope],
    ) -> Template:
        return await self._tokens(request, staff)

    async def _tokens(
        self, request: Request[Any, Any, Any], staff: Scope, **again: Any
    ) -> Template:
        orgs = await users.user_orgs(staff.user_id)
        names = {o.organization_id: o.organization for o in staff.group}
        return self._page(
            request,
            staff,
            "tokens.html",
            **again,
            tokens=await users.tokens(staff.user_id),
            organizations=sorted((i, names.get(i, str(i))) for i in orgs),
            now=dt.datetime.now(dt.UTC),
        )

    @post("/tokens", status_code=200)
    async def create_token(
        self,
        request: Request[Any, Any, Any],
        state: State,
        staff: NamedDependency[Scope],
    ) -> Template:
        form = await _checked_form(request, state, staff)
        try:
            data = to_struct(
                TokenIn,
                {
                    "name": str(form.get("name") or "").strip(),
                    "days": _opt(form, "days") or 90,
                    "organization_ids": [
                        int(v) for v in form.getall("organization_ids", []) if v.isdigit()
                    ],
                },
            )
            token = await users.create_token(staff.user_id, staff.username, data)
        except DomainError as exc:
            return await self._tokens(request, staff, **_again(request, exc, form))
        return self._page(request, staff, "secret.html", kind="token", secret=token)

    @post("/tokens/{token_id:int}/revoke", status_code=303)
    async def revoke_token(
        self,
        request: Request[Any, Any, Any],
        state: State,
        staff: NamedDependency[Scope],
        token_id: FromPath[int],
    ) -> Redirect:
        await _checked_form(request, state, staff)
        await users.revoke_token(staff.user_id, staff.username, token_id)
        return Redirect("/manage/tokens?done=token", status_code=303)

    # ---- questionnaires ------------------------------------------------------------------

    @get("/questionnaires", cache_control=None)
    async def questionnaires_page(
        self,
        request: Request[Any, Any, Any],
        staff: NamedDependency[Scope],
        actor: NamedDependency[Actor],
    ) -> Template:
        return await self._questionnaires(request, staff, actor)

    async def _questionnaires(
        self, request: Request[Any, Any, Any], staff: Scope, actor: Actor, **again: Any
    ) -> Template:
        self._admin(actor)
        return self._page(
            request,
            staff,
            "questionnaires.html",
            **again,
            questionnaires=await questionnaires.questionnaires(actor),
            organizations=await structure.organizations(actor),
        )

    @post("/questionnaires", status_code=303)
    async def create_questionnaire(
        self,
        request: Request[Any, Any, Any],
        state: State,
        staff: NamedDependency[Scope],
        actor: NamedDependency[Actor],
    ) -> Redirect | Template:
        form = await _checked_form(request, state, staff)
        try:
            data = to_struct(
                QuestionnaireIn,
                {
                    "organization_id": _int(form, "organization_id"),
                    "code": str(form.get("code") or "").strip(),
                    "name": str(form.get("name") or "").strip(),
                },
            )
            made = await questionnaires.create_questionnaire(actor, data)
        except DomainError as exc:
            again = _again(request, exc, form)
            return await self._questionnaires(request, staff, actor, **again)
        return Redirect(f"/manage/questionnaire-versions/{made.versions[0].id}", status_code=303)

    @post("/questionnaires/{questionnaire_id:int}/versions", status_code=303)
    async def create_version(
        self,
        request: Request[Any, Any, Any],
        state: State,
        staff: NamedDependency[Scope],
        actor: NamedDependency[Actor],
        questionnaire_id: FromPath[int],
    ) -> Redirect:
        await _checked_form(request, state, staff)
        made = await questionnaires.new_version(actor, questionnaire_id)
        return Redirect(f"/manage/questionnaire-versions/{made.id}", status_code=303)

    @get("/questionnaire-versions/{version_id:int}", cache_control=None)
    async def version_page(
        self,
        request: Request[Any, Any, Any],
        staff: NamedDependency[Scope],
        actor: NamedDependency[Actor],
        version_id: FromPath[int],
    ) -> Template:
        lang = request.query_params.get("lang", "de")
        return await self._version(request, staff, actor, version_id, lang)

    async def _version(
        self, request: Request[Any, Any, Any], staff: Scope, actor: Actor, version_id: int,
        lang: str, **again: Any,
    ) -> Template:  # fmt: skip
        """The editor in `lang`; after a refusal (`again`) with the reason on top and the texts
        as typed."""
        self._admin(actor)
        shown = await questionnaires.version(actor, version_id)
        if lang not in RESPOND_LOCALES:
            lang = "de"
        bank = await questionnaires.item_bank()
        codes = {i["code"] for i in shown.items}
        page = self._page(
            request,
            staff,
            "version.html",
            version=shown,
            lang=lang,
            text_languages=[(code, language_name(code)) for code in RESPOND_LOCALES],
            bank=[b for b in bank if b.code not in codes],
            **again,
        )
        page.headers["content-security-policy"] = CSP + "; frame-src 'self'"
        return page

    @get("/questionnaire-versions/{version_id:int}/preview", cache_control=None)
    async def preview(
        self,
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        version_id: FromPath[int],
    ) -> Template:
        """The respondent page of this version, as a client would see it (framed by the
        editor at phone size)."""
        self._admin(actor)
        _, row = await version_org(actor, version_id)
        raw = row["definition"]
        definition = load_definition(raw if isinstance(raw, str) else msgspec.json.encode(raw))
        locale = respond_page.locale_for(request, definition)
        link = LinkInfo(
            id=0,
            token="preview",
            office_id=0,
            office="Vorschau",
            organization="Preview",
            version_id=version_id,
            version=row["number"],
            service_type="",
            mode="personal",
            active=True,
        )
        shown = respond_page.survey(
            link, definition, locale, kind="s", submission_id="preview", issued=""
        )
        shown.context["action"] = f"/manage/questionnaire-versions/{version_id}/preview"
        shown.headers["x-frame-options"] = "SAMEORIGIN"
        shown.headers["content-security-policy"] = CSP.replace(
            "frame-ancestors 'none'", "frame-ancestors 'self'"
        )
        return shown

    @post("/questionnaire-versions/{version_id:int}/items", status_code=303)
    async def version_items(
        self,
        request: Request[Any, Any, Any],
        state: State,
        staff: NamedDependency[Scope],
        actor: NamedDependency[Actor],
        version_id: FromPath[int],
    ) -> Redirect | Template:
        form = await _checked_form(request, state, staff)
        lang = _lang(str(form.get("lang") or "de"))
        try:
            await questionnaires.edit_items(
                actor, version_id, str(form.get("action") or ""), str(form.get("code") or "")
            )
        except DomainError as exc:  # the editor again, with the reason on top
            return await self._version(
                request, staff, actor, version_id, lang, **_again(request, exc, form)
            )
        return Redirect(
            f"/manage/questionnaire-versions/{version_id}?lang={_lang(lang)}", status_code=303
        )

    @post("/questionnaire-versions/{version_id:int}/texts", status_code=303)
    async def version_texts(
        self,
        request: Request[Any, Any, Any],
        state: State,
        staff: NamedDependency[Scope],
        actor: NamedDependency[Actor],
        version_id: FromPath[int],
    ) -> Redirect | Template:
        form = await _checked_form(request, state, staff)
        lang = _lang(str(form.get("lang") or ""))
        texts = {
            key.removeprefix("text_"): str(value)
            for key, value in form.items()
            if key.startswith("text_")
        }
        try:
            await questionnaires.set_texts(
                actor, version_id, lang, texts, str(form.get("status") or "")
            )
        except DomainError as exc:  # the translator's texts come back, not an error card
            return await self._version(
                request, staff, actor, version_id, lang, **_again(request, exc, form)
            )
        return Redirect(
            f"/manage/questionnaire-versions/{version_id}?lang={lang}&done=texts", status_code=303
        )

    @post("/questionnaire-versions/{version_id:int}/publish", status_code=303)
    async def version_publish(
        self,
        request: Request[Any, Any, Any],
        state: State,
        staff: NamedDependency[Scope],
        actor: NamedDependency[Actor],
        version_id: FromPath[int],
    ) -> Redirect | Template:
        form = await _checked_form(request, state, staff)
        try:
            await questionnaires.publish(
                actor, version_id, str(form.get("outdated_translations") or "") or None
            )
        except DomainError as exc:  # the editor again, with what is missing on top
            return await self._version(
                request, staff, actor, version_id, "de", **_again(request, exc, form)
            )
        return Redirect(
            f"/manage/questionnaire-versions/{version_id}?done=published", status_code=303
        )

    # ---- targets --------------------------------------------------------------------------

    @get("/targets", cache_control=None)
    async def targets_page(
        self,
        request: Request[Any, Any, Any],
        staff: NamedDependency[Scope],
        actor: NamedDependency[Actor],
    ) -> Template:
        return await self._targets(request, staff, actor)

    async def _targets(
        self, request: Request[Any, Any, Any], staff: Scope, actor: Actor, **again: Any
    ) -> Template:
        self._admin(actor)
        year = dt.date.today().year
        judged = targets.judged_items()
        return self._page(
            request,
            staff,
            "targets.html",
            **again,
            targets=await targets.targets(actor),
            offices=await structure.offices(actor, include_inactive=False),
            items=[("_index", None)]
            + [(b.code, b.text) for b in await questionnaires.item_bank() if b.code in judged],
            year_start=f"{year}-01",
            year_end=f"{year}-12",
        )

    @post("/targets", status_code=303)
    async def set_target(
        self,
        request: Request[Any, Any, Any],
        state: State,
        staff: NamedDependency[Scope],
        actor: NamedDependency[Actor],
    ) -> Redirect | Template:
        """Saved at once, or after the user confirmed which overlapping targets it replaces
        (`replacing`: their ids, as the confirmation showed them)."""
        form = await _checked_form(request, state, staff)
        replacing = [int(i) for i in str(form.get("replacing") or "").split(",") if i.isdigit()]
        try:
            data = to_struct(
                TargetIn,
                {
                    "office_id": _int(form, "office_id"),
                    "item": str(form.get("item") or ""),
                    "value": str(form.get("value") or "").replace(",", "."),
                    "valid_from": _month_day(str(form.get("valid_from") or ""), last=False),
                    "valid_to": _month_day(str(form.get("valid_to") or ""), last=True),
                },
            )
            await targets.set_target(actor, data, replacing=replacing)
        except targets.Overlap as exc:
            again = _again(request, exc, form)
            again["refused"] = None
            return await self._targets(request, staff, actor, **again, overlapping=exc.overlapping)
        except DomainError as exc:
            return await self._targets(request, staff, actor, **_again(request, exc, form))
        return Redirect("/manage/targets?done=target", status_code=303)

    @post("/targets/{target_id:int}/delete", status_code=303)
    async def delete_target(
        self,
        request: Request[Any, Any, Any],
        state: State,
        staff: NamedDependency[Scope],
        actor: NamedDependency[Actor],
        target_id: FromPath[int],
    ) -> Redirect:
        await _checked_form(request, state, staff)
        await targets.delete_target(actor, target_id)
        return Redirect("/manage/targets?done=target", status_code=303)

    # ---- audit log -----------------------------------------------------------------------

    def _audit_filters(self, request: Request[Any, Any, Any]) -> dict[str, str]:
        q = request.query_params
        return {  # control characters (NUL among them: PostgreSQL refuses it) left out
            "username": CONTROL.sub("", str(q.get("user") or ""))[:80],
            "action": CONTROL.sub("", str(q.get("action") or ""))[:40],
            "month": CONTROL.sub("", str(q.get("month") or ""))[:7],
        }

    @get("/audit", cache_control=None)
    async def audit_page(
        self,
        request: Request[Any, Any, Any],
        staff: NamedDependency[Scope],
        actor: NamedDependency[Actor],
    ) -> Template:
        if not actor.admin_orgs:
            raise Forbidden(N_("Only admins read the audit log."))
        filters = self._audit_filters(request)
        rows = await audit.entries(
            actor, username=filters["username"], action=filters["action"], month=filters["month"]
        )
        gettext = translations(guard.staff_locale(request, staff), "staff").gettext
        return self._page(
            request,
            staff,
            "audit.html",
            rows=rows,
            filters=filters,
            limit=audit.PAGE_SIZE,
            actions=audit.action_choices(gettext, filters["action"]),
            action_name=lambda code: audit.action_name(code, gettext),
            key_name=lambda key, action="": audit.key_name(key, gettext, action),
            readable=lambda value, key=None: audit.readable(value, gettext, key),
        )

    @get("/audit.csv")
    async def audit_csv(
        self,
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
    ) -> Response[bytes]:
        if not actor.admin_orgs:
            raise Forbidden(N_("Only admins read the audit log."))
        f = self._audit_filters(request)
        rows = await audit.entries(
            actor, username=f["username"], action=f["action"], month=f["month"], limit=None
        )
        return file_response(audit.as_csv(rows).encode("utf-8"), "text/csv", "audit.csv")


class PasswordController(Controller):
    """The one-time link an admin hands over: choose a password, then sign in."""

    path = "/account/set-password"
    include_in_schema = False
    exception_handlers = {DomainError: _translated}  # noqa: RUF012

    def _form(
        self,
        request: Request[Any, Any, Any],
        token: str,
        invitation: dict[str, Any],
        error: str | None = None,
        status_code: int = 200,
    ) -> Template:
        locale = guard.staff_locale(request)
        chosen = request.query_params.get("lang")
        context = guard.page_context(request, None, locale) | {
            "token": token,
            "error": error,
            "username": str(invitation["username"]),
            "expires": local_time(invitation["expires_at"]),
            "chosen": chosen if chosen in UI_LOCALES else "",
        }
        return Template(
            "manage/set_password.html", context=context, status_code=status_code, headers=NO_STORE
        )

    @get("/{token:str}", cache_control=None)
    async def form(self, request: Request[Any, Any, Any], token: FromPath[str]) -> Template:
        invitation = await users.invitation_user(token)  # 404 for an unknown, used or expired
        return self._form(request, token, invitation)

    @post("/{token:str}", status_code=303)
    async def set_password(
        self, request: Request[Any, Any, Any], state: State, token: FromPath[str]
    ) -> Redirect | Template:
        form = await request.form()
        invitation = await users.invitation_user(token)
        try:
            username = await users.set_password(
                token, str(form.get("password") or ""), str(form.get("repeat") or "")
            )
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            gettext = translations(guard.staff_locale(request), "staff").gettext
            return self._form(request, token, invitation, gettext(exc.detail), exc.status_code)
        chosen = request.query_params.get("lang")
        lang = f"&lang={chosen}" if chosen in UI_LOCALES else ""
        return Redirect(
            f"/login?done=password{lang}",
            status_code=303,
            headers=NO_STORE,
            cookies=[guard.done_cookie(state.settings, username)],
        )
