"""A simulated process: one engine that can be killed at an exact point, as `kill -9` would.

A killed process writes nothing more, and nothing it was doing carries on. The
kit gets both without touching the engine: each engine ("process") sees the
store through a `DyingStore`, which commits the batch holding the crash step's
outcome and then refuses every write with `ProcessCrashed` (a BaseException, so
no `except Exception` in the engine or a workflow swallows it); and every task
the process creates is tracked (through the loop's task factory and a context
variable the tasks inherit), so all of them, down to the children of an
`asyncio.gather` in a code-first workflow, can be cancelled. The store is then
exactly as the dead process left it, and a fresh engine on the same store is
the restarted process.
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import weakref
from collections.abc import Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any, cast, final

from plait.store.base import StepSettled, Store, Write

if TYPE_CHECKING:
    from plait.engine import WorkflowEngine

_PROCESS: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "plait_testing_process", default=None
)
_LABELS = itertools.count(1)
_FINAL = frozenset({"completed", "cached", "degraded", "failed", "skipped", "cancelled"})


class ProcessCrashed(BaseException):
    """The simulated process died; raised where a killed process would simply stop."""


@final
class TaskTracker:
    """Remembers which simulated process created each task (its own, or an ancestor's)."""

    def __init__(self) -> None:
        self._tasks: dict[int, weakref.WeakSet[asyncio.Task[Any]]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._previous: Any = None

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._previous = loop.get_task_factory()
        loop.set_task_factory(self._factory)  # type: ignore[arg-type]

    def uninstall(self) -> None:
        if self._loop is not None and self._loop.get_task_factory() == self._factory:
            self._loop.set_task_factory(self._previous)
        self._loop = None

    def _factory(
        self, loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any], **kwargs: Any
    ) -> asyncio.Task[Any]:
        if self._previous is not None:
            task: asyncio.Task[Any] = self._previous(loop, coro, **kwargs)
        else:
            task = asyncio.Task(coro, loop=loop, **kwargs)
        context = kwargs.get("context")
        label = context.get(_PROCESS) if context is not None else _PROCESS.get()
        if label is not None:
            self._tasks.setdefault(label, weakref.WeakSet()).add(task)
        return task

    def tasks_of(self, label: int) -> list[asyncio.Task[Any]]:
        """Every task the process created that still exists, finished or not."""
        return list(self._tasks.get(label, ()))


@final
class DyingStore:
    """The store as one process sees it: after its crash point, nothing more gets through."""

    def __init__(self, inner: Store, on_crash: Callable[[], None]) -> None:
        self._inner = inner
        self._on_crash = on_crash
        self.dead = False
        self.crash_points: dict[str, str] = {}
        """run id -> the step whose committed outcome kills the process."""

    async def open(self) -> None:
        return None  # the kit opens the real store once, for every process

    async def close(self) -> None:
        return None  # ... and closes it once

    async def apply(self, writes: Sequence[Write]) -> None:
        if self.dead:
            raise ProcessCrashed("the process is dead: this write never happens")
        await self._inner.apply(writes)
        for write in writes:
            if (
                isinstance(write, StepSettled)
                and write.status in _FINAL
                and self.crash_points.get(write.run_id) == write.step_id
            ):
                self.die()
                raise ProcessCrashed(f"the process died after step {write.step_id!r} committed")

    def die(self) -> None:
        if not self.dead:
            self.dead = True
            self._on_crash()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if not callable(attribute):
            return attribute

        async def guarded(*args: Any, **kwargs: Any) -> Any:
            if self.dead:
                raise ProcessCrashed("the process is dead: this store call never happens")
            return await attribute(*args, **kwargs)

        return guarded


@final
class Process:
    """One engine on the shared store, with everything it runs tracked so it can be killed."""

    def __init__(
        self,
        store: Store,
        tracker: TaskTracker,
        engine_factory: Callable[[Store], WorkflowEngine],
    ) -> None:
        self.label = next(_LABELS)
        self._tracker = tracker
        loop = asyncio.get_running_loop()
        self.crashed: asyncio.Future[None] = loop.create_future()
        self.store = DyingStore(store, self._crashed)
        self.engine = engine_factory(cast("Store", self.store))

    def _crashed(self) -> None:
        if not self.crashed.done():
            self.crashed.set_result(None)

    @property
    def dead(self) -> bool:
        return self.store.dead

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Start `coro` as a task of this process (its descendants are tracked too)."""
        token = _PROCESS.set(self.label)
        try:
            return asyncio.get_running_loop().create_task(coro)
        finally:
            _PROCESS.reset(token)

    async def kill(self) -> None:
        """Cancel everything this process runs, until nothing of it is left."""
        self.store.die()
        current = asyncio.current_task()
        for _ in range(20):  # a task may catch one cancellation to clean up; not twenty
            tasks = self._tracker.tasks_of(self.label)
            pending = [t for t in tasks if not t.done() and t is not current]
            if not pending:
                break
            for task in pending:
                task.cancel()
            await asyncio.wait(pending, timeout=1.0)
        for task in self._tracker.tasks_of(self.label):
            if task.done() and not task.cancelled():
                task.exception()  # retrieved: a dead process's errors are expected
        self.engine.close()  # its worker threads; the store stays open for the next process

    async def stop(self) -> None:
        """Shut down cleanly (the end of a test), or bury a killed process."""
        if self.dead:
            self.engine.close()
        else:
            await self.engine.aclose()
