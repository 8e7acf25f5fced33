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
    make_bank_version,
    make_link,
    make_office,
    make_organization,
    make_responses,
    make_staff_user,
    responses_with_counts,
)
from tests.conftest import ONE_ENGINE, StaffClient


@ONE_ENGINE  # the NPS worked out from the published counts: not SQL (docs/testing.md)
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
    # the interval allows for the noise of the published counts: one of the variances a
    # figure of the default period can carry (docs/methods.md, "The noise"), wider than
    # the interval on the counts as if exact
    shown = [(round(e.value, 1), round(e.ci_low, 1), round(e.ci_high, 1))
             for e in (net_promoter(published, noise=v) for v in (0.5, 1.0, 1.5))]  # fmt: skip
    assert (nps, low, high) in shown, (nps, low, high, shown)
    exact = net_promoter(published)
    assert low < round(exact.ci_low, 1) and high > round(exact.ci_high, 1)
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
    assert (about(0), about(3), about(7), about(13)) == (None, None, 5, 15)  # t22: not 0 vs 1


async def test_the_items_a_job_centre_added_to_its_questionnaire_show_on_the_office_page(
    staff: StaffClient, app: Litestar
) -> None:
    # t18: a yes/no question of a job centre's own questionnaire was answered, exported to
    # researchers, named in the version note, and shown on no dashboard
    version, definition = await make_bank_version()
    org = await make_organization()
    office = await make_office(organization=org)
    link = await make_link(office, version=version)
    answers = [
        {**FULL_ANSWERS, "language_help": 1 if k < 24 else 0, "reachable": 5} for k in range(30)
    ]
    answers += [{**FULL_ANSWERS} for _ in range(3)]  # three did not answer either
    await make_responses(app.state.engine, link, answers, when=in_closed_month(),
                         definition=definition)  # fmt: skip
    await make_staff_user("max", "max-password-1", "manager", organization=org)
    await staff.login("max", "max-password-1")
    result = (await staff.client.get(f"/api/v1/results/offices/{office}")).json()
    items = {i["item"]: i for i in result["items"]}
    help_ = items["language_help"]
    assert help_["levels"] == [0, 1] and help_["top_box"] is None
    assert abs(help_["n"] - 30) <= 6 and abs(help_["index"] - 80) <= 15, help_
    assert help_["index"] == round(100 * help_["counts"][1] / sum(help_["counts"]), 2)
    assert items["reachable"]["levels"] == [1, 2, 3, 4, 5] and items["reachable"]["top_box"]
    assert list(items)[-2:] == ["language_help", "reachable"], "after the standard items"
    page = await staff.client.get(f"/dashboard/offices/{office}")
    assert "Hätten Sie Hilfe bei der Sprache gebraucht?" in page.text
    assert "Ich habe das Jobcenter gut erreicht" in page.text
    # t20: a yes/no question is no index beside the satisfaction indices: the share of "yes"
    share = page.text.split('data-testid="yes-share">', 1)[1].split("</td>", 1)[0]
    assert share.endswith("% antworteten mit ja"), share
    assert page.text.count('data-testid="yes-share"') == 1, "the 1-5 questions keep their index"
    body = (await staff.client.get(f"/dashboard/offices/{office}/items.csv")).text
    row = next(r for r in body.splitlines() if r.startswith("language_help"))
    assert "withheld" not in row and "zurückgehalten" not in row
    # an office whose questionnaire does not ask them lists the standard items only
    other = await make_office(organization=org)
    await make_responses(app.state.engine, await make_link(other), [FULL_ANSWERS] * 12,
                         when=in_closed_month())  # fmt: skip
    result = (await staff.client.get(f"/api/v1/results/offices/{other}")).json()
    assert not {"language_help", "reachable"} & {i["item"] for i in result["items"]}
