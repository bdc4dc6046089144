"""`WorkflowEngine`, the guide's entry point: compile, run, persist, resume.

Without a store, runs live in memory and cost nothing extra. With one
(`WorkflowEngine(store="sqlite:///runs.db")`), every step's outcome is committed
before anything depends on it, so a run survives the death of its process and
`resume()` continues it without repeating finished steps.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import inspect
import os
import socket
import sys
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

from plait import events
from plait.clock import SYSTEM_CLOCK, Clock
from plait.codefirst import FunctionRun, WorkflowFunction
from plait.definition import WorkflowDefinition
from plait.errors import PlaitError
from plait.run_inputs import check_inputs
from plait.runner import Restored, RunExecution
from plait.store.base import RunRow, RunUpdated, StepRow, StepSettled, Store, StoreError
from plait.types import StepStatus, WorkflowStatus

MAX_CRASHES_PER_STEP = 5
"""The default of `max_step_crashes` (the environment's `PLAIT_MAX_STEP_CRASHES` overrides)."""
"""A step whose process died this many times while it ran is failed (a poison step)."""
HEARTBEAT_STALE_S = 30.0
FLEET_OWNER = "fleet"
"""The owner of runs enqueued for `plait worker`s (no single process executes them)."""


def poison_step(run_id: str, step_id: str, attempts: int, crashes: int, at: float) -> StepSettled:
    """The write that fails a step whose process died `crashes` times while it ran."""
    return StepSettled(
        run_id,
        step_id,
        "failed",
        attempts,
        at,
        error=f"the process running step {step_id!r} died {crashes} times while it ran; "
        "plait stopped retrying it (a poison step)",
        error_type="PoisonStepError",
    )


class ResumeRefusedError(PlaitError):
    """A run cannot be resumed as asked; the message says why and what to do instead."""


def this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def owner_is_alive(owner: str | None, heartbeat_at: float | None, now: float) -> bool:
    """Whether the process named `host:pid` still runs (and still beats)."""
    if not owner:
        return False
    host, _, pid_text = owner.rpartition(":")
    fresh = heartbeat_at is not None and now - heartbeat_at < HEARTBEAT_STALE_S
    if host != socket.gethostname():
        return fresh
    try:
        os.kill(int(pid_text), 0)
    except (ProcessLookupError, ValueError):
        return False
    except PermissionError:
        return fresh
    return fresh or int(pid_text) == os.getpid()


class WorkflowEngine:
    """Runs workflows: `await WorkflowEngine().execute_workflow(definition)`.

    The same engine object may run many workflows, concurrently. `listeners`
    receive every state change of every run (see `plait.events`).
    """

    def __init__(
        self,
        *,
        store: Store | str | None = None,
        clock: Clock = SYSTEM_CLOCK,
        listeners: Sequence[events.Listener] = (),
        max_threads: int = 32,
        history_size: int = 1000,
        wait_for_people: bool = False,
        poll_interval: float = 0.5,
    ) -> None:
        self.workflows: dict[str, WorkflowDefinition] = {}
        """Workflows registered with `register()` (or run once), by id."""
        self.execution_history: deque[dict[str, Any]] = deque(maxlen=history_size)
        """Short summaries of the most recent runs, newest last."""
        self.clock = clock
        self.wait_for_people = wait_for_people
        """Keep a run alive while it waits for a person (else it pauses and returns)."""
        self.poll_interval = poll_interval
        self._store_arg = store
        self.store: Store | None = None
        self._opened = False
        self._journal: Any = None
        self._desk: Any = None
        self._aux: Store | None = None
        self._listeners = list(listeners)
        self._max_threads = max_threads
        self._executor: Executor | None = None
        self._runs: dict[str, RunExecution | FunctionRun] = {}
        self._persisted: set[str] = set()
        self._sources: dict[str, str | None] = {}
        self._watcher: asyncio.Task[None] | None = None
        self.owner = this_process()
        self.max_step_crashes = int(
            os.environ.get("PLAIT_MAX_STEP_CRASHES") or MAX_CRASHES_PER_STEP
        )
        """A step whose process died this many times while it ran fails as a poison step."""
        if "opentelemetry.trace" in sys.modules:  # configured tracing is picked up for free
            from plait.monitoring.tracing import tracing_listener

            tracer = tracing_listener()
            if tracer is not None:
                self._listeners.append(tracer)

    # --- set-up ----------------------------------------------------------------------

    async def open(self) -> None:
        """Open the store (done on first use; call it to surface store errors early)."""
        if self._opened:
            return
        from plait.journal import Journal
        from plait.people import HumanDesk
        from plait.store import open_store
        from plait.store.memory import MemoryStore

        arg = self._store_arg
        if arg is not None:
            self.store = open_store(arg) if isinstance(arg, str) else arg
            await self.store.open()
            self._journal = Journal(self.store)
            self._desk = HumanDesk(self.store)
            self._aux = self.store
        else:
            self._aux = MemoryStore()  # approvals and the result cache work in memory too
            self._desk = HumanDesk(self._aux)
        self._opened = True

    async def aclose(self) -> None:
        """Stop background work and close the store."""
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        if self.store is not None:
            await self.store.close()
        self._opened = False
        self.close()

    def close(self) -> None:
        """Release the worker threads that plain-function steps ran on."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    async def __aenter__(self) -> WorkflowEngine:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def register(self, workflow: WorkflowDefinition) -> WorkflowDefinition:
        """Validate and remember a workflow under its id."""
        workflow.compile()
        self.workflows[workflow.workflow_id] = workflow
        return workflow

    def add_listener(self, listener: events.Listener) -> None:
        self._listeners.append(listener)

    # --- running ---------------------------------------------------------------------

    async def execute_workflow(
        self,
        workflow: WorkflowDefinition | WorkflowFunction[Any, Any],
        inputs: Mapping[str, Any] | None = None,
        *,
        run_id: str | None = None,
    ) -> dict[str, Any]:
        """Run `workflow` to its end (or until paused) and return the guide's result dict.

        `workflow` is a declared `WorkflowDefinition` or a `@plait.workflow` function
        (whose inputs are its parameters).

        The dict has `workflow_id`, `status`, `results` (step id -> result),
        `completed_steps`, and also `run_id`, `output`, `error`, `failed_step`,
        per-step details in `steps`, `waiting_for` and `duration_s`.

        Raises:
            DefinitionError: the workflow is invalid (nothing ran).
            InputError: an input is unknown, missing or of the wrong type.
        """
        run = self.start(workflow, inputs, run_id=run_id)
        return await self.wait(run.run_id)

    def start(
        self,
        workflow: WorkflowDefinition | WorkflowFunction[Any, Any],
        inputs: Mapping[str, Any] | None = None,
        *,
        run_id: str | None = None,
        from_text: bool = False,
        source: str | None = None,
    ) -> RunExecution | FunctionRun:
        """Prepare a run (validated, inputs checked) that `wait()` drives.

        `source` is what `resume` reloads the workflow from in another process
        (defaults to the file the definition was loaded from).
        """
        if isinstance(workflow, WorkflowFunction):
            values = check_inputs(
                workflow.input_specs, inputs or {}, from_text=from_text, source=workflow.source
            )
            run: RunExecution | FunctionRun = self._function_run(workflow, values, run_id, None)
            self._sources[run.run_id] = source or workflow.source
            return run
        plan = workflow.compile()
        values = check_inputs(
            plan.input_specs, inputs or {}, from_text=from_text, source=workflow.source
        )
        self.workflows.setdefault(workflow.workflow_id, workflow)
        run = self._execution(workflow, values, run_id, None)
        self._sources[run.run_id] = source or workflow.source
        return run

    def _function_run(
        self,
        workflow: WorkflowFunction[Any, Any],
        values: Mapping[str, Any],
        run_id: str | None,
        replay: Mapping[int, StepRow] | None,
    ) -> FunctionRun:
        run = FunctionRun(
            workflow,
            run_inputs=values,
            run_id=run_id,
            clock=self.clock,
            listeners=self._listeners,
            executor=self._thread_pool(),
            wait_for_people=self.wait_for_people,
            replay=replay,
        )
        if run.run_id in self._runs:
            raise PlaitError(f"run {run.run_id!r} is already active in this engine")
        self._runs[run.run_id] = run
        return run

    def _execution(
        self,
        workflow: WorkflowDefinition,
        values: Mapping[str, Any],
        run_id: str | None,
        restored: Restored | None,
    ) -> RunExecution:
        run = RunExecution(
            workflow.compile(),
            run_inputs=values,
            run_id=run_id,
            clock=self.clock,
            listeners=self._listeners,
            executor=self._thread_pool(),
            journal=None,
            desk=None,
            wait_for_people=self.wait_for_people,
            restored=restored,
        )
        if run.run_id in self._runs:
            raise PlaitError(f"run {run.run_id!r} is already active in this engine")
        self._runs[run.run_id] = run
        return run

    async def wait(self, run_id: str) -> dict[str, Any]:
        """Drive a started (or resumed) run until it ends or pauses; its result dict."""
        run = self._run(run_id)
        await self.open()
        run._journal = self._journal
        run._desk = self._desk
        run.results_cache = self._aux
        if self.store is not None and run_id not in self._persisted:
            await self._persist_new(run)
        elif self._journal is not None and run.status is WorkflowStatus.PAUSED:
            # Resumed in place: the store says it runs again (others read it there).
            await self._journal.commit([RunUpdated(run_id, "running", self.clock.time())])
        if self.store is not None:
            self._ensure_watcher()
        status = await run.run()
        summary = run.summary()
        if run.store_error is not None:
            summary["error"] = f"{run.store_error}: plait resume {run_id}"
        elif self._journal is not None:
            await self._record_end(run, summary)
        if status is WorkflowStatus.PAUSED:
            return summary
        del self._runs[run_id]
        self._persisted.discard(run_id)
        if isinstance(run, RunExecution):
            await self._call_hooks(run.plan.definition, run, summary)
        self.execution_history.append(
            {
                "run_id": run.run_id,
                "workflow_id": summary["workflow_id"],
                "status": summary["status"],
                "duration_s": summary["duration_s"],
                "failed_step": summary["failed_step"],
                "started_at": run.started_at,
            }
        )
        return summary

    async def _persist_new(self, run: RunExecution | FunctionRun) -> None:
        from plait.fingerprint import fingerprints

        assert self.store is not None
        if isinstance(run, RunExecution):
            definition = run.plan.definition
            whole, per_step = fingerprints(definition)
            workflow_id, name = definition.workflow_id, definition.name
        else:  # code-first: replay checks the call sequence instead of a fingerprint
            whole, per_step = "", {}
            workflow_id, name = run.workflow.workflow_id, run.workflow.name
        now = self.clock.time()
        await self.store.create_run(
            RunRow(
                run_id=run.run_id,
                workflow_id=workflow_id,
                status="running",
                created_at=now,
                updated_at=now,
                workflow_name=name,
                source=self._sources.get(run.run_id),
                fingerprint=whole,
                step_fingerprints=per_step,
                inputs=dict(run.run_inputs),
                owner=self.owner,
                heartbeat_at=now,
                parent_run_id=getattr(run, "parent_run_id", None),
                rerun_from=getattr(run, "rerun_from", None),
            )
        )
        self._persisted.add(run.run_id)

    async def _record_end(self, run: RunExecution | FunctionRun, summary: dict[str, Any]) -> None:
        from plait.jsonable import dumps

        output_json = None
        if summary["output"] is not None:
            try:
                output_json = dumps(summary["output"])
            except (TypeError, ValueError):
                output_json = None
        status = summary["status"]
        with contextlib.suppress(StoreError):
            await self._journal.commit(
                [
                    RunUpdated(
                        run.run_id,
                        status,
                        self.clock.time(),
                        summary["error"],
                        summary["failed_step"],
                        output_json,
                        summary["duration_s"],
                        finished=status not in ("paused",),
                    )
                ]
            )

    # --- control ---------------------------------------------------------------------

    def pause(self, run_id: str) -> None:
        """Running steps finish, no new ones start; `wait()` returns status `paused`."""
        self._run(run_id).pause()

    def cancel(self, run_id: str) -> None:
        """Cancel in-flight steps; the run ends as `cancelled`."""
        self._run(run_id).cancel()

    async def request(self, run_id: str, action: str) -> str:
        """Pause or cancel a run wherever it executes; returns what was done, in words."""
        if action not in ("pause", "cancel"):
            raise ValueError(f"unknown request {action!r}: use pause or cancel")
        local = self._runs.get(run_id)
        if local is not None:
            if action == "pause":
                local.pause()
                return f"run {run_id} pausing"
            local.cancel()
            if local.status is WorkflowStatus.PAUSED:  # nothing drives it: end it now
                await self.wait(run_id)
                return f"run {run_id} cancelled"
            return f"run {run_id} cancelling"
        store = await self._require_store()
        row = await store.get_run(run_id)
        if WorkflowStatus(row.status).is_terminal:
            raise ResumeRefusedError(f"run {run_id} has already ended ({row.status})")
        alive = owner_is_alive(row.owner, row.heartbeat_at, self.clock.time())
        if row.status == "running" and alive:
            await store.set_control(run_id, action)
            return f"asked the process running {run_id} ({row.owner}) to {action} it"
        if action == "cancel":
            await store.apply([RunUpdated(run_id, "cancelled", self.clock.time(), finished=True)])
            return f"run {run_id} cancelled"
        await store.apply([RunUpdated(run_id, "paused", self.clock.time())])
        return f"run {run_id} paused"

    async def approve(
        self,
        run_id: str,
        step_id: str,
        data: Any = None,
        *,
        by: str | None = None,
        reason: str | None = None,
    ) -> None:
        """Answer an approval step's request with yes; `data` becomes part of its result."""
        await self.open()
        await self._desk.answer(
            run_id, step_id, approve=True, data=data, reason=reason, by=by, now=self.clock.time()
        )

    async def reject(
        self, run_id: str, step_id: str, reason: str, *, by: str | None = None
    ) -> None:
        """Answer an approval step's request with no; the step fails with `reason`."""
        await self.open()
        await self._desk.answer(
            run_id, step_id, approve=False, reason=reason, by=by, now=self.clock.time()
        )

    async def inbox(self) -> list[Any]:
        """Requests that wait for a person."""
        await self.open()
        result: list[Any] = await self._desk.store.list_human_requests(status="pending")
        return result

    # --- resume and rerun ------------------------------------------------------------

    async def resume(
        self,
        run_id: str,
        workflow: WorkflowDefinition | WorkflowFunction[Any, Any] | None = None,
    ) -> dict[str, Any]:
        """Continue a paused or interrupted run to its end, without repeating finished steps.

        A run paused in this process continues in place; any other run is loaded
        from the store (its workflow reloaded from the file it came from, unless
        given) after checking the workflow has not changed since the run began.
        """
        local = self._runs.get(run_id)
        if isinstance(local, FunctionRun) and workflow is not None:
            if not isinstance(workflow, WorkflowFunction):
                raise ResumeRefusedError(f"run {run_id} is a code-first run: pass its function")
            local.workflow = workflow  # replay checks that its calls still match
        if local is not None or self._store_arg is None:
            return await self.wait(run_id)  # a KeyError if this engine never had it
        store = await self._require_store()
        row = await store.get_run(run_id)
        if WorkflowStatus(row.status).is_terminal:
            raise ResumeRefusedError(
                f"run {run_id} has already ended ({row.status}); to run it again from a "
                f"step, use: plait rerun {run_id} --from STEP"
            )
        now = self.clock.time()
        if (
            row.status == "running"
            and row.owner != self.owner
            and owner_is_alive(row.owner, row.heartbeat_at, now)
        ):
            raise ResumeRefusedError(
                f"run {run_id} is still being executed by process {row.owner}; "
                f"pause it first (plait pause {run_id}) or wait for it"
            )
        workflow = workflow or self._reload(row)
        if isinstance(workflow, WorkflowFunction):
            replay = await self._replay_rows(row)
            await store.claim_run(
                run_id, owner=self.owner, at=now, recovered=row.status == "running"
            )
            self._function_run(workflow, row.inputs, run_id, replay)
            self._persisted.add(run_id)
            self._sources[run_id] = row.source
            return await self.wait(run_id)
        self._check_unchanged(row, workflow)
        restored = await self._restore(row, workflow)
        await store.claim_run(run_id, owner=self.owner, at=now, recovered=row.status == "running")
        run = self._execution(workflow, row.inputs, run_id, restored)
        self._persisted.add(run_id)
        self._sources[run_id] = row.source
        return await self.wait(run.run_id)

    async def interrupted_runs(self) -> list[RunRow]:
        """Runs marked running whose process is gone (candidates for `resume`)."""
        store = await self._require_store()
        now = self.clock.time()
        rows = await store.list_runs(status="running", limit=10_000)
        return [
            r
            for r in rows
            if r.owner not in (self.owner, FLEET_OWNER)  # the fleet's runs are the fleet's
            and not owner_is_alive(r.owner, r.heartbeat_at, now)
        ]

    async def rerun(
        self, run_id: str, from_step: str, workflow: WorkflowDefinition | None = None
    ) -> dict[str, Any]:
        """A new run that reuses the results upstream of `from_step` and runs the rest again."""
        store = await self._require_store()
        row = await store.get_run(run_id)
        loaded = workflow or self._reload(row)
        if isinstance(loaded, WorkflowFunction):
            raise ResumeRefusedError(
                f"run {run_id} is a code-first workflow: rerun --from needs a declared graph; "
                "start a new run instead (completed calls are cheap to cache with `cache=`)"
            )
        workflow = loaded
        plan = workflow.compile()
        if from_step not in plan.index_of:
            raise ResumeRefusedError(
                f"workflow {workflow.workflow_id!r} has no step {from_step!r}; steps: "
                f"{', '.join(plan.ids)}"
            )
        again = plan.downstream(from_step)
        from plait.fingerprint import changed_steps, fingerprints

        _, per_step = fingerprints(workflow)
        changed = [
            s for s in changed_steps(dict(row.step_fingerprints), per_step) if s not in again
        ]
        if changed:
            raise ResumeRefusedError(
                f"steps upstream of {from_step!r} changed since run {run_id}: "
                f"{', '.join(changed)}; rerun from the first of them instead"
            )
        steps = {s.step_id: s for s in await store.get_steps(run_id)}
        reuse = [
            sid
            for sid in plan.ids
            if sid not in again
            and sid in steps
            and steps[sid].status in ("completed", "cached", "degraded", "skipped")
        ]
        restored = Restored()
        for i in plan.order:
            sid = plan.ids[i]
            if sid in reuse:
                status = StepStatus(steps[sid].status)
                value = self._typed(plan, i, steps[sid].result)
                restored.outcomes.append((i, status, value))
        run = self._execution(workflow, row.inputs, None, restored)
        run.parent_run_id = run_id  # type: ignore[attr-defined]
        run.rerun_from = from_step  # type: ignore[attr-defined]
        self._sources[run.run_id] = row.source
        await self.open()
        await self._persist_new(run)
        await store.copy_steps(run_id, run.run_id, reuse)
        return await self.wait(run.run_id)

    async def _replay_rows(self, row: RunRow) -> dict[int, StepRow]:
        """A code-first run's recorded calls by sequence number; crashed ones counted."""
        assert self.store is not None
        rows = [s for s in await self.store.get_steps(row.run_id) if s.seq is not None]
        crashed = [s.step_id for s in rows if s.status == "running"]
        counts = await self.store.mark_crashed(row.run_id, crashed) if crashed else {}
        replay: dict[int, StepRow] = {}
        now = self.clock.time()
        for s in rows:
            seq = s.seq
            assert seq is not None
            if counts.get(s.step_id, 0) >= self.max_step_crashes:
                failed = poison_step(row.run_id, s.step_id, s.attempts, counts[s.step_id], now)
                await self.store.apply([failed])
                s = dataclasses.replace(s, status="failed", error=failed.error)
            elif s.status == "running":
                s = dataclasses.replace(s, status="pending")
            replay[seq] = s
        return replay

    def _reload(self, row: RunRow) -> WorkflowDefinition | WorkflowFunction[Any, Any]:
        if not row.source:
            raise ResumeRefusedError(
                f"run {row.run_id} was started from Python, not from a file: pass the "
                "workflow to resume it (engine.resume(run_id, workflow))"
            )
        from plait.loader import load_target

        loaded: WorkflowDefinition | WorkflowFunction[Any, Any] = load_target(row.source)
        return loaded

    def _check_unchanged(self, row: RunRow, workflow: WorkflowDefinition) -> None:
        from plait.fingerprint import changed_steps, fingerprints

        whole, per_step = fingerprints(workflow)
        if row.fingerprint and whole != row.fingerprint:
            changed = changed_steps(dict(row.step_fingerprints), per_step)
            named = ", ".join(changed) if changed else "its output or id"
            first = changed[0] if changed else "STEP"
            raise ResumeRefusedError(
                f"the workflow changed since run {row.run_id} began ({named}); resuming would "
                f"mix results of two versions. Start a new run that reuses what is still "
                f"valid: plait rerun {row.run_id} --from {first}"
            )

    async def _restore(self, row: RunRow, workflow: WorkflowDefinition) -> Restored:
        assert self.store is not None
        plan = workflow.compile()
        rows = {s.step_id: s for s in await self.store.get_steps(row.run_id)}
        crashed = [sid for sid, s in rows.items() if s.status == "running"]
        crash_counts = await self.store.mark_crashed(row.run_id, crashed) if crashed else {}
        restored = Restored()
        poison: list[StepSettled] = []
        now = self.clock.time()
        for i in plan.order:
            sid = plan.ids[i]
            srow = rows.get(sid)
            if srow is None:
                continue
            restored.attempts[i] = srow.attempts
            if crash_counts.get(sid, 0) >= self.max_step_crashes:
                failed = poison_step(row.run_id, sid, srow.attempts, crash_counts[sid], now)
                poison.append(failed)
                restored.outcomes.append((i, StepStatus.FAILED, None))
                restored.errors[i] = failed.error or ""
            elif srow.status in ("completed", "cached", "degraded", "skipped", "failed"):
                status = StepStatus(srow.status)
                value = self._typed(plan, i, srow.result) if status.succeeded else None
                restored.outcomes.append((i, status, value))
                if srow.error:
                    restored.errors[i] = srow.error
        if poison:
            await self.store.apply(poison)
        return restored

    @staticmethod
    def _typed(plan: Any, i: int, value: Any) -> Any:
        from plait.jsonable import restore

        return restore(plan.steps[i].fn, value)

    async def _require_store(self) -> Store:
        await self.open()
        if self.store is None:
            raise StoreError(
                "this engine has no store: use WorkflowEngine(store=...) to keep "
                "runs beyond this process"
            )
        return self.store

    # --- background: control requests, answers, heartbeats ---------------------------

    def _ensure_watcher(self) -> None:
        from plait.store.memory import MemoryStore

        if isinstance(self.store, MemoryStore):
            return  # nobody outside this process can reach a memory store
        if self._watcher is None or self._watcher.done():
            self._watcher = asyncio.get_running_loop().create_task(self._watch())

    async def _watch(self) -> None:
        assert self.store is not None
        beats = 0
        handled: dict[str, str] = {}
        while self._runs:
            await asyncio.sleep(self.poll_interval)
            active = [r for r, run in self._runs.items() if run.status is WorkflowStatus.RUNNING]
            try:
                controls = await self.store.read_controls(active)
                for run_id, control in controls.items():
                    run = self._runs.get(run_id)
                    if run is None or not control:
                        continue
                    if handled.get(run_id) == control:
                        continue
                    handled[run_id] = control
                    if control == "pause":
                        run.pause()
                    elif control == "cancel":
                        run.cancel()
                await self._desk.poll()
                beats += 1
                if beats * self.poll_interval >= 5:
                    beats = 0
                    await self.store.heartbeat(active, owner=self.owner, at=self.clock.time())
            except StoreError:
                continue  # a busy store: try again at the next tick

    # --- helpers ---------------------------------------------------------------------

    def _run(self, run_id: str) -> RunExecution | FunctionRun:
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

    def run_sync(
        self, workflow: WorkflowDefinition, inputs: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """`execute_workflow` for code that has no event loop running."""
        return asyncio.run(self.execute_workflow(workflow, inputs))


async def _call(hook: Callable[..., Any], *args: Any) -> None:
    outcome = hook(*args)
    if inspect.isawaitable(outcome):
        await outcome
