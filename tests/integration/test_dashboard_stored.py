"""The figures of closed months kept in the database (survey/dashboard/stored.py): a restarted
server shows them without reading a count, and never a stale one."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import zlib
from typing import Any

import pytest
from litestar import Litestar

from survey.dashboard import queries, rolled_counts, stored
from survey.dashboard.cache import forget_values
from survey.dashboard.filters import today
from survey.manage import retention
from survey.tables import DashboardFigure, Office, Organization, Target, TextAnswer
from tests.builders import (
    FULL_ANSWERS,
    in_closed_month,
    make_bank_version,
    make_link,
    make_network,
    make_office,
    make_organization,
    make_responses,
    make_staff_user,
    two_job_centres,
)
from tests.conftest import StaffClient


def _restart(app: Litestar) -> None:
    """What a new process has: empty caches, no counts held, and the database as it is."""
    app.state.dashboard_cache = None
    forget_values()
    rolled_counts.forget(app.state)


async def _views(staff: StaffClient, paths: list[str]) -> dict[str, Any]:
    out = {}
    for path in paths:
        response = await staff.client.get(path)
        assert response.status_code == 200, (path, response.text)
        out[path] = response.json() if path.startswith("/api/") else response.text
    await stored.settled()  # the rows are written after the answers
    return out


def _count_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record each read of count rows (what a view worked out from the counts needs), and of
    the rolled-up months' rows a process holds (survey/dashboard/rolled_counts.py)."""
    reads: list[str] = []
    for module, name in ((queries, "count_columns"), (queries, "dimension_rows"),
                         (rolled_counts, "_load")):  # fmt: skip
        inner = getattr(module, name)

        async def read(*args: Any, _inner: Any = inner, _name: str = name, **kwargs: Any) -> Any:
            reads.append(_name)
            return await _inner(*args, **kwargs)

        monkeypatch.setattr(module, name, read)
    return reads


async def test_a_restarted_server_shows_the_kept_figures_and_never_a_stale_one(
    staff: StaffClient, app: Litestar, monkeypatch: pytest.MonkeyPatch
) -> None:
    network = await make_network()
    orgs = [await make_organization(network=network) for _ in range(3)]
    offices = [await make_office(organization=org) for org in orgs for _ in range(2)]
    for k, office in enumerate(offices):
        answers = [{**FULL_ANSWERS, "overall": 1 + (k + i) % 5, "comment": f"Text {k} {i}"}
                   for i in range(14)]  # fmt: skip
        await make_responses(app.state.engine, await make_link(office), answers,
                             when=in_closed_month())  # fmt: skip
    joining = await make_organization()  # joins the network later
    await make_responses(app.state.engine, await make_link(await make_office(organization=joining)),
                         [FULL_ANSWERS] * 14, when=in_closed_month())  # fmt: skip
    # a target and two kinds of office: the steering block judges them on the page's table
    await Office.update({Office.kind: "branch"}).where(Office.id == offices[1])
    day = today()
    await Target(office=offices[0], item="_index", value=70.0,
                 valid_from=day - dt.timedelta(days=400),
                 valid_to=day + dt.timedelta(days=30)).save()  # fmt: skip
    await make_staff_user("max", "max-password-1", "manager", organization=orgs[0])
    await staff.login("max", "max-password-1")
    api = ["/api/v1/results/overview", f"/api/v1/results/offices/{offices[0]}",
           "/api/v1/results/benchmark"]  # fmt: skip
    pages = ["/dashboard", f"/dashboard/offices/{offices[0]}", "/dashboard/benchmark"]
    first = await _views(staff, api + pages)
    assert await DashboardFigure.count() >= 6, "overview, office, benchmark, charts, comments"
    assert 'data-testid="target-row"' in first[pages[1]]
    assert 'data-testid="kind-row"' in first[pages[0]]

    # a new process reads them without reading a count, and shows the same
    _restart(app)
    reads = _count_reads(monkeypatch)
    assert await _views(staff, api + pages) == first
    assert not reads, "no count was read"
    # another release never reads them
    monkeypatch.setattr(stored, "CODE", "another release")
    _restart(app)
    assert await _views(staff, api[:1]) == {api[0]: first[api[0]]}
    assert reads, "worked out again"
    monkeypatch.undo()
    _restart(app)

    # an office renamed shows its new name at once; a job centre joining the network (with
    # an office the manager does not see) joins the comparison at once
    await Office.update({Office.name: "Umbenannt"}).where(Office.id == offices[1])
    _restart(app)
    rows = (await _views(staff, api[:1]))[api[0]]["rows"]
    assert next(r["office"] for r in rows if r["office_id"] == offices[1]) == "Umbenannt"
    ranked = {r["of"] for r in first[api[2]]["rows"]}
    await Organization.update({Organization.network: network}).where(Organization.id == joining)
    _restart(app)
    rows = (await _views(staff, api[2:]))[api[2]]["rows"]
    assert ranked == {6} and {r["of"] for r in rows} == {7}
    again = await _views(staff, api + pages)
    await stored.forget()  # worked out from nothing: the same
    _restart(app)
    assert await _views(staff, api + pages) == again

    # a comment hidden by an admin (in another process) is gone from the next view, and from
    # the database
    office_api = api[1]
    texts = [c["text"] for c in again[office_api]["comments"]]
    assert "Text 0 3" in texts
    hidden = await TextAnswer.select(TextAnswer.id).where(TextAnswer.text == "Text 0 3").first()
    await queries.hide_comment(hidden["id"])
    _restart(app)
    after = [c["text"] for c in (await _views(staff, [office_api]))[office_api]["comments"]]
    assert after == [t for t in texts if t != "Text 0 3"]
    kept = await DashboardFigure.select(DashboardFigure.value).where(
        DashboardFigure.kind == "comments"
    )
    assert len(kept) == 1 and b"Text 0 3" not in zlib.decompress(kept[0]["value"][stored.SEAL :])

    # erasing a job centre deletes every kept figure (they were made with its responses)
    slug = (await Organization.select(Organization.slug).where(Organization.id == orgs[1])
            .first())["slug"]  # fmt: skip
    await retention.erase(slug)
    assert await DashboardFigure.count() == 0


async def test_a_view_of_a_month_not_rolled_up_or_of_new_questions_is_never_kept_stale(
    staff: StaffClient, app: Litestar
) -> None:
    """A late response in a month that is not rolled up shows on the next view; a new
    questionnaire version with a question of the item bank shows its question."""
    org = await make_organization()
    office = await make_office(organization=org)
    link = await make_link(office)
    await make_responses(app.state.engine, link, [FULL_ANSWERS] * 30, when=in_closed_month())
    await make_staff_user("max", "max-password-1", "manager", organization=org)
    await staff.login("max", "max-password-1")
    current = today().isoformat()[:7]  # the month in progress
    url = f"/api/v1/results/offices/{office}?to={current}"
    page = f"/dashboard/offices/{office}?to={current}"
    before = (await _views(staff, [url]))[url]
    assert "gut erreicht" not in (await _views(staff, [page]))[page]
    assert await DashboardFigure.count(), "its published months are closed: kept"

    # the job centre's new version asks a question of the item bank; answered today: its
    # question shows once that month is published (in the month in progress it would tell
    # that a client just answered the new version), and no kept view hides it then
    version, definition = await make_bank_version()
    new_link = await make_link(office, version=version)
    answers = [{**FULL_ANSWERS, "language_help": 1, "reachable": 4}] * 12
    await make_responses(app.state.engine, new_link, answers, definition=definition)
    _restart(app)
    after = (await _views(staff, [url]))[url]
    assert "language_help" not in {i["item"] for i in before["items"]}
    assert "language_help" not in {i["item"] for i in after["items"]}, "not yet published"
    # published through the month in progress (a demo's RESONANZ_TODAY)
    app.state.settings = dataclasses.replace(
        app.state.settings, today=today() + dt.timedelta(days=45)
    )
    published = (await _views(staff, [url]))[url]
    assert {"language_help", "reachable"} <= {i["item"] for i in published["items"]}
    assert "gut erreicht" in (await _views(staff, [page]))[page], "the page's table of answers"

    # that month is not rolled up, so never kept, and a late response shows on the next view
    await DashboardFigure.delete(force=True)
    _restart(app)
    url = f"/api/v1/results/overview?from={current}&to={current}"
    n = (await _views(staff, [url]))[url]["rows"][0]["n"]
    await make_responses(app.state.engine, link, [FULL_ANSWERS] * 20)
    _restart(app)
    assert (await _views(staff, [url]))[url]["rows"][0]["n"] > (n or 0) + 10
    assert await DashboardFigure.count() == 0


async def test_pruning_keeps_at_most_the_limit_of_this_month_and_release(
    app: Litestar, monkeypatch: pytest.MonkeyPatch
) -> None:
    marks = await stored._marks()
    for k, rolled in enumerate(["2026-09", "2026-10", "2026-10", "2026-10", "2026-10"]):
        assert await stored._write(f"key {k}", "overview", rolled, b"x", "", marks)
    monkeypatch.setattr(stored, "CODE", "another release")
    assert await stored._write("key 5", "overview", "2026-10", b"x", "", marks)
    monkeypatch.undo()
    monkeypatch.setattr(stored, "MAX_ROWS", 3)
    await stored.prune("2026-10")
    left = {r["key"] for r in await DashboardFigure.select(DashboardFigure.key)}
    assert len(left) == 3 and left <= {"key 1", "key 2", "key 3", "key 4"}, left


RAN: list[int] = []


def _ran() -> None:
    RAN.append(1)


class _Forged:
    """What someone who may write the database (or hands over a backup) could put in a row:
    a pickle that runs code when it is loaded."""

    def __reduce__(self) -> tuple[Any, tuple[()]]:
        return (_ran, ())


async def test_a_user_who_sees_other_offices_never_gets_another_user_s_kept_figures(
    staff: StaffClient, app: Litestar
) -> None:
    """Two managers of job centres in one network share the comparison group but see their
    own offices only: the second never gets the first's kept overview (the key holds the
    offices a user may see)."""
    _, orgs, offices = await two_job_centres(app.state.engine)
    await make_staff_user("max", "max-password-1", "manager", organization=orgs[0])
    await make_staff_user("eva", "eva-password-1", "manager", organization=orgs[1])
    url = "/api/v1/results/overview"
    await staff.login("max", "max-password-1")
    mine = {r["office_id"] for r in (await _views(staff, [url]))[url]["rows"]}
    assert mine == set(offices[:2]) and await DashboardFigure.count()
    for restart in (False, True):  # from this process's cache, and from the database
        if restart:
            _restart(app)
        await staff.login("eva", "eva-password-1")
        rows = (await _views(staff, [url]))[url]["rows"]
        assert {r["office_id"] for r in rows} == set(offices[2:]), restart


async def test_a_figure_made_while_a_job_centre_was_erased_is_not_kept(
    staff: StaffClient, app: Litestar, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The warming or a view works out a figure from the counts before an erasure (or a
    retention deletion) and writes it after the erasure deleted the kept ones: the row would
    hold what was deleted. It deletes its own row when the marks moved meanwhile."""
    _, orgs, _ = await two_job_centres(app.state.engine)
    await make_staff_user("max", "max-password-1", "manager", organization=orgs[0])
    await staff.login("max", "max-password-1")
    inner = rolled_counts.count_columns  # from the counts held, or from the database

    async def read_then_erased(*args: Any, **kwargs: Any) -> Any:
        found = await inner(*args, **kwargs)
        await stored.forget()  # another process erased a job centre meanwhile
        return found

    monkeypatch.setattr(rolled_counts, "count_columns", read_then_erased)
    url = "/api/v1/results/overview"
    await _views(staff, [url])
    assert await DashboardFigure.count() == 0, "nothing made from the data before is kept"
    monkeypatch.undo()
    _restart(app)
    await _views(staff, [url])
    assert await DashboardFigure.count(), "kept again once nothing moved"


@pytest.mark.parametrize("stop", ["process stops during the check", "check fails"])
async def test_a_figure_made_before_an_erasure_is_not_kept_whatever_happens_after_its_write(
    staff: StaffClient, app: Litestar, monkeypatch: pytest.MonkeyPatch, stop: str
) -> None:
    """r28: the row written after the answer was checked against the marks only after its
    write. A process that stopped in between (the 5 s bound on the writes left cancelled
    them) or a check that failed (a lost connection) kept a row made from erased data. The
    write is now refused when a mark moved, and a row whose check failed is deleted."""
    _, orgs, _ = await two_job_centres(app.state.engine)
    await make_staff_user("max", "max-password-1", "manager", organization=orgs[0])
    await staff.login("max", "max-password-1")
    inner = rolled_counts.count_columns

    async def read_then_erased(*args: Any, **kwargs: Any) -> Any:
        found = await inner(*args, **kwargs)
        await stored.forget()  # another process erased a job centre meanwhile
        return found

    monkeypatch.setattr(rolled_counts, "count_columns", read_then_erased)
    marks, checks = stored._marks, []

    async def slow_or_lost() -> Any:
        checks.append(1)
        if stop == "check fails":
            raise ConnectionResetError("connection lost")
        await asyncio.sleep(1.0)  # a loaded database at the stop
        return await marks()

    monkeypatch.setattr(stored, "_marks", slow_or_lost)
    assert (await staff.client.get("/api/v1/results/overview")).status_code == 200
    if stop == "check fails":
        await stored.settled()
    else:  # what the app's stop does, with a shorter bound
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stored.settled(), 0.2)
    assert checks, "the row's check ran"
    await stored.settled()
    assert await DashboardFigure.count() == 0, "nothing made from the erased data is kept"


async def test_a_row_without_this_server_s_seal_is_never_unpickled(
    staff: StaffClient, app: Litestar
) -> None:
    """A row written by someone else (a forged one, or a backup of another server with its
    own secret key) is not loaded: the figures are worked out again and the row replaced."""
    import pickle

    _, orgs, _ = await two_job_centres(app.state.engine)
    await make_staff_user("max", "max-password-1", "manager", organization=orgs[0])
    await staff.login("max", "max-password-1")
    url = "/api/v1/results/overview"
    first = await _views(staff, [url])
    forged = zlib.compress(pickle.dumps((_Forged(),), protocol=5))
    for seal in (b"\0" * stored.SEAL, stored._sealed(b"another server's key", forged)[:32]):
        # the overview's rows, which the view reads (a warming may have kept other views)
        overview = DashboardFigure.kind == "overview"
        await DashboardFigure.update({DashboardFigure.value: seal + forged}).where(overview)
        _restart(app)
        assert await _views(staff, [url]) == first
        assert RAN == [], "the forged pickle was never loaded"
        rows = await DashboardFigure.select(DashboardFigure.value).where(overview)
        assert rows and all(bytes(r["value"]) != seal + forged for r in rows), "replaced"


async def test_a_new_view_is_answered_before_its_kept_figures_are_written(
    staff: StaffClient, app: Litestar, monkeypatch: pytest.MonkeyPatch
) -> None:
    """k27: a new view wrote its kept figures' rows (and read the marks again) before it
    answered: about 20 ms of SQLite statements a view at the million. The rows are written
    after the answer now, and a process that starts afterwards reads them: no count read."""
    import asyncio

    _, orgs, _ = await two_job_centres(app.state.engine)
    await make_staff_user("max", "max-password-1", "manager", organization=orgs[0])
    await staff.login("max", "max-password-1")
    release, held = asyncio.Event(), []
    inner = stored._write

    async def write_held(*args: Any, **kwargs: Any) -> None:
        held.append(args[1])
        await release.wait()
        await inner(*args, **kwargs)

    monkeypatch.setattr(stored, "_write", write_held)
    url = "/api/v1/results/overview"
    view = asyncio.ensure_future(staff.client.get(url))
    done, _ = await asyncio.wait([view], timeout=30)  # not a time measured: a hang's bound
    release.set()
    first = await view
    await stored.settled()
    assert view in done, "the answer waited for the kept figures' write"
    assert first.status_code == 200 and "overview" in held
    assert await DashboardFigure.count() == len(held), "written after the answer"
    monkeypatch.undo()
    _restart(app)
    reads = _count_reads(monkeypatch)
    again = await staff.client.get(url)
    assert again.content == first.content and reads == [], "read from the kept row"


async def test_a_failed_write_loses_nothing_but_the_row(
    staff: StaffClient, app: Litestar, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row that cannot be written (a full disk, a lost connection) leaves the answer as it
    is; the next process to ask works the figures out again, the same, and keeps them."""
    _, orgs, _ = await two_job_centres(app.state.engine)
    await make_staff_user("max", "max-password-1", "manager", organization=orgs[0])
    await staff.login("max", "max-password-1")

    async def fails(*args: Any, **kwargs: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(stored, "_write", fails)
    url = "/api/v1/results/overview"
    first = await staff.client.get(url)
    await stored.settled()
    assert first.status_code == 200 and await DashboardFigure.count() == 0
    monkeypatch.undo()
    _restart(app)
    reads = _count_reads(monkeypatch)
    again = await staff.client.get(url)
    await stored.settled()
    assert again.content == first.content and reads, "worked out again"
    assert await DashboardFigure.count(), "and kept this time"


async def test_identical_new_views_at_once_give_the_same_bytes_and_one_row(
    staff: StaffClient, app: Litestar, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two identical new views at once in one process work the figures out once (and write
    one row each kept figure); in a second process (a new one, sharing the database) at once
    with a third view here, the same bytes again, and still one row each."""
    import asyncio
    import subprocess
    import sys

    _, orgs, _ = await two_job_centres(app.state.engine)
    await make_staff_user("max", "max-password-1", "manager", organization=orgs[0])
    await staff.login("max", "max-password-1")
    url = "/api/v1/results/overview?language=de"
    reads = _count_reads(monkeypatch)
    a, b = await asyncio.gather(staff.client.get(url), staff.client.get(url))
    await stored.settled()
    assert a.status_code == 200 and a.content == b.content
    assert reads.count("count_columns") + reads.count("_load") <= 1, reads
    rows = await DashboardFigure.select(DashboardFigure.key)
    assert len(rows) == len({r["key"] for r in rows})

    await DashboardFigure.delete(force=True)
    _restart(app)
    settings = app.state.settings
    script = (
        "import asyncio, sys, httpx\n"
        "from survey.app import create_app, lifespan\n"
        "from survey.settings import Settings\n"
        "async def main():\n"
        "    s = Settings(database_url=sys.argv[1], secret_key=sys.argv[2],\n"
        "                 warm_after_seconds=0, rate_limits=False)\n"
        "    app = create_app(s)\n"
        "    t = httpx.ASGITransport(app=app)\n"
        "    async with lifespan(app), httpx.AsyncClient(transport=t, base_url='http://x') as c:\n"
        "        c.cookies.set(sys.argv[3], sys.argv[4])\n"
        "        r = await c.get(sys.argv[5])\n"
        "        sys.stdout.buffer.write(r.content)\n"
        "asyncio.run(main())\n"
    )
    from survey.auth.guard import SESSION_COOKIE

    other = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, settings.database_url, settings.secret_key, SESSION_COOKIE,
        staff.client.cookies[SESSION_COOKIE], url, stdout=subprocess.PIPE,
    )  # fmt: skip
    here = await staff.client.get(url)
    there, _ = await other.communicate()
    await stored.settled()
    assert other.returncode == 0
    assert here.content == there == a.content
    rows = await DashboardFigure.select(DashboardFigure.key)
    assert rows and len(rows) == len({r["key"] for r in rows})


def test_a_row_left_being_written_on_an_ended_event_loop_holds_up_no_other() -> None:
    """The rows written after the answers are waited for per event loop: a write left on a
    loop that ended (a test's app, a process's loop torn down) never holds up `settled` on
    another loop, which waits only for its own (a 5 s bound: a hang, not a time measured)."""
    import asyncio

    async def never() -> None:
        await asyncio.Event().wait()

    first = asyncio.new_event_loop()

    async def leave_one() -> None:
        stored._later("left behind", never())
        await asyncio.sleep(0)

    first.run_until_complete(leave_one())
    first.close()  # the write is still pending on it

    async def written() -> list[str]:
        stored._later("mine", asyncio.sleep(0))
        await asyncio.wait_for(stored.settled(), 5)
        return ["settled"]

    assert asyncio.run(written()) == ["settled"]


async def test_a_row_made_again_while_its_write_is_pending_is_waited_for_at_the_stop() -> None:
    """r28: a key made again while its row's write was still pending (the process cache let
    it go) replaced the first write in what `settled` waits for: a stopping process no longer
    waited for it. The second write now follows the first, and `settled` waits for both."""
    done: list[int] = []
    gate = asyncio.Event()

    async def first() -> None:
        await gate.wait()
        done.append(1)

    async def second() -> None:
        done.append(2)

    stored._later("a key", first())
    stored._later("a key", second())
    waiting = asyncio.ensure_future(stored.settled())
    await asyncio.sleep(0.05)
    assert not waiting.done(), "the first write is still pending"
    gate.set()
    await waiting
    assert done == [1, 2]
