"""The async shell around the scheduler: it starts steps, applies their policies, and reports.

One `RunExecution` per run. Each started step is one asyncio task that runs the
step's attempts (timeout per attempt, retries with backoff) and, when it ends,
tells the scheduler, which answers with the steps to start next. No loop scans
the graph: completions drive everything.

With a journal (a durable store), a step's outcome is committed before any
step that depends on it starts, and the "attempt 1 started" records of those
dependents ride in the same transaction, so a chain costs one commit per step
and parallel steps that finish together share one (group commit).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from plait import errors, events
from plait.clock import SYSTEM_CLOCK, Clock
from plait.context import StepContext
from plait.graph import CompiledStep, Plan
from plait.policies import AttemptTimeout, Deadlines, StepPolicies, _error_text
from plait.scheduler import Scheduler
from plait.store import base as store
from plait.types import StepStatus, WorkflowStatus

if TYPE_CHECKING:
    from plait.journal import Journal
    from plait.people import HumanDesk
    from plait.store.base import Store

Launch = tuple[CompiledStep, dict[str, Any], int]
"""A step ready to run: the step, its resolved inputs, its first attempt number."""


@dataclass(slots=True)
class StepRecord:
    """What happened to one step in this run (kept for results and reports)."""

    attempts: int = 0
    strategies: list[str] = field(default_factory=list)
    """Recovery strategies taken, in order (`cache` for a cache hit)."""
    started_at: float | None = None
    """Wall-clock time of the first attempt."""
    started: float = 0.0
    """Monotonic time of the first attempt."""
    duration: float | None = None
    inputs: dict[str, Any] | None = None
    error: BaseException | None = None
    reason: str = ""


@dataclass(slots=True)
class Restored:
    """What a resumed run already has: outcomes to replay, attempts already made."""

    outcomes: list[tuple[int, StepStatus, Any]] = field(default_factory=list)
    """(step index, status, result) in topological order."""
    attempts: dict[int, int] = field(default_factory=dict)
    """Attempts already made per step, so numbering continues."""
    errors: dict[int, str] = field(default_factory=dict)


class RunExecution(StepPolicies):
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
        journal: Journal | None = None,
        desk: HumanDesk | None = None,
        wait_for_people: bool = False,
        restored: Restored | None = None,
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
        self.store_error: BaseException | None = None
        """Set when the store failed mid-run: the run stopped but stays resumable."""
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._started_steps: set[int] = set()
        self._late_writes: list[store.Write] = []
        """Outcomes settled outside a step's task (cancelled before it ran), journalled
        before the run returns."""
        """Steps whose task has started running (a task cancelled before that never
        reaches its own handler, so whoever cancels it settles it)."""
        self._deadlines = Deadlines()
        self._listeners = tuple(listeners)
        self._executor = executor
        self._journal = journal
        self._desk = desk
        self._wait_for_people = wait_for_people
        self._waiting_people: set[int] = set()
        self._suspending: set[int] = set()
        self._restored = restored
        self._attempt_base: dict[int, int] = dict(restored.attempts) if restored else {}
        self._idle: asyncio.Future[None] | None = None
        self.usage: dict[str, float] = {
            "prompt_tokens": 0,
            "completion_tokens": 0,
            "total_tokens": 0,
            "cost_usd": 0.0,
        }
        self.step_usage: dict[str, dict[str, float]] = {}
        self.partials: dict[str, Any] = {}
        """Partial results actions offered through `context.partial()` (for `degrade`)."""
        self.results_cache: Store | None = None
        self._started_at = 0.0
        self._elapsed = 0.0
        self._begun = False

    # --- public control --------------------------------------------------------------

    async def run(self) -> WorkflowStatus:
        """Run until the run ends or pauses; returns where it stands."""
        sched = self.scheduler
        self.status = WorkflowStatus.RUNNING
        began = self.clock.monotonic()
        writes: list[store.Write] | None = [] if self._journal is not None else None
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
                        tuple(s.agent for s in self.plan.steps),
                    )
                )
            self._replay()
            launches = self._prepare(sched.initial(), writes)
        else:
            self.scheduler.paused = False
            launches = self._prepare(sched.resume(), writes)
        if writes:
            assert self._journal is not None
            try:
                await self._journal.commit(writes)
            except Exception as exc:
                self._store_failed(exc)
                self._abandon(launches)
                launches = []
        self._launch(launches)
        timeout = self.plan.definition.timeout_seconds
        try:
            if not sched.is_idle:
                self._idle = asyncio.get_running_loop().create_future()
                if timeout is None:
                    await self._idle
                else:
                    async with asyncio.timeout(max(0.0, timeout - self._elapsed)):
                        await self._idle
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
        if self._late_writes and self._journal is not None and self.store_error is None:
            late, self._late_writes = self._late_writes, []
            try:
                await self._journal.commit(late)
            except Exception as exc:
                self._store_failed(exc)
        self.status = sched.outcome()
        if self.store_error is not None:
            self.status = WorkflowStatus.FAILED
        if self.status.is_terminal or self.status is WorkflowStatus.PAUSED:
            self._deadlines.close()
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
        self._cancel_tasks("the run was cancelled")
        self._wake_if_idle()

    def _cancel_tasks(self, reason: str, *, only_unreasoned: bool = False) -> None:
        """Cancel every in-flight step; settle at once those that never started."""
        for i, task in list(self._tasks.items()):
            record = self.records[i]
            if record is not None and not (only_unreasoned and record.reason):
                record.reason = reason
            task.cancel()
            if i not in self._started_steps:
                del self._tasks[i]
                self._record_outcome(
                    i,
                    StepStatus.CANCELLED,
                    None,
                    None,
                    record.attempts if record else 0,
                    (record.reason if record else "") or reason,
                    None,
                    self._late_writes if self._journal is not None else None,
                )
                self.scheduler.finished(i, StepStatus.CANCELLED)

    @property
    def duration(self) -> float:
        return self._elapsed

    @property
    def started_at(self) -> float:
        return self._started_at

    @property
    def waiting_for_people(self) -> list[str]:
        """Steps whose requests await a person's answer."""
        return [
            self.plan.ids[i]
            for i, s in enumerate(self.statuses)
            if s is StepStatus.WAITING or i in self._waiting_people
        ]

    @property
    def workflow_id(self) -> str:
        return self.plan.definition.workflow_id

    def result_of(self, step_id: str) -> Any:
        index = self.plan.index_of.get(step_id)
        if index is None or not self.statuses[index].succeeded:
            raise KeyError(step_id)
        return self.results[index]

    def finished_ids(self) -> Iterator[str]:
        ids = self.plan.ids
        statuses = self.statuses
        return (ids[i] for i in range(len(ids)) if statuses[i].succeeded)

    # --- model usage and budget -------------------------------------------------------

    def add_usage(
        self,
        step_id: str,
        attempt: int,
        model: str,
        prompt_tokens: int,
        completion_tokens: int,
        cost_usd: float,
    ) -> None:
        """Account a model call; raises `BudgetExceededError` once the budget is passed."""
        step_bucket = self.step_usage.setdefault(
            step_id,
            {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0, "cost_usd": 0.0},
        )
        self._account_usage(
            step_id, attempt, model, prompt_tokens, completion_tokens, cost_usd, (step_bucket,)
        )
        self.check_budget(step_id, 0, 0.0, spent=True)

    def check_budget(
        self, step_id: str, tokens: int, cost_usd: float, *, spent: bool = False
    ) -> None:
        budget = self.plan.definition.budget
        if budget is None:
            return
        used_tokens = self.usage["total_tokens"] + tokens
        used_cost = self.usage["cost_usd"] + cost_usd
        verb = "has spent" if spent else "would spend"
        if budget.max_tokens is not None and used_tokens > budget.max_tokens:
            raise errors.BudgetExceededError(
                f"step {step_id!r}: the run {verb} {int(used_tokens)} tokens, over its budget "
                f"of {budget.max_tokens} (budget.max_tokens)"
            )
        if budget.max_cost_usd is not None and used_cost > budget.max_cost_usd:
            raise errors.BudgetExceededError(
                f"step {step_id!r}: the run {verb} ${used_cost:.4f}, over its budget of "
                f"${budget.max_cost_usd:.4f} (budget.max_cost_usd)"
            )

    def report_progress(self, step_id: str, attempt: int, text: str) -> None:
        if self._listeners:
            self._emit(events.StepProgress(self.run_id, step_id, attempt, text, self.clock.time()))

    # --- starting steps --------------------------------------------------------------

    def _replay(self) -> None:
        restored = self._restored
        if restored is None:
            return
        sched = self.scheduler
        for i, status, result in restored.outcomes:
            if status.succeeded:
                self.results[i] = result
            self.records[i] = StepRecord(
                attempts=restored.attempts.get(i, 0), reason="recorded before the resume"
            )
            if i in restored.errors:
                self.records[i].error = RuntimeError(restored.errors[i])  # type: ignore[union-attr]
            sched.restore(i, status)
            if status is StepStatus.FAILED:
                if self.error is None:
                    self.failed_step = self.plan.ids[i]
                    self.error = errors.StepFailedError(
                        self.plan.ids[i],
                        restored.attempts.get(i, 0),
                        RuntimeError(restored.errors.get(i, "failed before the resume")),
                    )
                if self.plan.on_failure.value == "cancel":
                    sched.stopping = True
        sched.take_skipped()

    def _prepare(self, indexes: list[int], writes: list[store.Write] | None) -> list[Launch]:
        """Resolve inputs and conditions of steps the scheduler released.

        Steps settled on the spot (a false condition, a reference that cannot be
        resolved) release their own dependents, handled in the same pass.
        """
        launches: list[Launch] = []
        work = list(indexes)
        k = 0
        sched = self.scheduler
        while k < len(work):
            i = work[k]
            k += 1
            cs = self.plan.steps[i]
            try:
                kwargs, verdict = self.resolve(cs)
            except Exception as exc:  # a reference or condition that cannot be evaluated
                self._record_outcome(i, StepStatus.FAILED, None, exc, 0, "", None, writes)
                work.extend(sched.finished(i, StepStatus.FAILED))
                continue
            if not verdict:
                self._record_outcome(
                    i, StepStatus.SKIPPED, None, None, 0, "its condition was false", None, writes
                )
                work.extend(sched.finished(i, StepStatus.SKIPPED))
                continue
            attempt = self._attempt_base.get(i, 0) + 1 if self._attempt_base else 1
            clock = self.clock
            self.records[i] = StepRecord(attempt, started=clock.monotonic(), inputs=kwargs)
            if writes is not None:
                writes.append(
                    store.AttemptStarted(
                        self.run_id,
                        cs.step_id,
                        attempt,
                        clock.time(),
                        _inputs_json(kwargs),
                        agent=cs.agent,
                    )
                )
            if self._listeners:
                self._emit(
                    events.StepStarted(self.run_id, cs.step_id, attempt, kwargs, clock.time())
                )
            launches.append((cs, kwargs, attempt))
        if sched._skipped_outbox:
            self._report_skips(writes)
        if sched.stopping and self._tasks and not sched.cancelled:
            self._cancel_tasks("another step failed", only_unreasoned=True)  # fail fast
        return launches

    def resolve(self, cs: CompiledStep) -> tuple[dict[str, Any], Any]:
        """A released step's inputs and its condition's verdict, from the results so far.

        Public so a fleet worker evaluates a step exactly as a local run does.

        Raises:
            Exception: a reference or condition cannot be evaluated.
        """
        if cs.dynamic_inputs:
            kwargs = dict(cs.const_inputs)
            for key, resolve in cs.dynamic_inputs:
                kwargs[key] = resolve(self)
        else:
            kwargs = cs.const_inputs
        verdict = True
        if cs.condition is not None:
            if cs.condition_is_callable:
                verdict = cs.condition(StepContext(self))
            else:
                verdict = cs.condition(self)
        return kwargs, verdict

    def _launch(self, launches: list[Launch]) -> None:
        if launches:
            create = asyncio.get_running_loop().create_task
            tasks = self._tasks
            for cs, kwargs, attempt in launches:
                tasks[cs.index] = create(self._execute(cs, kwargs, attempt))
        self._wake_if_idle()

    def _abandon(self, launches: list[Launch]) -> None:
        """Released steps that will not start after all (the run is stopping)."""
        self.scheduler.stopping = True
        late = self._late_writes if self._journal is not None else None
        for cs, _kwargs, attempt in launches:
            self._record_outcome(
                cs.index,
                StepStatus.CANCELLED,
                None,
                None,
                attempt,
                "the run stopped before it started",
                None,
                late,
            )
            self.scheduler.finished(cs.index, StepStatus.CANCELLED)

    async def _execute(self, cs: CompiledStep, kwargs: dict[str, Any], attempt: int) -> None:
        i = cs.index
        self._started_steps.add(i)
        try:
            if cs.simple and cs.is_async and not cs.wants_context:
                # The fast path: one await of the action, policies only if it fails.
                timeout = cs.timeout
                try:
                    if timeout is None:
                        result = await cs.fn(**kwargs)
                    else:
                        task = self._tasks[i]
                        deadline = self._deadlines.add(timeout, task)
                        try:
                            result = await cs.fn(**kwargs)
                        finally:
                            self._deadlines.finish(deadline)
                except asyncio.CancelledError:
                    if timeout is not None and deadline.fired:
                        self._tasks[i].uncancel()
                        outcome = await self._run_policies(
                            cs,
                            kwargs,
                            attempt,
                            AttemptTimeout(
                                f"attempt {attempt} ran past timeout_seconds={timeout:g} and was "
                                "cancelled"
                            ),
                        )
                        await self._settle(i, *outcome)
                        return
                    raise
                except Exception as exc:
                    outcome = await self._run_policies(cs, kwargs, attempt, exc)
                else:
                    if self._journal is None:  # simple steps feed no cache either
                        self._settle_now(i, StepStatus.COMPLETED, result, attempt)
                        return
                    outcome = await self._completed(cs, kwargs, attempt, result)
            else:
                outcome = await self._run_policies(cs, kwargs, attempt)
        except asyncio.CancelledError:
            if i in self._suspending:  # waiting for a person; the run pauses around it
                self._suspending.discard(i)
                return
            record = self.records[i]
            await self._settle(
                i,
                StepStatus.CANCELLED,
                None,
                None,
                record.attempts if record else attempt,
                (record.reason if record else "") or "the run was cancelled",
            )
            raise
        await self._settle(i, *outcome)

    def _maybe_suspend(self) -> None:
        """If only people are awaited, pause the run so its process may exit."""
        if self._wait_for_people:
            return
        sched = self.scheduler
        if sched.running and sched.running == len(self._waiting_people):
            for i in list(self._waiting_people):
                self._suspending.add(i)
                sched.suspend(i)
                task = self._tasks.pop(i, None)
                if task is not None:
                    task.cancel()
            self._waiting_people.clear()
            self._wake_if_idle()

    # --- finishing steps -------------------------------------------------------------

    def _settle_now(self, i: int, status: StepStatus, result: Any, attempts: int) -> None:
        """`_settle` for a run without a journal: nothing to wait for."""
        self._tasks.pop(i, None)
        self._started_steps.discard(i)
        self._record_outcome(i, status, result, None, attempts, "", None, None)
        self._launch(self._prepare(self.scheduler.finished(i, status), None))
        if self._waiting_people:
            self._maybe_suspend()

    async def _settle(
        self,
        i: int,
        status: StepStatus,
        result: Any,
        error: BaseException | None,
        attempts: int,
        reason: str,
        result_json: str | None = None,
        strategy: str | None = None,
    ) -> None:
        self._tasks.pop(i, None)
        self._started_steps.discard(i)
        writes: list[store.Write] | None = [] if self._journal is not None else None
        self._record_outcome(
            i, status, result, error, attempts, reason, result_json, writes, strategy
        )
        launches = self._prepare(self.scheduler.finished(i, status), writes)
        if writes:
            assert self._journal is not None
            try:
                await self._journal.commit(writes)
            except asyncio.CancelledError:
                self._abandon(launches)
                self._wake_if_idle()
                raise
            except Exception as exc:
                self._store_failed(exc)
                self._abandon(launches)
                self._wake_if_idle()
                return
            if self.scheduler.stopping and launches:  # a sibling failed during the commit
                self._abandon(launches)
                self._wake_if_idle()
                return
        self._launch(launches)
        self._maybe_suspend()

    def _record_outcome(
        self,
        i: int,
        status: StepStatus,
        result: Any,
        error: BaseException | None,
        attempts: int,
        reason: str,
        result_json: str | None,
        writes: list[store.Write] | None,
        strategy: str | None = None,
    ) -> None:
        record = self.records[i]
        if record is None:
            record = self.records[i] = StepRecord()
        record.attempts = attempts
        record.reason = reason
        if record.started:
            record.duration = self.clock.monotonic() - record.started
        cs = self.plan.steps[i]
        if status in _SUCCEEDED:
            self.results[i] = result
        elif status is StepStatus.FAILED and error is not None:
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
        if writes is not None:
            cause = error
            writes.append(
                store.StepSettled(
                    self.run_id,
                    cs.step_id,
                    status.value,
                    attempts,
                    self.clock.time(),
                    result_json,
                    _error_text(cause) if cause is not None else None,
                    type(cause).__name__ if cause is not None else None,
                    record.duration,
                    reason,
                    strategy,
                )
            )
        if self._listeners:
            self._emit(
                events.StepFinished(
                    self.run_id,
                    cs.step_id,
                    status,
                    attempts,
                    result,
                    record.error,
                    record.duration or 0.0,
                    self.clock.time(),
                    reason,
                )
            )

    def _report_skips(self, writes: list[store.Write] | None) -> None:
        sched = self.scheduler
        for j in sched.take_skipped():
            reason = sched.skip_reasons.get(j, "")
            self.records[j] = StepRecord(reason=reason)
            if writes is not None:
                writes.append(
                    store.StepSettled(
                        self.run_id,
                        self.plan.ids[j],
                        StepStatus.SKIPPED.value,
                        0,
                        self.clock.time(),
                        reason=reason,
                    )
                )
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
                        reason,
                    )
                )

    def _store_failed(self, exc: BaseException) -> None:
        """The store cannot take writes: stop everything, keep the run resumable."""
        if self.store_error is None:
            self.store_error = exc
            self.error = exc
        self.scheduler.stopping = True
        self._cancel_tasks("the store failed")

    def _wake_if_idle(self) -> None:
        future = self._idle
        if future is not None and not future.done() and self.scheduler.is_idle:
            future.set_result(None)

    async def _stop_everything(self, reason: str) -> None:
        self.scheduler.stopping = True  # cancelled steps must not release their dependents
        tasks = list(self._tasks.values())
        self._cancel_tasks(reason)
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    def _mark_unstarted(self) -> None:
        """Steps that never started in a run that ended are reported as cancelled."""
        if self.status is WorkflowStatus.PAUSED or self.status is WorkflowStatus.COMPLETED:
            return
        if self.store_error is not None:
            return  # the store keeps them pending, so a resume runs them
        for i, status in enumerate(self.statuses):
            if status is StepStatus.PENDING or status is StepStatus.WAITING:
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
        ok = _SUCCEEDED
        statuses = self.statuses
        results_list = self.results
        completed = [ids[i] for i, s in enumerate(statuses) if s in ok]
        results = {ids[i]: results_list[i] for i, s in enumerate(statuses) if s in ok}
        steps = StepDetails(ids, self.plan.index_of, statuses, self.records)
        output = None
        output_error = None
        if self.status is WorkflowStatus.COMPLETED and self.plan.definition.output is not None:
            try:
                output = (
                    self.plan.output(self)
                    if self.plan.output is not None
                    else self.plan.definition.output
                )
            except errors.ExpressionError as exc:
                output_error = f"the workflow's output cannot be resolved: {exc}"
        return {
            "workflow_id": self.plan.definition.workflow_id,
            "run_id": self.run_id,
            "status": self.status.value,
            "results": results,
            "completed_steps": completed,
            "output": output,
            "error": describe_error(self.error) or output_error,
            "failed_step": self.failed_step,
            "steps": steps,
            "waiting_for": self.waiting_for_people,
            "degraded_steps": [
                ids[i] for i, s in enumerate(self.statuses) if s is StepStatus.DEGRADED
            ],
            "usage": dict(self.usage),
            "duration_s": self._elapsed,
        }


_SUCCEEDED = frozenset(s for s in StepStatus if s.succeeded)


class StepDetails(Mapping[str, dict[str, Any]]):
    """Per-step details of a run summary, built when read (a 100k-step run pays on use)."""

    __slots__ = ("_ids", "_index", "_records", "_statuses")

    def __init__(
        self,
        ids: Sequence[str],
        index: Mapping[str, int],
        statuses: Sequence[StepStatus],
        records: Sequence[StepRecord | None],
    ) -> None:
        self._ids = ids
        self._index = index
        self._statuses = list(statuses)
        self._records = list(records)

    def __getitem__(self, step_id: str) -> dict[str, Any]:
        i = self._index[step_id]
        record = self._records[i]
        return {
            "status": self._statuses[i].value,
            "attempts": record.attempts if record else 0,
            "strategies": list(record.strategies) if record else [],
            "duration_s": record.duration if record else None,
            "error": describe_error(record.error) if record else None,
            "reason": record.reason if record else "",
        }

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    def __eq__(self, other: object) -> bool:
        return dict(self.items()) == other if isinstance(other, Mapping) else NotImplemented

    def __repr__(self) -> str:
        return repr(dict(self.items()))


def describe_error(error: BaseException | None) -> str | None:
    if error is None:
        return None
    cause = error.__cause__ if isinstance(error, errors.StepFailedError) else error
    return f"{type(cause).__name__}: {cause}" if cause is not None else str(error)


def _inputs_json(kwargs: dict[str, Any]) -> str | None:
    from plait.store.codec import lenient_dumps

    return lenient_dumps(kwargs)
