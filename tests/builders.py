"""Builders for valid rows: job centres, offices, links and responses with chosen counts."""

from __future__ import annotations

import datetime as dt
import itertools
import random
import secrets
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
from piccolo.engine.base import Engine

from survey.auth.passwords import hash_password
from survey.dashboard.filters import month_index, published_through
from survey.demo import ensure_standard_questionnaire
from survey.questionnaire import (
    LOCAL_ZONE,
    Definition,
    check_answers,
    load_definition,
    standard_definition_bytes,
)
from survey.respond.queries import find_link
from survey.respond.schemas import LinkInfo
from survey.respond.store import Submission, make_store, make_submission
from survey.tables import Link, Membership, Network, Office, Organization, User

_seq = itertools.count(1)
RECORD_KEY_SEED = 20261128
_record_keys = random.Random(RECORD_KEY_SEED)
"""Record keys from a fixed seed, reset before every test (tests/conftest.py): the noise of
the disclosure control is the same in every run and order, so a test about it cannot pass or
fail by the luck of a draw."""


def reseed_record_keys() -> None:
    _record_keys.seed(RECORD_KEY_SEED)


STANDARD = load_definition(standard_definition_bytes())
FULL_ANSWERS = {
    "respect": 5,
    "understood": 4,
    "explained": 4,
    "next_steps": 3,
    "fits": 4,
    "waiting": 2,
    "overall": 4,
    "recommend": 9,
}


async def make_network(name: str = "Netzwerk") -> int:
    n = next(_seq)
    network = Network(name=f"{name} {n}", slug=f"network-{n}")
    await network.save()
    return int(network.id)


async def make_organization(name: str = "Jobcenter", network: int | None = None) -> int:
    n = next(_seq)
    org = Organization(name=f"{name} {n}", slug=f"jobcenter-{n}", network=network)
    await org.save()
    return int(org.id)


async def make_office(name: str = "Standort", organization: int | None = None) -> int:
    organization = organization or await make_organization()
    n = next(_seq)
    office = Office(organization=organization, name=f"{name} {n}", code=f"S{n}")
    await office.save()
    return int(office.id)


async def make_staff_user(
    username: str,
    password: str,
    role: str,
    *,
    organization: int | None = None,
    office: int | None = None,
    display_name: str = "",
) -> int:
    """A staff user with one membership (a job centre, or one office)."""
    user = User(
        username=username,
        password_hash=hash_password(password),
        display_name=display_name,
        created_at=dt.datetime.now(dt.UTC),
    )
    await user.save()
    await Membership(user=user.id, role=role, organization=organization, office=office).save()
    return int(user.id)


async def make_link(
    office: int | None = None,
    *,
    mode: str = "personal",
    service_type: str = "benefits",
    active: bool = True,
    version: int | None = None,
    codes_required: bool = False,
) -> LinkInfo:
    """A link to `version` (default: the standard questionnaire)."""
    office = office or await make_office()
    version = version or await ensure_standard_questionnaire()
    token = secrets.token_urlsafe(16)
    await Link(
        token=token,
        office=office,
        version=version,
        service_type=service_type,
        mode=mode,
        active=active,
        codes_required=codes_required,
        created_at=dt.datetime.now(dt.UTC),
    ).save()
    info = await find_link(token)
    assert info is not None
    return info


async def make_responses(
    engine: Engine,
    link: LinkInfo,
    answers: Sequence[Mapping[str, object]],
    *,
    locale: str = "de",
    when: dt.datetime | None = None,
    flagged: bool = False,
    definition: Definition = STANDARD,
) -> None:
    """Store one response per answers mapping through the same store the writer uses
    (`flagged`: as sent faster than a person can answer; `definition`: the link's
    questionnaire version, if not the standard one)."""
    subs: list[Submission] = []
    for a in answers:
        checked = check_answers(definition, dict(a))
        assert not checked.errors, checked.errors
        sub = make_submission(
            link, uuid.uuid4(), locale, checked, definition, now=when, flagged=flagged
        )
        subs.append(msgspec.structs.replace(sub, record_key=_record_keys.getrandbits(31)))
    store = make_store(engine)
    await store.commit(subs)
    await store.close()


def in_closed_month(back: int = 1) -> dt.datetime:
    """Ten o'clock (UTC) on the tenth of a published month: the last one (`back` = 1) or one
    before it. The dashboards publish a month once it is over (issue 10)."""
    today = dt.datetime.now(LOCAL_ZONE).date()
    year, month = divmod(month_index(published_through(today)) + 1 - back, 12)
    return dt.datetime(year, month + 1, 10, 10, tzinfo=dt.UTC)


def responses_with_counts(
    item: str, counts: Sequence[int], levels: Sequence[int] = (1, 2, 3, 4, 5)
) -> list[dict[str, object]]:
    """Full answer sets where `item` takes each level as often as `counts` says."""
    out: list[dict[str, object]] = []
    for level, count in zip(levels, counts, strict=True):
        out.extend({**FULL_ANSWERS, item: level} for _ in range(count))
    return out


async def make_bank_version(
    codes: Sequence[str] = ("language_help", "reachable"),
) -> tuple[int, Any]:
    """A published version of a job centre's own questionnaire: the standard items with these
    questions of the item bank before the last (the comment); its id and its definition."""
    from survey.manage.questionnaires import EXTRA_ITEMS, YESNO
    from survey.questionnaire import load_definition, standard_definition_bytes
    from survey.tables import Questionnaire, QuestionnaireVersion

    raw = msgspec.json.decode(standard_definition_bytes())
    bank = {i["code"]: dict(i) for i in EXTRA_ITEMS}
    raw["items"] = [*raw["items"][:-1], *(bank[c] for c in codes), raw["items"][-1]]
    raw["scales"] = {**raw["scales"], "yesno": YESNO}
    q = Questionnaire(code="own", name="Eigener Fragebogen")
    await q.save()
    version = QuestionnaireVersion(
        questionnaire=q.id, number=1, definition=raw, published_at=dt.datetime.now(dt.UTC)
    )
    await version.save()
    return int(version.id), load_definition(raw)


async def two_job_centres(engine: Any) -> tuple[int, list[int], list[int]]:
    """A network, its two job centres and their two offices each (ids), each office with 14
    responses in a closed month."""
    network = await make_network()
    orgs = [await make_organization(network=network) for _ in range(2)]
    offices = [await make_office(organization=org) for org in orgs for _ in range(2)]
    for k, office in enumerate(offices):
        answers = [{**FULL_ANSWERS, "overall": 1 + (k + i) % 5} for i in range(14)]
        await make_responses(engine, await make_link(office), answers,
                             when=in_closed_month())  # fmt: skip
    return network, orgs, offices
