"""The office page's trend of a small office: its months counted together in blocks have a
point each (a tester's finding, 2026-11-30: an outreach point's trend was one point for a
year, the other months "withheld", though the page showed their figures when asked for a
period of exactly those months)."""

from __future__ import annotations

import csv
import datetime as dt
import io

from litestar import Litestar

from survey.dashboard.filters import published_through, today
from tests.builders import (
    FULL_ANSWERS,
    make_link,
    make_office,
    make_organization,
    make_responses,
    make_staff_user,
)
from tests.conftest import StaffClient


async def test_months_counted_together_have_one_point_at_the_last_of_them(
    staff: StaffClient, app: Litestar
) -> None:
    year = int(published_through(today())[:4]) - 1  # a whole year, published
    org = await make_organization()
    office = await make_office(organization=org)
    link = await make_link(office)
    # 9 in July and 9 in August: one block; 30 in September: a block of its own; nothing
    # after: a block that never closes (the published counts are noisy: a margin either way)
    for month, n in ((7, 9), (8, 9), (9, 30)):
        answers = [{**FULL_ANSWERS, "overall": 1 + i % 5} for i in range(n)]
        when = dt.datetime(year, month, 10, 10, tzinfo=dt.UTC)
        await make_responses(app.state.engine, link, answers, when=when)
    await make_staff_user("mia", "mia-password-1", "manager", organization=org)
    await staff.login("mia", "mia-password-1")
    period = f"from={year}-01&to={year}-12"
    result = (await staff.client.get(f"/api/v1/results/offices/{office}?{period}")).json()
    points = {p["month"]: p for p in result["trend"]}
    pooled = points[f"{year}-08"]
    assert pooled["first"] == f"{year}-07" and pooled["n"] is not None, result["trend"]
    own = points[f"{year}-09"]
    assert own["first"] is None and own["n"] is not None
    shown = {m for m, p in points.items() if p["n"] is not None}
    assert shown == {f"{year}-08", f"{year}-09"}, result["trend"]
    # the point is the figure of a period of exactly those months
    block = await staff.client.get(f"/api/v1/results/offices/{office}?from={year}-07&to={year}-08")
    row = block.json()["office"]
    assert (pooled["n"], pooled["index"]) == (row["n"], row["index"]), (pooled, row)
    assert (pooled["index_low"], pooled["index_high"]) == (row["index_low"], row["index_high"])
    # comments stay by month, and only for a month that is a block of its own
    assert {f"{year}-07", f"{year}-08"} <= set(result["comments_withheld"])
    assert f"{year}-09" not in result["comments_withheld"]
    page = await staff.client.get(f"/dashboard/offices/{office}?{period}")
    assert 'data-testid="trend-pooled"' in page.text and "zusammenzählt" in page.text
    assert 'data-testid="trend-empty"' not in page.text
    hover = f"{year}-07 \\u2013 {year}-08 (Monate zusammengez\\u00e4hlt)"  # as the JSON has it
    assert hover in page.text, "the chart's hover text names the months"
    download = await staff.client.get(f"/dashboard/offices/{office}/trend.csv?{period}")
    rows = list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig")), delimiter=";"))
    by_month = {r["Monat"]: r for r in rows}
    assert by_month[f"{year}-08"]["zusammengezählt ab Monat"] == f"{year}-07"
    assert by_month[f"{year}-09"]["zusammengezählt ab Monat"] == ""
    assert by_month[f"{year}-07"]["Antworten"] == ""
