"""plait: durable, fast workflows for AI agents.

Layering, from the bottom: `types` and `errors`; `definition` (the guide's values);
`expressions` and `graph` (pure compilation into a `Plan`); `scheduler` (a pure
state machine); `runner` (the async shell that executes a plan); `engine` (the
guide's `WorkflowEngine`). `loader` and `cli` sit on top. Only the names below are
public; everything heavy is imported lazily.
"""

from __future__ import annotations

from plait.codefirst import DivergenceError, sleep, step, wait_for_approval, workflow
from plait.definition import (
    ApprovalPolicy,
    Budget,
    CachePolicy,
    InputSpec,
    RecoveryStrategy,
    Trigger,
    WorkflowDefinition,
    WorkflowStep,
)
from plait.engine import WorkflowEngine
from plait.errors import (
    BudgetExceededError,
    DefinitionError,
    ExpressionError,
    InputError,
    PlaitError,
    StepFailedError,
    StepTimeoutError,
    WorkflowTimeoutError,
)
from plait.retry import RetryPolicy
from plait.types import FailurePolicy, StepStatus, TriggerRule, WorkflowStatus

__version__ = "0.1.0"

__all__ = [
    "ApprovalPolicy",
    "Budget",
    "BudgetExceededError",
    "CachePolicy",
    "DefinitionError",
    "DivergenceError",
    "ExpressionError",
    "FailurePolicy",
    "InputError",
    "InputSpec",
    "PlaitError",
    "RecoveryStrategy",
    "RetryPolicy",
    "StepFailedError",
    "StepStatus",
    "StepTimeoutError",
    "Trigger",
    "TriggerRule",
    "WorkflowDefinition",
    "WorkflowEngine",
    "WorkflowStatus",
    "WorkflowStep",
    "WorkflowTimeoutError",
    "__version__",
    "sleep",
    "step",
    "wait_for_approval",
    "workflow",
]
