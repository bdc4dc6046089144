"""The async shell around the scheduler: it starts steps, applies their policies, and reports.

One `RunExecution` per run. Each started step is one asyncio task that runs the
step's attempts (timeout per attempt, retries with backoff) and, when it ends,
tells the scheduler, which answers with the steps to start next. No loop scans
the graph: completions drive everything.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from plait import errors, events
from plait.clock import SYSTEM_CLOCK, Clock
from plait.context import StepContext
from plait.graph import CompiledStep, Plan
from plait.scheduler import Scheduler
from plait.types import StepStatus, WorkflowStatus


@dataclass(slots=True)
class StepRecord:
    """What happened to one step in this run (kept for results and reports)."""

    attempts: int = 0
    started_at: float | None = None
    """Wall-clock time of the first attempt."""
    started: float = 0.0
    """Monotonic time of the first attempt."""
    duration: float | None = None
    inputs: dict[str, Any] | None = None
    error: BaseException | None = None
    reason: str = ""


@dataclass(slots=True)
class _Waiter:
    future: asyncio.Future[None] | None = None


class AttemptTimeout(TimeoutError):
    """An attempt ran past the step's `timeout_seconds` and was cancelled."""


class RunExecution:
    """Executes one run of a plan; `await run()` returns when it stops (ends or pauses)."""

    def __init__(
        self,
        plan: Plan,
        *,
        run_inputs: Mapping[str, Any] | None = None,
        run_id: str | None = None,
        clock: Clock = SYSTEM_CLOCK,
        listeners: Sequence[events.Listener] = (),
        executor: Executor | None = None,
    ) -> None:
        n = len(plan.steps)
        self.plan = plan
        self.run_id = run_id or uuid.uuid4().hex[:12]
        self.run_inputs: Mapping[str, Any] = dict(run_inputs or {})
        self.clock = clock
        self.scheduler = Scheduler(plan)
        self.statuses = self.scheduler.status  # shared: references read it as scope
        self.results: list[Any] = [None] * n
        self.records: list[StepRecord | None] = [None] * n
        self.error: BaseException | None = None
        self.failed_step: str | None = None
        self.status = WorkflowStatus.PENDING
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._listeners = tuple(listeners)
        self._executor = executor
        self._idle = _Waiter()
        self._started_at = 0.0
        self._elapsed = 0.0
        self._begun = False

    # --- public control --------------------------------------------------------------

    async def run(self) -> WorkflowStatus:
        """Run until the run ends or pauses; returns where it stands."""
        sched = self.scheduler
        loop = asyncio.get_running_loop()
        self.status = WorkflowStatus.RUNNING
        began = self.clock.monotonic()
        if not self._begun:
            self._begun = True
            self._started_at = self.clock.time()
            if self._listeners:
                self._emit(
                    events.RunStarted(
                        self.run_id,
                        self.plan.definition.workflow_id,
                        dict(self.run_inputs),
                        self.plan.ids,
                        self._started_at,
                    )
                )
            self._start_all(sched.initial())
        else:
            self._start_all(sched.resume())
        timeout = self.plan.definition.timeout_seconds
        try:
            if not sched.is_idle:
                self._idle.future = loop.create_future()
                if timeout is None:
                    await self._idle.future
                else:
                    async with asyncio.timeout(max(0.0, timeout - self._elapsed)):
                        await self._idle.future
        except TimeoutError:
            self.error = errors.WorkflowTimeoutError(
                f"workflow {self.plan.definition.workflow_id!r} ran past its "
                f"timeout_seconds={timeout}"
            )
            sched.failed = True
            await self._stop_everything("the workflow timed out")
        except asyncio.CancelledError:
            await self._stop_everything("the run was cancelled")
            raise
        finally:
            self._elapsed += self.clock.monotonic() - began
        if sched.stopping and self._tasks:
            await self._stop_everything(
                "the run was cancelled" if sched.cancelled else "another step failed"
            )
        self.status = sched.outcome()
        if self.status.is_terminal or self.status is WorkflowStatus.PAUSED:
            self._mark_unstarted()
            if self._listeners:
                self._emit(
                    events.RunFinished(
                        self.run_id,
                        self.plan.definition.workflow_id,
                        self.status,
                        self.error,
                        self._elapsed,
                        self.clock.time(),
                    )
                )
        return self.status

    def pause(self) -> None:
        """Let running steps finish and start no new ones; `run()` then returns PAUSED."""
        self.scheduler.pause()
        self._wake_if_idle()

    def cancel(self) -> None:
        """Cancel in-flight steps; `run()` then returns CANCELLED."""
        self.scheduler.cancel()
        for task in list(self._tasks.values()):
            task.cancel()
        self._wake_if_idle()

    @property
    def duration(self) -> float:
        return self._elapsed

    @property
    def started_at(self) -> float:
        return self._started_at

    # --- starting steps --------------------------------------------------------------

    def _start_all(self, indexes: list[int]) -> None:
        for i in indexes:
            self._start(i)
        if self.scheduler._skipped_outbox:
            self._report_skips()

    def _start(self, i: int) -> None:
        cs = self.plan.steps[i]
        try:
            if cs.dynamic_inputs:
                kwargs = dict(cs.const_inputs)
                for key, resolve in cs.dynamic_inputs:
                    kwargs[key] = resolve(self)
            else:
                kwargs = cs.const_inputs
            if cs.condition is not None:
                if cs.condition_is_callable:
                    verdict = cs.condition(StepContext(self))
                else:
                    verdict = cs.condition(self)
                if not verdict:
                    self._finish(i, StepStatus.SKIPPED, None, None, 0, "its condition was false")
                    return
        except Exception as exc:  # a reference or condition that cannot be evaluated
            self._finish(i, StepStatus.FAILED, None, exc, 0, "")
            return
        task = asyncio.get_running_loop().create_task(
            self._execute(cs, kwargs), name=f"plait:{self.run_id}:{cs.step_id}"
        )
        self._tasks[i] = task
        task.add_done_callback(functools.partial(self._task_done, i))

    def _task_done(self, i: int, task: asyncio.Task[None]) -> None:
        # A task cancelled before its first step never runs `_execute`, so nothing
        # else would report the step; without this the run waits for it forever.
        if self._tasks.get(i) is task:
            self._finish(i, StepStatus.CANCELLED, None, None, 0, "the run stopped before it began")

    async def _execute(self, cs: CompiledStep, kwargs: dict[str, Any]) -> None:
        i = cs.index
        clock = self.clock
        record = self.records[i] = StepRecord(
            started_at=clock.time(), started=clock.monotonic(), inputs=kwargs
        )
        attempt = 0
        while True:
            attempt += 1
            record.attempts = attempt
            if self._listeners:
                self._emit(
                    events.StepStarted(self.run_id, cs.step_id, attempt, kwargs, clock.time())
                )
            try:
                result = await self._attempt(cs, kwargs, attempt)
            except asyncio.CancelledError:
                self._finish(
                    i,
                    StepStatus.CANCELLED,
                    None,
                    None,
                    attempt,
                    record.reason or "the run was cancelled",
                )
                raise
            except Exception as exc:
                policy = cs.retry
                if attempt < cs.max_attempts and policy.should_retry(exc):
                    delay = policy.delay(attempt)
                    if self._listeners:
                        self._emit(
                            events.StepRetrying(
                                self.run_id, cs.step_id, attempt, exc, delay, clock.time()
                            )
                        )
                    try:
                        await clock.sleep(delay)
                    except asyncio.CancelledError:
                        self._finish(
                            i,
                            StepStatus.CANCELLED,
                            None,
                            exc,
                            attempt,
                            record.reason or "the run was cancelled",
                        )
                        raise
                    continue
                self._finish(i, StepStatus.FAILED, None, exc, attempt, "")
                return
            self._finish(i, StepStatus.COMPLETED, result, None, attempt, "")
            return

    async def _attempt(self, cs: CompiledStep, kwargs: dict[str, Any], attempt: int) -> Any:
        fn = cs.fn
        if cs.wants_context:
            fn = functools.partial(fn, context=StepContext(self, cs.step_id, attempt))
        if cs.is_async:
            awaitable = fn(**kwargs)
        else:
            loop = asyncio.get_running_loop()
            awaitable = loop.run_in_executor(self._executor, functools.partial(fn, **kwargs))
        timeout = cs.timeout
        if timeout is None:
            result = await awaitable
            if inspect.isawaitable(result):
                result = await result
            return result
        try:
            async with asyncio.timeout(timeout) as scope:
                result = await awaitable
                if inspect.isawaitable(result):  # a plain function returning a coroutine
                    result = await result
        except TimeoutError:
            if scope.expired():
                raise AttemptTimeout(
                    f"attempt {attempt} ran past timeout_seconds={timeout:g} and was cancelled"
                ) from None
            raise
        return result

    # --- finishing steps -------------------------------------------------------------

    def _finish(
        self,
        i: int,
        status: StepStatus,
        result: Any,
        error: BaseException | None,
        attempts: int,
        reason: str,
    ) -> None:
        self._tasks.pop(i, None)
        record = self.records[i]
        if record is None:
            record = self.records[i] = StepRecord()
        record.attempts = attempts
        record.reason = reason
        if record.started:
            record.duration = self.clock.monotonic() - record.started
        if status is StepStatus.COMPLETED:
            self.results[i] = result
        elif status is StepStatus.FAILED and error is not None:
            cs = self.plan.steps[i]
            wrapped = (
                errors.StepTimeoutError
                if isinstance(error, TimeoutError)
                else errors.StepFailedError
            )(cs.step_id, attempts, error)
            wrapped.__cause__ = error
            record.error = wrapped
            if self.error is None:
                self.error, self.failed_step = wrapped, cs.step_id
        elif error is not None:
            record.error = error
        if self._listeners:
            self._emit(
                events.StepFinished(
                    self.run_id,
                    self.plan.ids[i],
                    status,
                    attempts,
                    result,
                    record.error,
                    record.duration or 0.0,
                    self.clock.time(),
                    reason,
                )
            )
        sched = self.scheduler
        start = sched.finished(i, status)
        if sched.stopping and self._tasks and not sched.cancelled:
            for k, task in list(self._tasks.items()):  # fail fast: siblings stop now
                sibling = self.records[k]
                if sibling is not None and not sibling.reason:
                    sibling.reason = "another step failed"
                task.cancel()
        for j in start:
            self._start(j)
        if sched._skipped_outbox:
            self._report_skips()
        self._wake_if_idle()

    def _report_skips(self) -> None:
        sched = self.scheduler
        for j in sched.take_skipped():
            record = self.records[j] = StepRecord(reason=sched.skip_reasons.get(j, ""))
            if self._listeners:
                self._emit(
                    events.StepFinished(
                        self.run_id,
                        self.plan.ids[j],
                        StepStatus.SKIPPED,
                        0,
                        None,
                        None,
                        0.0,
                        self.clock.time(),
                        record.reason,
                    )
                )

    def _wake_if_idle(self) -> None:
        future = self._idle.future
        if future is not None and not future.done() and self.scheduler.is_idle:
            future.set_result(None)

    async def _stop_everything(self, reason: str) -> None:
        # Stop first: the steps cancelled below must not start their successors.
        self.scheduler.stopping = True
        tasks = list(self._tasks.values())
        for i, task in list(self._tasks.items()):
            record = self.records[i]
            if record is not None:
                record.reason = reason
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    def _mark_unstarted(self) -> None:
        """Steps that never started in a run that ended are reported as cancelled."""
        if self.status is WorkflowStatus.PAUSED or self.status is WorkflowStatus.COMPLETED:
            return
        for i, status in enumerate(self.statuses):
            if status is StepStatus.PENDING:
                self.statuses[i] = StepStatus.CANCELLED
                if self.records[i] is None:
                    self.records[i] = StepRecord(reason="the run ended before it could start")

    def _emit(self, event: events.Event) -> None:
        for listener in self._listeners:
            listener.on_event(event)

    # --- the guide's result ----------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """The run as the guide's engine returns it, with per-step details added."""
        ids = self.plan.ids
        completed = [ids[i] for i, s in enumerate(self.statuses) if s is StepStatus.COMPLETED]
        results = {
            ids[i]: self.results[i]
            for i, s in enumerate(self.statuses)
            if s is StepStatus.COMPLETED
        }
        steps: dict[str, dict[str, Any]] = {}
        for i, sid in enumerate(ids):
            record = self.records[i]
            steps[sid] = {
                "status": self.statuses[i].value,
                "attempts": record.attempts if record else 0,
                "duration_s": record.duration if record else None,
                "error": _describe_error(record.error) if record else None,
                "reason": record.reason if record else "",
            }
        output = None
        if self.plan.output is not None and self.status is WorkflowStatus.COMPLETED:
            output = self.plan.output(self)
        elif self.plan.definition.output is not None and self.status is WorkflowStatus.COMPLETED:
            output = self.plan.definition.output
        return {
            "workflow_id": self.plan.definition.workflow_id,
            "run_id": self.run_id,
            "status": self.status.value,
            "results": results,
            "completed_steps": completed,
            "output": output,
            "error": _describe_error(self.error),
            "failed_step": self.failed_step,
            "steps": steps,
            "duration_s": self._elapsed,
        }


def _describe_error(error: BaseException | None) -> str | None:
    if error is None:
        return None
    cause = error.__cause__ if isinstance(error, errors.StepFailedError) else error
    return f"{type(cause).__name__}: {cause}" if cause is not None else str(error)
