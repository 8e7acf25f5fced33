"""What a new dashboard view reads besides its counts, in fewer statements (issue 17, q33):
the questionnaire versions of the period in one statement (the same versions as
`versions_in_period`'s three, kept as the reference); the erasure's mark once a request:
tests/unit/test_dashboard_read_once.py."""

from __future__ import annotations

import datetime as dt

import httpx
from litestar import Litestar

from survey.dashboard import queries
from survey.manage.questionnaires import _standard, versions_in_period
from survey.tables import Questionnaire, QuestionnaireVersion
from tests.builders import (
    FULL_ANSWERS,
    make_link,
    make_office,
    make_organization,
    make_responses,
)


async def test_the_versions_of_a_period_read_at_once_are_those_read_in_three_steps(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    org = await make_organization()
    q = Questionnaire(organization=org, code="two", name="Zwei")
    await q.save()
    ids = []
    for number in (1, 2, 3):  # the third: a link, but no response
        v = QuestionnaireVersion(questionnaire=q.id, number=number, definition=_standard(),
                                 published_at=dt.datetime.now(dt.UTC))  # fmt: skip
        await v.save()
        ids.append(v.id)
    one, two, none = await make_office(organization=org), await make_office(organization=org), \
        await make_office(organization=org)  # fmt: skip
    march = dt.datetime(2026, 3, 10, 9, tzinfo=dt.UTC)
    june = dt.datetime(2026, 6, 10, 9, tzinfo=dt.UTC)
    await make_responses(app.state.engine, await make_link(one, version=ids[0]), [FULL_ANSWERS],
                         when=march)  # fmt: skip
    await make_responses(app.state.engine, await make_link(one, version=ids[1]), [FULL_ANSWERS],
                         when=june)  # fmt: skip
    await make_responses(app.state.engine, await make_link(two, version=ids[1]),
                         [FULL_ANSWERS] * 2, when=march)  # fmt: skip
    await make_link(two, version=ids[2])
    await make_link(none)
    periods = [(dt.date(2026, 3, 1), dt.date(2026, 4, 30)), (dt.date(2026, 1, 1),
               dt.date(2026, 12, 31)), (dt.date(2026, 6, 10), dt.date(2026, 6, 10)),
               (dt.date(2025, 1, 1), dt.date(2025, 12, 31))]  # fmt: skip
    for offices in ([one], [two], [one, two], [none], [one, none], []):
        for start, end in periods:
            assert await queries.versions_used(offices, start, end) == \
                await versions_in_period(offices, start, end), (offices, start)  # fmt: skip
    year = await queries.versions_used([one, two], dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert [(v.questionnaire, v.number) for v in year] == [("Zwei", 1), ("Zwei", 2)]
