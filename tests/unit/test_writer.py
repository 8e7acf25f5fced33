"""The response writer: group commit, and one bad submission never fails the others."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import uuid
from collections.abc import Sequence

import pytest

from survey.respond.store import Outcome, ResponseWriter, Submission


def _submission(digest: str = "d") -> Submission:
    return Submission(
        submission_id=str(uuid.uuid4()),
        digest=digest,
        link_id=1,
        office_id=1,
        version_id=1,
        service_type="benefits",
        mode="personal",
        locale="de",
        values={"overall": 4},
        texts={},
        index_value=1680,
        day=dt.date(2026, 11, 24),
        submitted_at=dt.datetime(2026, 11, 24, 10, tzinfo=dt.UTC),
    )


class FakeStore:
    def __init__(self) -> None:
        self.batches: list[int] = []

    async def commit(self, batch: Sequence[Submission]) -> list[Outcome]:
        self.batches.append(len(batch))
        await asyncio.sleep(0.01)
        if any(s.digest == "poison" for s in batch):
            raise sqlite3.IntegrityError("constraint failed")
        return ["created"] * len(batch)

    async def close(self) -> None:
        return None


async def test_it_commits_what_queued_up_in_one_batch() -> None:
    store = FakeStore()
    writer = ResponseWriter(store, max_batch=100)
    await writer.start()
    outcomes = await asyncio.gather(*(writer.submit(_submission()) for _ in range(50)))
    await writer.stop()
    assert outcomes == ["created"] * 50
    assert len(store.batches) < 5, store.batches


async def test_it_fails_only_the_bad_submission_of_a_batch() -> None:
    store = FakeStore()
    writer = ResponseWriter(store, max_batch=100)
    await writer.start()
    results = await asyncio.gather(
        *(writer.submit(_submission("poison" if i == 3 else "ok")) for i in range(10)),
        return_exceptions=True,
    )
    await writer.stop()
    assert [isinstance(r, sqlite3.IntegrityError) for r in results] == [i == 3 for i in range(10)]
    assert results.count("created") == 9


@pytest.mark.parametrize("size", [1, 7])
async def test_it_respects_the_largest_batch(size: int) -> None:
    store = FakeStore()
    writer = ResponseWriter(store, max_batch=size)
    await writer.start()
    await asyncio.gather(*(writer.submit(_submission()) for _ in range(20)))
    await writer.stop()
    assert max(store.batches) <= size


async def test_it_fails_a_batch_once_when_the_database_is_unavailable() -> None:
    class DownStore(FakeStore):
        async def commit(self, batch: Sequence[Submission]) -> list[Outcome]:
            self.batches.append(len(batch))
            raise sqlite3.OperationalError("disk I/O error")

    store = DownStore()
    writer = ResponseWriter(store, max_batch=100)
    await writer.start()
    results = await asyncio.gather(
        *(writer.submit(_submission()) for _ in range(10)), return_exceptions=True
    )
    await writer.stop()
    assert all(isinstance(r, sqlite3.OperationalError) for r in results)
    assert sum(store.batches) == 10, "no retry storm, one submission at a time"


async def test_it_finishes_the_batch_in_flight_when_stopped() -> None:
    store = FakeStore()
    writer = ResponseWriter(store, max_batch=5)
    await writer.start()
    pending = [asyncio.ensure_future(writer.submit(_submission())) for _ in range(12)]
    await asyncio.sleep(0)
    await writer.stop()
    assert [p.result() for p in pending] == ["created"] * 12


def test_a_connection_cut_mid_exchange_counts_as_the_database_being_unavailable() -> None:
    """asyncpg reports a backend terminated during an exchange (as in a failover) as an
    InternalClientError about another operation; that is a 503, not a 500."""
    import asyncpg

    from survey.db import is_unavailable

    cut = asyncpg.exceptions.InternalClientError(
        "cannot switch to state 12; another operation (2) is in progress"
    )
    assert is_unavailable(cut)
    assert not is_unavailable(asyncpg.exceptions.InternalClientError("a bug of our own"))


async def test_it_tries_another_connection_when_the_one_it_used_was_lost() -> None:
    """After a failover every idle connection of the pool is gone and is found out only when
    used: the writer tries another (at most LOST_CONNECTION_RETRIES more times); a database
    that refuses to write is not retried."""
    import asyncpg

    from survey.respond.store import LOST_CONNECTION_RETRIES

    class LosingStore(FakeStore):
        def __init__(self, lost: int, error: Exception) -> None:
            super().__init__()
            self.lost, self.error = lost, error

        async def commit(self, batch: Sequence[Submission]) -> list[Outcome]:
            self.batches.append(len(batch))
            if self.lost:
                self.lost -= 1
                raise self.error
            return ["created"] * len(batch)

    gone = asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed")
    read_only = asyncpg.exceptions.ReadOnlySQLTransactionError("read-only")
    most = 1 + LOST_CONNECTION_RETRIES
    for lost, error, stored, attempts in (
        (2, gone, True, 3),
        (most, gone, False, most),
        (1, read_only, False, 1),
    ):
        store = LosingStore(lost, error)
        writer = ResponseWriter(store, max_batch=100)
        await writer.start()
        result = await asyncio.gather(writer.submit(_submission()), return_exceptions=True)
        await writer.stop()
        assert (result == ["created"]) is stored, (lost, error, result)
        assert len(store.batches) == attempts, store.batches
