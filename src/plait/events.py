"""State-change events: the one narrow channel every observer of a run listens on.

The runner emits one event per transition; a store journals them, the monitor
counts them, and live views draw them. They are created only when someone
listens, so a run without listeners pays nothing for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from plait.types import StepStatus, WorkflowStatus


@dataclass(frozen=True, slots=True)
class RunStarted:
    run_id: str
    workflow_id: str
    inputs: dict[str, Any]
    steps: tuple[str, ...]
    at: float
    agents: tuple[str | None, ...] = ()
    """The agent label of each step, in the order of `steps`."""


@dataclass(frozen=True, slots=True)
class StepStarted:
    """An attempt of a step began (attempts count from 1)."""

    run_id: str
    step_id: str
    attempt: int
    inputs: dict[str, Any]
    at: float


@dataclass(frozen=True, slots=True)
class StepRetrying:
    """An attempt failed and another will start after `delay` seconds."""

    run_id: str
    step_id: str
    attempt: int
    error: BaseException
    delay: float
    at: float
    strategy: str = ""
    """Set when a recovery strategy (not an ordinary retry) comes next."""


@dataclass(frozen=True, slots=True)
class StepFinished:
    """A step reached a final state: completed, failed, skipped or cancelled."""

    run_id: str
    step_id: str
    status: StepStatus
    attempts: int
    result: Any
    error: BaseException | None
    duration: float
    at: float
    reason: str = ""
    """Why a step was skipped or cancelled, in words."""


@dataclass(frozen=True, slots=True)
class StepUsage:
    """A model call inside a step used tokens (and cost money)."""

    run_id: str
    step_id: str
    attempt: int
    model: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    at: float


@dataclass(frozen=True, slots=True)
class StepProgress:
    """A step reports progress while it runs (e.g. streamed model tokens)."""

    run_id: str
    step_id: str
    attempt: int
    text: str
    at: float


@dataclass(frozen=True, slots=True)
class RunFinished:
    """The run stopped: terminal, or paused waiting to be resumed."""

    run_id: str
    workflow_id: str
    status: WorkflowStatus
    error: BaseException | None
    duration: float
    at: float


Event = (
    RunStarted | StepStarted | StepRetrying | StepFinished | StepUsage | StepProgress | RunFinished
)


class Listener(Protocol):
    """Receives every state change of the runs it is attached to, in order."""

    def on_event(self, event: Event) -> None: ...
