"""Reading a workflow from YAML or JSON into a `WorkflowDefinition`, with every error located.

The file is parsed once into PyYAML nodes, so each value keeps the line it came
from; the field shapes are checked by pydantic models (unknown fields, wrong
types); then `WorkflowDefinition.compile()` checks the graph. Every problem
names the file, the line and the field. JSON files go through the same YAML
parser, which reads JSON as it is written.
"""

from __future__ import annotations

import builtins
import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from plait.definition import (
    INPUT_TYPES,
    ApprovalPolicy,
    Budget,
    CachePolicy,
    InputSpec,
    RecoveryStrategy,
    Trigger,
    WorkflowDefinition,
    WorkflowStep,
)
from plait.errors import DefinitionError, Location, Problem, SourceMap
from plait.retry import RetryPolicy

LinePath = tuple[str | int, ...]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class RetrySpec(_Model):
    initial_delay: float = Field(default=1.0, ge=0)
    max_delay: float = Field(default=60.0, ge=0)
    multiplier: float = Field(default=2.0, ge=1)
    jitter: float = Field(default=1.0, ge=0)
    retry_on: list[str] = Field(default_factory=lambda: ["Exception"])
    no_retry_on: list[str] = Field(default_factory=list)


class InputSpecModel(_Model):
    type: Literal["string", "integer", "number", "boolean", "object", "array", "any"] = "any"
    default: Any = None
    required: bool | None = None
    description: str = ""


class ApprovalSpec(_Model):
    prompt: str = "Please review"
    assignees: list[str] = Field(default_factory=list)
    timeout_seconds: float | None = Field(default=None, gt=0)
    default: Literal["approve", "reject"] | None = None

    @field_validator("timeout_seconds", mode="before")
    @classmethod
    def _whole_seconds_are_fine(cls, value: Any) -> Any:
        return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


class RecoverySpec(_Model):
    strategy: Literal["extend_timeout", "use_cache", "human_review", "degrade"]
    on: list[str] = Field(default_factory=list)
    factor: float = Field(default=2.0, gt=1)
    max_timeout_seconds: float | None = Field(default=None, gt=0)
    attempts: int = Field(default=1, ge=1)
    max_age_seconds: float | None = Field(default=None, gt=0)
    prompt: str | None = None
    assignees: list[str] = Field(default_factory=list)
    default: Any = None

    @field_validator("factor", "max_timeout_seconds", "max_age_seconds", mode="before")
    @classmethod
    def _whole_numbers_are_fine(cls, value: Any) -> Any:
        return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


class CacheSpec(_Model):
    ttl_seconds: float | None = Field(default=None, gt=0)
    version: str = ""

    @field_validator("ttl_seconds", mode="before")
    @classmethod
    def _whole_seconds_are_fine(cls, value: Any) -> Any:
        return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


class StepSpec(_Model):
    step_id: str
    kind: Literal["task", "approval"] = "task"
    agent: str | None = None
    action: str | None = None
    approval: ApprovalSpec | None = None
    inputs: dict[str, Any] = Field(default_factory=dict)
    dependencies: list[str] | None = None
    retry_count: int = Field(default=3, ge=0)
    timeout_seconds: float | None = Field(default=300, gt=0)
    condition: str | None = None
    trigger_rule: Literal["all_success", "all_done", "one_success", "none_failed"] = "all_success"
    retry: RetrySpec | None = None
    recovery: list[RecoverySpec] | None = None
    cache: CacheSpec | None = None
    description: str = ""
    executor: Literal["local", "process", "ray"] | None = None

    @field_validator("timeout_seconds", mode="before")
    @classmethod
    def _whole_seconds_are_fine(cls, value: Any) -> Any:
        return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


class BudgetSpec(_Model):
    max_cost_usd: float | None = Field(default=None, ge=0)
    max_tokens: int | None = Field(default=None, ge=0)


class TriggerSpec(_Model):
    event: str | None = None
    cron: str | None = None
    filter: str | None = None
    inputs: dict[str, Any] = Field(default_factory=dict)


class WorkflowSpec(_Model):
    workflow_id: str
    name: str | None = None
    description: str = ""
    inputs: dict[str, InputSpecModel | str] = Field(default_factory=dict)
    steps: list[StepSpec] = Field(min_length=1)
    output: Any = None
    max_concurrency: int | None = Field(default=None, ge=1)
    agent_concurrency: dict[str, int] = Field(default_factory=dict)
    on_failure: Literal["cancel", "continue"] = "cancel"
    timeout_seconds: float | None = Field(default=None, gt=0)
    budget: BudgetSpec | None = None
    recovery: list[RecoverySpec] = Field(default_factory=list)
    triggers: list[TriggerSpec] = Field(default_factory=list)
    executor: Literal["local", "process", "ray"] | None = None

    @field_validator("timeout_seconds", mode="before")
    @classmethod
    def _whole_seconds_are_fine(cls, value: Any) -> Any:
        return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


def load_workflow(path: str | Path) -> WorkflowDefinition:
    """Read, check and compile a workflow file.

    Raises:
        DefinitionError: every problem, each with file, line and field.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DefinitionError([Problem("no such file", Location(str(path)))]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DefinitionError(
            [Problem(f"cannot read the file: {exc}", Location(str(path)))]
        ) from None
    definition = parse_workflow(text, source=str(path))
    definition.compile()
    return definition


def parse_workflow(text: str, *, source: str | None = None) -> WorkflowDefinition:
    """Build a (not yet compiled) definition from YAML or JSON text."""
    data, lines = _parse_with_lines(text, source)
    if not isinstance(data, Mapping):
        raise DefinitionError(
            [
                Problem(
                    "a workflow file holds a mapping with workflow_id, name, steps ...",
                    Location(source, 1),
                )
            ]
        )
    try:
        spec = WorkflowSpec.model_validate(data)
    except ValidationError as exc:
        raise DefinitionError(_pydantic_problems(exc, lines, source)) from None
    problems: list[Problem] = []
    steps = [_build_step(s, k, lines, source, problems) for k, s in enumerate(spec.steps)]
    inputs = {}
    for name, raw in spec.inputs.items():
        model = InputSpecModel(type=raw) if isinstance(raw, str) else raw  # type: ignore[arg-type]
        if isinstance(raw, str) and raw not in INPUT_TYPES:
            problems.append(
                Problem(
                    f"unknown input type {raw!r}; use one of {', '.join(INPUT_TYPES)}",
                    Location(source, _line(lines, ("inputs", name)), f"inputs.{name}"),
                )
            )
            continue
        required = (
            model.required
            if model.required is not None
            else ("default" not in _raw_fields(data, name))
        )
        inputs[name] = InputSpec(name, model.type, model.default, required, model.description)
    default_recovery = _recovery(
        spec.recovery, Location(source, _line(lines, ("recovery",)), "recovery"), problems
    )
    triggers = []
    for k, t in enumerate(spec.triggers):
        where = Location(source, _line(lines, ("triggers", k)), f"triggers[{k}]")
        if (t.event is None) == (t.cron is None):
            problems.append(
                Problem("a trigger has either `event: TYPE` or `cron: SCHEDULE`", where)
            )
            continue
        triggers.append(Trigger(t.event, t.cron, t.filter, t.inputs))
    if problems:
        raise DefinitionError(problems)
    return WorkflowDefinition(
        workflow_id=spec.workflow_id,
        name=spec.name or spec.workflow_id,
        description=spec.description,
        steps=steps,
        inputs=inputs,
        output=spec.output,
        max_concurrency=spec.max_concurrency,
        agent_concurrency=spec.agent_concurrency,
        executor=spec.executor,
        on_failure=spec.on_failure,
        timeout_seconds=spec.timeout_seconds,
        budget=Budget(spec.budget.max_cost_usd, spec.budget.max_tokens) if spec.budget else None,
        recovery=default_recovery,
        triggers=triggers,
        source=source,
    )


def _raw_fields(data: Mapping[str, Any], input_name: str) -> Mapping[str, Any]:
    raw = data.get("inputs", {}).get(input_name)
    return raw if isinstance(raw, Mapping) else {}


def _build_step(
    spec: StepSpec, k: int, lines: dict[LinePath, int], source: str | None, problems: list[Problem]
) -> WorkflowStep:
    prefix = ("steps", k)
    field_lines = tuple(
        (str(path[2]), line)
        for path, line in lines.items()
        if len(path) == 3 and path[:2] == prefix
    )
    src = SourceMap(source, _line(lines, prefix), field_lines, f"steps[{k}]")
    retry = None
    if spec.retry is not None:
        try:
            retry = RetryPolicy(
                initial_delay=spec.retry.initial_delay,
                max_delay=spec.retry.max_delay,
                multiplier=spec.retry.multiplier,
                jitter=spec.retry.jitter,
                retry_on=tuple(_exception_type(n) for n in spec.retry.retry_on),
                no_retry_on=tuple(_exception_type(n) for n in spec.retry.no_retry_on),
            )
        except ValueError as exc:
            problems.append(Problem(str(exc), src.at("retry")))
    recovery = None
    if spec.recovery is not None:
        recovery = _recovery(spec.recovery, src.at("recovery"), problems)
    approval = None
    if spec.approval is not None:
        a = spec.approval
        approval = ApprovalPolicy(a.prompt, tuple(a.assignees), a.timeout_seconds, a.default)
    return WorkflowStep(
        step_id=spec.step_id,
        kind=spec.kind,
        approval=approval,
        agent=spec.agent,
        executor=spec.executor,
        action=spec.action,
        inputs=spec.inputs,
        dependencies=spec.dependencies,
        retry_count=spec.retry_count,
        timeout_seconds=spec.timeout_seconds,
        condition=spec.condition,
        trigger_rule=spec.trigger_rule,
        retry=retry,
        recovery=recovery,
        cache=CachePolicy(spec.cache.ttl_seconds, spec.cache.version) if spec.cache else None,
        description=spec.description,
        source=src,
    )


def _recovery(
    specs: list[RecoverySpec], where: Location, problems: list[Problem]
) -> tuple[RecoveryStrategy, ...]:
    strategies = []
    for spec in specs:
        try:
            kinds = tuple(_exception_type(name) for name in spec.on)
        except ValueError as exc:
            problems.append(Problem(str(exc), where))
            continue
        extra = {"prompt": spec.prompt} if spec.prompt else {}
        strategies.append(
            RecoveryStrategy(
                spec.strategy,
                kinds,
                spec.factor,
                spec.max_timeout_seconds,
                spec.attempts,
                spec.max_age_seconds,
                assignees=tuple(spec.assignees),
                default=spec.default,
                **extra,
            )
        )
    return tuple(strategies)


def _exception_type(name: str) -> type[BaseException]:
    """`ConnectionError` (a builtin) or `package.module.ErrorClass` / `package.module:Error`."""
    if ":" not in name and "." not in name:
        found = getattr(builtins, name, None)
    else:
        module_name, _, attr = name.replace(":", ".").rpartition(".")
        try:
            found = getattr(importlib.import_module(module_name), attr, None)
        except ImportError:
            found = None
    if not (isinstance(found, type) and issubclass(found, BaseException)):
        raise ValueError(
            f"{name!r} is not an exception type: use a builtin name such as ConnectionError, "
            "or 'package.module.ErrorClass'"
        )
    return found


def _parse_with_lines(text: str, source: str | None) -> tuple[Any, dict[LinePath, int]]:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        what = exc.problem or "invalid YAML"
        raise DefinitionError([Problem(f"cannot parse: {what}", Location(source, line))]) from None
    except yaml.YAMLError as exc:
        raise DefinitionError([Problem(f"cannot parse: {exc}", Location(source))]) from None
    finally:
        loader.dispose()
    lines: dict[LinePath, int] = {}
    if node is not None:
        _index_lines(node, (), lines)
    return data, lines


def _index_lines(node: yaml.Node, path: LinePath, lines: dict[LinePath, int]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            lines[(*path, key)] = key_node.start_mark.line + 1
            _index_lines(value_node, (*path, key), lines)
    elif isinstance(node, yaml.SequenceNode):
        for k, item in enumerate(node.value):
            _index_lines(item, (*path, k), lines)


def _line(lines: dict[LinePath, int], path: LinePath) -> int | None:
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get(())


def _pydantic_problems(
    exc: ValidationError, lines: dict[LinePath, int], source: str | None
) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
        loc = tuple(p for p in loc if p not in ("InputSpecModel", "str"))
        field = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[")
        message = _friendly(err)
        problems.append(Problem(message, Location(source, _line(lines, loc), field or None)))
    # A union (inputs given as a type name or a mapping) reports once per branch.
    unique = list(dict.fromkeys(problems))
    return unique


def _friendly(err: Any) -> str:
    kind = err["type"]
    if kind == "missing":
        return "this field is required"
    if kind == "extra_forbidden":
        return "unknown field (check its spelling against the docs)"
    value = err.get("input")
    shown = repr(value) if not isinstance(value, dict | list) else type(value).__name__
    return f"{err['msg'].rstrip('.')}; got {shown}"


def load_target(target: str | Path) -> Any:
    """A workflow file (YAML/JSON), or a code-first `file.py:function` / `module:function`.

    Raises:
        DefinitionError: the file is invalid, or the target is not a workflow.
    """
    text = str(target)
    suffix = Path(text.rsplit(":", 1)[0]).suffix if ":" in text else Path(text).suffix
    if suffix in (".yaml", ".yml", ".json") or (":" not in text):
        return load_workflow(text)
    from plait.actions import ActionImportError, resolve_action
    from plait.codefirst import WorkflowFunction

    module_part = text.rpartition(":")[0]
    try:
        found = resolve_action(text, Path.cwd())
    except ActionImportError as exc:
        raise DefinitionError([Problem(str(exc), Location(module_part))]) from None
    if not isinstance(found, WorkflowFunction):
        raise DefinitionError(
            [
                Problem(
                    f"{text} is not a workflow: decorate the function with @plait.workflow",
                    Location(module_part),
                )
            ]
        )
    if module_part.endswith(".py"):
        found.source = f"{Path(module_part).resolve()}:{text.rpartition(':')[2]}"
    else:
        found.source = text
    return found
