"""The guide's workflow values: `WorkflowStep`, `WorkflowDefinition`, and declared inputs.

They keep the guide's field names and order, so its examples construct them as
written. They are frozen: a definition is built once, then compiled into an
immutable plan (`WorkflowDefinition.compile()`), which is what runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from plait.errors import SourceMap
from plait.retry import RetryPolicy
from plait.types import FailurePolicy, TriggerRule

if TYPE_CHECKING:
    from plait.graph import Plan

Condition = Callable[[Mapping[str, Any]], Any] | str
"""A callable of the context (step_id -> result), or an expression string."""

INPUT_TYPES = ("string", "integer", "number", "boolean", "object", "array", "any")


@dataclass(frozen=True, slots=True)
class InputSpec:
    """A run input the workflow declares, with its type and default."""

    name: str
    type: str = "any"
    """One of string, integer, number, boolean, object, array, any."""
    default: Any = None
    required: bool = False
    """A required input has no default and must be given at run time."""
    description: str = ""


@dataclass(frozen=True, slots=True)
class ApprovalPolicy:
    """What a person is asked at an `approval` step, who may answer, and for how long."""

    prompt: str = "Please review"
    assignees: tuple[str, ...] = ()
    """Who may answer; empty means anyone with access to the store."""
    timeout_seconds: float | None = None
    """After this long without an answer, `default` is applied (if set)."""
    default: str | None = None
    """`approve` or `reject`: the outcome when the timeout passes. Without a default,
    a timeout fails the step (and without a timeout, the request waits forever)."""


@dataclass(frozen=True, slots=True)
class Budget:
    """Limits on what one run may spend on models; a step that would pass them fails the run."""

    max_cost_usd: float | None = None
    max_tokens: int | None = None


RECOVERY_STRATEGIES = ("extend_timeout", "use_cache", "human_review", "degrade")


@dataclass(frozen=True, slots=True)
class RecoveryStrategy:
    """One way to recover a step once its ordinary retries are spent (the guide's four).

    - `extend_timeout`: on a timeout, try again with the timeout times `factor`
      (up to `max_timeout_seconds`), `attempts` times.
    - `use_cache`: on a connection error, use this step's last successful result for
      the same inputs, if it is at most `max_age_seconds` old; the step is CACHED.
    - `human_review`: on a validation error, ask a person (an approval request with
      the error and inputs); their answer's data becomes the result.
    - `degrade`: return `default` (or the partial result the action exposed through
      `context.partial(...)` or an exception's `partial_result`); the step is DEGRADED.
    """

    strategy: str
    on: tuple[type[BaseException], ...] = ()
    """Error types this strategy handles; empty means the strategy's usual ones."""
    factor: float = 2.0
    max_timeout_seconds: float | None = None
    attempts: int = 1
    max_age_seconds: float | None = None
    prompt: str = "A step failed validation; please review its inputs and give the result"
    assignees: tuple[str, ...] = ()
    default: Any = None

    def handles(self, error: BaseException) -> bool:
        kinds = self.on or _DEFAULT_ERRORS[self.strategy]
        return isinstance(error, kinds)


_DEFAULT_ERRORS: dict[str, tuple[type[BaseException], ...]] = {
    "extend_timeout": (TimeoutError,),
    "use_cache": (ConnectionError,),
    "human_review": (ValueError,),
    "degrade": (Exception,),
}


@dataclass(frozen=True, slots=True)
class CachePolicy:
    """Reuse a step's result across runs when its action and resolved inputs are the same."""

    ttl_seconds: float | None = None
    """How long a cached result stays valid; None keeps it until cleared."""
    version: str = ""
    """Change it to invalidate earlier results (e.g. after changing the action's logic)."""


@dataclass(frozen=True, slots=True)
class Trigger:
    """What starts a workflow without a person typing `plait run`: an event type or a cron."""

    event: str | None = None
    """Start a run for each event of this type (`POST /events {type, data, id}`)."""
    cron: str | None = None
    """Start a run on this schedule (five-field cron, in UTC)."""
    filter: str | None = None
    """A condition over the event (`type`, `data`, `id`); only matching events start runs."""
    inputs: Mapping[str, Any] = field(default_factory=dict)
    """Run inputs; strings may hold `{{ event.data.field }}` references."""


STEP_KINDS = ("task", "approval")


@dataclass(frozen=True, eq=False)
class WorkflowStep:
    """One step of a workflow: an agent's action with its inputs and policies.

    `retry_count` is the number of attempts and counts the first try (as in the
    guide's engine); 0 is read as 1. `timeout_seconds` bounds each attempt; `None`
    means no limit.
    """

    step_id: str
    agent: Any = None
    """Who does the work: an agent object or a label; names the per-agent limit."""
    action: Callable[..., Any] | str | None = None
    """The callable, or `"module:callable"` / `"path/file.py:callable"`."""
    inputs: Mapping[str, Any] = field(default_factory=dict)
    """Keyword arguments for the action; strings may hold `{{ step.result }}` references."""
    dependencies: Sequence[str] | None = None
    """Steps that must finish first; references add to these."""
    retry_count: int = 3
    timeout_seconds: float | None = 300
    condition: Condition | None = None
    """The step is SKIPPED unless this is true once its dependencies are done."""
    trigger_rule: TriggerRule | str = TriggerRule.ALL_SUCCESS
    retry: RetryPolicy | None = None
    """Backoff and which errors are retried; the default waits 1 s, 2 s, 4 s ... + jitter."""
    description: str = ""
    kind: str = "task"
    """`task` runs the action; `approval` asks a person, and their answer is the result."""
    approval: ApprovalPolicy | None = None
    recovery: Sequence[RecoveryStrategy] | None = None
    """Tried in order once retries are spent; None uses the workflow's `recovery`."""
    cache: CachePolicy | None = None
    source: SourceMap | None = field(default=None, compare=False, repr=False)
    """Where the step was declared, for error messages (set by the loader)."""
    executor: str | None = None
    """Where the action runs: `local` (default), `process` (a process pool, for CPU-bound
    Python) or `ray` (Ray tasks on a cluster); None takes the workflow's `executor`."""

    def __post_init__(self) -> None:
        # Freeze the containers a caller may still hold, so a definition cannot
        # change under a running plan (the guide's "immutable state" practice).
        if self.inputs is None:
            object.__setattr__(self, "inputs", {})
        elif isinstance(self.inputs, Mapping):
            object.__setattr__(self, "inputs", dict(self.inputs))
        # Anything else is left for compile() to report, with the step's location.
        if isinstance(self.dependencies, str):  # one id given without a list
            object.__setattr__(self, "dependencies", (self.dependencies,))
        elif self.dependencies is not None:
            object.__setattr__(self, "dependencies", tuple(self.dependencies))
        if self.recovery is not None:
            object.__setattr__(self, "recovery", tuple(self.recovery))

    @property
    def agent_label(self) -> str | None:
        """The name per-agent limits and metrics use for this step's agent."""
        agent = self.agent
        if agent is None:
            return None
        if isinstance(agent, str):
            return agent
        name = getattr(agent, "name", None)
        return name if isinstance(name, str) else type(agent).__name__


@dataclass(frozen=True, eq=False)
class WorkflowDefinition:
    """A complete workflow: its steps and what happens when it ends."""

    workflow_id: str
    name: str
    description: str
    steps: Sequence[WorkflowStep]
    error_handler: Callable[..., Any] | None = None
    """Called as `error_handler(error, results)` when the run fails (sync or async)."""
    success_callback: Callable[..., Any] | None = None
    """Called as `success_callback(results)` when the run completes (sync or async)."""
    inputs: Mapping[str, InputSpec] = field(default_factory=dict)
    """Declared run inputs; `{{ inputs.NAME }}` reads them."""
    output: Any = None
    """What the run returns as `output`: a value that may hold references."""
    max_concurrency: int | None = None
    """At most this many steps of one run execute at once."""
    agent_concurrency: Mapping[str, int] = field(default_factory=dict)
    """At most N steps of one run per agent label execute at once."""
    on_failure: FailurePolicy | str = FailurePolicy.CANCEL
    timeout_seconds: float | None = None
    """Bound on the whole run."""
    budget: Budget | None = None
    """Spending limits for model calls (tokens and cost) over the whole run."""
    recovery: Sequence[RecoveryStrategy] = ()
    """Recovery for steps that declare none of their own."""
    triggers: Sequence[Trigger] = ()
    """Events and schedules that start runs when the workflow is served (`plait serve`)."""
    source: str | None = field(default=None, compare=False, repr=False)
    """The file the definition came from, if any."""
    executor: str | None = None
    """Where steps that name none run their actions: `local`, `process` or `ray`."""
    _plan: Plan | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "steps", tuple(self.steps))
        specs = self.inputs
        if isinstance(specs, Sequence):  # a list of names is accepted for convenience
            specs = {name: InputSpec(name) for name in specs}
        object.__setattr__(self, "inputs", dict(specs))
        object.__setattr__(self, "agent_concurrency", dict(self.agent_concurrency))
        object.__setattr__(self, "recovery", tuple(self.recovery))
        object.__setattr__(self, "triggers", tuple(self.triggers))

    def compile(self) -> Plan:
        """Validate once and return the immutable plan the engine runs.

        Raises:
            DefinitionError: listing every problem found, each with its location.
        """
        plan = self._plan
        if plan is None:
            from plait.graph import compile_plan

            plan = compile_plan(self)
            object.__setattr__(self, "_plan", plan)
        return plan

    def step(self, step_id: str) -> WorkflowStep:
        """The step with this id."""
        for step in self.steps:
            if step.step_id == step_id:
                return step
        raise KeyError(step_id)
