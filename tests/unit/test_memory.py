"""The process's long-lived objects are frozen out of the full collections once its first
figures made them (issue 17, q31: a full collection took 20-40 ms of CPU of a new dashboard
view every one to five views)."""

from __future__ import annotations

import asyncio
import sys
import types
from typing import Any

import pytest

from survey import memory
from survey.dashboard.stored import after_answer


class _Collector:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def collect(self, generation: int = 2) -> int:
        self.calls.append(f"collect {generation}")
        return 0

    def freeze(self) -> None:
        self.calls.append("freeze")


@pytest.fixture
def collector(monkeypatch: pytest.MonkeyPatch) -> _Collector:
    found = _Collector()
    monkeypatch.setattr(memory, "gc", found)
    monkeypatch.setattr(memory, "_with_statistics", False)
    return found


def test_it_freezes_once_the_statistics_are_imported(
    collector: _Collector, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(sys.modules, memory.STATISTICS, raising=False)
    memory.freeze_with_statistics()
    assert collector.calls == [], "nothing to freeze before the first figures"
    monkeypatch.setitem(sys.modules, memory.STATISTICS, types.ModuleType(memory.STATISTICS))
    memory.freeze_with_statistics()
    memory.freeze_with_statistics()
    # the young generations only (in the event loop), and once per process
    assert collector.calls == ["collect 1", "freeze"]


def test_an_answer_freezes_the_process_after_it_is_sent(
    collector: _Collector, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, memory.STATISTICS, types.ModuleType(memory.STATISTICS))
    sent: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        sent.append(f"answer, then {collector.calls}")

    asgi = after_answer(app)
    for _ in range(2):
        asyncio.run(asgi({"type": "http"}, None, None))
    assert sent == ["answer, then []", "answer, then ['collect 1', 'freeze']"]
    assert collector.calls == ["collect 1", "freeze"]
