"""`StepContext`: what an action receives as `context=`.

It reads like the guide's context, a mapping of step id -> result of the steps
finished so far (`context["extract"]`), read-only so steps cannot change each
other's state, and it also says which run, step and attempt this is, with the
idempotency key a side-effecting action uses to deduplicate retried calls.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol


class ContextHost(Protocol):
    """What a run offers its steps' contexts (both declared and code-first runs)."""

    run_id: str
    run_inputs: Mapping[str, Any]
    usage: dict[str, float]
    partials: dict[str, Any]

    @property
    def workflow_id(self) -> str: ...

    def result_of(self, step_id: str) -> Any:
        """The result of a step that finished with one; KeyError otherwise."""
        ...

    def finished_ids(self) -> Iterator[str]: ...

    def add_usage(
        self,
        step_id: str,
        attempt: int,
        model: str,
        prompt_tokens: int,
        completion_tokens: int,
        cost_usd: float,
    ) -> None: ...

    def check_budget(self, step_id: str, tokens: int, cost_usd: float) -> None: ...

    def report_progress(self, step_id: str, attempt: int, text: str) -> None: ...


class StepContext(Mapping[str, Any]):
    """Read-only view of a run's finished results, plus the identity of this call."""

    __slots__ = ("_run", "attempt", "step_id")

    def __init__(self, run: ContextHost, step_id: str | None = None, attempt: int = 0) -> None:
        self._run = run
        self.step_id = step_id
        """The step being executed (None when a condition is evaluated)."""
        self.attempt = attempt
        """The attempt number, from 1."""

    @property
    def run_id(self) -> str:
        return self._run.run_id

    @property
    def workflow_id(self) -> str:
        return self._run.workflow_id

    @property
    def inputs(self) -> Mapping[str, Any]:
        """The run's inputs."""
        return self._run.run_inputs

    @property
    def idempotency_key(self) -> str:
        """Stable across retries and resumes of this step in this run."""
        return f"{self._run.run_id}:{self.step_id}"

    def record_usage(
        self, *, model: str, prompt_tokens: int, completion_tokens: int, cost_usd: float = 0.0
    ) -> None:
        """Account a model call's tokens and cost to this step and run.

        Raises:
            BudgetExceededError: the run has now spent more than its budget allows.
        """
        self._run.add_usage(
            self.step_id or "", self.attempt, model, prompt_tokens, completion_tokens, cost_usd
        )

    def check_budget(self, *, tokens: int = 0, cost_usd: float = 0.0) -> None:
        """Raise `BudgetExceededError` if spending this much more would pass the budget."""
        self._run.check_budget(self.step_id or "", tokens, cost_usd)

    def partial(self, value: Any) -> None:
        """Offer a partial result, used if the step fails and its recovery degrades."""
        self._run.partials[self.step_id or ""] = value

    def progress(self, text: str) -> None:
        """Report progress (e.g. streamed tokens) to live views."""
        self._run.report_progress(self.step_id or "", self.attempt, text)

    @property
    def usage(self) -> Mapping[str, Any]:
        """What the run has spent so far: tokens and cost."""
        return dict(self._run.usage)

    def __getitem__(self, step_id: str) -> Any:
        return self._run.result_of(step_id)

    def __iter__(self) -> Iterator[str]:
        return self._run.finished_ids()

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        return f"StepContext(run_id={self.run_id!r}, step_id={self.step_id!r}, done={list(self)})"
