"""The guide's `WorkflowMonitor.get_health_report()`, computed from the store.

Because the figures come from stored runs, they survive restarts and cover every
process that shares the store. Counts are per workflow, per step and per agent.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from plait.store.base import AttemptRow, RunRow, StepRow, Store

FINISHED = ("completed", "failed", "cancelled")


@dataclass
class Tally:
    """Counts and durations for one workflow, step or agent."""

    executions: int = 0
    successes: int = 0
    failures: int = 0
    cancelled: int = 0
    retries: int = 0
    skips: int = 0
    degraded: int = 0
    cached: int = 0
    durations: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        done = self.successes + self.failures
        return {
            "executions": self.executions,
            "successes": self.successes,
            "failures": self.failures,
            "cancelled": self.cancelled,
            "retries": self.retries,
            "skips": self.skips,
            "degraded": self.degraded,
            "cached": self.cached,
            "success_rate": self.successes / done if done else 0.0,
            "duration_s": distribution(self.durations),
            "most_common_errors": [
                {"error_type": kind, "count": n} for kind, n in self.errors.most_common(5)
            ],
        }


def distribution(values: Sequence[float]) -> dict[str, float | None]:
    """Mean, p50, p95 and max of durations (None when there are none)."""
    if not values:
        return {"mean": None, "p50": None, "p95": None, "max": None}
    ordered = sorted(values)
    if len(ordered) == 1:
        p50 = p95 = ordered[0]
    else:
        cuts = statistics.quantiles(ordered, n=100, method="inclusive")
        p50, p95 = cuts[49], cuts[94]
    return {"mean": statistics.fmean(ordered), "p50": p50, "p95": p95, "max": ordered[-1]}


async def health_report(
    store: Store, *, workflow_id: str | None = None, since: float | None = None
) -> dict[str, Any]:
    """The health report over runs created at or after `since` (all runs if None)."""
    runs, steps, attempts = await store.export(workflow_id=workflow_id, since=since)
    return build_report(runs, steps, attempts)


def build_report(
    runs: Iterable[RunRow], steps: Iterable[StepRow], attempts: Iterable[AttemptRow]
) -> dict[str, Any]:
    """Pure: the report from stored rows."""
    runs = [r for r in runs if r.status in FINISHED]
    finished_ids = {r.run_id for r in runs}
    workflow_of = {r.run_id: r.workflow_id for r in runs}
    workflows: dict[str, Tally] = {}
    for r in runs:
        t = workflows.setdefault(r.workflow_id, Tally())
        t.executions += 1
        if r.status == "completed":
            t.successes += 1
        elif r.status == "failed":
            t.failures += 1
            if r.failed_step:
                t.errors[f"{r.failed_step}: {_error_type(r.error)}"] += 1
        else:
            t.cancelled += 1
        if r.duration_s is not None:
            t.durations.append(r.duration_s)
    failed_attempts: Counter[tuple[str, str]] = Counter()
    for a in attempts:
        if a.run_id in finished_ids and a.outcome == "failed" and a.retry_delay is not None:
            failed_attempts[(a.run_id, a.step_id)] += 1
    per_step: dict[str, Tally] = {}
    per_agent: dict[str, Tally] = {}
    step_failures: Counter[str] = Counter()
    for s in steps:
        if s.run_id not in finished_ids:
            continue
        key = f"{workflow_of[s.run_id]}.{s.step_id}"
        tallies = [per_step.setdefault(key, Tally())]
        if s.agent:
            tallies.append(per_agent.setdefault(s.agent, Tally()))
        for t in tallies:
            _count_step(t, s, failed_attempts[(s.run_id, s.step_id)])
        if s.status == "failed":
            step_failures[s.step_id] += 1
    total = len(runs)
    successes = sum(t.successes for t in workflows.values())
    durations = [r.duration_s for r in runs if r.duration_s is not None]
    return {
        "total_executions": total,
        "successes": successes,
        "failures": sum(t.failures for t in workflows.values()),
        "cancelled": sum(t.cancelled for t in workflows.values()),
        "success_rate": successes / total if total else 0.0,
        "average_duration": statistics.fmean(durations) if durations else 0.0,
        "duration_s": distribution(durations),
        "most_common_failures": step_failures.most_common(5),
        "workflows": {k: t.as_dict() for k, t in sorted(workflows.items())},
        "steps": {k: t.as_dict() for k, t in sorted(per_step.items())},
        "agents": {k: t.as_dict() for k, t in sorted(per_agent.items())},
    }


def _count_step(t: Tally, s: StepRow, retries: int) -> None:
    status = s.status
    if status == "skipped":
        t.skips += 1
        return
    t.executions += 1
    t.retries += retries
    if status in ("completed", "cached", "degraded"):
        t.successes += 1
        t.degraded += status == "degraded"
        t.cached += status == "cached"
    elif status == "failed":
        t.failures += 1
        t.errors[s.error_type or "Error"] += 1
    elif status == "cancelled":
        t.cancelled += 1
    if s.duration_s is not None and status != "cached":
        t.durations.append(s.duration_s)


def _error_type(error: str | None) -> str:
    if not error:
        return "Error"
    head = error.split(":", 1)[0].strip()
    return head if head.isidentifier() else "Error"
