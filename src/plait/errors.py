"""Every exception plait raises on purpose, in one tree.

```
PlaitError
├── DefinitionError(ValueError)     a workflow that cannot run; .problems lists each one
│   └── InputError                  a run input that is missing, unknown or of the wrong type
├── ExpressionError(ValueError)     a reference or condition that cannot be parsed or resolved
├── StepFailedError                 a step failed for good; .step_id, .attempts, cause in __cause__
│   └── StepTimeoutError(TimeoutError)  its last attempt ran past timeout_seconds
├── WorkflowTimeoutError(TimeoutError)  the whole run ran past the workflow's timeout
├── BudgetExceededError             a model call would pass the run's token or cost budget
└── ResultNotSerializableError(TypeError)
```

Errors a user can cause carry where (file, line, field) and what to do, so the CLI
prints them as one message without a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


class PlaitError(Exception):
    """Base class of every error plait raises on purpose."""


@dataclass(frozen=True, slots=True)
class Location:
    """Where in a definition a problem sits; every part is optional."""

    file: str | None = None
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = self.file or "<workflow>"
        if self.line is not None:
            where += f":{self.line}"
        if self.field:
            where += f": {self.field}"
        return where


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a definition, and where."""

    message: str
    location: Location = Location()

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


@dataclass(frozen=True, slots=True)
class SourceMap:
    """Where a step (and each of its fields) was written, for precise error messages."""

    file: str | None = None
    line: int | None = None
    field_lines: tuple[tuple[str, int], ...] = ()
    prefix: str = ""
    """The field path of the step itself, e.g. `steps[2]`."""

    def at(self, field: str | None = None) -> Location:
        """The location of `field` of this step (or of the step itself)."""
        line = self.line
        if field is not None:
            top = field.split(".", 1)[0].split("[", 1)[0]
            line = dict(self.field_lines).get(top, line)
        path = ".".join(p for p in (self.prefix, field) if p) or None
        return Location(self.file, line, path)


class DefinitionError(PlaitError, ValueError):
    """The workflow definition is invalid; nothing has run."""

    subject = "the workflow definition"

    def __init__(self, problems: list[Problem] | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(problems)]
        self.problems = problems
        count = len(problems)
        head = f"{count} problem{'s' if count != 1 else ''} in {self.subject}"
        super().__init__(head + ":\n" + "\n".join(f"  {p}" for p in problems))


class InputError(DefinitionError):
    """A run input is missing, unknown, or not of its declared type."""

    subject = "the run inputs"


class ExpressionError(PlaitError, ValueError):
    """A `{{ reference }}` or condition that cannot be parsed or resolved."""

    def __init__(self, message: str, *, expression: str | None = None) -> None:
        self.expression = expression
        if expression is not None:
            message = f"{message} (in {expression!r})"
        super().__init__(message)


class StepFailedError(PlaitError):
    """A step failed after all its attempts; the last error is in `__cause__`."""

    def __init__(self, step_id: str, attempts: int, error: BaseException) -> None:
        self.step_id = step_id
        self.attempts = attempts
        self.error = error
        plural = "s" if attempts != 1 else ""
        super().__init__(
            f"step {step_id!r} failed after {attempts} attempt{plural}: "
            f"{type(error).__name__}: {error}"
        )


class StepTimeoutError(StepFailedError, TimeoutError):
    """A step's last attempt ran longer than its `timeout_seconds`."""


class WorkflowTimeoutError(PlaitError, TimeoutError):
    """The run as a whole ran longer than the workflow's `timeout_seconds`."""


class BudgetExceededError(PlaitError):
    """A model call would take the run past its `budget`; the run stops."""


class ResultNotSerializableError(PlaitError, TypeError):
    """A step returned a value that cannot be stored as JSON."""
