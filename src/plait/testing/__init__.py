"""plait.testing: run workflows in tests, with overrides, faults, crashes and virtual time.

Layering: `overrides` (what a step does instead of its action) and `faults`
(what goes wrong, where) are plain values; `interception` routes every step call
of a kit run through them; `clock` gives the engine and the event loop one
virtual time; `process` makes an engine killable at an exact point; `result`
turns a run into something to assert on; `kit` ties these together, and `plugin`
offers it to pytest as the `plait_kit` fixture. `cassette` records runs and
replays chosen steps. See docs/testing.md.

Names are imported on first use: pytest loads `plugin` in every session of a
project that has plait installed, and that should cost nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from plait.testing import faults
    from plait.testing.cassette import (
        Cassette,
        CassetteMismatchError,
        CassetteRecorder,
        Replay,
        record_to,
    )
    from plait.testing.clock import LoopClock, VirtualTimeUnavailableError
    from plait.testing.faults import Fault
    from plait.testing.kit import CronRuns, WorkflowKit
    from plait.testing.overrides import Returns
    from plait.testing.process import ProcessCrashed
    from plait.testing.result import RunResult, StepResult

_HOMES = {
    "Cassette": "cassette",
    "CassetteMismatchError": "cassette",
    "CassetteRecorder": "cassette",
    "CronRuns": "kit",
    "Fault": "faults",
    "LoopClock": "clock",
    "ProcessCrashed": "process",
    "Replay": "cassette",
    "Returns": "overrides",
    "RunResult": "result",
    "StepResult": "result",
    "VirtualTimeUnavailableError": "clock",
    "WorkflowKit": "kit",
    "record_to": "cassette",
}

__all__ = [
    "Cassette",
    "CassetteMismatchError",
    "CassetteRecorder",
    "CronRuns",
    "Fault",
    "LoopClock",
    "ProcessCrashed",
    "Replay",
    "Returns",
    "RunResult",
    "StepResult",
    "VirtualTimeUnavailableError",
    "WorkflowKit",
    "faults",
    "record_to",
]


def __getattr__(name: str) -> Any:
    if name == "faults":
        return importlib.import_module("plait.testing.faults")
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'plait.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"plait.testing.{home}"), name)
    globals()[name] = value
    return value
