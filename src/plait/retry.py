"""Retry policy: which errors are retried, and how long to wait before the next attempt.

The backoff curve itself is tenacity's `wait_exponential_jitter`
(`initial * multiplier**(attempt - 1) + uniform(0, jitter)`, capped at `max_delay`),
so plait's delays match what Python users already get from tenacity.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class _AttemptState:
    """The one attribute tenacity's wait strategies read from a retry state."""

    attempt_number: int


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How a failed attempt is retried.

    The number of attempts is the step's `retry_count` (it counts the first try, as
    in the guide's engine); this policy says which errors deserve another attempt and
    how long to wait between attempts.
    """

    initial_delay: float = 1.0
    """Seconds to wait after the first failed attempt (before jitter)."""
    max_delay: float = 60.0
    """No wait is longer than this many seconds, jitter included."""
    multiplier: float = 2.0
    """Each further wait is this many times the one before."""
    jitter: float = 1.0
    """Up to this many random seconds are added, so retries of many runs spread out."""
    retry_on: tuple[type[BaseException], ...] = (Exception,)
    """Only errors of these types are retried."""
    no_retry_on: tuple[type[BaseException], ...] = ()
    """Errors of these types fail the step at once, even if `retry_on` matches."""
    _wait: Callable[[Any], float] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if self.initial_delay < 0 or self.max_delay < 0 or self.jitter < 0:
            raise ValueError("retry delays and jitter must not be negative")
        if self.multiplier < 1:
            raise ValueError(f"retry multiplier must be at least 1, got {self.multiplier}")

    def should_retry(self, error: BaseException) -> bool:
        """Whether `error` deserves another attempt (attempts left are checked elsewhere)."""
        return isinstance(error, self.retry_on) and not isinstance(error, self.no_retry_on)

    def delay(self, failed_attempt: int) -> float:
        """Seconds to wait after attempt number `failed_attempt` (1-based) has failed."""
        wait = self._wait
        if wait is None:
            import inspect

            import tenacity  # lazy: only runs that actually retry pay for the import

            # tenacity 9 renamed `initial` to `multiplier` (and warns on the old
            # name); tenacity 8 knows only `initial`.
            factory = tenacity.wait_exponential_jitter
            scale = (
                "multiplier" if "multiplier" in inspect.signature(factory).parameters else "initial"
            )
            wait = factory(
                **{scale: self.initial_delay},
                max=self.max_delay,
                exp_base=self.multiplier,
                jitter=self.jitter,
            )
            object.__setattr__(self, "_wait", wait)
        state: Any = _AttemptState(failed_attempt)  # tenacity reads only .attempt_number
        return float(wait(state))

    def bounds(self, failed_attempt: int) -> tuple[float, float]:
        """The smallest and largest delay `delay(failed_attempt)` may return."""
        base = self.initial_delay * self.multiplier ** (failed_attempt - 1)
        return min(base, self.max_delay), min(base + self.jitter, self.max_delay)


DEFAULT_RETRY = RetryPolicy()
