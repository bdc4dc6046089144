"""Faults: what goes wrong, where and when, injected into a run without touching its code.

    faults.error("fetch", ConnectionError("down"), attempt=1)   # attempt 1 raises
    faults.timeout("analyze")                                   # attempt 1 times out
    faults.delay("fetch", 90, attempt=None)                     # every attempt is slow
    faults.crash_after("fetch")                                 # the process dies

Attempts are the engine's attempt numbers (from 1, continuing after a resume);
`attempt=None` means every attempt. A timeout behaves as the engine's own: the
attempt hangs until the step's `timeout_seconds` cancels it (in virtual time,
at once) and the engine raises `plait.policies.AttemptTimeout`, so retries,
`extend_timeout` and `StepTimeoutError` apply as in production.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, final

from plait.testing.overrides import exception_from

FaultKind = Literal["error", "timeout", "delay", "crash"]


@final
@dataclass(frozen=True, slots=True)
class Fault:
    """One injected fault; build it with `error`, `timeout`, `delay` or `crash_after`."""

    kind: FaultKind
    step: str
    """The step id (code-first: the step's name for every call, or `name#2` for one call)."""
    attempt: int | None = 1
    """The attempt it strikes (from 1); None strikes every attempt."""
    exception: BaseException | None = None
    seconds: float = 0.0

    def strikes(self, step_key: str, attempt: int) -> bool:
        """Whether this fault applies to this call of a step."""
        if self.kind == "crash":
            return False
        named = self.step == step_key or self.step == step_key.partition("#")[0]
        return named and (self.attempt is None or self.attempt == attempt)


def error(
    step: str, exception: BaseException | type[BaseException] | str, *, attempt: int | None = 1
) -> Fault:
    """`step` raises `exception` (an instance, a type, or "TypeName: message") at `attempt`."""
    return Fault("error", step, attempt, exception_from(exception))


def timeout(step: str, *, attempt: int | None = 1) -> Fault:
    """`step` runs past its `timeout_seconds` at `attempt`."""
    return Fault("timeout", step, attempt)


def delay(step: str, seconds: float, *, attempt: int | None = 1) -> Fault:
    """`step` waits `seconds` before its work at `attempt` (past its timeout, it times out)."""
    if seconds < 0:
        raise ValueError(f"a delay cannot be negative, got {seconds!r}")
    return Fault("delay", step, attempt, seconds=float(seconds))


def crash_after(step: str) -> Fault:
    """The process dies right after `step`'s outcome is committed to the store.

    The store is left as a killed process leaves it: the run still `running`,
    steps that were in flight still `running`. Resume it with `kit.resume(...)`.
    """
    return Fault("crash", step, None)


def crash_point(faults: tuple[Fault, ...]) -> str | None:
    """The step a run's process dies after, if any (at most one)."""
    crashes = [f.step for f in faults if f.kind == "crash"]
    if len(crashes) > 1:
        raise ValueError(f"a run can crash only once; got crash_after for {crashes}")
    return crashes[0] if crashes else None
