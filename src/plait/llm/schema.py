"""Structured replies: what shape the step asks for, and whether the reply has it.

A `response_schema` is a JSON schema (checked with `jsonschema`), or a Python
type such as a pydantic model (checked with pydantic), given as the type itself
or as `"module:Name"` text in YAML. Either way the model is shown a JSON schema,
and a reply that does not match is described in words the model can act on, so
the step can ask it to fix the reply instead of failing the attempt.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from plait.llm.errors import LLMRequestError

_FENCE = re.compile(r"^```[a-zA-Z0-9_-]*\s*\n?(.*?)\n?\s*```$", re.DOTALL)
_MAX_PROBLEMS = 8


class ReplyInvalid(Exception):
    """A reply does not match the schema; `problems` says why, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = tuple(problems)


@dataclass(frozen=True, slots=True)
class ReplySchema:
    """A resolved `response_schema`: what the model is shown, and how replies are checked."""

    name: str
    json_schema: Mapping[str, Any]
    check: Callable[[Any], Any]
    """Validates decoded JSON; returns the JSON-serialisable parsed value or raises ReplyInvalid."""

    def parse(self, content: str) -> Any:
        """The validated value in `content` (raw JSON, or JSON in a ``` fence)."""
        text = content.strip()
        fenced = _FENCE.match(text)
        if fenced:
            text = fenced.group(1).strip()
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ReplyInvalid([f"the reply is not JSON: {exc}"]) from None
        return self.check(value)

    def instruction(self) -> str:
        """What the model is told, appended to the system message."""
        return (
            "Reply with only a JSON value, no other text, that matches this JSON schema:\n"
            + json.dumps(self.json_schema, ensure_ascii=False)
        )


def fix_request(problems: tuple[str, ...]) -> str:
    """The follow-up message asking the model to correct an invalid reply."""
    lines = "\n".join(f"- {p}" for p in problems)
    return (
        "Your reply did not match the required JSON schema:\n"
        f"{lines}\n"
        "Reply again with only the corrected JSON, no other text."
    )


def resolve_schema(spec: Any) -> ReplySchema:
    """Turn the step's `response_schema` input into a `ReplySchema`.

    Raises:
        LLMRequestError: the schema itself is invalid or cannot be imported.
    """
    if isinstance(spec, str):
        text = spec.strip()
        if text.startswith("{"):
            try:
                spec = json.loads(text)
            except json.JSONDecodeError as exc:
                raise LLMRequestError(f"response_schema is not valid JSON: {exc}") from None
        else:
            spec = _import_type(text)
    if isinstance(spec, Mapping):
        return _json_schema(dict(spec))
    if isinstance(spec, type) or _is_generic_alias(spec):
        return _python_type(spec)
    raise LLMRequestError(
        "response_schema must be a JSON schema (a mapping), a pydantic model or type, "
        f"or 'module:Name' text; got {type(spec).__name__}"
    )


def _is_generic_alias(spec: Any) -> bool:
    return hasattr(spec, "__origin__")  # list[Item], dict[str, int] ...


def _import_type(text: str) -> Any:
    from plait.actions import ActionImportError, resolve_action

    try:
        return resolve_action(text)
    except ActionImportError as exc:
        raise LLMRequestError(
            f"response_schema {text!r}: {exc} (expected 'module:PydanticModel')"
        ) from None


def _json_schema(schema: dict[str, Any]) -> ReplySchema:
    import jsonschema  # lazy: only structured steps pay for it

    cls = jsonschema.validators.validator_for(schema)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise LLMRequestError(
            f"response_schema is not a valid JSON schema: {exc.message}"
        ) from None
    validator = cls(schema)

    def check(value: Any) -> Any:
        errors = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
        if errors:
            raise ReplyInvalid([_where(e.absolute_path, e.message) for e in errors[:_MAX_PROBLEMS]])
        return value

    return ReplySchema(str(schema.get("title", "schema")), schema, check)


def _python_type(tp: Any) -> ReplySchema:
    from pydantic import TypeAdapter, ValidationError
    from pydantic.errors import PydanticUserError

    try:
        adapter: TypeAdapter[Any] = TypeAdapter(tp)
        schema = adapter.json_schema()
    except (PydanticUserError, TypeError, ValueError) as exc:
        raise LLMRequestError(f"response_schema {tp!r} cannot be used as a schema: {exc}") from None

    def check(value: Any) -> Any:
        try:
            parsed = adapter.validate_python(value)
        except ValidationError as exc:
            raise ReplyInvalid(
                [_where(e["loc"], e["msg"]) for e in exc.errors()[:_MAX_PROBLEMS]]
            ) from None
        return adapter.dump_python(parsed, mode="json")

    return ReplySchema(getattr(tp, "__name__", repr(tp)), schema, check)


def _where(path: Any, message: str) -> str:
    parts = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
    return f"at ${parts}: {message}"
