"""Argument checks shared by the agents, so wiring mistakes in workflows read clearly."""

from __future__ import annotations

from collections.abc import Mapping


def require_str(value: object, name: str) -> None:
    """Reject non-strings, pointing at the usual slip: passing a whole step result."""
    if isinstance(value, str):
        return
    hint = ""
    if isinstance(value, Mapping) and isinstance(value.get("text"), str):
        hint = " (it looks like a step result: pass its 'text' field instead)"
    raise TypeError(f"{name} must be a string, got {type(value).__name__}{hint}: {value!r:.80}")
