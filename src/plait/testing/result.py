"""What a kit run returns: the engine's result, per step, plus what only the kit saw.

The engine's result dict says how each step ended. The kit adds the order steps
started and finished (from the run's events), and how many times the engine
called each step's action (from the kit's wrappers), which is what a crash test
needs to show that nothing completed ran again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, final

from plait import events
from plait.errors import PlaitError
from plait.store.base import RunRow, StepRow
from plait.types import StepStatus, WorkflowStatus


@final
@dataclass(frozen=True, slots=True)
class StepResult:
    """How one step of the run stands."""

    step_id: str
    status: StepStatus
    attempts: int = 0
    """Attempts made so far, over every process that ran the step."""
    result: Any = None
    error: str | None = None
    """`Type: message` of the last error, if the step failed (or crashed)."""
    strategies: tuple[str, ...] = ()
    """Recovery strategies taken, in order (`cache` for a cache hit)."""
    reason: str = ""
    executions: int = 0
    """How many times the engine called the step's action during this kit call."""
    inputs: Mapping[str, Any] | None = None
    """The inputs of its last attempt in this kit call (None if it did not start)."""


@final
@dataclass(frozen=True, slots=True)
class RunResult:
    """One kit call (`run` or `resume`) of one run, ready for assertions."""

    run_id: str
    workflow_id: str
    status: WorkflowStatus
    steps: Mapping[str, StepResult]
    output: Any = None
    error: str | None = None
    failed_step: str | None = None
    exception: BaseException | None = None
    """The run's error as raised (`StepTimeoutError`, `StepFailedError` ...), if any."""
    waiting_for: tuple[str, ...] = ()
    """Steps waiting for a person's answer (the run is paused)."""
    started: tuple[str, ...] = ()
    """Steps in the order they started (first attempt seen in this kit call)."""
    finished: tuple[str, ...] = ()
    """Steps in the order they reached a final state, skipped ones included."""
    crashed: bool = False
    """The process died (`faults.crash_after`); statuses are what the store kept."""
    events: tuple[events.Event, ...] = field(default=(), repr=False)
    """Every event of the run during this kit call, in order."""
    summary: Mapping[str, Any] = field(default_factory=dict, repr=False)
    """The engine's own result dict (empty after a crash)."""

    @property
    def ok(self) -> bool:
        return self.status is WorkflowStatus.COMPLETED

    @property
    def results(self) -> dict[str, Any]:
        """Step id -> result, for the steps that produced one."""
        return {sid: s.result for sid, s in self.steps.items() if s.status.succeeded}

    @property
    def executions(self) -> dict[str, int]:
        """Step id -> times its action ran during this kit call (steps that ran only)."""
        return {sid: s.executions for sid, s in self.steps.items() if s.executions}

    def raise_for_status(self) -> RunResult:
        """Return self if the run completed; else raise its error (as the engine raised it).

        Raises:
            BaseException: the run's exception, e.g. `StepTimeoutError` (a `TimeoutError`).
            PlaitError: the run did not complete and recorded no exception (paused, crashed).
        """
        if self.ok:
            return self
        if self.exception is not None:
            raise self.exception
        raise PlaitError(f"run {self.run_id} is {self.status}: {self.error or 'no error given'}")


@final
class Tape:
    """A listener that keeps the events of the runs the kit drives, by run id."""

    def __init__(self) -> None:
        self._events: dict[str, list[events.Event]] = {}
        self._cut: set[str] = set()

    def on_event(self, event: events.Event) -> None:
        run_id = getattr(event, "run_id", None)
        if isinstance(run_id, str) and run_id not in self._cut:
            self._events.setdefault(run_id, []).append(event)

    def mark(self, run_id: str) -> int:
        """Start listening to `run_id` afresh; the position its next events will start at."""
        self._cut.discard(run_id)
        return len(self._events.get(run_id, ()))

    def cut(self, run_id: str) -> None:
        """Stop listening: what a dead process does next is not part of the story."""
        self._cut.add(run_id)

    def since(self, run_id: str, position: int) -> tuple[events.Event, ...]:
        return tuple(self._events.get(run_id, ())[position:])


def from_summary(
    summary: Mapping[str, Any], seen: tuple[events.Event, ...], executions: Mapping[str, int]
) -> RunResult:
    """A result from the engine's dict plus this call's events and execution counts."""
    inputs = _last_inputs(seen)
    results = summary.get("results", {})
    steps = {
        sid: StepResult(
            sid,
            StepStatus(info["status"]),
            info.get("attempts", 0),
            results.get(sid),
            info.get("error"),
            tuple(info.get("strategies", ())),
            info.get("reason", ""),
            executions.get(sid, 0),
            inputs.get(sid),
        )
        for sid, info in summary.get("steps", {}).items()
    }
    finished_run = [e for e in seen if isinstance(e, events.RunFinished)]
    return RunResult(
        summary["run_id"],
        summary["workflow_id"],
        WorkflowStatus(summary["status"]),
        steps,
        summary.get("output"),
        summary.get("error"),
        summary.get("failed_step"),
        finished_run[-1].error if finished_run else None,
        tuple(summary.get("waiting_for", ())),
        _order(seen, events.StepStarted),
        _order(seen, events.StepFinished),
        False,
        seen,
        summary,
    )


def from_store(
    run: RunRow,
    rows: Iterable[StepRow],
    step_ids: Iterable[str],
    seen: tuple[events.Event, ...],
    executions: Mapping[str, int],
) -> RunResult:
    """A result read back from the store, as a process that died left it."""
    inputs = _last_inputs(seen)
    by_id = {row.step_id: row for row in rows}
    steps: dict[str, StepResult] = {}
    for sid in [*step_ids, *by_id]:
        row = by_id.get(sid)
        if sid in steps:
            continue
        if row is None:
            steps[sid] = StepResult(sid, StepStatus.PENDING)
            continue
        steps[sid] = StepResult(
            sid,
            StepStatus(row.status),
            row.attempts,
            row.result,
            row.error,
            (row.strategy,) if row.strategy else (),
            row.reason,
            executions.get(sid, 0),
            inputs.get(sid),
        )
    return RunResult(
        run.run_id,
        run.workflow_id,
        WorkflowStatus(run.status),
        steps,
        run.output,
        run.error,
        run.failed_step,
        None,
        (),
        _order(seen, events.StepStarted),
        _order(seen, events.StepFinished),
        True,
        seen,
        {},
    )


def _order(seen: tuple[events.Event, ...], kind: type[Any]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(e.step_id for e in seen if isinstance(e, kind)))


def _last_inputs(seen: tuple[events.Event, ...]) -> dict[str, Mapping[str, Any]]:
    return {e.step_id: e.inputs for e in seen if isinstance(e, events.StepStarted)}
