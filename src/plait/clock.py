"""Clock seam: the runner reads time and sleeps only through a `Clock`.

Tests and the testing kit swap in a manual clock so that a one-hour backoff takes
no wall time; production uses `SystemClock`.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    """Time as the engine sees it."""

    def time(self) -> float:
        """Wall-clock seconds since the epoch (for timestamps people read)."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (for durations)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds`; cancellable."""
        ...


class SystemClock:
    """The real clock of the machine."""

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.perf_counter()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


SYSTEM_CLOCK = SystemClock()


class VirtualClock:
    """Time that moves only when someone sleeps: a one-hour backoff takes no wall time.

    Each `sleep` advances the clock by its duration at once (after yielding to the
    loop, so other tasks run in between); `advance` moves it by hand.
    """

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start
        self._mono = 0.0
        self.slept: list[float] = []
        """Every duration slept, in order (handy in assertions)."""

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        self.now += seconds
        self._mono += seconds

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        await asyncio.sleep(0)
        self.advance(max(0.0, seconds))
