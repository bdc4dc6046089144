"""Checking and converting run inputs against a workflow's declared `inputs`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from plait.definition import InputSpec
from plait.errors import InputError, Location, Problem

_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list, tuple),
}


def check_inputs(
    specs: Mapping[str, InputSpec],
    given: Mapping[str, Any],
    *,
    from_text: bool = False,
    source: str | None = None,
    fill_defaults: bool = True,
) -> dict[str, Any]:
    """Return the run inputs with defaults filled in.

    With `from_text`, values are command-line text and are converted to the declared
    type first (`-i count=3` gives the integer 3). Without `fill_defaults`, only the
    given inputs are checked and returned (missing ones are not an error yet).

    Raises:
        InputError: naming every unknown, missing or mistyped input.
    """
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    for name, value in given.items():
        spec = specs.get(name)
        if spec is None:
            known = ", ".join(sorted(specs)) or "none are declared"
            problems.append(
                Problem(
                    f"unknown input {name!r} (declared inputs: {known})",
                    Location(source, None, f"inputs.{name}"),
                )
            )
            continue
        try:
            values[name] = convert(spec, value, from_text=from_text)
        except ValueError as exc:
            problems.append(Problem(str(exc), Location(source, None, f"inputs.{name}")))
    for name, spec in specs.items():
        if not fill_defaults or name in values or name in given:
            continue
        if spec.required:
            problems.append(
                Problem(
                    f"input {name!r} ({spec.type}) is required: pass it with -i {name}=VALUE",
                    Location(source, None, f"inputs.{name}"),
                )
            )
        else:
            values[name] = spec.default
    if problems:
        raise InputError(problems)
    return values


def convert(spec: InputSpec, value: Any, *, from_text: bool = False) -> Any:
    """One input converted to (or checked against) its declared type."""
    kind = spec.type
    if kind == "any":
        return value
    if from_text and isinstance(value, str) and kind != "string":
        try:
            if kind == "integer":
                value = int(value)
            elif kind == "number":
                value = float(value)
            elif kind == "boolean":
                lowered = value.strip().lower()
                if lowered not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError(value)
                value = lowered in ("true", "1", "yes")
            else:
                value = json.loads(value)
        except ValueError:
            raise ValueError(
                f"input {spec.name!r} must be {_article(kind)} {kind}, got {value!r}"
            ) from None
    expected = _PYTHON_TYPES[kind]
    is_bool = isinstance(value, bool)
    if not isinstance(value, expected) or (is_bool and kind in ("integer", "number")):
        raise ValueError(
            f"input {spec.name!r} must be {_article(kind)} {kind}, "
            f"got {type(value).__name__} {value!r}"
        )
    return value


def _article(kind: str) -> str:
    return "an" if kind[0] in "aeiou" else "a"
