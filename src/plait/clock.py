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
