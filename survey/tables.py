"""All Piccolo tables: columns and indexes, nothing else.

Piccolo adds the `id` primary key itself; each table declares `id: Serial` (an annotation
only, no column) so that mypy knows `Office.id` (a column) and `office.id` (an int).
"""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    UUID,
    BigInt,
    Boolean,
    Bytea,
    Date,
    DoublePrecision,
    ForeignKey,
    Integer,
    OnDelete,
    Real,
    Serial,
    SmallInt,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzOffset
from piccolo.table import Table

API_TOKEN_DAYS = 90
"""Lifetime of a new API token unless its creator chooses another."""


class Network(Table):
    id: Serial
    name = Varchar(length=200)
    slug = Varchar(length=80, unique=True)


class Organization(Table):
    """A job centre."""

    id: Serial
    name = Varchar(length=200)
    slug = Varchar(length=80, unique=True)
    network = ForeignKey(references=Network, null=True, on_delete=OnDelete.set_null)
    former_network = ForeignKey(references=Network, null=True, on_delete=OnDelete.set_null)
    """The network it was last removed from while it has none: that network's coordinators
    may add it back."""
    retention_months = Integer(default=12)
    """Free-text answers older than this many months are deleted (daily, and on demand)."""
    privacy_controller = Text(default="")
    """Who is responsible for the survey's data (name, address), for the privacy notice."""
    privacy_officer = Text(default="")
    """How to reach the job centre's data protection officer, for the privacy notice."""


class Office(Table):
    """A location (Standort) of a job centre."""

    id: Serial
    organization = ForeignKey(references=Organization, on_delete=OnDelete.restrict, index=True)
    name = Varchar(length=200)
    code = Varchar(length=40)
    active = Boolean(default=True)
    kind = Varchar(length=20, default="main")
    """main (office), branch, or outreach (a point of presence in a neighbourhood)."""
    poster_languages = Varchar(length=200, default="")
    """The languages of its posters and slips, comma-separated (empty: the default ones)."""


class ServiceType(Table):
    """A kind of counseling a link can be for (benefits, placement, ...)."""

    id: Serial
    code = Varchar(length=40, unique=True)
    name_de = Varchar(length=200)
    name_en = Varchar(length=200)


class OfficeService(Table):
    """A service type an office offers."""

    id: Serial
    office = ForeignKey(references=Office, on_delete=OnDelete.cascade, index=True)
    service_type = Varchar(length=40)


class Target(Table):
    """A target index for an office and item (or the composite index `_index`) in a period."""

    id: Serial
    office = ForeignKey(references=Office, on_delete=OnDelete.cascade, index=True)
    item = Varchar(length=40)
    value = Real()
    """The target satisfaction index, 0–100 as on the dashboards."""
    valid_from = Date()
    valid_to = Date()


class BankItem(Table):
    """An item of the item bank: a stable code, its type and scale, and its texts."""

    id: Serial
    code = Varchar(length=40, unique=True)
    definition = JSON()


class Questionnaire(Table):
    id: Serial
    organization = ForeignKey(references=Organization, null=True, on_delete=OnDelete.restrict)
    code = Varchar(length=80, unique=True)
    name = Varchar(length=200)


class QuestionnaireVersion(Table):
    """Immutable once published: items, scales and all translations live in `definition`."""

    id: Serial
    questionnaire = ForeignKey(references=Questionnaire, on_delete=OnDelete.restrict, index=True)
    number = Integer()
    definition = JSON()
    published_at = Timestamptz(null=True, default=None)


class Link(Table):
    """An unguessable token binding office, questionnaire version, service type and mode."""

    id: Serial
    token = Varchar(length=64, unique=True)
    office = ForeignKey(references=Office, on_delete=OnDelete.restrict, index=True)
    version = ForeignKey(references=QuestionnaireVersion, on_delete=OnDelete.restrict)
    service_type = Varchar(length=40)
    mode = Varchar(length=16)
    label = Varchar(length=200, default="")
    active = Boolean(default=True)
    deactivated_at = Timestamptz(null=True, default=None)
    """When `active` was last switched off: a kiosk's queued answers from pages served
    before then are still taken."""
    idle_seconds = Integer(default=60)
    """A kiosk clears a half-filled survey after this many seconds without a touch."""
    codes_required = Boolean(default=False)
    """Each response needs a one-time code from a slip (SlipCode)."""
    created_at = Timestamptz()


class Response(Table):
    """One submitted survey. No IP address, user agent or cookie is ever stored."""

    id: Serial
    submission_id = UUID(unique=True)
    digest = Varchar(length=64)
    link = ForeignKey(references=Link, on_delete=OnDelete.restrict)
    office = ForeignKey(references=Office, on_delete=OnDelete.restrict)
    version = ForeignKey(references=QuestionnaireVersion, on_delete=OnDelete.restrict)
    service_type = Varchar(length=40)
    locale = Varchar(length=20)
    mode = Varchar(length=16)
    day = Date(index=True)
    submitted_at = Timestamptz()
    record_key = Integer(default=0)
    """Uniform random in [0, 2**31), drawn when stored: the cell keys of the disclosure control
    are made from the sums of these keys (never shown, never exported)."""
    flagged = Boolean(default=False)
    """Sent sooner after its page was served than a person answers (or without a signed
    issue time): stored, but kept out of the counts the dashboards read."""


class Answer(Table):
    """One scale answer of a response."""

    id: Serial
    response = ForeignKey(references=Response, on_delete=OnDelete.cascade, index=True)
    item = Varchar(length=40)
    value = SmallInt()


class TextAnswer(Table):
    """Free text, kept apart because it can hold personal data (own retention and export rules)."""

    id: Serial
    response = ForeignKey(references=Response, on_delete=OnDelete.cascade, index=True)
    item = Varchar(length=40)
    text = Text()
    hidden = Boolean(default=False)
    """Hidden by an admin (for example personal data the automatic masking missed)."""


class SlipCode(Table):
    """A one-time code printed on a slip: an HMAC of it, and whether it has been used (no
    time of use, nothing that leads to the response)."""

    id: Serial
    link = ForeignKey(references=Link, on_delete=OnDelete.cascade, index=True)
    code_hash = Varchar(length=64, unique=True)
    used = Boolean(default=False)
    created_at = Timestamptz()


class DailyCount(Table):
    """Answers counted per day × office × filters × item × value, kept in step with Answer.

    Item `_index` holds each respondent's composite index as 420 × the mean of their
    answered index items (420 is divisible by 1..7, so the value is exact). `key_sum` is the
    sum of the record keys of the responses counted in the row.
    """

    id: Serial
    day = Date()
    office = ForeignKey(references=Office, on_delete=OnDelete.restrict)
    service_type = Varchar(length=40)
    locale = Varchar(length=20)
    mode = Varchar(length=16)
    item = Varchar(length=40)
    value = Integer()
    n = Integer()
    key_sum = BigInt(default=0)


class RollupCount(Table):
    """Sums of DailyCount over completed months, so dashboards read few rows.

    grain "month": one month (start = its first day), once summed over the filters ("*")
    and once per value of each single filter, the other two summed
    (queries.ROLLUP_DIMENSIONS). Only months that ended before yesterday (Europe/Berlin) are
    rolled up: the writer only ever adds to today. Rows with item "_rolled" (office NULL)
    mark the last month rolled up. (grain "day" rows of older versions are no longer read.)
    The composite index is kept in its quarter-point classes (queries.INDEX_CLASS), and rows
    with item "_n" (value 0) hold each office × month × view's responses with an index.
    """

    id: Serial
    grain = Varchar(length=5)
    start = Date()
    office = ForeignKey(references=Office, null=True, on_delete=OnDelete.cascade)
    service_type = Varchar(length=40)
    locale = Varchar(length=20)
    mode = Varchar(length=16)
    item = Varchar(length=40)
    value = Integer()
    n = Integer()
    key_sum = BigInt(default=0)


class MixCount(Table):
    """Responses per office × completed month × service type × language × mode (no answers):
    the network's cross-tabulation of the client-mix adjusters (survey/dashboard/casemix.py),
    summed from DailyCount's index rows like RollupCount. Never shown: only its network-wide
    sums, perturbed, enter the adjustment. Rows with office NULL and mode "_rolled" mark the
    last month rolled up."""

    id: Serial
    start = Date()
    office = ForeignKey(references=Office, null=True, on_delete=OnDelete.cascade)
    service_type = Varchar(length=40)
    locale = Varchar(length=20)
    mode = Varchar(length=16)
    n = Integer()
    key_sum = BigInt(default=0)


class User(Table, tablename="staff_user"):
    id: Serial
    username = Varchar(length=80, unique=True)
    display_name = Varchar(length=200, default="")
    password_hash = Varchar(length=200)
    locale = Varchar(length=20, default="de")
    active = Boolean(default=True)
    failed_logins = Integer(default=0)
    """No longer counted: failed sign-ins live in LoginThrottle, per account and source."""
    locked_until = Timestamptz(null=True, default=None)
    """Locked by an administrator until then: no sign-in, sessions and API tokens refused."""
    session_epoch = Integer(default=0)
    """Part of every session cookie; raised on sign-out and lockout to end all sessions."""
    created_at = Timestamptz()


class LoginThrottle(Table):
    """Failed sign-ins in a row per account and source (survey/auth/throttle.py)."""

    id: Serial
    source = Varchar(length=100, unique=True)
    failures = Integer(default=0)
    locked_until = DoublePrecision(null=True, default=None)
    """Unix time; attempts from this source are refused unchecked until then."""
    last_at = DoublePrecision(default=0.0)


class Membership(Table):
    """A role of a user: network coordinator, admin or manager of a job centre, or of offices."""

    id: Serial
    user = ForeignKey(references=User, on_delete=OnDelete.cascade, index=True)
    role = Varchar(length=20)
    network = ForeignKey(references=Network, null=True, on_delete=OnDelete.cascade)
    organization = ForeignKey(references=Organization, null=True, on_delete=OnDelete.cascade)
    office = ForeignKey(references=Office, null=True, on_delete=OnDelete.cascade)


class ApiToken(Table):
    id: Serial
    user = ForeignKey(references=User, on_delete=OnDelete.cascade, index=True)
    name = Varchar(length=200)
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz()
    last_used_at = Timestamptz(null=True, default=None)
    revoked = Boolean(default=False)
    expires_at = Timestamptz(null=True, default=TimestamptzOffset(days=API_TOKEN_DAYS))
    """Refused from this moment on; a token without one (NULL) is refused too."""
    organizations = JSON(default="[]")
    """Ids of the job centres the token is limited to; empty: all of its user's."""


class Invitation(Table):
    """A one-time link to set a password (invitation or reset); only its hash is stored."""

    id: Serial
    user = ForeignKey(references=User, on_delete=OnDelete.cascade, index=True)
    token_hash = Varchar(length=64, unique=True)
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


class AuditLog(Table):
    id: Serial
    at = Timestamptz()
    user = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    username = Varchar(length=80, default="")
    action = Varchar(length=40, index=True)
    detail = JSON(default="{}")
    organization = Integer(null=True, default=None)
    """The job centre a change belongs to (no foreign key: the entry outlives a deletion)."""


class Heartbeat(Table):
    """Written by /readyz: proof that the database takes writes right now."""

    id: Serial
    name = Varchar(length=40, unique=True)
    at = Timestamptz()


class DashboardFigure(Table):
    """A dashboard page's figures for a view whose months are all closed, kept so that a
    restarted server's first view reads them instead of working them out again
    (survey/dashboard/stored.py). `key` names everything they are made of; `code` is the
    release that made them and `rolled` the last rolled-up month they were made with (rows of
    another are never read again and are pruned). `default_for`: the last published month
    whose default views the row is one of (marked by the warming; '' for another view):
    pruned last."""

    id: Serial
    key = Varchar(length=64, unique=True)
    kind = Varchar(length=20)
    code = Varchar(length=32)
    rolled = Varchar(length=7)
    made_at = Timestamptz()
    value = Bytea()
    default_for = Varchar(length=7, default="")


ALL_TABLES: list[type[Table]] = [
    Network,
    Organization,
    Office,
    ServiceType,
    OfficeService,
    Target,
    BankItem,
    Questionnaire,
    QuestionnaireVersion,
    Link,
    SlipCode,
    Response,
    Answer,
    TextAnswer,
    DailyCount,
    RollupCount,
    MixCount,
    User,
    LoginThrottle,
    Membership,
    ApiToken,
    Invitation,
    AuditLog,
    Heartbeat,
    DashboardFigure,
]
