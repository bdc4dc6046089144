"""References (`{{ step.result.field }}`), string templates and safe conditions.

Everything here is parsed once when a plan is compiled and evaluated many times,
so evaluation is a few closure calls with no re-parsing. Nothing is `eval`ed:
references are plain paths, and conditions go through simpleeval, whose
evaluator walks a whitelisted subset of Python's AST and refuses dunder access,
imports, and oversized strings or powers. simpleeval was chosen over Jinja (whose
sandbox can still be stalled by `'a'*(10**9)`) and over CEL (a second syntax to
learn) because conditions read as the Python the guide writes.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, Protocol

from plait.errors import ExpressionError

TEMPLATE = re.compile(r"\{\{\s*(.*?)\s*\}\}", re.DOTALL)
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_ROOT = re.compile(r"\s*([A-Za-z_*][A-Za-z0-9_*\-]*)")
_SEGMENT = re.compile(
    r"\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)|\[\s*(-?\d+)\s*\]|\[\s*\"([^\"]*)\"\s*\]|\[\s*'([^']*)'\s*\])"
)
STEP_ATTRIBUTES = ("result", "status")
INPUTS_ROOT = "inputs"


class Scope(Protocol):
    """What references read while a run executes (kept by the runner)."""

    results: list[Any]
    statuses: list[Any]
    run_inputs: Mapping[str, Any]


Resolver = Callable[[Scope], Any]


@dataclass(frozen=True, slots=True)
class Reference:
    """A parsed `{{ root.attribute.path }}` reference."""

    text: str
    root: str
    """A step id, a step-id pattern with `*`, or `inputs`."""
    attribute: str
    """`result` or `status` for steps; the input's name for `inputs`."""
    path: tuple[str | int, ...]

    @property
    def is_wildcard(self) -> bool:
        return "*" in self.root


def parse_reference(text: str) -> Reference:
    """Parse the inside of `{{ ... }}`."""
    match = _ROOT.match(text)
    if not match:
        raise ExpressionError("a reference starts with a step id or 'inputs'", expression=text)
    root = match.group(1)
    segments: list[str | int] = []
    pos = match.end()
    while pos < len(text.rstrip()):
        seg = _SEGMENT.match(text, pos)
        if not seg:
            raise ExpressionError(
                f"cannot read the reference after {text[:pos]!r}: use .field, [0] or ['key']",
                expression=text,
            )
        name, index, dq, sq = seg.groups()
        segments.append(int(index) if index is not None else (name or dq or sq or ""))
        pos = seg.end()
    if not segments or not isinstance(segments[0], str):
        hint = "inputs.NAME" if root == INPUTS_ROOT else f"{root}.result"
        raise ExpressionError(f"incomplete reference: write {hint}", expression=text)
    attribute = segments[0]
    if root != INPUTS_ROOT and attribute not in STEP_ATTRIBUTES:
        raise ExpressionError(
            f"a step reference reads .result or .status, not .{attribute} "
            f"(did you mean {root}.result.{attribute}?)",
            expression=text,
        )
    return Reference(text, root, attribute, tuple(segments[1:]))


def references_in(value: Any) -> Iterable[Reference]:
    """Every reference inside a (possibly nested) input value."""
    if isinstance(value, str):
        if "{{" in value:
            for m in TEMPLATE.finditer(value):
                yield parse_reference(m.group(1))
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from references_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from references_in(item)


def _walk(value: Any, path: tuple[str | int, ...], ref: Reference) -> Any:
    for key in path:
        if value is None:
            # Reading into nothing gives nothing: the result of a skipped step, or an
            # optional field that is absent, so `a.result.x` is None rather than an error.
            return None
        try:
            if isinstance(key, str) and not isinstance(value, Mapping):
                if key.startswith("_"):
                    raise KeyError(key)
                value = getattr(value, key)  # dataclass or model results
            else:
                value = value[key]
        except (KeyError, IndexError, TypeError, AttributeError):
            raise ExpressionError(
                f"{_describe(value)} has no {key!r}", expression=ref.text
            ) from None
    return value


def _describe(value: Any) -> str:
    if isinstance(value, Mapping):
        keys = ", ".join(map(str, list(value)[:8]))
        return f"the value (keys: {keys})" if keys else "the empty mapping"
    if isinstance(value, list | tuple):
        return f"the list of {len(value)} items"
    return f"the {type(value).__name__} value"


def bind_reference(ref: Reference, index_of: Mapping[str, int], order: list[str]) -> Resolver:
    """Turn a parsed reference into a resolver over a running scope.

    Raises:
        ExpressionError: if the reference names a step or input that does not exist.
    """
    path = ref.path
    if ref.root == INPUTS_ROOT:
        name = ref.attribute

        def read_input(scope: Scope) -> Any:
            try:
                value = scope.run_inputs[name]
            except KeyError:
                raise ExpressionError(f"no run input {name!r}", expression=ref.text) from None
            return _walk(value, path, ref) if path else value

        return read_input
    field_index = 0 if ref.attribute == "result" else 1
    if ref.is_wildcard:
        matches = [index_of[s] for s in order if fnmatchcase(s, ref.root)]
        if not matches:
            raise ExpressionError(f"no step id matches {ref.root!r}", expression=ref.text)

        def read_many(scope: Scope) -> Any:
            column = scope.results if field_index == 0 else scope.statuses
            return [_walk(column[i], path, ref) if path else column[i] for i in matches]

        return read_many
    if ref.root not in index_of:
        raise ExpressionError(f"unknown step {ref.root!r}", expression=ref.text)
    i = index_of[ref.root]
    if field_index == 1:
        return lambda scope: (
            _walk(str(scope.statuses[i]), path, ref) if path else str(scope.statuses[i])
        )
    if not path:
        return lambda scope: scope.results[i]
    return lambda scope: _walk(scope.results[i], path, ref)


def _to_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, default=str)
    return str(value)


def compile_value(value: Any, bind: Callable[[Reference], Resolver]) -> Resolver | None:
    """Compile an input value; `None` means it holds no reference (use it as is)."""
    if isinstance(value, str):
        if "{{" not in value:
            return None
        matches = list(TEMPLATE.finditer(value))
        if not matches:
            return None
        if len(matches) == 1 and matches[0].span() == (0, len(value)):
            return bind(parse_reference(matches[0].group(1)))  # the native value
        parts: list[str | Resolver] = []
        last = 0
        for m in matches:
            if m.start() > last:
                parts.append(value[last : m.start()])
            parts.append(bind(parse_reference(m.group(1))))
            last = m.end()
        if last < len(value):
            parts.append(value[last:])
        return lambda scope: "".join(p if isinstance(p, str) else _to_text(p(scope)) for p in parts)
    if isinstance(value, Mapping):
        compiled = {k: compile_value(v, bind) for k, v in value.items()}
        if all(c is None for c in compiled.values()):
            return None
        items = [(k, c, value[k]) for k, c in compiled.items()]
        return lambda scope: {k: (c(scope) if c else raw) for k, c, raw in items}
    if isinstance(value, list | tuple):
        compiled_items = [compile_value(v, bind) for v in value]
        if all(c is None for c in compiled_items):
            return None
        pairs = list(zip(compiled_items, value, strict=True))
        return lambda scope: [c(scope) if c else raw for c, raw in pairs]
    return None


# --- conditions ---------------------------------------------------------------------

SAFE_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": len,
    "min": min,
    "max": max,
    "abs": abs,
    "round": round,
    "sum": sum,
    "any": any,
    "all": all,
    "int": int,
    "float": float,
    "str": str,
    "bool": bool,
}


def condition_names(expression: str) -> set[str]:
    """The free names an expression reads (validated against step ids at load time)."""
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(
            f"invalid condition syntax at column {exc.offset}: {exc.msg}", expression=expression
        ) from None
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.comprehension):
            for target in ast.walk(node.target):
                if isinstance(target, ast.Name):
                    bound.add(target.id)
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id not in SAFE_FUNCTIONS}
    return names - bound - {"True", "False", "None"}


def unwrap_condition(expression: str) -> str:
    """Accept `"{{ expr }}"` as well as `"expr"` for a condition."""
    m = TEMPLATE.fullmatch(expression.strip())
    return m.group(1) if m else expression.strip()


def compile_condition(expression: str, index_of: Mapping[str, int]) -> Resolver:
    """Compile a condition string into a resolver returning its truth value.

    Each step id is a name holding `{"result": ..., "status": ...}`; `inputs` holds
    the run inputs.
    """
    import simpleeval  # lazy: plans without string conditions never import it

    expression = unwrap_condition(expression)
    names = condition_names(expression)
    unknown = sorted(n for n in names if n != INPUTS_ROOT and n not in index_of)
    if unknown:
        raise ExpressionError(
            f"unknown name{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}: "
            "a condition reads step ids (step.result, step.status) and inputs",
            expression=expression,
        )
    evaluator = _ConditionEvaluator(functions=dict(SAFE_FUNCTIONS))
    parsed = evaluator.parse(expression)
    used = [(n, index_of[n]) for n in sorted(names) if n != INPUTS_ROOT]
    wants_inputs = INPUTS_ROOT in names

    def evaluate(scope: Scope) -> Any:
        env: dict[str, Any] = {
            n: {"result": scope.results[i], "status": str(scope.statuses[i])} for n, i in used
        }
        if wants_inputs:
            env[INPUTS_ROOT] = dict(scope.run_inputs)
        evaluator.names = env
        try:
            return evaluator.eval(expression, previously_parsed=parsed)
        except ExpressionError:
            raise  # already says what and where; it is a ValueError, so keep it from below
        except simpleeval.InvalidExpression as exc:
            raise ExpressionError(str(exc), expression=expression) from None
        except (TypeError, ValueError, KeyError, IndexError, ZeroDivisionError) as exc:
            raise ExpressionError(f"{type(exc).__name__}: {exc}", expression=expression) from None

    return evaluate


def _make_evaluator_class() -> type:
    import simpleeval

    class ConditionEvaluator(simpleeval.EvalWithCompoundTypes):  # type: ignore[misc]
        """simpleeval that reads mapping keys as attributes before object attributes.

        So `analyze.result.items` means the key "items", never the dict method.
        """

        def _eval_attribute(self, node: ast.Attribute) -> Any:
            if not node.attr.startswith("_"):
                value = self._eval(node.value)
                if isinstance(value, Mapping):
                    if node.attr in value:
                        return value[node.attr]
                    raise ExpressionError(
                        f"{_describe(value)} has no {node.attr!r}", expression=self.expr
                    )
            return super()._eval_attribute(node)

    return ConditionEvaluator


_evaluator_class: type | None = None


def _ConditionEvaluator(**kwargs: Any) -> Any:
    global _evaluator_class
    if _evaluator_class is None:
        _evaluator_class = _make_evaluator_class()
    return _evaluator_class(**kwargs)
