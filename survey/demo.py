"""Deterministic demo data, shared by `make demo`, the tests and the benchmarks.

One network with two job centres and five offices; links for every office, service type and
mode; one user per role; about 5,000 responses over the last 12 months in several languages,
with real differences: one office clearly better, one clearly worse, the others alike.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
import uuid
from typing import Any

import msgspec
from piccolo.engine.base import Engine

from survey.auth.passwords import hash_password
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
    Organization,
    Questionnaire,
    QuestionnaireVersion,
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


DEMO_OFFICES = (
    DemoOffice("Jobcenter Kreis Nordheide", "Nordheide-Mitte", "NH-M", 1000, 0.0),
    DemoOffice("Jobcenter Kreis Nordheide", "Nordheide-Süd", "NH-S", 1000, 0.65),
    DemoOffice("Jobcenter Kreis Nordheide", "Nordheide-Ost", "NH-O", 1000, 0.0),
    DemoOffice("Jobcenter Stadt Weserau", "Weserau-Zentrum", "WE-Z", 1200, 0.0),
    DemoOffice("Jobcenter Stadt Weserau", "Weserau-Hafen", "WE-H", 800, -0.65),
)
BETTER_OFFICE = "Nordheide-Süd"
WORSE_OFFICE = "Weserau-Hafen"
ALIKE_OFFICES = ("Nordheide-Mitte", "Nordheide-Ost")

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
) -> DemoSummary:
    """Load the demo into a migrated database unless it is there already."""
    rng = random.Random(seed)
    if await demo_loaded():
        return await demo_summary()
    version_id = await ensure_standard_questionnaire()
    definition = load_definition(standard_definition_bytes())
    network = Network(name="Lernen von den Besten – Netzwerk Nord", slug=DEMO_NETWORK)
    await network.save()
    orgs: dict[str, Organization] = {}
    links: dict[str, list[LinkInfo]] = {}
    now = dt.datetime.now(dt.UTC)
    for spec in DEMO_OFFICES:
        if spec.organization not in orgs:
            org = Organization(
                name=spec.organization, slug=_slug(spec.organization), network=network.id
            )
            await org.save()
            orgs[spec.organization] = org
        office = Office(organization=orgs[spec.organization].id, name=spec.name, code=spec.code)
        await office.save()
        links[spec.name] = []
        for service in SERVICE_TYPES:
            for mode in MODES:
                token = _token(rng)
                link = Link(
                    token=token,
                    office=office.id,
                    version=version_id,
                    service_type=service,
                    mode=mode,
                    created_at=now,
                    label=f"{spec.name} – {service} – {mode}",
                )
                await link.save()
                links[spec.name].append(
                    LinkInfo(
                        id=link.id,
                        token=token,
                        office_id=office.id,
                        office=spec.name,
                        organization=spec.organization,
                        version_id=version_id,
                        version=1,
                        service_type=service,
                        mode=mode,
                        active=True,
                    )
                )
    await _demo_users(network.id, orgs)
    today = today or dt.date.today()
    submissions = list(_responses(rng, definition, links, responses_scale, today))
    store = make_store(engine)
    for start in range(0, len(submissions), 1000):
        await store.commit(submissions[start : start + 1000])
    await store.close()
    await AuditLog(at=dt.datetime.now(dt.UTC), action=DEMO_DONE, detail={"seed": seed}).save()
    return await demo_summary()


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
    definition: Definition,
    links: dict[str, list[LinkInfo]],
    scale: float,
    today: dt.date,
) -> list[Submission]:
    locales = list(LOCALE_WEIGHTS)
    weights = list(LOCALE_WEIGHTS.values())
    record_keys = random.Random(2026)  # own stream: the same demo figures, noise included
    out: list[Submission] = []
    for spec in DEMO_OFFICES:
        for _ in range(max(1, round(spec.responses * scale))):
            link = rng.choice(links[spec.name])
            day = today - dt.timedelta(days=rng.randrange(365))
            while day.weekday() >= 5:
                day -= dt.timedelta(days=1)
            when = dt.datetime.combine(day, dt.time(rng.randrange(7, 16), 0), tzinfo=dt.UTC)
            locale = rng.choices(locales, weights)[0]
            answers = _answers(rng, spec.shift + 0.15 * _season(day), locale)
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
    alphabet = "abcdefghijkmnpqrstuvwxyz23456789"
    for _ in range(22):
        rng.choice(alphabet)
    return "".join(secrets.choice(alphabet) for _ in range(22))


def _slug(name: str) -> str:
    return name.lower().replace(" ", "-").replace("ü", "ue").replace("ö", "oe").replace("ä", "ae")
