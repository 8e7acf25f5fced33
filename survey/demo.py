"""Deterministic demo data, shared by `make demo`, the tests and the benchmarks.

A benchmarking network of eight job centres (rural districts and one city) with 33 offices,
outreach points among them; links for every office, service type it offers and mode; one
user per role; targets for some offices; one job centre with its own questionnaire in two
versions; about 11,000 responses over the last 25 months (three in five in the last 12, so
that the default period and the one before it both have figures to compare) in several languages,
with real differences: one office clearly better, one clearly worse, the others alike, one
office better than a year before and one worse.

The core (two job centres, five offices, about 5,000 responses) is what the integration tests
load (`network=False`): the realistic network costs twice the time.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from typing import Any

import msgspec
from piccolo.engine.base import Engine

from survey.auth.passwords import hash_password
from survey.dashboard.filters import published_through
from survey.questionnaire import (
    Definition,
    check_answers,
    load_definition,
    standard_definition_bytes,
)
from survey.respond.schemas import LinkInfo
from survey.respond.store import Submission, make_store, make_submission
from survey.tables import (
    AuditLog,
    Link,
    Membership,
    Network,
    Office,
    OfficeService,
    Organization,
    Questionnaire,
    QuestionnaireVersion,
    Target,
    User,
)

DEMO_NETWORK = "demo"
SERVICE_TYPES = ("benefits", "placement", "case_management", "under_25")
MODES = ("personal", "kiosk")


class DemoOffice(msgspec.Struct, frozen=True):
    organization: str
    name: str
    code: str
    responses: int
    shift: float
    """Latent satisfaction shift in standard deviations: > 0 better, < 0 worse."""
    kind: str = "main"
    services: tuple[str, ...] = ("benefits", "placement", "case_management", "under_25")
    before: float | None = None
    """The shift of the responses older than RECENT_DAYS, where it differs (a change)."""


DEMO_OFFICES = (
    DemoOffice("Jobcenter Kreis Nordheide", "Nordheide-Mitte", "NH-M", 1000, 0.0),
    DemoOffice("Jobcenter Kreis Nordheide", "Nordheide-Süd", "NH-S", 1000, 0.65),
    DemoOffice("Jobcenter Kreis Nordheide", "Nordheide-Ost", "NH-O", 1000, 0.0),
    DemoOffice("Jobcenter Stadt Weserau", "Weserau-Zentrum", "WE-Z", 1200, 0.0, before=-0.35),
    DemoOffice("Jobcenter Stadt Weserau", "Weserau-Hafen", "WE-H", 800, -0.65),
)
OUTREACH = ("benefits", "under_25")
_NORD = DEMO_OFFICES[0].organization
_MOOR = "Jobcenter Landkreis Moorland"
_GEEST = "Jobcenter Kreis Geestrand"
_WIESE = "Jobcenter Landkreis Wiesental"
_AUE = "Jobcenter Kreis Auenfeld"
_HUEGEL = "Jobcenter Landkreis Hügelland"
_SEE = "Jobcenter Kreis Seenplatte-West"
NETWORK_OFFICES = (
    DemoOffice(_NORD, "Treffpunkt Heidesiedlung", "NH-TH", 140, 0.25, "outreach", OUTREACH),
    DemoOffice(_MOOR, "Moorland-Stadt", "MO-S", 380, 0.1),
    DemoOffice(_MOOR, "Moorland-West", "MO-W", 260, -0.1, "branch"),
    DemoOffice(_MOOR, "Moorland-Nord", "MO-N", 240, 0.0, "branch"),
    DemoOffice(_MOOR, "Treffpunkt Kirchdorf", "MO-TK", 130, 0.35, "outreach", OUTREACH),
    DemoOffice(_MOOR, "Stadtteilbüro Am Deich", "MO-AD", 110, 0.2, "outreach", OUTREACH),
    DemoOffice(_GEEST, "Geestrand-Mitte", "GE-M", 360, 0.0),
    DemoOffice(_GEEST, "Geestrand-Süd", "GE-S", 250, 0.1, "branch"),
    DemoOffice(_GEEST, "Geestrand-Ost", "GE-O", 260, -0.35, "branch"),
    DemoOffice(_GEEST, "Familienzentrum Heidberg", "GE-FH", 120, 0.25, "outreach", OUTREACH),
    DemoOffice(_WIESE, "Wiesental", "WI-M", 380, -0.1, before=0.2),
    DemoOffice(_WIESE, "Wiesental-Nord", "WI-N", 240, 0.0, "branch"),
    DemoOffice(_WIESE, "Wiesental-Bergdorf", "WI-B", 220, -0.15, "branch"),
    DemoOffice(_WIESE, "Quartiersladen Lindenhof", "WI-QL", 120, 0.3, "outreach", OUTREACH),
    DemoOffice(_WIESE, "Bürgerhaus Talweg", "WI-BT", 100, 0.1, "outreach", OUTREACH),
    DemoOffice(_AUE, "Auenfeld-Mitte", "AU-M", 360, 0.05),
    DemoOffice(_AUE, "Auenfeld-West", "AU-W", 240, -0.2, "branch"),
    DemoOffice(_AUE, "Auenfeld-Hafenstraße", "AU-H", 230, -0.05, "branch"),
    DemoOffice(_AUE, "Gemeinschaftszentrum Weidenweg", "AU-GW", 110, 0.2, "outreach", OUTREACH),
    DemoOffice(_HUEGEL, "Hügelland-Kreisstadt", "HU-K", 380, 0.0),
    DemoOffice(_HUEGEL, "Hügelland-Nord", "HU-N", 240, 0.1, "branch"),
    DemoOffice(_HUEGEL, "Hügelland-Süd", "HU-S", 240, -0.1, "branch"),
    DemoOffice(_HUEGEL, "Sprechstunde Rathaus Bergen", "HU-RB", 100, 0.15, "outreach", OUTREACH),
    DemoOffice(_HUEGEL, "Treff im Jugendhaus", "HU-TJ", 110, 0.1, "outreach", ("under_25",)),
    DemoOffice(_SEE, "Seeburg", "SE-M", 360, -0.05),
    DemoOffice(_SEE, "Seeburg-Ost", "SE-O", 250, 0.0, "branch"),
    DemoOffice(_SEE, "Waldsee", "SE-W", 230, 0.1, "branch"),
    DemoOffice(_SEE, "Stadtteiltreff Uferviertel", "SE-SU", 120, 0.2, "outreach", OUTREACH),
)
"""An outreach point of Nordheide and six more job centres of the network: rural districts
with main offices, branches and outreach points (a room in a community centre, a
consultation hour in a town hall)."""
OWN_QUESTIONNAIRE = _WIESE
"""This job centre asks its own questionnaire: version 1 (the standard items), and since
VERSION_2_DAYS ago version 2 with the yes/no item `language_help` added."""
VERSION_2_DAYS = 150
DEMO_TARGETS = (
    ("Nordheide-Mitte", 58.0),
    ("Nordheide-Ost", 66.0),
    ("Nordheide-Süd", 70.0),
    ("Treffpunkt Heidesiedlung", 66.5),
    ("Moorland-Stadt", 62.0),
    ("Treffpunkt Kirchdorf", 65.0),
)
"""Target satisfaction indices (0–100) for the current calendar year: some met, some missed,
and at the two small outreach points not yet decidable."""
BETTER_OFFICE = "Nordheide-Süd"
WORSE_OFFICE = "Weserau-Hafen"
ALIKE_OFFICES = ("Nordheide-Mitte", "Nordheide-Ost")
IMPROVED_OFFICE = "Weserau-Zentrum"
"""Better than a year before (the change column); Wiesental of the network is worse."""
RECENT_DAYS = 365
OLDER_DAYS = 400
RECENT_WEIGHT, OLDER_WEIGHT = 3, 2
"""Responses fall on the last RECENT_DAYS days at 3/2 the daily rate of the OLDER_DAYS before
them: the default period (the last 12 published months) and the 12 months before it, whatever
the day of the month, both hold answers, while the demo keeps its size. (An even rate gives
the small offices so few responses a month that the protection's noise moves their index by
up to 6 points; 2:1 leaves the previous period of some outreach points below the minimum.)"""

DEMO_USERS = (
    ("network", "koordination", "demo-netzwerk-2026"),
    ("admin", "admin.nordheide", "demo-admin-2026"),
    ("manager", "leitung.nordheide", "demo-leitung-2026"),
    ("researcher", "forschung", "demo-forschung-2026"),
)

LOCALE_WEIGHTS = {"de": 70, "en": 6, "uk": 8, "ar": 6, "tr": 4, "ru": 3, "fa": 3}
COMMENTS = {
    "de": [
        "Sehr freundliche Beratung, danke!",
        "Die Wartezeit war zu lang.",
        "Ich habe nicht verstanden, welche Unterlagen ich bringen muss.",
        "Frau Schneider hat mir sehr geholfen, bitte rufen Sie mich an: 0171 2345678",
        "Meine Kundennummer ist 123D456789, bitte melden Sie sich per E-Mail "
        "max.mustermann@example.org",
    ],
    "en": ["Friendly staff, but the forms are hard to understand.", "Thank you for the help."],
    "uk": ["Дякую за допомогу!", "Потрібен перекладач."],
    "ar": ["شكرا على المساعدة", "الانتظار كان طويلا"],
}


async def ensure_standard_questionnaire() -> int:
    """Create the standard questionnaire's first published version once; return its id."""
    existing = (
        await Questionnaire.select(Questionnaire.id).where(Questionnaire.code == "standard").first()
    )
    if existing is None:
        q = Questionnaire(code="standard", name="Zufriedenheit mit der Beratung")
        await q.save()
        questionnaire_id = q.id
    else:
        questionnaire_id = existing["id"]
    version = (
        await QuestionnaireVersion.select(QuestionnaireVersion.id)
        .where(QuestionnaireVersion.questionnaire == questionnaire_id)
        .order_by(QuestionnaireVersion.number, ascending=False)
        .first()
    )
    if version is not None:
        return int(version["id"])
    v = QuestionnaireVersion(
        questionnaire=questionnaire_id,
        number=1,
        definition=standard_definition_bytes().decode(),
        published_at=dt.datetime.now(dt.UTC),
    )
    await v.save()
    return int(v.id)


DEMO_DONE = "demo_loaded"
"""Audit-log action written last by load_demo: its presence means the demo is complete."""


class DemoIncomplete(RuntimeError):
    """An earlier demo load stopped half-way; the database must be recreated."""


async def demo_loaded() -> bool:
    if await AuditLog.exists().where(AuditLog.action == DEMO_DONE):
        return True
    if await Network.exists().where(Network.slug == DEMO_NETWORK):
        raise DemoIncomplete(
            "an earlier demo load was interrupted; delete the database (and its -wal/-shm "
            "files) or point RESONANZ_DATABASE_URL at an empty one, then run the demo again"
        )
    return False


class DemoSummary(msgspec.Struct):
    personal_token: str
    kiosk_token: str
    users: list[tuple[str, str, str]]
    responses: int


async def load_demo(
    engine: Engine[Any],
    *,
    responses_scale: float = 1.0,
    seed: int = 2026,
    today: dt.date | None = None,
    network: bool = True,
) -> DemoSummary:
    """Load the demo into a migrated database unless it is there already.

    `network=False` loads only the core (two job centres, five offices), as the integration
    tests do."""
    rng = random.Random(seed)
    if await demo_loaded():
        return await demo_summary()
    today = today or dt.date.today()
    version_id = await ensure_standard_questionnaire()
    definition = load_definition(standard_definition_bytes())
    net = Network(name="Lernen von den Besten – Netzwerk Nord", slug=DEMO_NETWORK)
    await net.save()
    orgs: dict[str, Organization] = {}
    links: dict[str, list[tuple[LinkInfo, Definition, dt.date | None]]] = {}
    """office -> (link, its definition, the day from which it is used or None: always)"""
    specs = DEMO_OFFICES + (NETWORK_OFFICES if network else ())
    now = dt.datetime.now(dt.UTC)
    own = await _own_questionnaire(today) if network else None
    for spec in specs:
        if spec.organization not in orgs:
            org = Organization(
                name=spec.organization, slug=_slug(spec.organization), network=net.id
            )
            await org.save()
            orgs[spec.organization] = org
            if own is not None and spec.organization == OWN_QUESTIONNAIRE:
                await Questionnaire.update({Questionnaire.organization: org.id}).where(
                    Questionnaire.id == own[0]
                )
        office = Office(
            organization=orgs[spec.organization].id, name=spec.name, code=spec.code, kind=spec.kind
        )
        await office.save()
        for service in spec.services:
            await OfficeService(office=office.id, service_type=service).save()
        versions: list[tuple[int, int, Definition, dt.date | None, bool]] = [
            (version_id, 1, definition, None, True)
        ]
        if own is not None and spec.organization == OWN_QUESTIONNAIRE:
            _, v1, v2, switch, def1, def2 = own
            versions = [(v1, 1, def1, None, False), (v2, 2, def2, switch, True)]
        links[spec.name] = []
        for vid, number, vdef, since, active in versions:
            for service in spec.services:
                for mode in MODES:
                    token = _token(rng)
                    link = Link(
                        token=token,
                        office=office.id,
                        version=vid,
                        service_type=service,
                        mode=mode,
                        created_at=now,
                        active=active,
                    )
                    await link.save()
                    info = LinkInfo(
                        id=link.id,
                        token=token,
                        office_id=office.id,
                        office=spec.name,
                        organization=spec.organization,
                        version_id=vid,
                        version=number,
                        service_type=service,
                        mode=mode,
                        active=active,
                    )
                    links[spec.name].append((info, vdef, since))
    await _demo_users(net.id, orgs)
    await _targets(today)
    submissions = list(_responses(rng, specs, links, responses_scale, today))
    store = make_store(engine)
    for start in range(0, len(submissions), 1000):
        await store.commit(submissions[start : start + 1000])
    await store.close()
    await AuditLog(at=dt.datetime.now(dt.UTC), action=DEMO_DONE, detail={"seed": seed}).save()
    return await demo_summary()


async def _own_questionnaire(
    today: dt.date,
) -> tuple[int, int, int, dt.date, Definition, Definition]:
    """A job centre's own questionnaire: v1 as the standard, v2 with `language_help` added."""
    from survey.manage.questionnaires import EXTRA_ITEMS, YESNO

    raw = msgspec.json.decode(standard_definition_bytes())
    raw["code"] = "wiesental"
    raw["name"] = {**raw["name"], "de": "Ihre Meinung zählt – Jobcenter Wiesental"}
    q = Questionnaire(code="wiesental", name="Ihre Meinung zählt – Jobcenter Wiesental")
    await q.save()
    switch = today - dt.timedelta(days=VERSION_2_DAYS)
    first = today - dt.timedelta(days=RECENT_DAYS + OLDER_DAYS + 7)
    start = dt.datetime.combine(first, dt.time(8), tzinfo=dt.UTC)
    v1 = QuestionnaireVersion(questionnaire=q.id, number=1, definition=raw, published_at=start)
    await v1.save()
    extra = next(i for i in EXTRA_ITEMS if i["code"] == "language_help")
    raw2 = {
        **raw,
        "scales": {**raw["scales"], "yesno": YESNO},
        "items": [*raw["items"][:-1], dict(extra), raw["items"][-1]],
    }
    v2 = QuestionnaireVersion(
        questionnaire=q.id,
        number=2,
        definition=raw2,
        published_at=dt.datetime.combine(switch, dt.time(8), tzinfo=dt.UTC),
    )
    await v2.save()
    return q.id, v1.id, v2.id, switch, load_definition(raw), load_definition(raw2)


async def _targets(today: dt.date) -> None:
    """The demo's targets, for this year and the year of the last published month: in January
    the pages judge December's figures against the targets of December's day."""
    first_year = int(published_through(today)[:4])
    offices = {r["name"]: r["id"] for r in await Office.select(Office.id, Office.name)}
    for name, value in DEMO_TARGETS:
        if name in offices:
            await Target(
                office=offices[name],
                item="_index",
                value=value,
                valid_from=dt.date(first_year, 1, 1),
                valid_to=dt.date(today.year, 12, 31),
            ).save()


async def demo_summary() -> DemoSummary:
    office = await Office.select(Office.id).where(Office.name == DEMO_OFFICES[0].name).first()
    assert office is not None, "the demo is not loaded"
    rows = await Link.select(Link.token, Link.mode).where(
        (Link.office == office["id"]) & (Link.service_type == "benefits")
    )
    tokens = {r["mode"]: r["token"] for r in rows}
    from survey.tables import Response

    return DemoSummary(
        personal_token=tokens["personal"],
        kiosk_token=tokens["kiosk"],
        users=list(DEMO_USERS),
        responses=await Response.count(),
    )


async def _demo_users(network_id: int, orgs: dict[str, Organization]) -> None:
    first_org = orgs[DEMO_OFFICES[0].organization].id
    for role, username, password in DEMO_USERS:
        user = User(
            username=username,
            password_hash=hash_password(password),
            display_name=username,
            created_at=dt.datetime.now(dt.UTC),
        )
        await user.save()
        membership = Membership(user=user.id, role=role)
        if role == "network":
            membership.network = network_id
        else:
            membership.organization = first_org
        await membership.save()


def _responses(
    rng: random.Random,
    specs: tuple[DemoOffice, ...],
    links: dict[str, list[tuple[LinkInfo, Definition, dt.date | None]]],
    scale: float,
    today: dt.date,
) -> list[Submission]:
    locales = list(LOCALE_WEIGHTS)
    weights = list(LOCALE_WEIGHTS.values())
    record_keys = random.Random(2026)  # own stream: the same demo figures, noise included
    out: list[Submission] = []
    for spec in specs:
        for _ in range(max(1, round(spec.responses * scale))):
            versioned = any(x[2] is not None for x in links[spec.name])
            if not versioned:  # the core's draws in their first order: the same data as before
                link, definition, _ = rng.choice(links[spec.name])
            ago = _days_ago(rng.randrange(RECENT_WEIGHT * RECENT_DAYS + OLDER_WEIGHT * OLDER_DAYS))
            day = today - dt.timedelta(days=ago)
            while day.weekday() >= 5:
                day -= dt.timedelta(days=1)
            if versioned:  # the version in use on that day
                usable = [x for x in links[spec.name] if x[2] is None or day >= x[2]]
                current = [x for x in usable if x[2] is not None] or usable
                link, definition, _ = rng.choice(current)
            when = dt.datetime.combine(day, dt.time(rng.randrange(7, 16), 0), tzinfo=dt.UTC)
            locale = rng.choices(locales, weights)[0]
            shift = spec.shift if spec.before is None or ago < RECENT_DAYS else spec.before
            answers = _answers(rng, shift + 0.15 * _season(day), locale)
            if definition.item("language_help") is not None and rng.random() < 0.8:
                answers["language_help"] = 1 if locale != "de" and rng.random() < 0.6 else 0
            checked = check_answers(definition, answers)
            out.append(
                make_submission(
                    link,
                    uuid.UUID(int=rng.getrandbits(128), version=4),
                    locale,
                    checked,
                    definition,
                    now=when,
                )
            )
            out[-1] = msgspec.structs.replace(out[-1], record_key=record_keys.getrandbits(31))
    return out


def _days_ago(draw: int) -> int:
    """A draw from [0, RECENT_WEIGHT·RECENT_DAYS + OLDER_WEIGHT·OLDER_DAYS) as days before
    today, the recent days weighted RECENT_WEIGHT and the older OLDER_WEIGHT (one draw, as
    before, so every later draw of the demo stays as it was)."""
    recent = RECENT_WEIGHT * RECENT_DAYS
    return draw // RECENT_WEIGHT if draw < recent else RECENT_DAYS + (draw - recent) // OLDER_WEIGHT


def _season(day: dt.date) -> float:
    return 1.0 if day.month in (4, 5, 6) else 0.0


def _answers(rng: random.Random, shift: float, locale: str) -> dict[str, object]:
    mood = rng.gauss(shift, 1.0)
    answers: dict[str, object] = {}
    for code, bias in (
        ("respect", 0.5),
        ("understood", 0.1),
        ("explained", 0.0),
        ("next_steps", -0.2),
        ("fits", -0.3),
        ("waiting", -0.6),
        ("overall", 0.0),
    ):
        latent = 3.55 + bias + 0.85 * (0.8 * mood + 0.6 * rng.gauss(0, 1))
        answers[code] = min(5, max(1, round(latent)))
    if rng.random() < 0.85:
        answers["recommend"] = min(10, max(0, round(6.8 + 2.2 * mood + rng.gauss(0, 1.2))))
    if rng.random() < 0.12:
        answers["comment"] = rng.choice(COMMENTS.get(locale, COMMENTS["de"]))
    return answers


def _token(rng: random.Random) -> str:
    """Random on each install (a token known from this source would open every demo); the
    draws from `rng` stay, so the demo's responses are the same everywhere."""
    from survey.manage.structure import LINK_ALPHABET, new_link_token

    for _ in range(22):
        rng.choice(LINK_ALPHABET)
    return new_link_token()


def _slug(name: str) -> str:
    return name.lower().replace(" ", "-").replace("ü", "ue").replace("ö", "oe").replace("ä", "ae")
