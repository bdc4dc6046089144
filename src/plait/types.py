"""Status enums and small aliases shared by every layer.

Statuses are `StrEnum`s whose values are the lowercase strings the guide uses, so
`result["status"] == "completed"` and `== WorkflowStatus.COMPLETED` both hold.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypeAlias

JSON: TypeAlias = Any
"""A JSON-compatible value: dict, list, str, int, float, bool or None."""


class WorkflowStatus(StrEnum):
    """Where a whole run stands; the first five are the guide's."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    PAUSED = "paused"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL_RUN


_TERMINAL_RUN = frozenset(
    {WorkflowStatus.COMPLETED, WorkflowStatus.FAILED, WorkflowStatus.CANCELLED}
)


class StepStatus(StrEnum):
    """Where one step of a run stands."""

    PENDING = "pending"
    RUNNING = "running"
    WAITING = "waiting"
    """Waiting for a person to answer; the run is paused around it."""
    COMPLETED = "completed"
    CACHED = "cached"
    """Completed with a result reused from an earlier run (cache or `use_cache`)."""
    DEGRADED = "degraded"
    """Completed with a default or partial result after a failure (`degrade`)."""
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self not in (StepStatus.PENDING, StepStatus.RUNNING, StepStatus.WAITING)

    @property
    def succeeded(self) -> bool:
        """The step produced a result its dependents can use."""
        return self in (StepStatus.COMPLETED, StepStatus.CACHED, StepStatus.DEGRADED)


class TriggerRule(StrEnum):
    """How a step treats the outcomes of its upstream steps once all have finished.

    `ALL_SUCCESS` (default): every upstream completed; a skipped or failed one skips it.
    `ALL_DONE`: run whatever happened upstream.
    `ONE_SUCCESS`: at least one upstream completed (the join after exclusive branches).
    `NONE_FAILED`: no upstream failed or was cancelled; skipped ones are fine.
    """

    ALL_SUCCESS = "all_success"
    ALL_DONE = "all_done"
    ONE_SUCCESS = "one_success"
    NONE_FAILED = "none_failed"


class FailurePolicy(StrEnum):
    """What a run does with its other steps once one step has failed for good."""

    CANCEL = "cancel"
    """Cancel in-flight steps and start no new ones (the default)."""
    CONTINUE = "continue"
    """Let branches that do not depend on the failed step run to the end."""
