"""Turning step results into JSON for output and storage: never pickle, never guess silently."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Mapping
from decimal import Decimal
from enum import Enum
from pathlib import PurePath
from typing import Any

from plait.errors import ResultNotSerializableError


def to_jsonable(value: Any) -> Any:
    """`json.dumps` default hook: dataclasses, pydantic models, dates, sets, paths, enums."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    dump = getattr(value, "model_dump", None)
    if callable(dump):  # a pydantic model
        return dump(mode="json")
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if isinstance(value, Mapping):  # e.g. the lazy per-step details of a run summary
        return dict(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal | PurePath):
        return str(value)
    raise ResultNotSerializableError(
        f"a {type(value).__module__}.{type(value).__qualname__} cannot be stored as JSON: "
        "return dicts, lists, numbers, strings, dataclasses or pydantic models"
    )


def dumps(value: Any, *, indent: int | None = None) -> str:
    """JSON text for a value that may hold dataclasses, models and dates."""
    return json.dumps(value, default=to_jsonable, indent=indent, ensure_ascii=False)


def restore(fn: Any, data: Any) -> Any:
    """A stored JSON result turned back into the type the action's return annotation names.

    A pydantic model comes back as that model, a dataclass as that dataclass; results
    of unannotated actions stay as their JSON values.
    """
    if data is None:
        return None
    annotation = _return_annotation(fn)
    if annotation is None or annotation is Any:
        return data
    is_model = isinstance(annotation, type) and hasattr(annotation, "model_validate")
    if not (
        is_model or dataclasses.is_dataclass(annotation) or annotation in (dt.datetime, dt.date)
    ):
        return data
    from pydantic import TypeAdapter, ValidationError

    try:
        return TypeAdapter(annotation).validate_python(data)
    except ValidationError:
        return data  # the stored value predates a change of type: hand over what was stored


def _return_annotation(fn: Any) -> Any:
    import typing

    target = getattr(fn, "func", fn)  # functools.partial
    try:
        hints = typing.get_type_hints(target)
    except Exception:
        return None
    return hints.get("return")
