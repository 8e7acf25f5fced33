"""What the administration API takes and gives."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import msgspec

from survey.bodies import CONTROLS

PLAIN = rf"^[^{CONTROLS}\t\n\r\u2028\u2029\u202a-\u202e\u2066-\u2069]*$"
"""One line of text without control characters (NUL, which PostgreSQL refuses, among them)
or the bidi embeddings, overrides and isolates that would turn a list's text around."""
TEXT = f"^[^{CONTROLS}]*$"
"""Text of several lines: tab and line breaks allowed, the other control characters not."""
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=PLAIN)]
Label = Annotated[str, msgspec.Meta(max_length=200, pattern=PLAIN)]
Slug = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9-]{0,78}[a-z0-9]$")]
Code = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")]
ItemCode = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
MAX_TEXT = 1000
"""Characters of an item's text in one language (the editor's text areas say so too)."""
Id = Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]
OfficeKind = Literal["main", "branch", "outreach"]
PosterLanguage = Literal[
    "de", "de-x-ls", "en", "uk", "ar", "tr", "ru", "fa", "ps", "pl", "ro", "bg"
]
"""A language a poster can be printed in (survey.i18n.RESPOND_LOCALES; a test keeps both equal)."""
Mode = Literal["personal", "kiosk"]
StaffRole = Literal["admin", "manager", "researcher"]
Username = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]{1,79}$")]


class Strict(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class NetworkIn(Strict, kw_only=True):
    name: Name
    slug: Slug


class NetworkPatch(Strict, kw_only=True):
    name: Name


class NetworkMemberIn(Strict, kw_only=True):
    organization_id: Id


class NetworkOut(msgspec.Struct):
    id: int
    name: str
    slug: str
    members: list[int]
    former_members: list[int] = []
    """Job centres removed from it that joined no other network since: its coordinators may
    add them back (POST …/members)."""


class OrganizationIn(Strict, kw_only=True):
    name: Name
    slug: Slug
    network_id: Id | None = None
    retention_months: Annotated[int, msgspec.Meta(ge=1, le=120)] = 12


class OrganizationPatch(Strict, kw_only=True):
    name: Name | None = None
    retention_months: Annotated[int, msgspec.Meta(ge=1, le=120)] | None = None


class OrganizationOut(msgspec.Struct):
    id: int
    name: str
    slug: str
    network_id: int | None
    retention_months: int
    former_network_id: int | None = None
    """The network it was removed from, while it belongs to none (its coordinators may add
    it back)."""


class ErasureIn(Strict, kw_only=True):
    confirm: Annotated[str, msgspec.Meta(max_length=200, pattern=PLAIN)]
    """The job centre's short name (slug), typed again: nothing is deleted without it."""


class ErasureOut(msgspec.Struct):
    organization_id: int
    organization: str
    slug: str
    counts: dict[str, int]
    """Rows deleted (or, for the dry run, that would be): offices, links, responses, answers,
    text_answers, questionnaires, roles. Responses, answers and text_answers are those
    received before `counted_before`."""
    counted_before: dt.date
    """The first day of the month in progress: its responses are deleted as well but counted
    in no figure, here neither (a new response would move the count)."""
    erased: bool
    """False for the dry run."""


ServiceTypes = Annotated[list[Code], msgspec.Meta(min_length=1)]
"""The service types an office offers: at least one (without one, no link can be made)."""


class OfficeIn(Strict, kw_only=True):
    organization_id: Id
    name: Name
    code: Code
    kind: OfficeKind = "main"
    service_types: ServiceTypes


class OfficePatch(Strict, kw_only=True):
    name: Name | None = None
    kind: OfficeKind | None = None
    service_types: ServiceTypes | None = None
    active: bool | None = None
    poster_languages: Annotated[list[PosterLanguage], msgspec.Meta(max_length=8)] | None = None
    """The languages of the office's QR posters and slips, in this order (empty: the default
    choice); a print may still ask for others."""


class OfficeOut(msgspec.Struct):
    id: int
    organization_id: int
    organization: str
    name: str
    code: str
    kind: str
    active: bool
    service_types: list[str]
    poster_languages: list[str] = []


class ServiceTypeOut(msgspec.Struct):
    code: str
    name_de: str
    name_en: str


class LinkIn(Strict, kw_only=True):
    office_id: Id
    version_id: Id
    service_type: Code
    mode: Mode = "personal"
    label: Label = ""
    idle_seconds: Annotated[int, msgspec.Meta(ge=10, le=3600)] = 60
    """Kiosk: an unfinished survey is cleared after this many seconds without a touch."""
    codes_required: bool = False
    """Personal link: each response needs a one-time code from a printed slip."""


class LinkPatch(Strict, kw_only=True):
    active: bool


class LinkOut(msgspec.Struct):
    id: int
    token: str
    url: str
    office_id: int
    office: str
    version_id: int
    version: int
    questionnaire: str
    service_type: str
    mode: str
    label: str
    active: bool
    created_at: dt.datetime
    idle_seconds: int = 60
    codes_required: bool = False


class UserIn(Strict, kw_only=True):
    username: Username
    display_name: Label = ""
    role: StaffRole
    organization_id: Id
    office_ids: list[Id] = []
    """Limit a manager or admin to these offices of the job centre; empty: the whole centre."""


class RolesIn(Strict, kw_only=True):
    """The user's one role from now on: in a job centre, or limited to some of its offices."""

    role: StaffRole
    organization_id: Id
    office_ids: list[Id] = []


class UserPatch(Strict, kw_only=True):
    active: bool


class RoleOut(msgspec.Struct):
    role: str
    organization_id: int | None
    office_id: int | None
    network_id: int | None
    where: str


class UserOut(msgspec.Struct):
    id: int
    username: str
    display_name: str
    active: bool
    locked: bool
    roles: list[RoleOut]
    created_at: dt.datetime


class SetPasswordLink(msgspec.Struct):
    """Shown once: the one-time link to set a password."""

    user: UserOut
    set_password_url: str
    expires_at: dt.datetime


class TokenIn(Strict, kw_only=True):
    name: Name
    days: Annotated[int, msgspec.Meta(ge=1, le=366)] = 90
    organization_ids: list[Id] = []
    """Limit the token to these job centres; empty: everything its user may do."""


class TokenOut(msgspec.Struct):
    id: int
    name: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    revoked: bool
    organization_ids: list[int]


class NewToken(msgspec.Struct):
    """Shown once: the token itself is stored only as its hash."""

    token: str
    details: TokenOut


class AuditOut(msgspec.Struct):
    id: int
    at: dt.datetime
    username: str
    action: str
    organization_id: int | None
    detail: dict[str, Any]


class TargetIn(Strict, kw_only=True):
    office_id: Id
    item: Annotated[str, msgspec.Meta(pattern=r"^(_index|[a-z][a-z0-9_]{0,39})$")]
    """An item code, or `_index` for the satisfaction index."""
    value: Annotated[float, msgspec.Meta(ge=0, le=100)]
    """The target satisfaction index (0–100, as on the dashboards)."""
    valid_from: dt.date
    """The first day of a month."""
    valid_to: dt.date
    """The last day of a month."""
    replace: bool = False
    """Replace the targets of the same office and item whose period overlaps this one
    (without it such a target is refused with 409, naming them)."""


class TargetPatch(Strict, kw_only=True):
    """The fields to change; those left out stay."""

    value: Annotated[float, msgspec.Meta(ge=0, le=100)] | None = None
    """The target satisfaction index (0–100, as on the dashboards)."""
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None


class TargetOut(msgspec.Struct):
    id: int
    office_id: int
    office: str
    item: str
    value: float
    valid_from: dt.date
    valid_to: dt.date


class QuestionnaireIn(Strict, kw_only=True):
    organization_id: Id
    code: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9-]{1,79}$")]
    name: Name


class VersionItem(Strict, kw_only=True):
    code: ItemCode
    required: bool = False
    text: dict[str, Annotated[str, msgspec.Meta(max_length=MAX_TEXT, pattern=TEXT)]] = {}
    """Texts by language tag; missing languages keep the item bank's texts."""


class VersionIn(Strict, kw_only=True):
    """A new draft version: the latest version's items unless `items` are given."""

    items: list[VersionItem] | None = None


class VersionPatch(Strict, kw_only=True):
    items: list[VersionItem] | None = None
    review: dict[str, Literal["reviewed", "draft"]] | None = None


class VersionOut(msgspec.Struct):
    id: int
    questionnaire_id: int
    number: int
    published_at: dt.datetime | None
    items: list[dict[str, Any]]
    translations: dict[str, str]
    outdated_translations: dict[str, list[str]] = {}
    """Of a draft (read one version): item code -> languages whose translation was made for an
    earlier German wording of the item; publishing asks what to do with them."""


class QuestionnaireOut(msgspec.Struct):
    id: int
    code: str
    name: str
    organization_id: int | None
    versions: list[VersionOut]


class BankItemOut(msgspec.Struct):
    code: str
    type: str
    scale: str | None
    text: dict[str, str]


class RetentionOut(msgspec.Struct):
    organization_id: int
    organization: str
    months: int
    cutoff: dt.date
    text_answers: int
    deleted: bool
