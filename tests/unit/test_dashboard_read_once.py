"""A request reads the erasure's mark once (issue 17, q33): a new view's tables each asked
for it, in two or three rounds of reads one after another."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from survey.dashboard import rolled_counts, stored


async def test_a_request_reads_the_erasure_s_mark_once(monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[tuple[Any, ...]] = []

    async def raw(sql: str, *args: Any) -> list[dict[str, Any]]:
        reads.append(args)
        return [{"at": len(reads)}]

    monkeypatch.setattr(rolled_counts.Heartbeat, "raw", raw)
    state = SimpleNamespace()
    # outside a request (the warming, a command): read each time, as before
    assert [await rolled_counts.erased(state) for _ in range(2)] == [1, 2]
    token = stored._ANSWERING.set(stored._Answering())  # a request (`after_answer`)
    try:
        assert [await rolled_counts.erased(state) for _ in range(3)] == [3, 3, 3]
    finally:
        stored._ANSWERING.reset(token)
    token = stored._ANSWERING.set(stored._Answering())  # the next request reads it again
    try:
        assert await rolled_counts.erased(state) == 4
    finally:
        stored._ANSWERING.reset(token)
    assert len(reads) == 4
