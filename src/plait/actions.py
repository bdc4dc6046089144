"""Finding an action from its text (`"module:callable"`, `"file.py:callable"`) and how to call it.

An action is called with its resolved inputs as keyword arguments, plus
`context=` when it accepts a `context` parameter (or `**kwargs`), as the guide's
engine does. Plain functions run in a worker thread so they never block the loop.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class ActionImportError(ImportError):
    """An action's text does not lead to a callable; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class CallStyle:
    """How the runner calls one action."""

    is_async: bool
    wants_context: bool
    signature: inspect.Signature | None


def resolve_action(spec: str, base_dir: Path | None = None) -> Callable[..., Any]:
    """Import the callable named by `"package.module:attr.path"` or `"path/file.py:attr"`."""
    module_part, sep, attr_path = spec.rpartition(":")
    if not sep or not module_part or not attr_path:
        raise ActionImportError(
            f"action {spec!r} must look like 'package.module:function' or 'file.py:function'"
        )
    if module_part.endswith(".py"):
        path = Path(module_part)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        if not path.is_file():
            raise ActionImportError(f"action file {str(path)!r} does not exist")
        module = _import_file(path)
    else:
        # A module beside the workflow file imports as the workflow's author expects.
        added = base_dir is not None and str(base_dir.resolve()) not in sys.path
        if added:
            sys.path.insert(0, str(base_dir.resolve()))  # type: ignore[union-attr]
        try:
            module = importlib.import_module(module_part)
        except ModuleNotFoundError as exc:
            raise ActionImportError(
                f"cannot import module {module_part!r} for action {spec!r}: {exc}; "
                "check the name, or install the package that provides it"
            ) from exc
        except Exception as exc:
            raise ActionImportError(
                f"importing module {module_part!r} raised {type(exc).__name__}: {exc}"
            ) from exc
        finally:
            if added:
                sys.path.remove(str(base_dir.resolve()))  # type: ignore[union-attr]
    target: Any = module
    for name in attr_path.split("."):
        try:
            target = getattr(target, name)
        except AttributeError:
            raise ActionImportError(
                f"{module_part!r} has no attribute {name!r} (action {spec!r})"
            ) from None
    if not callable(target):
        raise ActionImportError(f"action {spec!r} is a {type(target).__name__}, not a callable")
    return target  # type: ignore[no-any-return]


def _import_file(path: Path) -> Any:
    resolved = path.resolve()
    name = f"plait_user_{abs(hash(str(resolved))):x}_{resolved.stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, resolved)
    if spec is None or spec.loader is None:
        raise ActionImportError(f"cannot load Python file {str(path)!r}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    # Let the file import its neighbours, as a script would.
    sys.path.insert(0, str(resolved.parent))
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise ActionImportError(
            f"importing {str(path)!r} raised {type(exc).__name__}: {exc}"
        ) from exc
    finally:
        sys.path.remove(str(resolved.parent))
    return module


def call_style(fn: Callable[..., Any]) -> CallStyle:
    """Inspect a callable once, at plan time."""
    is_async = inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)  # noqa: B004 - an object with an async __call__
    )
    try:
        signature: inspect.Signature | None = inspect.signature(fn)
    except (TypeError, ValueError):
        signature = None
    wants_context = False
    if signature is not None:
        params = signature.parameters
        wants_context = "context" in params or any(
            p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()
        )
    return CallStyle(is_async, wants_context, signature)


def check_arguments(style: CallStyle, names: set[str]) -> list[str]:
    """Problems binding these keyword names to the action's signature (empty if fine)."""
    signature = style.signature
    if signature is None:
        return []
    params = signature.parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    problems = []
    keyword_ok = {
        n
        for n, p in params.items()
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    }
    if not takes_any:
        unknown = sorted(names - keyword_ok)
        if unknown:
            accepted = ", ".join(sorted(keyword_ok - {"context"})) or "no inputs"
            problems.append(
                f"the action takes no input named {', '.join(map(repr, unknown))} "
                f"(it takes: {accepted})"
            )
    missing = sorted(
        n
        for n, p in params.items()
        if p.default is inspect.Parameter.empty
        and p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        and n not in names
        and n != "context"
    )
    if missing:
        problems.append(
            f"the action needs input{'s' if len(missing) > 1 else ''} "
            f"{', '.join(map(repr, missing))}, which the step does not give"
        )
    return problems
