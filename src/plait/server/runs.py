"""Runs executing inside the server: one asyncio task per run, on the shared engine.

A request that starts or resumes a run returns once the run has visibly begun
(its first state-change event, which comes after its row is stored) or has
failed to begin, so the caller can read the run back at once and an error is
answered, not lost in a background task. Tasks stay alive while a run waits for
a person (`wait_for_people=True`), so an answer from the dashboard continues it
in place.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine, Mapping
from typing import Any

from plait import events
from plait.definition import WorkflowDefinition
from plait.engine import ResumeRefusedError, WorkflowEngine
from plait.store.base import Store
from plait.types import WorkflowStatus

log = logging.getLogger("plait.server")


class RunConflictError(ResumeRefusedError):
    """The run is not in a state where this request makes sense (answered with 409)."""


class RunService:
    """Starts, resumes and controls the runs this server executes."""

    def __init__(self, engine: WorkflowEngine, *, detach: bool = False) -> None:
        self.engine = engine
        self.detach = detach
        """Runs go to the fleet's queue (`plait worker`s execute them), not to this process."""
        self._tasks: dict[str, asyncio.Task[Any]] = {}
        self._signals: dict[str, asyncio.Future[None]] = {}
        self._failures: dict[str, str] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        engine.add_listener(self)

    # --- listening ---------------------------------------------------------------------

    def on_event(self, event: events.Event) -> None:
        """Wake a request waiting for this run to show a sign of life (any thread)."""
        run_id = event.run_id
        if run_id in self._signals and self._loop is not None:
            self._loop.call_soon_threadsafe(self._signal, run_id)

    def _signal(self, run_id: str) -> None:
        future = self._signals.pop(run_id, None)
        if future is not None and not future.done():
            future.set_result(None)

    # --- requests ----------------------------------------------------------------------

    async def start(self, workflow: WorkflowDefinition, inputs: Mapping[str, Any]) -> str:
        """Start a run; returns its id once its row is stored.

        Raises:
            InputError: an input is unknown, missing or of the wrong type.
            DefinitionError: the workflow cannot run.
        """
        if self.detach:
            from plait.fleet.submit import submit
            from plait.run_inputs import check_inputs
            from plait.store.postgres import PostgresStore

            store = await self._store()
            assert isinstance(store, PostgresStore)  # checked when the server starts
            values = check_inputs(workflow.compile().input_specs, inputs, source=workflow.source)
            return await submit(store, workflow, values)
        run = self.engine.start(workflow, inputs, source=workflow.source)
        await self._launch(run.run_id, self.engine.wait(run.run_id))
        return run.run_id

    async def resume(self, run_id: str) -> str:
        """Continue a paused or interrupted run; returns what was done, in words."""
        store = await self._store()
        self._refuse_if_busy(run_id, "resume")
        row = await store.get_run(run_id)
        if WorkflowStatus(row.status).is_terminal:
            raise RunConflictError(f"run {run_id} has already ended ({row.status})")
        await self._launch(run_id, self.engine.resume(run_id))
        return f"run {run_id} resumed"

    async def control(self, run_id: str, action: str) -> str:
        """Pause or cancel a run, wherever it executes."""
        return await self.engine.request(run_id, action)

    # --- state -------------------------------------------------------------------------

    def is_active(self, run_id: str) -> bool:
        """Whether a task of this server is driving the run now."""
        return run_id in self._tasks

    def active_count(self) -> int:
        return len(self._tasks)

    def failure(self, run_id: str) -> str | None:
        """Why the task driving this run ended with an error, if it did."""
        return self._failures.get(run_id)

    async def aclose(self) -> None:
        """Stop driving runs; their rows stay `running`, so `plait resume` continues them."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
        self._tasks.clear()

    # --- helpers -----------------------------------------------------------------------

    async def _store(self) -> Store:
        await self.engine.open()
        if self.engine.store is None:
            raise RunConflictError("the server has no store")
        return self.engine.store

    def _refuse_if_busy(self, run_id: str, what: str) -> None:
        if run_id in self._tasks:
            raise RunConflictError(
                f"run {run_id} is still executing here; it can {what} once it has paused"
            )

    async def _launch(self, run_id: str, work: Coroutine[Any, Any, dict[str, Any]]) -> None:
        self._loop = asyncio.get_running_loop()
        signal = self._loop.create_future()
        self._signals[run_id] = signal
        self._failures.pop(run_id, None)
        task = self._loop.create_task(work, name=f"plait-run-{run_id}")
        self._tasks[run_id] = task
        task.add_done_callback(lambda t: self._finished(run_id, t))
        try:
            await asyncio.wait({signal, task}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._signals.pop(run_id, None)
            signal.cancel()
        if task.done() and not task.cancelled():
            error = task.exception()
            if error is not None:
                raise error

    def _finished(self, run_id: str, task: asyncio.Task[Any]) -> None:
        if self._tasks.get(run_id) is task:
            del self._tasks[run_id]
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            self._failures[run_id] = f"{type(error).__name__}: {error}"
            log.error("run %s stopped with an error: %s", run_id, self._failures[run_id])
