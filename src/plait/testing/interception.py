"""Interception: every step action of a kit run goes through one wrapper, which counts the
call, injects faults, and answers from an override or a cassette, else calls the action.

Declared workflows get a copy of their definition with each action wrapped
(`dataclasses.replace`); the definition itself is never changed. Code-first steps
are module-level `StepFunction` objects, so their compiled step is swapped for one
with a wrapped action for the duration of a kit call, then put back. Wrappers are
shared by runs: each call finds its run's `RunPlan` through `context.run_id`, which
is why a wrapper always asks the engine for `context=` (the original action still
receives it only if it asked for it).

Wrappers keep the action's name, module, annotations and signature, so argument
checks, fingerprints, cache keys and typed results behave as without the kit.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
import functools
import inspect
import types
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, final

from plait.codefirst import StepFunction, WorkflowFunction
from plait.definition import WorkflowDefinition
from plait.policies import AttemptTimeout
from plait.testing.cassette import CassetteMismatchError
from plait.testing.faults import Fault
from plait.testing.overrides import INJECTED, StepScript, call

if TYPE_CHECKING:
    from plait.graph import CompiledStep
    from plait.testing.cassette import Replay


@final
@dataclass(frozen=True, slots=True)
class ActionInfo:
    """What a wrapper knows about the action it stands in front of."""

    fn: Callable[..., Any]
    wants_context: bool
    """Whether the original action takes `context=`."""
    step_id: str
    """The declared step id, or the code-first step's name."""
    agent: str | None
    timeout: float | None
    """The step's `timeout_seconds` (None: no limit)."""


@dataclass(slots=True)
class RunPlan:
    """What one kit call does to the steps of one run, and what it saw them do."""

    scripts: dict[str, StepScript]
    faults: tuple[Fault, ...]
    replay: Replay | None
    virtual: bool
    """Whether the loop's time is virtual (then an injected timeout hangs until it fires)."""
    executions: Counter[str] = field(default_factory=Counter)
    """Step key -> how many times the engine called its action."""
    mismatches: list[CassetteMismatchError] = field(default_factory=list)
    """Replayed steps whose inputs differed from the recording (the kit call raises the first)."""

    def script_for(self, key: str) -> StepScript | None:
        found = self.scripts.get(key)
        return found if found is not None else self.scripts.get(key.partition("#")[0])


@final
class Interceptor:
    """Routes each wrapped call to the plan of its run; without one, calls the action."""

    def __init__(self) -> None:
        self.plans: dict[str, RunPlan] = {}
        self._definitions: dict[int, tuple[WorkflowDefinition, WorkflowDefinition]] = {}
        self._swapped: dict[StepFunction[Any, Any], tuple[CompiledStep, int]] = {}

    # --- the call --------------------------------------------------------------------------

    async def dispatch(
        self, info: ActionInfo, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        context = kwargs.get("context") if info.wants_context else kwargs.pop("context", None)
        inputs = {k: v for k, v in kwargs.items() if k != "context"}
        run_id = getattr(context, "run_id", None)
        key = getattr(context, "step_id", None) or info.step_id
        plan = self.plans.get(run_id) if isinstance(run_id, str) else None
        if run_id is None and len(self.plans) == 1:  # an action whose signature hides context
            plan = next(iter(self.plans.values()))
        if plan is None:
            return await call(info.fn, args, kwargs)
        plan.executions[key] += 1
        attempt = getattr(context, "attempt", 0) or plan.executions[key]
        for fault in plan.faults:
            if fault.strikes(key, attempt):
                await _strike(fault, info, attempt, plan.virtual)
        script = plan.script_for(key)
        if script is not None:
            return await script.next().produce(inputs, context)
        replay = plan.replay
        if replay is not None and replay.selects(key, info.agent):
            try:
                return replay.answer(key, inputs, info.fn)
            except CassetteMismatchError as mismatch:
                plan.mismatches.append(mismatch)
                raise
        return await call(info.fn, args, kwargs)

    # --- declared workflows ------------------------------------------------------------------

    def wrap_definition(self, definition: WorkflowDefinition) -> WorkflowDefinition:
        """A copy of `definition` whose task steps call through this interceptor (cached)."""
        cached = self._definitions.get(id(definition))
        if cached is not None and cached[0] is definition:
            return cached[1]
        plan = definition.compile()
        steps = []
        for step in definition.steps:
            cs = plan.steps[plan.index_of[step.step_id]]
            if cs.is_approval:
                steps.append(step)
                continue
            info = ActionInfo(cs.fn, cs.wants_context, cs.step_id, cs.agent, cs.timeout)
            steps.append(dataclasses.replace(step, action=self._wrapper(info)))
        wrapped = dataclasses.replace(definition, steps=steps)
        self._definitions[id(definition)] = (definition, wrapped)
        return wrapped

    def _wrapper(self, info: ActionInfo) -> Callable[..., Any]:
        async def action(*args: Any, **kwargs: Any) -> Any:
            return await self.dispatch(info, args, kwargs)

        functools.update_wrapper(action, info.fn)
        signature = _asking_for_context(info.fn)
        if signature is not None:
            action.__signature__ = signature  # type: ignore[attr-defined]
        return action

    # --- code-first workflows ------------------------------------------------------------------

    @contextlib.contextmanager
    def swapped(self, steps: Mapping[str, StepFunction[Any, Any]]) -> Iterator[None]:
        """Route these step functions through the interceptor while inside."""
        for step in steps.values():
            original, users = self._swapped.get(step, (step.compiled, 0))
            if users == 0:
                c = original
                info = ActionInfo(c.fn, c.wants_context, step.name, c.agent, c.timeout)
                step.compiled = dataclasses.replace(
                    c, fn=self._wrapper(info), is_async=True, wants_context=True
                )
            self._swapped[step] = (original, users + 1)
        try:
            yield
        finally:
            for step in steps.values():
                original, users = self._swapped[step]
                if users == 1:
                    step.compiled = original
                    del self._swapped[step]
                else:
                    self._swapped[step] = (original, users - 1)


def step_functions(workflow: WorkflowFunction[Any, Any]) -> dict[str, StepFunction[Any, Any]]:
    """The `@plait.step` functions a code-first workflow can reach, by name.

    Looked up where the workflow's code finds them: its module's globals, its
    closure, and the attributes of modules it imported (`steps.fetch(...)`).
    """
    fn = inspect.unwrap(workflow.fn)
    found: dict[str, StepFunction[Any, Any]] = {}
    values: list[Any] = list(getattr(fn, "__globals__", {}).values())
    values += [cell.cell_contents for cell in getattr(fn, "__closure__", None) or ()]
    for value in values:
        if isinstance(value, types.ModuleType):
            for inner in list(vars(value).values()):
                if isinstance(inner, StepFunction):
                    found.setdefault(inner.name, inner)
        elif isinstance(value, StepFunction):
            found[value.name] = value
    return found


def _asking_for_context(fn: Callable[..., Any]) -> inspect.Signature | None:
    """`fn`'s signature, plus a `context` keyword if it has none (so the engine passes one)."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    params = list(signature.parameters.values())
    if "context" in signature.parameters or any(p.kind is p.VAR_KEYWORD for p in params):
        return signature
    extra = inspect.Parameter("context", inspect.Parameter.KEYWORD_ONLY, default=None)
    return signature.replace(parameters=[*params, extra])


async def _strike(fault: Fault, info: ActionInfo, attempt: int, virtual: bool) -> None:
    if fault.kind == "error":
        assert fault.exception is not None
        raise copy.copy(fault.exception)
    if fault.kind == "delay":
        await asyncio.sleep(fault.seconds)
    elif fault.kind == "timeout":
        if virtual and info.timeout is not None:
            # Hang: the engine's own timeout cancels the attempt, at once in virtual time.
            await asyncio.get_running_loop().create_future()
        raise AttemptTimeout(
            f"attempt {attempt} ran past timeout_seconds={info.timeout} ({INJECTED})"
        )
