"""The dashboards' per-process cache of closed months (survey/dashboard/cache.py) publishes
exactly the figures the pages work out without it, for every filter and every user."""

from __future__ import annotations

import re
from typing import Any

from litestar import Litestar

from survey.dashboard.cache import forget_values
from survey.dashboard.filters import month_index, month_name, published_through, today
from survey.demo import DEMO_USERS
from tests.conftest import StaffClient

PASSWORDS = {username: password for _, username, password in DEMO_USERS}
USERS = {role: username for role, username, _ in DEMO_USERS}

VIEWS = (
    "/api/v1/results/overview",
    "/api/v1/results/overview?language=de",
    "/api/v1/results/overview?mode=kiosk&from={eighteen_months_ago}",
    "/api/v1/results/benchmark?level=organization&service_type=placement",
    "/api/v1/results/targets",
)


async def _figures(staff: StaffClient, paths: list[str]) -> dict[str, Any]:
    """Each page's JSON, or its HTML (charts included) without the form tokens."""
    out = {}
    for path in paths:
        response = await staff.client.get(path)
        assert response.status_code == 200, (path, response.text)
        out[path] = (
            response.json() if path.startswith("/api/")
            else re.sub(r'name="csrf_token" value="[^"]*"', "", response.text)
        )  # fmt: skip
    return out


async def test_the_cache_publishes_the_same_figures_as_working_them_out_again(
    staff: StaffClient, app: Litestar, demo: object
) -> None:
    await staff.login(USERS["network"], PASSWORDS[USERS["network"]])
    offices = [r["office_id"] for r in (await _figures(staff, [VIEWS[0]]))[VIEWS[0]]["rows"]]
    back = month_index(published_through(today())) - 17
    paths = [v.format(eighteen_months_ago=month_name(back)) for v in VIEWS]
    paths += [f"/dashboard/offices/{offices[1]}", f"/dashboard/offices/{offices[0]}",
              f"/api/v1/results/offices/{offices[0]}", f"/api/v1/results/offices/{offices[1]}",
              f"/api/v1/results/offices/{offices[0]}?language=de",
              "/dashboard/benchmark"]  # fmt: skip
    app.state.dashboard_cache = None
    forget_values()
    first = await _figures(staff, paths)  # fills the caches
    cache = app.state.dashboard_cache
    assert len(cache) >= 6, "the closed months' tables were kept"
    hits = cache.hits
    assert await _figures(staff, paths) == first
    assert cache.hits > hits, "the second round came from the cache"
    app.state.dashboard_cache = None  # without the caches, in the other order
    forget_values()
    assert await _figures(staff, paths[::-1]) == first

    # a manager of one job centre shares the network's tables (the same comparison group)
    # and sees exactly what they see without them
    await staff.login(USERS["manager"], PASSWORDS[USERS["manager"]])
    mine = [r["office_id"] for r in (await _figures(staff, [VIEWS[0]]))[VIEWS[0]]["rows"]]
    paths = [*paths[:2], *(f"/api/v1/results/offices/{o}" for o in mine[:1])]
    warm = await _figures(staff, paths)
    app.state.dashboard_cache = None
    forget_values()
    assert await _figures(staff, paths) == warm
