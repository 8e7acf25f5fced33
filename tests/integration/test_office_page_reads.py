"""What a new view of the office page reads (issue 17, k30): its figures once, for the page
and for the charts drawn from them (before, the charts asked for them a second time, with
their comments and the mark of the last hidden comment)."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar

from survey.dashboard import routes, stored
from tests.builders import (
    FULL_ANSWERS,
    in_closed_month,
    make_link,
    make_office,
    make_organization,
    make_responses,
    make_staff_user,
)
from tests.conftest import ONE_ENGINE, StaffClient


@ONE_ENGINE  # which reads a page makes, not SQL: the same code on both
async def test_a_new_office_page_reads_its_figures_once(
    staff: StaffClient, app: Litestar, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = await make_organization()
    office = await make_office(organization=org)
    await make_responses(app.state.engine, await make_link(office), [FULL_ANSWERS] * 12,
                         when=in_closed_month())  # fmt: skip
    await make_staff_user("max", "max-password-1", "admin", organization=org)
    await staff.login("max", "max-password-1")
    calls: list[int] = []
    read = routes._office

    async def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[2])
        return await read(*args, **kwargs)

    monkeypatch.setattr(routes, "_office", counted)
    page = await staff.client.get(f"/dashboard/offices/{office}")
    assert page.status_code == 200 and 'data-testid="office-best"' in page.text
    assert calls == [office]
    await stored.settled()  # its kept rows written after the answer
