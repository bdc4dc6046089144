"""What a run's recorded outcomes release: replayed through the in-process scheduler.

A worker that commits a step's outcome calls `advance` inside the same
transaction (with the run row locked, so two steps finishing together on two
workers take turns): the run's finished outcomes are restored into a
`RunExecution` (its `Scheduler` applies trigger rules and skip cascades exactly
as a local run does), and the steps whose upstream is now done are returned to
be queued. Conditions and inputs are evaluated later, by the worker that claims
the step, with `RunExecution.resolve` — again exactly as a local run does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from plait.graph import Plan
from plait.runner import Restored, RunExecution
from plait.store.base import RunRow, RunUpdated, StepRow, StepSettled, Write
from plait.types import StepStatus, WorkflowStatus

_FINISHED = frozenset({"completed", "cached", "degraded", "skipped", "failed", "cancelled"})


@dataclass(slots=True)
class Advance:
    """The writes and queue entries that follow from a run's recorded outcomes."""

    writes: list[Write] = field(default_factory=list)
    """Skips cascaded by trigger rules, and the run's end when it ended."""
    ready: list[int] = field(default_factory=list)
    """Steps whose upstream is done and that may run (to be queued, once)."""
    ended: WorkflowStatus | None = None


def restored_execution(plan: Plan, run: RunRow, rows: Mapping[str, StepRow]) -> RunExecution:
    """A `RunExecution` holding the run's finished outcomes and typed results."""
    from plait.jsonable import restore

    restored = Restored()
    for i in plan.order:
        row = rows.get(plan.ids[i])
        if row is None:
            continue
        restored.attempts[i] = row.attempts
        if row.status in _FINISHED:
            status = StepStatus(row.status)
            value = restore(plan.steps[i].fn, row.result) if status.succeeded else None
            restored.outcomes.append((i, status, value))
            if row.error:
                restored.errors[i] = row.error
    execution = RunExecution(plan, run_inputs=run.inputs, run_id=run.run_id, restored=restored)
    execution._replay()
    return execution


def advance(plan: Plan, run: RunRow, rows: Mapping[str, StepRow], now: float) -> Advance:
    """Replay `rows` (the run's steps, fresh under the run lock) and say what follows."""
    execution = restored_execution(plan, run, rows)
    sched = execution.scheduler
    out = Advance()
    for i, status in enumerate(sched.status):
        row = rows.get(plan.ids[i])
        if status is StepStatus.SKIPPED and (row is None or row.status not in _FINISHED):
            reason = sched.skip_reasons.get(i, "")
            out.writes.append(
                StepSettled(run.run_id, plan.ids[i], "skipped", 0, now, reason=reason)
            )
    if sched.stopping:  # a step failed under `on_failure: cancel`: nothing new starts
        out.ended = WorkflowStatus.FAILED
    elif sched.finished_count == len(plan.steps):
        out.ended = sched.outcome()
    else:
        out.ready = sched.initial()
    if out.ended is not None:
        out.writes.append(_run_end(execution, run, out.ended, now))
    return out


def _run_end(execution: RunExecution, run: RunRow, status: WorkflowStatus, now: float) -> Write:
    from plait.jsonable import dumps

    execution.status = status
    summary: dict[str, Any] = execution.summary()
    output_json = None
    if summary["output"] is not None:
        try:
            output_json = dumps(summary["output"])
        except (TypeError, ValueError):
            output_json = None
    return RunUpdated(
        run.run_id,
        status.value,
        now,
        error=summary["error"],
        failed_step=summary["failed_step"],
        output_json=output_json,
        duration_s=now - run.created_at,
        finished=True,
    )
