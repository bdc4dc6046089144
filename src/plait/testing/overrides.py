"""Overrides: what a step does instead of its action, written as plainly as a test reads.

An override is one outcome or a list of outcomes, one per call of the step (the
last repeats). An outcome is:

- a value, returned as the step's result (a fresh copy each call);
- `"raise ConnectionError"` or `"raise ValueError: bad total"`: raise that type
  (a builtin name or a dotted path such as `httpx.ConnectError`), with the message;
- an exception instance or type: raised;
- a callable: called instead of the action with the step's inputs (and `context=`
  if it takes one); sync or async;
- `Returns(value)`: the value as it is, for a string that starts with "raise" or
  a list (a bare list is a sequence of outcomes).
"""

from __future__ import annotations

import asyncio
import copy
import functools
import inspect
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, final

_RAISE = re.compile(r"raise\s+(?P<type>[A-Za-z_][\w.:]*)\s*(?::\s*(?P<message>.*))?", re.S)
INJECTED = "injected by plait.testing"
"""The message of an exception made from a bare type name."""


@final
@dataclass(frozen=True, slots=True)
class Returns:
    """Return `value` as it is: for strings starting with "raise", and for lists."""

    value: Any


def exception_from(spec: BaseException | type[BaseException] | str) -> BaseException:
    """A fresh exception from an instance (copied), a type, or `"[raise ]Type[: message]"`.

    Raises:
        ValueError: the text does not name an exception type.
    """
    if isinstance(spec, BaseException):
        return copy.copy(spec)  # raised afresh each time: no traceback piles up
    if isinstance(spec, type) and issubclass(spec, BaseException):
        return _instantiate(spec, INJECTED)
    text = spec.strip()
    if not text.startswith("raise "):
        text = f"raise {text}"
    match = _RAISE.fullmatch(text)
    if match is None:
        raise ValueError(f"{spec!r} is not 'raise ExceptionType' or 'raise ExceptionType: message'")
    from plait.loader import _exception_type

    kind = _exception_type(match["type"])
    return _instantiate(kind, match["message"] if match["message"] is not None else INJECTED)


def _instantiate(kind: type[BaseException], message: str) -> BaseException:
    try:
        return kind(message)
    except TypeError:  # its __init__ wants more than a message: make one without calling it
        error = kind.__new__(kind, message)
        error.args = (message,)
        return error


class Outcome:
    """One call's worth of behaviour."""

    async def produce(self, kwargs: dict[str, Any], context: Any) -> Any:
        raise NotImplementedError


@final
class _Value(Outcome):
    def __init__(self, value: Any) -> None:
        self.value = value

    async def produce(self, kwargs: dict[str, Any], context: Any) -> Any:
        return copy.deepcopy(self.value)


@final
class _Raise(Outcome):
    def __init__(self, error: BaseException) -> None:
        self.error = error

    async def produce(self, kwargs: dict[str, Any], context: Any) -> Any:
        raise copy.copy(self.error)


@final
class _Call(Outcome):
    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.wants_context = takes_context(fn)

    async def produce(self, kwargs: dict[str, Any], context: Any) -> Any:
        extra = {"context": context} if self.wants_context and context is not None else {}
        return await call(self.fn, (), {**kwargs, **extra})


def outcome(spec: Any) -> Outcome:
    """Parse one outcome (see the module docstring)."""
    if isinstance(spec, Outcome):
        return spec
    if isinstance(spec, Returns):
        return _Value(spec.value)
    if isinstance(spec, BaseException) or (
        isinstance(spec, type) and issubclass(spec, BaseException)
    ):
        return _Raise(exception_from(spec))
    if isinstance(spec, str) and _RAISE.fullmatch(spec.strip()):
        return _Raise(exception_from(spec))
    if callable(spec):
        return _Call(spec)
    return _Value(spec)


@final
class StepScript:
    """What an overridden step does on each call: the outcomes in order, the last repeating."""

    def __init__(self, spec: Any) -> None:
        specs = list(spec) if isinstance(spec, list | tuple) else [spec]
        if not specs:
            raise ValueError("an override needs at least one outcome")
        self.outcomes = [outcome(s) for s in specs]
        self.calls = 0

    def next(self) -> Outcome:
        outcome = self.outcomes[min(self.calls, len(self.outcomes) - 1)]
        self.calls += 1
        return outcome


def scripts(overrides: Mapping[str, Any] | None) -> dict[str, StepScript]:
    """Step name -> script, from the mapping a test passes as `overrides=`."""
    return {name: StepScript(spec) for name, spec in (overrides or {}).items()}


# --- calling actions the way the engine does -------------------------------------------


def takes_context(fn: Callable[..., Any]) -> bool:
    """Whether `fn` accepts `context=` (a `context` parameter or `**kwargs`)."""
    from plait.actions import call_style

    return call_style(fn).wants_context


def is_async(fn: Callable[..., Any]) -> bool:
    from plait.actions import call_style

    return call_style(fn).is_async


async def call(fn: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
    """Call an action as the engine would: coroutines awaited, plain functions in a thread."""
    if is_async(fn):
        result = fn(*args, **kwargs)
    else:
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(None, functools.partial(fn, *args, **kwargs))
    if inspect.isawaitable(result):
        result = await result
    return result
