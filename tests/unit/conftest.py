"""Doubles shared by the core engine's unit tests: a clock that never waits, an event log."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from plait import WorkflowEngine, events


class FakeClock:
    """A `Clock` whose `sleep` records the delay, advances time, and returns at once."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)  # still a point where the sleeper can be cancelled


class Recorder:
    """A listener that keeps every event it is sent, in order."""

    def __init__(self) -> None:
        self.events: list[events.Event] = []

    def on_event(self, event: events.Event) -> None:
        self.events.append(event)

    def of(self, kind: type, step_id: str | None = None) -> list[events.Event]:
        return [
            e
            for e in self.events
            if isinstance(e, kind) and (step_id is None or getattr(e, "step_id", None) == step_id)
        ]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def engine(clock: FakeClock, recorder: Recorder) -> Iterator[WorkflowEngine]:
    """An engine on the fake clock, reporting to `recorder`."""
    eng = WorkflowEngine(clock=clock, listeners=[recorder])
    yield eng
    eng.close()
