"""`WorkflowEngine`, the guide's entry point: compile, run, and keep a short history."""

from __future__ import annotations

import asyncio
import inspect
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

from plait import events
from plait.clock import SYSTEM_CLOCK, Clock
from plait.definition import WorkflowDefinition
from plait.run_inputs import check_inputs
from plait.runner import RunExecution
from plait.types import WorkflowStatus


class WorkflowEngine:
    """Runs workflows: `await WorkflowEngine().execute_workflow(definition)`.

    The same engine object may run many workflows, concurrently. `listeners`
    receive every state change of every run (see `plait.events`).
    """

    def __init__(
        self,
        *,
        clock: Clock = SYSTEM_CLOCK,
        listeners: Sequence[events.Listener] = (),
        max_threads: int = 32,
        history_size: int = 1000,
    ) -> None:
        self.workflows: dict[str, WorkflowDefinition] = {}
        """Workflows registered with `register()` (or run once), by id."""
        self.execution_history: deque[dict[str, Any]] = deque(maxlen=history_size)
        """Short summaries of the most recent runs, newest last."""
        self.clock = clock
        self._listeners = list(listeners)
        self._max_threads = max_threads
        self._executor: Executor | None = None
        self._runs: dict[str, RunExecution] = {}

    def register(self, workflow: WorkflowDefinition) -> WorkflowDefinition:
        """Validate and remember a workflow under its id."""
        workflow.compile()
        self.workflows[workflow.workflow_id] = workflow
        return workflow

    def add_listener(self, listener: events.Listener) -> None:
        self._listeners.append(listener)

    async def execute_workflow(
        self,
        workflow: WorkflowDefinition,
        inputs: Mapping[str, Any] | None = None,
        *,
        run_id: str | None = None,
    ) -> dict[str, Any]:
        """Run `workflow` to its end (or until paused) and return the guide's result dict.

        The dict has `workflow_id`, `status`, `results` (step id -> result),
        `completed_steps`, and also `run_id`, `output`, `error`, `failed_step`,
        per-step details in `steps`, and `duration_s`.

        Raises:
            DefinitionError: the workflow is invalid (nothing ran).
            InputError: an input is unknown, missing or of the wrong type.
        """
        run = self.start(workflow, inputs, run_id=run_id)
        return await self.wait(run.run_id)

    def start(
        self,
        workflow: WorkflowDefinition,
        inputs: Mapping[str, Any] | None = None,
        *,
        run_id: str | None = None,
        from_text: bool = False,
    ) -> RunExecution:
        """Prepare a run (validated, inputs checked) that `wait()` drives."""
        plan = workflow.compile()
        values = check_inputs(
            plan.input_specs, inputs or {}, from_text=from_text, source=workflow.source
        )
        self.workflows.setdefault(workflow.workflow_id, workflow)
        run = RunExecution(
            plan,
            run_inputs=values,
            run_id=run_id,
            clock=self.clock,
            listeners=self._listeners,
            executor=self._thread_pool(),
        )
        self._runs[run.run_id] = run
        return run

    async def wait(self, run_id: str) -> dict[str, Any]:
        """Drive a started (or resumed) run until it ends or pauses; its result dict."""
        run = self._run(run_id)
        status = await run.run()
        summary = run.summary()
        if status is WorkflowStatus.PAUSED:
            return summary
        del self._runs[run_id]
        workflow = run.plan.definition
        await self._call_hooks(workflow, run, summary)
        summary["error"] = summary["error"] or (
            f"{type(run.error).__name__}: {run.error}" if run.error else None
        )
        self.execution_history.append(
            {
                "run_id": run.run_id,
                "workflow_id": workflow.workflow_id,
                "status": summary["status"],
                "duration_s": summary["duration_s"],
                "failed_step": summary["failed_step"],
                "started_at": run.started_at,
            }
        )
        return summary

    def pause(self, run_id: str) -> None:
        """Running steps finish, no new ones start; `wait()` returns status `paused`."""
        self._run(run_id).pause()

    async def resume(self, run_id: str) -> dict[str, Any]:
        """Continue a paused run in this process to its end."""
        return await self.wait(run_id)

    def cancel(self, run_id: str) -> None:
        """Cancel in-flight steps; the run ends as `cancelled`."""
        self._run(run_id).cancel()

    def _run(self, run_id: str) -> RunExecution:
        try:
            return self._runs[run_id]
        except KeyError:
            raise KeyError(f"no active run {run_id!r} in this engine") from None

    async def _call_hooks(
        self, workflow: WorkflowDefinition, run: RunExecution, summary: dict[str, Any]
    ) -> None:
        status = run.status
        if status is WorkflowStatus.COMPLETED and workflow.success_callback is not None:
            await _call(workflow.success_callback, summary["results"])
        elif status is WorkflowStatus.FAILED and workflow.error_handler is not None:
            await _call(workflow.error_handler, run.error, summary["results"])

    def _thread_pool(self) -> Executor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self._max_threads, thread_name_prefix="plait-step")
        return self._executor

    def close(self) -> None:
        """Release the worker threads that plain-function steps ran on."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def run_sync(
        self, workflow: WorkflowDefinition, inputs: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """`execute_workflow` for code that has no event loop running."""
        return asyncio.run(self.execute_workflow(workflow, inputs))


async def _call(hook: Callable[..., Any], *args: Any) -> None:
    outcome = hook(*args)
    if inspect.isawaitable(outcome):
        await outcome
