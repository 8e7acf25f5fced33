"""What the office page shows beyond the index: the Net Promoter Score of the recommend item,
and how many responses came too fast to count."""

from __future__ import annotations

import datetime as dt

from litestar import Litestar

from analysis import net_promoter
from survey.dashboard.routes import about
from tests.builders import (
    FULL_ANSWERS,
    in_closed_month,
    make_link,
    make_office,
    make_organization,
    make_responses,
    make_staff_user,
    responses_with_counts,
)
from tests.conftest import StaffClient


async def test_the_recommend_question_shows_its_net_promoter_score_from_the_published_counts(
    staff: StaffClient, app: Litestar
) -> None:
    org = await make_organization()
    office = await make_office(organization=org)
    counts = [1, 0, 1, 2, 0, 3, 2, 4, 6, 8, 13]  # 0..10: 9 detractors, 10 passives, 21 promoters
    answers = responses_with_counts("recommend", counts, levels=list(range(11)))
    first = dt.datetime.now(dt.UTC).replace(day=1, hour=12)
    when = (first - dt.timedelta(days=40)).replace(day=10)
    await make_responses(app.state.engine, await make_link(office), answers, when=when)
    await make_staff_user("max", "max-password-1", "manager", organization=org)
    await staff.login("max", "max-password-1")
    result = (await staff.client.get(f"/api/v1/results/offices/{office}")).json()
    items = {i["item"]: i for i in result["items"]}
    published = items["recommend"]["counts"]
    nps, low, high = items["recommend"]["nps"]
    expected = net_promoter(published)
    assert (nps, low, high) == (round(expected.value, 1), round(expected.ci_low, 1),
                                round(expected.ci_high, 1))  # fmt: skip
    assert abs(nps - 100 * (21 - 9) / 40) < 15, "the published counts are the true ones ± noise"
    assert items["overall"]["nps"] is None, "only a 0–10 recommend item has one"
    page = await staff.client.get(f"/dashboard/offices/{office}")
    assert 'data-testid="nps"' in page.text and "Weiterempfehlung (NPS)" in page.text
    assert f"{round(nps):+d}" in page.text


async def test_responses_faster_than_a_person_are_left_out_and_counted_roughly(
    staff: StaffClient, app: Litestar
) -> None:
    org = await make_organization()
    office = await make_office(organization=org)
    link = await make_link(office)
    when = in_closed_month()
    honest = [{**FULL_ANSWERS, "comment": "Alles gut"}] * 12
    fast = [{**FULL_ANSWERS, "overall": 1, "comment": "Werbung: kaufen Sie hier"}] * 7
    await make_responses(app.state.engine, link, honest, when=when)
    await make_responses(app.state.engine, link, fast, when=when, flagged=True)
    await make_staff_user("max", "max-password-1", "manager", organization=org)
    await staff.login("max", "max-password-1")
    result = (await staff.client.get(f"/api/v1/results/offices/{office}")).json()
    overall = next(i for i in result["items"] if i["item"] == "overall")
    assert overall["counts"][0] <= 2, "the seven fast 1s are not counted (noise aside)"
    assert all("Werbung" not in c["text"] for c in result["comments"])
    page = await staff.client.get(f"/dashboard/offices/{office}")
    assert "Nicht mitgezählt: etwa 5 Antworten" in page.text
    assert (about(0), about(3), about(7), about(13)) == (None, 0, 5, 15)
