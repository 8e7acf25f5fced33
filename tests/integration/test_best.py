"""Learning from the best through HTTP: a team lead sees, question by question, which offices
of the network do clearly better (and whom not to name), on the office page, its own page,
the results API and the downloads."""

from __future__ import annotations

import csv
import io

from litestar import Litestar

from survey.dashboard import cache
from survey.tables import Office
from tests.builders import (
    in_closed_month,
    make_link,
    make_network,
    make_office,
    make_organization,
    make_responses,
    make_staff_user,
    responses_with_counts,
)
from tests.conftest import ONE_ENGINE, StaffClient

ORDINARY = [5, 10, 15, 10, 10]
STAR = [0, 0, 2, 8, 40]


async def _setup(app: Litestar) -> dict[str, int]:
    """Three job centres (with two, the network minus one's own job centre is the other
    one, and every verdict is withheld); "star" is clearly better on respect, "tiny" has six
    responses, all with the best answer."""
    network = await make_network()
    north, south, west = [
        await make_organization(name, network) for name in ("Nord", "Süd", "West")
    ]
    names = {
        "mine": north, "north b": north,
        "star": south, "south b": south, "tiny": south,
        "west a": west, "west b": west,
    }  # fmt: skip
    offices = {name: await make_office(name.title(), org) for name, org in names.items()}
    when = in_closed_month()
    for name, office in offices.items():
        if name == "tiny":
            answers = responses_with_counts("respect", [0, 0, 0, 0, 6])
        else:
            answers = responses_with_counts("respect", STAR if name == "star" else ORDINARY)
        await make_responses(app.state.engine, await make_link(office), answers, when=when)
    await make_staff_user("lead", "lead-password-1", "manager", office=offices["mine"])
    return offices


async def test_a_team_lead_learns_whom_to_ask_and_nobody_small_or_worse_is_named(
    staff: StaffClient, app: Litestar
) -> None:
    offices = await _setup(app)
    # a manager of another job centre first: the learning table kept for them (same table,
    # another scope) is never what the lead gets
    south = (await Office.select(Office.organization).where(Office.id == offices["star"]))[0]
    await make_staff_user(
        "south", "south-password-1", "manager", organization=south["organization"]
    )
    await staff.login("south", "south-password-1")
    theirs = (await staff.client.get("/api/v1/results/best?lang=en")).json()
    assert {u["id"] for u in theirs["units"] if u["own"]} >= {offices["star"], offices["tiny"]}
    await staff.login("lead", "lead-password-1")

    api = (await staff.client.get("/api/v1/results/best?lang=en")).json()
    cache.forget_values()  # learning from the best among them
    assert (await staff.client.get("/api/v1/results/best?lang=en")).json() == api
    respect = next(i for i in api["items"] if i["item"] == "respect")
    star = next(u for u in api["units"] if u["id"] == offices["star"])
    assert respect["better"] == [offices["star"]] and not star["own"]
    assert star["name"].startswith("Star") and star["organization"].startswith("Süd")
    assert {u["id"] for u in api["units"]} == {offices["mine"], offices["star"]}
    assert "n" not in star and "index" not in star, "no figures of another office"

    page = (await staff.client.get(f"/dashboard/offices/{offices['mine']}")).text
    block = page[page.index('data-testid="office-best"') :]
    block = block[: block.index("</section>")]
    assert star["name"] in block and "Tiny" not in block
    assert "Lernen von den Besten" in page

    own = (await staff.client.get("/dashboard/best")).text
    assert star["name"] in own and 'data-testid="best-matrix"' in own
    assert "Tiny" not in own and "South B" not in own

    body = (await staff.client.get("/dashboard/best.csv?lang=en")).content.decode()
    rows = list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))
    assert {r["name"][:4] for r in rows} == {"Mine", "Star"}
    text = next(i["text"] for i in api["items"] if i["item"] == "respect")
    assert next(r for r in rows if r["name"] == star["name"])[text] == "better"

    centres = (await staff.client.get("/api/v1/results/best?level=organization")).json()
    assert centres["level"] == "organization"
    bad = await staff.client.get("/dashboard/best?level=street")
    assert bad.status_code == 400


@ONE_ENGINE  # the file's cells from the CSV's figures: not SQL (docs/testing.md)
async def test_the_excel_file_holds_the_csv_s_columns_with_numbers_as_numbers(
    staff: StaffClient, app: Litestar
) -> None:
    from openpyxl import load_workbook

    offices = await _setup(app)
    await staff.login("lead", "lead-password-1")
    for path in ("/dashboard/overview", f"/dashboard/offices/{offices['mine']}/items"):
        answer = await staff.client.get(f"{path}.xlsx")
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("application/vnd.openxmlformats")
        assert answer.headers["content-disposition"].endswith('.xlsx"')
        sheet = load_workbook(io.BytesIO(answer.content), read_only=True).active
        assert sheet is not None
        cells = [list(r) for r in sheet.iter_rows(values_only=True)]
        text = (await staff.client.get(f"{path}.csv")).content.decode().lstrip("\ufeff")
        lines = list(csv.reader(io.StringIO(text), delimiter=";"))
        assert [str(c) for c in cells[0]] == lines[0], "the same German headings"
        assert len(cells) == len(lines)
        for row, line in zip(cells[1:], lines[1:], strict=True):
            for cell, field in zip(row, line, strict=True):
                if isinstance(cell, int | float):
                    assert float(field.replace(",", ".")) == cell
                else:
                    assert (cell or "") == field
    mine = await staff.client.get("/dashboard/overview.xlsx?lang=en")
    sheet = load_workbook(io.BytesIO(mine.content), read_only=True).active
    assert sheet is not None
    heading, first = list(sheet.iter_rows(values_only=True))[:2]
    assert heading[:3] == ("office id", "office", "job centre")
    assert isinstance(first[heading.index("index")], float)
    assert isinstance(first[heading.index("responses")], int)
    assert (await staff.client.get("/dashboard/offices/1/items.ods")).status_code == 404, (
        "no such download"
    )
