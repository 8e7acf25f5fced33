"""LinkDirectory: one lookup per link at a time, and a bounded stale answer while it runs."""

from __future__ import annotations

import asyncio

import pytest

from survey.respond import queries
from survey.respond.queries import LinkDirectory
from survey.respond.schemas import LinkInfo


def info(active: bool = True) -> LinkInfo:
    return LinkInfo(
        id=1,
        token="tok",
        office_id=1,
        office="Office",
        organization="Job centre",
        version_id=1,
        version=1,
        service_type="counseling",
        mode="personal",
        active=active,
    )


class FakeLookup:
    """Stands in for the database query: counts calls and answers when released."""

    def __init__(self) -> None:
        self.calls = 0
        self.answer: LinkInfo | None = info()
        self.error: Exception | None = None
        self.release = asyncio.Event()
        self.release.set()

    async def __call__(self, token: str) -> LinkInfo | None:
        self.calls += 1
        await self.release.wait()
        if self.error is not None:
            raise self.error
        return self.answer


@pytest.fixture
def lookup(monkeypatch: pytest.MonkeyPatch) -> FakeLookup:
    fake = FakeLookup()
    monkeypatch.setattr(queries, "find_link", fake)
    return fake


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


async def test_concurrent_misses_share_one_query(lookup: FakeLookup, clock: Clock) -> None:
    directory = LinkDirectory(ttl=5, clock=clock)
    lookup.release.clear()
    waiting = [asyncio.create_task(directory.link("tok")) for _ in range(200)]
    await asyncio.sleep(0)
    lookup.release.set()
    answers = await asyncio.gather(*waiting)
    assert lookup.calls == 1
    assert all(a == info() for a in answers)
    assert await directory.link("tok") == info()
    assert lookup.calls == 1  # fresh: no query


async def test_stale_entry_answers_while_one_refresh_runs(lookup: FakeLookup, clock: Clock) -> None:
    directory = LinkDirectory(ttl=5, clock=clock)
    await directory.link("tok")
    lookup.answer = info(active=False)
    lookup.release.clear()
    clock.now += 7  # past ttl, within 2 * ttl
    answers = [await directory.link("tok") for _ in range(50)]
    assert all(a is not None and a.active for a in answers)  # the old answer, no waiting
    await asyncio.sleep(0)  # let the refresh start
    assert lookup.calls == 2  # one refresh for all fifty
    lookup.release.set()
    await asyncio.sleep(0.01)
    answer = await directory.link("tok")
    assert answer is not None and not answer.active  # the refresh took effect
    assert lookup.calls == 2


async def test_entry_older_than_twice_ttl_waits_for_the_query(
    lookup: FakeLookup, clock: Clock
) -> None:
    directory = LinkDirectory(ttl=5, clock=clock)
    await directory.link("tok")
    lookup.answer = info(active=False)
    clock.now += 11
    answer = await directory.link("tok")
    assert answer is not None and not answer.active
    assert lookup.calls == 2


async def test_zero_ttl_always_asks(lookup: FakeLookup, clock: Clock) -> None:
    directory = LinkDirectory(ttl=0, clock=clock)
    await directory.link("tok")
    lookup.answer = None
    assert await directory.link("tok") is None
    assert lookup.calls == 2


async def test_failed_lookup_reaches_every_waiter_and_is_retried(
    lookup: FakeLookup, clock: Clock
) -> None:
    directory = LinkDirectory(ttl=5, clock=clock)
    lookup.error = RuntimeError("database unavailable")
    lookup.release.clear()
    waiting = [asyncio.create_task(directory.link("tok")) for _ in range(3)]
    await asyncio.sleep(0)
    lookup.release.set()
    results = await asyncio.gather(*waiting, return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)
    assert lookup.calls == 1
    lookup.error = None
    assert await directory.link("tok") == info()
    assert lookup.calls == 2


async def test_implausible_token_is_not_looked_up(lookup: FakeLookup) -> None:
    directory = LinkDirectory(ttl=5)
    assert await directory.link("x" * 65) is None
    assert await directory.link("a/b") is None
    assert lookup.calls == 0


async def test_definition_loaded_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = 0

    async def load_version(version_id: int) -> object:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.001)
        return f"definition {version_id}"

    monkeypatch.setattr(queries, "load_version", load_version)
    directory = LinkDirectory(ttl=5)
    got = await asyncio.gather(*(directory.definition(3) for _ in range(100)))
    assert set(got) == {"definition 3"}
    assert await directory.definition(3) == "definition 3"
    assert calls == 1


async def test_a_hung_query_holds_up_only_those_who_joined_it(
    monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    hang = asyncio.Event()
    calls = 0

    async def find_link(token: str) -> LinkInfo | None:
        nonlocal calls
        calls += 1
        if calls == 1:
            await hang.wait()  # a query stuck on a dead connection
        return info()

    monkeypatch.setattr(queries, "find_link", find_link)
    directory = LinkDirectory(ttl=5, clock=clock)
    stuck = asyncio.create_task(directory.link("tok"))
    await asyncio.sleep(0)
    clock.now += LinkDirectory.JOIN_SECONDS + 0.1
    assert await asyncio.wait_for(directory.link("tok"), 1) == info()
    assert calls == 2
    assert not stuck.done()
    hang.set()
    assert await stuck == info()


async def test_zero_ttl_never_answers_from_a_query_started_earlier(
    lookup: FakeLookup, clock: Clock
) -> None:
    directory = LinkDirectory(ttl=0, clock=clock)
    lookup.release.clear()
    earlier = asyncio.create_task(directory.link("tok"))  # reads the link as active
    await asyncio.sleep(0)
    lookup.answer = info(active=False)  # then the link is deactivated
    lookup.release.set()
    later = await directory.link("tok")
    assert later is not None and not later.active
    assert lookup.calls == 2
    await earlier


async def test_a_failed_background_refresh_is_logged_once(
    lookup: FakeLookup, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    directory = LinkDirectory(ttl=5, clock=clock)
    await directory.link("tok")
    lookup.error = RuntimeError("database unavailable")
    clock.now += 7
    for _ in range(5):
        assert await directory.link("tok") == info()  # the stale answer
    await asyncio.sleep(0.01)
    refreshes = [r for r in caplog.records if "refreshing a survey link failed" in r.message]
    assert len(refreshes) == 1
    caplog.clear()
    clock.now += 10  # too old to answer: the request waits and gets the error itself
    with pytest.raises(RuntimeError):
        await directory.link("tok")
    assert not [r for r in caplog.records if r.name == queries.__name__]
