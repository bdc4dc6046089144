"""Validation and compilation of a definition into an integer-indexed `Plan`; pure, no I/O.

Compilation happens once per definition. It gathers every problem (not just the
first), so a user fixes a file in one pass, and it precomputes all the engine
needs per step: predecessor and successor indexes, parsed references, compiled
conditions, the call style of the action and the critical-path priority.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plait import actions, expressions
from plait.definition import (
    RECOVERY_STRATEGIES,
    STEP_KINDS,
    CachePolicy,
    RecoveryStrategy,
)
from plait.errors import DefinitionError, ExpressionError, Location, Problem, SourceMap
from plait.retry import DEFAULT_RETRY, RetryPolicy
from plait.types import FailurePolicy, TriggerRule

if TYPE_CHECKING:
    from plait.definition import InputSpec, WorkflowDefinition, WorkflowStep


@dataclass(frozen=True, slots=True, eq=False)
class CompiledStep:
    """One step as the runner executes it."""

    index: int
    step_id: str
    step: WorkflowStep
    fn: Callable[..., Any]
    is_async: bool
    wants_context: bool
    const_inputs: dict[str, Any]
    dynamic_inputs: tuple[tuple[str, expressions.Resolver], ...]
    condition: Callable[[Any], Any] | None
    """A compiled expression of the scope, or the user's callable of the context."""
    condition_is_callable: bool
    trigger_rule: TriggerRule
    max_attempts: int
    timeout: float | None
    retry: RetryPolicy
    agent: str | None
    is_approval: bool = False
    recovery: tuple[RecoveryStrategy, ...] = ()
    cache: CachePolicy | None = None
    identity: str = ""
    """The action's name, for cache keys: `module:qualname` or the action text."""
    simple: bool = False
    executor: str | None = None
    """`process` or `ray` (see `plait.executors`); None runs the action in this process."""
    """No cache, recovery or person involved: the runner takes its fast path."""


async def _ask_a_person(**data: Any) -> Any:
    """Stands in for the action of an `approval` step; the runner never calls it."""
    raise RuntimeError("an approval step is answered by a person, not executed")


@dataclass(frozen=True, slots=True, eq=False)
class Plan:
    """An immutable, validated, integer-indexed workflow ready to run."""

    definition: WorkflowDefinition
    steps: tuple[CompiledStep, ...]
    ids: tuple[str, ...]
    index_of: Mapping[str, int]
    preds: tuple[tuple[int, ...], ...]
    succs: tuple[tuple[int, ...], ...]
    priority: tuple[int, ...]
    """Length, in steps, of the longest path from each step to an end (critical path)."""
    order: tuple[int, ...]
    """A topological order."""
    output: expressions.Resolver | None
    on_failure: FailurePolicy
    max_concurrency: int | None
    agent_limits: Mapping[str, int]
    input_specs: Mapping[str, InputSpec]

    def __len__(self) -> int:
        return len(self.steps)

    def downstream(self, step_id: str) -> set[str]:
        """The step and every step that depends on it, directly or not."""
        start = self.index_of[step_id]
        seen = {start}
        stack = [start]
        while stack:
            for j in self.succs[stack.pop()]:
                if j not in seen:
                    seen.add(j)
                    stack.append(j)
        return {self.ids[i] for i in seen}


class _Problems:
    def __init__(self, definition: WorkflowDefinition) -> None:
        self.items: list[Problem] = []
        self.file = definition.source

    def add(self, message: str, step: WorkflowStep | None, position: int, field: str) -> None:
        src = step.source if step is not None else None
        if src is not None:
            location = src.at(field)
        else:
            location = SourceMap(self.file, None, (), f"steps[{position}]").at(field)
        self.items.append(Problem(message, location))

    def add_workflow(self, message: str, field: str) -> None:
        self.items.append(Problem(message, Location(self.file, None, field)))


def compile_plan(definition: WorkflowDefinition) -> Plan:
    """Validate `definition` and build its plan.

    Raises:
        DefinitionError: every problem found, each located by file, line and field.
    """
    problems = _Problems(definition)
    steps = list(definition.steps)
    index_of: dict[str, int] = {}
    for position, step in enumerate(steps):
        sid = step.step_id
        if not isinstance(sid, str) or not expressions.IDENTIFIER.match(sid):
            problems.add(
                f"step id {sid!r} must be a name of letters, digits and underscores "
                "that does not start with a digit",
                step,
                position,
                "step_id",
            )
        elif sid == expressions.INPUTS_ROOT:
            problems.add(
                "'inputs' is reserved for run inputs; rename the step", step, position, "step_id"
            )
        if sid in index_of:
            first = steps[index_of[sid]]
            where = f" (first at line {first.source.line})" if first.source else ""
            problems.add(f"duplicate step id {sid!r}{where}", step, position, "step_id")
        else:
            index_of[sid] = position
    ids = [s.step_id for s in steps]
    base_dir = Path(definition.source).parent if definition.source else None

    preds: list[list[int]] = [[] for _ in steps]
    compiled: list[CompiledStep | None] = []
    for position, step in enumerate(steps):
        compiled.append(
            _compile_step(
                step,
                position,
                index_of,
                ids,
                definition.inputs,
                base_dir,
                preds[position],
                problems,
                tuple(definition.recovery),
                default_executor=definition.executor,
            )
        )

    succs: list[list[int]] = [[] for _ in steps]
    for j, ps in enumerate(preds):
        for i in ps:
            succs[i].append(j)
    order = _topological_order(preds, succs)
    if order is None:
        cycle = _find_cycle(preds)
        path = " -> ".join(ids[i] for i in cycle)
        problems.add(f"dependency cycle: {path}", steps[cycle[0]], cycle[0], "dependencies")

    output = None
    if definition.output is not None:
        try:
            output = expressions.compile_value(
                definition.output, lambda ref: _bind(ref, index_of, ids, definition.inputs)
            )
        except ExpressionError as exc:
            problems.add_workflow(str(exc), "output")
    limits = _check_workflow(definition, problems)
    if problems.items:
        raise DefinitionError(problems.items)
    assert order is not None
    priority = [0] * len(steps)
    for i in reversed(order):
        priority[i] = 1 + max((priority[j] for j in succs[i]), default=0)
    return Plan(
        definition=definition,
        steps=tuple(c for c in compiled if c is not None),
        ids=tuple(ids),
        index_of=index_of,
        preds=tuple(tuple(p) for p in preds),
        succs=tuple(tuple(s) for s in succs),
        priority=tuple(priority),
        order=tuple(order),
        output=output,
        on_failure=FailurePolicy(definition.on_failure),
        max_concurrency=definition.max_concurrency,
        agent_limits=limits,
        input_specs=definition.inputs,
    )


def _compile_step(
    step: WorkflowStep,
    position: int,
    index_of: Mapping[str, int],
    ids: list[str],
    input_names: Collection[str],
    base_dir: Path | None,
    preds: list[int],
    problems: _Problems,
    default_recovery: tuple[RecoveryStrategy, ...] = (),
    check_args: bool = True,
    default_executor: str | None = None,
) -> CompiledStep | None:
    ok = True

    def bad(message: str, field: str) -> None:
        nonlocal ok
        ok = False
        problems.add(message, step, position, field)

    executor = step.executor or default_executor
    if executor == "local":
        executor = None
    elif executor not in (None, "process", "ray"):
        bad(f"executor must be local, process or ray, not {executor!r}", "executor")

    # Action: a callable, or text naming one.
    fn: Callable[..., Any] | None = None
    action = step.action
    if isinstance(action, str):
        try:
            fn = actions.resolve_action(action, base_dir)
        except actions.ActionImportError as exc:
            bad(str(exc), "action")
    elif callable(action):
        fn = action
    elif step.kind == "approval" and action is None:
        fn = _ask_a_person
    else:
        bad("every step needs an action: a callable, or 'module:function' text", "action")
    if step.kind not in STEP_KINDS:
        bad(f"unknown step kind {step.kind!r}; use one of {', '.join(STEP_KINDS)}", "kind")

    # Dependencies: explicit ones merged with those inferred from references.
    deps: dict[int, None] = {}
    for dep in step.dependencies or ():
        if dep not in index_of:
            bad(f"unknown dependency {dep!r}{_suggest(dep, ids)}", "dependencies")
        elif dep == step.step_id:
            bad(f"step {dep!r} depends on itself", "dependencies")
        else:
            deps[index_of[dep]] = None

    def bind(ref: expressions.Reference) -> expressions.Resolver:
        resolver = _bind(ref, index_of, ids, input_names)
        if ref.root != expressions.INPUTS_ROOT:
            targets = (
                [index_of[s] for s in ids if fnmatchcase(s, ref.root)]
                if ref.is_wildcard
                else [index_of[ref.root]]
            )
            for t in targets:
                if t == position:
                    raise ExpressionError(
                        f"step {step.step_id!r} refers to itself", expression=ref.text
                    )
                deps[t] = None
        return resolver

    const_inputs: dict[str, Any] = {}
    dynamic: list[tuple[str, expressions.Resolver]] = []
    if not isinstance(step.inputs, Mapping):
        bad(
            f"inputs must be a mapping of names to values, not {type(step.inputs).__name__}",
            "inputs",
        )
    else:
        for key, value in step.inputs.items():
            try:
                resolver = expressions.compile_value(value, bind)
            except ExpressionError as exc:
                bad(_ref_message(exc, ids), f"inputs.{key}")
                continue
            if resolver is None:
                const_inputs[key] = value
            else:
                dynamic.append((key, resolver))

    condition: Callable[[Any], Any] | None = None
    condition_is_callable = False
    if isinstance(step.condition, str):
        try:
            text = expressions.unwrap_condition(step.condition)
            for name in expressions.condition_names(text):
                if name in index_of and index_of[name] != position:
                    deps[index_of[name]] = None
            condition = expressions.compile_condition(text, index_of)
        except ExpressionError as exc:
            bad(_ref_message(exc, ids), "condition")
    elif callable(step.condition):
        condition = step.condition
        condition_is_callable = True
    elif step.condition is not None:
        bad("condition must be an expression string or a callable of the context", "condition")

    try:
        trigger_rule = TriggerRule(step.trigger_rule)
    except ValueError:
        bad(
            f"unknown trigger_rule {step.trigger_rule!r}; use one of "
            f"{', '.join(r.value for r in TriggerRule)}",
            "trigger_rule",
        )
        trigger_rule = TriggerRule.ALL_SUCCESS
    if (
        not isinstance(step.retry_count, int)
        or isinstance(step.retry_count, bool)
        or (step.retry_count < 0)
    ):
        bad(
            f"retry_count must be a whole number of attempts >= 0, not {step.retry_count!r}",
            "retry_count",
        )
    timeout = step.timeout_seconds
    if timeout is not None and (
        not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0
    ):
        bad(
            f"timeout_seconds must be a positive number of seconds, not {timeout!r}",
            "timeout_seconds",
        )

    style = None
    if fn is _ask_a_person:
        style = actions.CallStyle(True, False, None)
    elif fn is not None:
        style = _call_style(fn)
        names = frozenset(step.inputs) if isinstance(step.inputs, Mapping) else frozenset()
        for message in _argument_problems(style, names) if check_args else ():
            bad(message, "inputs")
    recovery = tuple(step.recovery if step.recovery is not None else default_recovery)
    for strategy in recovery:
        if strategy.strategy not in RECOVERY_STRATEGIES:
            bad(
                f"unknown recovery strategy {strategy.strategy!r}; use one of "
                f"{', '.join(RECOVERY_STRATEGIES)}",
                "recovery",
            )
        elif strategy.strategy == "extend_timeout" and strategy.factor <= 1:
            bad(f"extend_timeout needs a factor above 1, not {strategy.factor!r}", "recovery")
    preds.extend(sorted(deps))
    if not ok or fn is None or style is None:
        return None
    return CompiledStep(
        index=position,
        step_id=step.step_id,
        step=step,
        fn=fn,
        is_async=style.is_async,
        wants_context=style.wants_context,
        const_inputs=const_inputs,
        dynamic_inputs=tuple(dynamic),
        condition=condition,
        condition_is_callable=condition_is_callable,
        trigger_rule=trigger_rule,
        max_attempts=max(1, step.retry_count),
        timeout=float(timeout) if timeout is not None else None,
        retry=step.retry or DEFAULT_RETRY,
        agent=step.agent_label,
        is_approval=step.kind == "approval",
        recovery=recovery,
        cache=step.cache,
        simple=step.kind != "approval" and not recovery and step.cache is None and not executor,
        identity=action if isinstance(action, str) else _identity(fn),
        executor=executor,
    )


def _identity(fn: Callable[..., Any]) -> str:
    name = getattr(fn, "__qualname__", None) or type(fn).__qualname__
    return f"{getattr(fn, '__module__', '')}:{name}"


def _check_workflow(definition: WorkflowDefinition, problems: _Problems) -> dict[str, int]:
    if not definition.steps:
        problems.add_workflow("a workflow needs at least one step", "steps")
    mc = definition.max_concurrency
    if mc is not None and (not isinstance(mc, int) or mc < 1):
        problems.add_workflow(
            f"max_concurrency must be a whole number >= 1, not {mc!r}", "max_concurrency"
        )
    limits: dict[str, int] = {}
    for agent, limit in definition.agent_concurrency.items():
        if not isinstance(limit, int) or limit < 1:
            problems.add_workflow(
                f"limit for agent {agent!r} must be a whole number >= 1",
                f"agent_concurrency.{agent}",
            )
        else:
            limits[agent] = limit
    try:
        FailurePolicy(definition.on_failure)
    except ValueError:
        problems.add_workflow(
            f"on_failure must be 'cancel' or 'continue', not {definition.on_failure!r}",
            "on_failure",
        )
    t = definition.timeout_seconds
    if t is not None and (not isinstance(t, int | float) or t <= 0):
        problems.add_workflow(
            f"timeout_seconds must be a positive number, not {t!r}", "timeout_seconds"
        )
    return limits


def _bind(
    ref: expressions.Reference,
    index_of: Mapping[str, int],
    ids: list[str],
    input_names: Collection[str],
) -> expressions.Resolver:
    # Run inputs must be declared (undeclared ones are refused at run time), so a
    # reference to an undeclared input could never resolve: report it now.
    if ref.root == expressions.INPUTS_ROOT and ref.attribute not in input_names:
        declared = ", ".join(sorted(input_names)) or "none are declared"
        raise ExpressionError(
            f"unknown input {ref.attribute!r} (declared inputs: {declared})", expression=ref.text
        )
    return expressions.bind_reference(ref, index_of, ids)


def _ref_message(exc: ExpressionError, ids: list[str]) -> str:
    message = str(exc)
    if "unknown step" in message and exc.expression:
        root = expressions.parse_reference(exc.expression).root
        message += _suggest(root, ids)
    return message


def _suggest(name: str, ids: list[str]) -> str:
    import difflib

    known = list(dict.fromkeys(ids))  # each id once, even when duplicated
    close = difflib.get_close_matches(name, known, n=1)
    return f"; did you mean {close[0]!r}?" if close else f"; known steps: {', '.join(known[:10])}"


def _topological_order(preds: list[list[int]], succs: list[list[int]]) -> list[int] | None:
    """Kahn's algorithm; `None` when there is a cycle."""
    indegree = [len(p) for p in preds]
    ready = [i for i, d in enumerate(indegree) if d == 0]
    order: list[int] = []
    while ready:
        i = ready.pop()
        order.append(i)
        for j in succs[i]:
            indegree[j] -= 1
            if indegree[j] == 0:
                ready.append(j)
    return order if len(order) == len(preds) else None


def _find_cycle(preds: list[list[int]]) -> list[int]:
    """One cycle, as a closed path of step indexes (first == last)."""
    color = [0] * len(preds)  # 0 new, 1 on the stack, 2 done
    for start in range(len(preds)):
        if color[start]:
            continue
        stack: list[tuple[int, int]] = [(start, 0)]
        path: list[int] = [start]
        color[start] = 1
        while stack:
            node, k = stack[-1]
            if k < len(preds[node]):
                stack[-1] = (node, k + 1)
                nxt = preds[node][k]
                if color[nxt] == 1:
                    cycle = [*path[path.index(nxt) :], nxt]
                    return list(reversed(cycle))  # follow dependency direction
                if color[nxt] == 0:
                    color[nxt] = 1
                    stack.append((nxt, 0))
                    path.append(nxt)
            else:
                color[node] = 2
                stack.pop()
                path.pop()
    return []


def compile_step(step: WorkflowStep) -> CompiledStep:
    """Compile one step on its own (a code-first `@plait.step`): policies and call style.

    Its inputs are the arguments of each call, so none are declared here.

    Raises:
        DefinitionError: the step's policies are invalid.
    """
    from plait.definition import WorkflowDefinition

    problems = _Problems(WorkflowDefinition(step.step_id, step.step_id, "", [step]))
    compiled = _compile_step(
        step, 0, {step.step_id: 0}, [step.step_id], (), None, [], problems, check_args=False
    )
    if problems.items or compiled is None:
        raise DefinitionError(problems.items)
    return compiled


@functools.lru_cache(maxsize=4096)
def _cached_call_style(fn: Callable[..., Any]) -> actions.CallStyle:
    return actions.call_style(fn)


def _call_style(fn: Callable[..., Any]) -> actions.CallStyle:
    """`actions.call_style`, computed once per callable: large workflows reuse a few."""
    try:
        return _cached_call_style(fn)
    except TypeError:  # an unhashable callable object
        return actions.call_style(fn)


@functools.lru_cache(maxsize=4096)
def _cached_argument_problems(style: actions.CallStyle, names: frozenset[str]) -> tuple[str, ...]:
    return tuple(actions.check_arguments(style, set(names)))


def _argument_problems(style: actions.CallStyle, names: frozenset[str]) -> tuple[str, ...]:
    try:
        return _cached_argument_problems(style, names)
    except TypeError:  # a signature with an unhashable default value
        return tuple(actions.check_arguments(style, set(names)))
