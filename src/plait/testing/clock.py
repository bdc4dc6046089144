"""The kit's clock: the engine's `Clock`, read from an event loop whose time is virtual.

Retry backoffs and durable sleeps wait on `engine.clock`; attempt and approval
timeouts are `asyncio.timeout`s on the loop's own clock. Reading both from one
source, the loop, keeps them consistent, and fast-forwarding the loop's time
(when nothing is ready to run, jump straight to the next timer) makes a one-hour
backoff take no wall time while every timer still fires in order.

The fast-forward is the idea of the `looptime` package, done here in a few lines
on the running loop: looptime's pytest plugin, loaded by merely installing it,
makes every synchronous test leak an event loop under pytest-asyncio 1.x on
Python 3.11, which fails suites that turn warnings into errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import selectors
import weakref
from collections.abc import Callable, Iterator
from typing import Any, final

from plait.errors import PlaitError


class VirtualTimeUnavailableError(PlaitError):
    """The running event loop cannot be given virtual time; the message says why."""


_CLASSES: dict[type[Any], type[Any]] = {}


def _virtual_class(base: type[Any]) -> type[Any]:
    """`base` with a virtual `time()`, and executor calls tracked (threads take no time)."""
    found = _CLASSES.get(base)
    if found is not None:
        return found

    class VirtualTimeLoop(base):  # type: ignore[misc]
        _plait_now: float
        _plait_threads: weakref.WeakSet[asyncio.Future[Any]]

        def time(self) -> float:
            return self._plait_now

        def run_in_executor(self, executor: Any, func: Any, *args: Any) -> Any:
            future = super().run_in_executor(executor, func, *args)
            self._plait_threads.add(future)
            return future

    VirtualTimeLoop.__name__ = VirtualTimeLoop.__qualname__ = f"Virtual{base.__name__}"
    _CLASSES[base] = VirtualTimeLoop
    return VirtualTimeLoop


def _fast_forward(loop: Any, select: Callable[..., Any]) -> Callable[..., Any]:
    """A selector `select` that moves the loop's time instead of waiting for it to pass."""

    def fast_select(timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready: list[tuple[selectors.SelectorKey, int]] = select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None or any(not f.done() for f in loop._plait_threads):
            # Nothing scheduled, or a thread at work: wait for the outside world in real
            # time; if the next timer's delay passes first, it passed in virtual time too.
            ready = select(timeout)
            if ready or timeout is None:
                return ready
        loop._plait_now += timeout
        return []

    return fast_select


@contextlib.contextmanager
def virtual_time(loop: asyncio.AbstractEventLoop) -> Iterator[None]:
    """Fast-forward the running `loop`'s time while inside the block (nested blocks share it).

    Raises:
        VirtualTimeUnavailableError: the loop is not an asyncio selector loop (uvloop,
            or the proactor loop on Windows).
    """
    if hasattr(loop, "_plait_now"):
        yield  # already virtual: an enclosing block owns it
        return
    selector = getattr(loop, "_selector", None)
    if not isinstance(loop, asyncio.BaseEventLoop) or not isinstance(
        selector, selectors.BaseSelector
    ):
        raise VirtualTimeUnavailableError(
            f"virtual time needs an asyncio selector event loop, not {type(loop).__name__}; "
            "use WorkflowKit(virtual_time=False) to wait in real time"
        )
    original = type(loop)
    state: Any = loop
    # Continue from the real time, rounded up to a whole second (nothing scheduled fires
    # late), so that whole-second delays add up exactly.
    state._plait_now = float(math.ceil(loop.time()))
    state._plait_threads = weakref.WeakSet()
    loop.__class__ = _virtual_class(original)
    selector.select = _fast_forward(loop, selector.select)  # type: ignore[method-assign]
    try:
        yield
    finally:
        del selector.select  # the class's own method again
        loop.__class__ = original
        del state._plait_now, state._plait_threads


@final
class LoopClock:
    """A plait `Clock` that reads the event loop's time, so it agrees with `asyncio.timeout`.

    `time()` is wall-clock-like: `start` plus the loop time passed since the clock
    was made (so cron schedules and approval deadlines see a believable date).
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, *, start: float) -> None:
        self._loop = loop
        self._origin = loop.time()
        self.start = start
        """What `time()` returned when the clock was made (seconds since the epoch)."""
        self.slept: list[float] = []
        """Every duration the engine slept on this clock (backoffs, durable sleeps), in order."""

    @property
    def elapsed(self) -> float:
        """Seconds of loop time since the clock was made (to the microsecond)."""
        return round(self._loop.time() - self._origin, 6)

    def time(self) -> float:
        return self.start + self.elapsed

    def monotonic(self) -> float:
        return self._loop.time()

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        await asyncio.sleep(seconds)
