"""The administration JSON API (/api/v1): the same operations and checks as /manage."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody, PathParameter, QueryParameter

from survey.auth import guard
from survey.bodies import check_strictly
from survey.errors import Forbidden
from survey.i18n import N_
from survey.manage import audit, questionnaires, retention, structure, targets, users
from survey.manage.access import Actor, load_actor
from survey.manage.schemas import (
    PLAIN,
    AuditOut,
    BankItemOut,
    ErasureIn,
    ErasureOut,
    LinkIn,
    LinkOut,
    LinkPatch,
    NetworkIn,
    NetworkMemberIn,
    NetworkOut,
    NetworkPatch,
    NewToken,
    OfficeIn,
    OfficeOut,
    OfficePatch,
    OrganizationIn,
    OrganizationOut,
    OrganizationPatch,
    QuestionnaireIn,
    QuestionnaireOut,
    RolesIn,
    ServiceTypeOut,
    SetPasswordLink,
    TargetIn,
    TargetOut,
    TargetPatch,
    TokenIn,
    TokenOut,
    UserIn,
    UserOut,
    UserPatch,
    VersionIn,
    VersionOut,
    VersionPatch,
)

CSRF_HEADER = "x-csrf-token"


class ErrorOut(msgspec.Struct):
    status_code: int
    detail: str


def _errors(*codes: int) -> dict[int, ResponseSpec]:
    text = {
        400: "The body or a parameter is malformed (the detail names it).",
        401: "No valid session or Bearer token.",
        403: "Outside your job centres or role (the same answer whether the id exists or not), "
        "or a session request without the X-CSRF-Token header.",
        409: "Refused by a rule (taken name, last admin, published version, ...).",
        422: "Well-formed but not acceptable (unknown service type, missing text, ...).",
    }
    return {
        code: ResponseSpec(data_container=ErrorOut, description=text[code])
        for code in (401, 403, *codes)
    }


async def api_actor(request: Request[Any, Any, Any], state: State) -> Actor:
    """The signed-in user's reach; a session (not a token) must send its CSRF token in the
    X-CSRF-Token header on every change."""
    scope = await guard.signed_in(request, state)
    if request.method not in ("GET", "HEAD") and not scope.via_token:
        secret = state.settings.secret_key
        session = guard.read_session(secret, request.cookies.get(guard.SESSION_COOKIE))
        given = request.headers.get(CSRF_HEADER, "")
        if session is None or not guard.csrf_ok(secret, session.nonce, given):
            raise Forbidden(
                N_("A change through the API from a browser session needs the X-CSRF-Token header.")
            )
    actor = await load_actor(scope)
    await check_strictly(request)  # after the credentials: no 400 before a 401
    return actor


def _no_token(actor: Actor) -> None:
    if actor.via_token:
        raise Forbidden(
            N_("API tokens are made and revoked in a signed-in session, not with a token.")
        )


def _base(state: State) -> str:
    return str(state.settings.public_url)


IdPath = Annotated[int, PathParameter(ge=1, le=2**31 - 1)]


class ManageApiController(Controller):
    path = "/api/v1"
    tags = ("administration",)
    security = [{"bearer": []}]  # noqa: RUF012
    dependencies = {"actor": Provide(api_actor)}  # noqa: RUF012

    # networks and job centres
    @get("/networks", responses=_errors())
    async def list_networks(self, actor: NamedDependency[Actor]) -> list[NetworkOut]:
        return await structure.networks(actor)

    @post("/networks", responses=_errors(400, 409))
    async def create_network(
        self, actor: NamedDependency[Actor], data: JSONBody[NetworkIn]
    ) -> NetworkOut:
        return await structure.create_network(actor, data)

    @patch("/networks/{network_id:int}", status_code=204, responses=_errors(400))
    async def rename_network(
        self, actor: NamedDependency[Actor], network_id: IdPath, data: JSONBody[NetworkPatch]
    ) -> None:
        await structure.rename_network(actor, network_id, data.name)

    @post("/networks/{network_id:int}/members", status_code=204, responses=_errors(400, 409))
    async def add_member(
        self, actor: NamedDependency[Actor], network_id: IdPath, data: JSONBody[NetworkMemberIn]
    ) -> None:
        await structure.add_member(actor, network_id, data.organization_id)

    @delete(
        "/networks/{network_id:int}/members/{organization_id:int}",
        status_code=204,
        responses=_errors(),
    )
    async def remove_member(
        self, actor: NamedDependency[Actor], network_id: IdPath, organization_id: IdPath
    ) -> None:
        await structure.remove_member(actor, network_id, organization_id)

    @get("/organizations", responses=_errors())
    async def list_organizations(self, actor: NamedDependency[Actor]) -> list[OrganizationOut]:
        return await structure.organizations(actor)

    @post("/organizations", responses=_errors(400, 409))
    async def create_organization(
        self, actor: NamedDependency[Actor], data: JSONBody[OrganizationIn]
    ) -> OrganizationOut:
        return await structure.create_organization(actor, data)

    @patch("/organizations/{organization_id:int}", status_code=204, responses=_errors(400, 409))
    async def change_organization(
        self,
        actor: NamedDependency[Actor],
        organization_id: IdPath,
        data: JSONBody[OrganizationPatch],
    ) -> None:
        await structure.change_organization(actor, organization_id, data)

    @get("/organizations/{organization_id:int}/erasure", responses=_errors())
    async def erasure_plan(
        self, actor: NamedDependency[Actor], organization_id: IdPath
    ) -> Response[ErasureOut]:
        """The dry run of deleting all data of a job centre: what would be removed."""
        return Response(
            await retention.erasure_for(actor, organization_id),
            headers={"cache-control": "no-store"},
        )

    @post(
        "/organizations/{organization_id:int}/erasure", status_code=200, responses=_errors(400, 422)
    )
    async def erase_organization(
        self, actor: NamedDependency[Actor], organization_id: IdPath, data: JSONBody[ErasureIn]
    ) -> ErasureOut:
        """Delete all data of a job centre (offices, links, responses, questionnaires, roles)
        for good; `confirm` must repeat its short name. Users left without a role are
        deactivated; the audit log keeps the counts."""
        return await retention.erase_for(actor, organization_id, data.confirm)

    # offices, service types, links
    @get("/service-types", responses=_errors())
    async def list_service_types(self, actor: NamedDependency[Actor]) -> list[ServiceTypeOut]:
        return await structure.service_types()

    @get("/offices", responses=_errors())
    async def list_offices(
        self,
        actor: NamedDependency[Actor],
        organization_id: Annotated[
            int | None, QueryParameter(name="organization_id", ge=1, le=2**31 - 1)
        ] = None,
    ) -> list[OfficeOut]:
        if organization_id is not None:
            actor.require_org(organization_id)
        return await structure.offices(actor, organization_id)

    @post("/offices", responses=_errors(400, 409, 422))
    async def create_office(
        self, actor: NamedDependency[Actor], data: JSONBody[OfficeIn]
    ) -> OfficeOut:
        return await structure.create_office(actor, data)

    @patch("/offices/{office_id:int}", status_code=204, responses=_errors(400, 422))
    async def change_office(
        self, actor: NamedDependency[Actor], office_id: IdPath, data: JSONBody[OfficePatch]
    ) -> None:
        await structure.change_office(actor, office_id, data)

    @get("/links", responses=_errors())
    async def list_links(
        self,
        actor: NamedDependency[Actor],
        state: State,
        office_id: Annotated[
            int | None, QueryParameter(name="office_id", ge=1, le=2**31 - 1)
        ] = None,
    ) -> list[LinkOut]:
        return await structure.links(actor, _base(state), office_id=office_id)

    @post("/links", responses=_errors(400, 409, 422))
    async def create_link(
        self, actor: NamedDependency[Actor], state: State, data: JSONBody[LinkIn]
    ) -> LinkOut:
        return await structure.create_link(actor, data, _base(state))

    @patch("/links/{link_id:int}", status_code=204, responses=_errors(400))
    async def change_link(
        self, actor: NamedDependency[Actor], link_id: IdPath, data: JSONBody[LinkPatch]
    ) -> None:
        await structure.set_link_active(actor, link_id, data.active)

    # users
    @get("/users", responses=_errors())
    async def list_users(self, actor: NamedDependency[Actor]) -> list[UserOut]:
        return await users.users(actor)

    @post("/users", responses=_errors(400, 409, 422))
    async def invite_user(
        self, actor: NamedDependency[Actor], state: State, data: JSONBody[UserIn]
    ) -> Response[SetPasswordLink]:
        """The answer holds the one-time set-password link; it is shown only this once."""
        return Response(
            await users.invite(actor, data, _base(state)), headers={"cache-control": "no-store"}
        )

    @patch("/users/{user_id:int}", status_code=204, responses=_errors(400, 409))
    async def change_user(
        self, actor: NamedDependency[Actor], user_id: IdPath, data: JSONBody[UserPatch]
    ) -> None:
        await users.set_active(actor, user_id, data.active)

    @put("/users/{user_id:int}/roles", responses=_errors(400, 409, 422))
    async def set_roles(
        self, actor: NamedDependency[Actor], user_id: IdPath, data: JSONBody[RolesIn]
    ) -> UserOut:
        """Replace the user's roles by one role in a job centre (or some of its offices); the
        user's sessions end, so the new roles apply at once."""
        return await users.set_roles(actor, user_id, data)

    @post("/users/{user_id:int}/password-reset", responses=_errors())
    async def reset_password(
        self, actor: NamedDependency[Actor], state: State, user_id: IdPath
    ) -> Response[SetPasswordLink]:
        return Response(
            await users.reset_password(actor, user_id, _base(state)),
            headers={"cache-control": "no-store"},
        )

    @post("/users/{user_id:int}/unlock", status_code=204, responses=_errors())
    async def unlock_user(self, actor: NamedDependency[Actor], user_id: IdPath) -> None:
        await users.unlock(actor, user_id)

    # API tokens: each user their own
    @get("/tokens", responses=_errors())
    async def list_tokens(self, actor: NamedDependency[Actor]) -> list[TokenOut]:
        return await users.tokens(actor.user_id)

    @post("/tokens", responses=_errors(400))
    async def create_token(
        self, actor: NamedDependency[Actor], data: JSONBody[TokenIn]
    ) -> Response[NewToken]:
        """The answer holds the token itself; only its hash is kept, so it is shown once.
        Only from a signed-in session: a token cannot make tokens (a token limited to some
        job centres, or a short-lived one, would otherwise make itself a wider, longer one)."""
        _no_token(actor)
        return Response(
            await users.create_token(actor.user_id, actor.username, data),
            headers={"cache-control": "no-store"},
        )

    @delete("/tokens/{token_id:int}", status_code=204, responses=_errors())
    async def revoke_token(self, actor: NamedDependency[Actor], token_id: IdPath) -> None:
        """Only from a signed-in session, as tokens are made (a leaked token cannot revoke
        its user's other tokens)."""
        _no_token(actor)
        await users.revoke_token(actor.user_id, actor.username, token_id)

    # questionnaires
    @get("/item-bank", responses=_errors())
    async def list_item_bank(self, actor: NamedDependency[Actor]) -> list[BankItemOut]:
        return await questionnaires.item_bank()

    @get("/questionnaires", responses=_errors())
    async def list_questionnaires(self, actor: NamedDependency[Actor]) -> list[QuestionnaireOut]:
        return await questionnaires.questionnaires(actor)

    @post("/questionnaires", responses=_errors(400, 409))
    async def create_questionnaire(
        self, actor: NamedDependency[Actor], data: JSONBody[QuestionnaireIn]
    ) -> QuestionnaireOut:
        """A job centre's own questionnaire; its first draft is the standard questionnaire."""
        return await questionnaires.create_questionnaire(actor, data)

    @post("/questionnaires/{questionnaire_id:int}/versions", responses=_errors(400, 409, 422))
    async def create_version(
        self,
        actor: NamedDependency[Actor],
        questionnaire_id: IdPath,
        data: JSONBody[VersionIn],
    ) -> VersionOut:
        """A new draft version: a copy of the latest one, or with exactly `items`."""
        return await questionnaires.new_version(actor, questionnaire_id, data.items)

    @get("/questionnaire-versions/{version_id:int}", responses=_errors())
    async def get_version(self, actor: NamedDependency[Actor], version_id: IdPath) -> VersionOut:
        return await questionnaires.version(actor, version_id)

    @patch("/questionnaire-versions/{version_id:int}", responses=_errors(400, 409, 422))
    async def change_version(
        self, actor: NamedDependency[Actor], version_id: IdPath, data: JSONBody[VersionPatch]
    ) -> VersionOut:
        """Items (order, required, texts per language) and review status; drafts only."""
        return await questionnaires.change_version(actor, version_id, data)

    @post("/questionnaire-versions/{version_id:int}/publish", responses=_errors(409, 422))
    async def publish_version(
        self,
        actor: NamedDependency[Actor],
        version_id: IdPath,
        outdated_translations: Annotated[
            Literal["german", "keep"] | None, QueryParameter(name="outdated_translations")
        ] = None,
    ) -> VersionOut:
        """Freeze the draft for good; refused while an item has no German text, and (409) while
        an item's German text changed but its translations were made for the earlier wording,
        unless `outdated_translations` says what to do with them: `german` drops them (the
        question is shown in German in those languages), `keep` keeps them."""
        return await questionnaires.publish(actor, version_id, outdated_translations)

    # targets
    @get("/targets", responses=_errors())
    async def list_targets(
        self,
        actor: NamedDependency[Actor],
        office_id: Annotated[
            int | None, QueryParameter(name="office_id", ge=1, le=2**31 - 1)
        ] = None,
    ) -> list[TargetOut]:
        return await targets.targets(actor, office_id)

    @post("/targets", responses=_errors(400, 422))
    async def set_target(
        self, actor: NamedDependency[Actor], data: JSONBody[TargetIn]
    ) -> TargetOut:
        """A target index (0–100) for an office and item (`_index`: the satisfaction index)
        in a period; replaces an overlapping target of the same office and item."""
        return await targets.set_target(actor, data)

    @get("/targets/{target_id:int}", responses=_errors())
    async def get_target(self, actor: NamedDependency[Actor], target_id: IdPath) -> TargetOut:
        return await targets.target(actor, target_id)

    @patch("/targets/{target_id:int}", responses=_errors(400, 409, 422))
    async def change_target(
        self, actor: NamedDependency[Actor], target_id: IdPath, data: JSONBody[TargetPatch]
    ) -> TargetOut:
        """A new value or period (fields left out stay); refused when the period ends before
        it starts (422) or overlaps another target of the office and item (409)."""
        return await targets.change_target(actor, target_id, data)

    @delete("/targets/{target_id:int}", status_code=204, responses=_errors())
    async def delete_target(self, actor: NamedDependency[Actor], target_id: IdPath) -> None:
        await targets.delete_target(actor, target_id)

    # audit log
    @get("/audit", responses=_errors(400))
    async def audit_log(
        self,
        actor: NamedDependency[Actor],
        username: Annotated[str, QueryParameter(name="user", max_length=80, pattern=PLAIN)] = "",
        action: Annotated[str, QueryParameter(max_length=40, pattern=PLAIN)] = "",
        month: Annotated[str, QueryParameter(pattern=r"^((19|20)[0-9]{2}-(0[1-9]|1[0-2]))?$")] = "",
    ) -> list[AuditOut]:
        if not actor.admin_orgs:
            raise Forbidden(N_("Only admins read the audit log."))
        return await audit.entries(actor, username=username, action=action, month=month)
